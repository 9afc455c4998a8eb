// The simulated mouse on the real firmware image in simavr: the same mouse, through the simavr adapter
// (cue and valve pin edges, single quadrature edges on the encoder pins).
#include <gtest/gtest.h>

#include "simavr_mouse.hpp"
#include "mouse_test_support.hpp"

using namespace rig;
using rig::sim::test_support::choice_of;
using rig::sim::test_support::RecordingChooser;
using MousedSimavrBoard = rig::sim::test_support::BoardWithMouse<device::SimavrBoard, device::SimavrMouseAdapter>;

// simavr keeps what it read from the ELF until exit (tests/simavr/lsan.supp); this suite runs it in-process.
extern "C" const char* __lsan_default_suppressions() { return "leak:libsimavr.so\n"; }

TEST(SimavrMouse, TheFirmwareSeesTheMousesChoicesAndTheMouseSeesItsDeliveries) {
  constexpr int kTrials = 12;
  auto chooser = std::make_unique<RecordingChooser>(std::make_unique<sim::RandomChooser>(8, 0.5, 0.2));
  RecordingChooser& recorded = *chooser;
  MousedSimavrBoard board(std::move(chooser), sim::MouseConfig{}, 9, std::string(RIG_SIMAVR_ELF));
  const auto results = sim::test_support::run_trials(board, kTrials, 10);

  ASSERT_EQ(results.size(), static_cast<size_t>(kTrials));
  ASSERT_EQ(recorded.choices.size(), static_cast<size_t>(kTrials));
  ASSERT_EQ(recorded.observations.size(), static_cast<size_t>(kTrials));
  int choices = 0;
  for (int i = 0; i < kTrials; ++i) {
    const auto& r = results[i];
    EXPECT_EQ(choice_of(r), recorded.choices[i]) << "trial " << i + 1;
    EXPECT_EQ(recorded.observations[i].cherry, r.delivered_open_us[0] > 0) << "trial " << i + 1;
    EXPECT_EQ(recorded.observations[i].grape, r.delivered_open_us[1] > 0) << "trial " << i + 1;
    if (choice_of(r) == sim::Choice::kMiss) continue;
    ++choices;
    EXPECT_GE(r.choice_t_us - r.go_cue_t_us, sim::MouseConfig{}.reaction_min_us);
  }
  EXPECT_GT(choices, kTrials / 2);
}
