// Per-trial host-path timing for benchmarks (`rig run --latency-log FILE`, `rigd --latency-log FILE`;
// tests/bench/host_path.py, tests/bench/lab_live.py, docs/performance.md).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "session_runner.hpp"

namespace rig::app {

// Writes one line per trial, "trial_number received_ns committed_ns published_ns", in steady-clock nanoseconds
// (TrialTiming; published is 0 without a dashboard). A trial's line is written when the next trial arrives (or
// when its session ends), because the dashboard's view, which stamps published_ns, sees each trial after this
// observer. One log may serve one session after another (rigd). The session's SessionConfig::time_trials must
// be set. io thread.
class LatencyLog : public SessionObserver {
 public:
  // Opens (truncates) `path`. Throws InputError naming it when it cannot be written.
  explicit LatencyLog(const std::string& path);
  ~LatencyLog() override;
  LatencyLog(const LatencyLog&) = delete;
  LatencyLog& operator=(const LatencyLog&) = delete;

  void on_trial(const CompletedTrial& t) override;
  void on_finished(const SessionEnd&) override;

 private:
  void write_pending();

  std::FILE* out_;
  std::shared_ptr<TrialTiming> pending_;
  std::int64_t pending_number_ = 0;
};

}  // namespace rig::app
