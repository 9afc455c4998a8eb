// Test support for the simulated mouse: a chooser that records, and a board with a mouse in the shape the
// scripted host (host/sim/scripted_host.hpp) drives.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <random>

#include "host/sim/scripted_host.hpp"

#include "host/sim/sim_mouse.hpp"

namespace rig::sim::test_support {

struct Observation {
  Choice choice;
  bool cherry;
  bool grape;
};

class RecordingChooser final : public Chooser {
 public:
  // Answers with `inner`'s choices.
  explicit RecordingChooser(std::unique_ptr<Chooser> inner) : inner_(std::move(inner)) {}
  // Answers with `script`, cycling.
  explicit RecordingChooser(std::vector<Choice> script) : script_(std::move(script)) {}

  Choice choose(std::optional<Choice> offered_side) override {
    offered.push_back(offered_side);
    const Choice c = inner_ ? inner_->choose(offered_side) : script_[choices.size() % script_.size()];
    choices.push_back(c);
    return c;
  }
  void observe(Choice choice, bool cherry, bool grape) override {
    if (inner_) inner_->observe(choice, cherry, grape);
    observations.push_back({choice, cherry, grape});
  }

  std::vector<Choice> choices;
  std::vector<std::optional<Choice>> offered;  // what the rig offered at each choice
  std::vector<Observation> observations;

 private:
  std::unique_ptr<Chooser> inner_;
  std::vector<Choice> script_;
};

// A board (SimBoard, SimavrBoard) whose wheel a SimMouse turns through `Adapter`; ScriptedHost drives it.
template <typename Board, typename Adapter>
class BoardWithMouse {
 public:
  template <typename... BoardArgs>
  BoardWithMouse(std::unique_ptr<Chooser> chooser, const MouseConfig& config, uint64_t seed, BoardArgs&&... board_args)
      : board_(std::forward<BoardArgs>(board_args)...), adapter_(board_), mouse_(adapter_, std::move(chooser), config, seed) {}

  uint64_t now_us() const { return board_.now_us(); }
  void run_until(uint64_t t_us) { mouse_.run_until(t_us); }
  void run_for(uint64_t duration_us) { run_until(now_us() + duration_us); }
  template <typename Message>
  void send(const Message& msg, uint16_t seq) { board_.send(msg, seq); }
  std::vector<DeviceFrame> receive() { return board_.receive(); }
  const SimMouse& mouse() const { return mouse_; }
  const Adapter& adapter() const { return adapter_; }

 private:
  Board board_;
  Adapter adapter_;
  SimMouse mouse_;
};

// Arms `trials` trials of `kind` (ids 1..trials) one after another through a scripted host, each with random
// deliveries, `iti_us` apart after each result; then runs 3 s more so the last outcome reaches the chooser.
// Returns the results in order; a trial without a result within 10 s of device time is missing.
template <typename MousedBoard>
std::vector<wire::TrialResult> run_trials(MousedBoard& board, int trials, uint64_t seed, uint64_t iti_us = 500000,
                                          wire::TrialKind kind = wire::TrialKind::kFree) {
  ScriptedHost<MousedBoard> host(board);
  host.hello();
  std::mt19937_64 rng(seed);
  std::vector<wire::TrialResult> results;
  size_t seen = 0;
  for (int i = 1; i <= trials; ++i) {
    auto trial = make_trial(static_cast<uint32_t>(i));
    trial.kind = static_cast<uint8_t>(kind);
    for (size_t k = 0; k < 4; ++k) {
      trial.open_us[k] = std::bernoulli_distribution(0.5)(rng) ? 20000 + 1000 * static_cast<uint32_t>(i % 40) : 0;
    }
    host.command(trial);
    bool done = false;
    for (int slice = 0; slice < 200 && !done; ++slice) {
      host.run(ScriptedHost<MousedBoard>::kHeartbeatPeriodUs);
      for (; seen < host.events.size(); ++seen) {
        wire::TrialResult r;
        if (host.events[seen].as(r) && r.trial_id == static_cast<uint32_t>(i)) {
          results.push_back(r);
          done = true;
        }
      }
    }
    host.run(iti_us);
  }
  host.run(3000000);
  return results;
}

// The choice a trial result reports.
inline Choice choice_of(const wire::TrialResult& r) {
  switch (static_cast<wire::TrialOutcome>(r.outcome)) {
    case wire::TrialOutcome::kLeft: return Choice::kLeft;
    case wire::TrialOutcome::kRight: return Choice::kRight;
    default: return Choice::kMiss;
  }
}

}  // namespace rig::sim::test_support
