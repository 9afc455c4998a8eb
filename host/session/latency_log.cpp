#include "latency_log.hpp"

#include "run_support.hpp"

namespace rig::app {

LatencyLog::LatencyLog(const std::string& path) : out_(std::fopen(path.c_str(), "w")) {
  if (!out_) throw InputError("--latency-log: cannot write " + path);
}

LatencyLog::~LatencyLog() { std::fclose(out_); }

void LatencyLog::on_trial(const CompletedTrial& t) {
  write_pending();
  pending_ = t.timing;
  pending_number_ = t.record.trial_number;
}

void LatencyLog::on_finished(const SessionEnd&) {
  write_pending();
  std::fflush(out_);
}

void LatencyLog::write_pending() {
  if (!pending_) return;
  std::fprintf(out_, "%lld %lld %lld %lld\n", static_cast<long long>(pending_number_),
               static_cast<long long>(pending_->received_ns), static_cast<long long>(pending_->committed_ns.load()),
               static_cast<long long>(pending_->published_ns.load()));
  pending_.reset();
}

}  // namespace rig::app
