// Aligning the rig's clock to a recording's from random-interval sync pulses: known answers, then a simulated
// two-hour recording as issue 16 sets it (30 ppm drift, 1,234 s offset, 30 kHz sampling, 1% of pulses
// missing on each side, 5 spurious pulses, recordings that start and end apart), where every event must land
// within 50 us of its true ephys time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/analysis/random.hpp"
#include "host/analysis/sync_align.hpp"

namespace rig::analysis {
namespace {

constexpr double kSampleRateHz = 30000.0;

// A seeded sync line: every pulse's device time, which side recorded it, and the ephys clock.
struct SimulatedRecording {
  std::vector<std::int64_t> truth_us;  // every pulse the rig emitted
  std::vector<bool> on_rig, on_ephys;  // by pulse
  std::vector<std::int64_t> spurious_us;  // when the ephys side saw a pulse nobody sent
  std::vector<std::int64_t> rig_us;    // what the rig stored
  std::vector<double> ephys_s;         // what the acquisition system recorded (sampled)
  std::int64_t window_first_us = 0, window_last_us = 0;

  struct Counts {
    std::size_t both = 0, rig_only = 0, ephys_only = 0;
  };
  // Pulses between device times `first_us` and `last_us`, by who recorded them.
  Counts within(std::int64_t first_us, std::int64_t last_us) const {
    Counts c;
    for (std::size_t i = 0; i < truth_us.size(); ++i) {
      if (truth_us[i] < first_us || truth_us[i] > last_us) continue;
      c.both += on_rig[i] && on_ephys[i] ? 1 : 0;
      c.rig_only += on_rig[i] && !on_ephys[i] ? 1 : 0;
      c.ephys_only += !on_rig[i] && on_ephys[i] ? 1 : 0;
    }
    for (const std::int64_t t : spurious_us) c.ephys_only += t >= first_us && t <= last_us ? 1 : 0;
    return c;
  }
};

SimulatedRecording simulate(std::uint64_t seed, double hours, const std::function<double(std::int64_t)>& ephys_of,
                            double p_missing = 0.01, int spurious = 5) {
  Rng rng(seed);
  SimulatedRecording r;
  std::int64_t t = 1'000'000;
  const std::int64_t end = t + static_cast<std::int64_t>(hours * 3600e6);
  while (t < end) {
    r.truth_us.push_back(t);
    t += 50'000 + static_cast<std::int64_t>(uniform01(rng) * 100'000.0);  // uniform 50-150 ms
  }
  // The recording starts 30 s after the rig's first pulse and stops 20 s before its last.
  r.window_first_us = r.truth_us.front() + 30'000'000;
  r.window_last_us = r.truth_us.back() - 20'000'000;
  std::vector<double> ephys;
  for (const std::int64_t pulse : r.truth_us) {
    const bool in_window = pulse >= r.window_first_us && pulse <= r.window_last_us;
    r.on_rig.push_back(!bernoulli(rng, p_missing));
    r.on_ephys.push_back(in_window && !bernoulli(rng, p_missing));
    if (r.on_rig.back()) r.rig_us.push_back(pulse);
    if (r.on_ephys.back()) ephys.push_back(std::round(ephys_of(pulse) * kSampleRateHz) / kSampleRateHz);
  }
  for (int i = 0; i < spurious; ++i) {
    const double span = static_cast<double>(r.window_last_us - r.window_first_us);
    r.spurious_us.push_back(r.window_first_us + static_cast<std::int64_t>(uniform01(rng) * span));
    ephys.push_back(std::round(ephys_of(r.spurious_us.back()) * kSampleRateHz) / kSampleRateHz);
  }
  std::sort(ephys.begin(), ephys.end());
  r.ephys_s = std::move(ephys);
  return r;
}

// The matched pulses and the pulses each side lacks, as the simulation knows them, over the span the
// alignment matched.
void expect_counts(const SyncAlignment& a, const SimulatedRecording& r) {
  ASSERT_FALSE(a.matched_device_us.empty());
  const auto c = r.within(a.matched_device_us.front(), a.matched_device_us.back());
  EXPECT_EQ(a.matched, c.both);
  EXPECT_EQ(a.missing_ephys, c.rig_only);
  EXPECT_EQ(a.missing_rig, c.ephys_only);
  // The span is the recording's, give or take the first and last few pulses.
  EXPECT_LT(a.matched_device_us.front() - r.window_first_us, 2'000'000);
  EXPECT_LT(r.window_last_us - a.matched_device_us.back(), 2'000'000);
}

// The largest distance, in us, between the map and the truth over every pulse of the window and a point
// 37 ms after each (events fall between pulses).
double worst_error_us(const SyncAlignment& a, const SimulatedRecording& r, const std::function<double(std::int64_t)>& ephys_of) {
  double worst = 0.0;
  for (const std::int64_t pulse : r.truth_us) {
    if (pulse < r.window_first_us || pulse > r.window_last_us) continue;
    for (const std::int64_t t : {pulse, pulse + 37'000}) worst = std::max(worst, std::fabs(a.to_ephys_s(t) - ephys_of(t)) * 1e6);
  }
  return worst;
}

}  // namespace

TEST(SyncAlign, RecoversAnExactLineFromExactPulses) {
  std::vector<std::int64_t> rig;
  std::vector<double> ephys;
  Rng rng(3);
  for (std::int64_t t = 5'000'000; rig.size() < 30; t += 50'000 + static_cast<std::int64_t>(uniform01(rng) * 100'000.0)) {
    rig.push_back(t);
    ephys.push_back(12.5 + static_cast<double>(t) * 1e-6 * 1.00003);
  }
  const SyncAlignment a = align_sync_pulses(rig, ephys);
  EXPECT_EQ(a.matched, 30u);
  EXPECT_EQ(a.missing_rig, 0u);
  EXPECT_EQ(a.missing_ephys, 0u);
  EXPECT_NEAR(a.slope, 1.00003, 1e-12);
  EXPECT_NEAR(a.offset_s, 12.5, 1e-9);
  EXPECT_FALSE(a.piecewise);
  EXPECT_LT(a.residual_us_max, 1e-3);
  EXPECT_NEAR(a.to_ephys_s(6'000'000), 12.5 + 6.0 * 1.00003, 1e-9);
}

TEST(SyncAlign, TwoHoursWithDriftOffsetSamplingAndLostAndSpuriousPulsesStayWithin50Us) {
  const auto ephys_of = [](std::int64_t device_us) { return 1234.0 + static_cast<double>(device_us) * 1e-6 * (1.0 + 30e-6); };
  const SimulatedRecording r = simulate(16, 2.0, ephys_of);
  ASSERT_GT(r.truth_us.size(), 70'000u);
  const SyncAlignment a = align_sync_pulses(r.rig_us, r.ephys_s);
  expect_counts(a, r);
  EXPECT_FALSE(a.piecewise);
  EXPECT_NEAR(a.slope, 1.0 + 30e-6, 1e-9);
  EXPECT_NEAR(a.offset_s, 1234.0, 20e-6);
  EXPECT_LT(a.residual_us_rms, 15.0);   // sampling at 30 kHz: uniform over +-16.7 us, rms 9.6 us
  EXPECT_LT(a.residual_us_max, 17.0);
  const double worst = worst_error_us(a, r, ephys_of);
  EXPECT_LE(worst, 50.0);
  RecordProperty("matched", static_cast<int>(a.matched));
  RecordProperty("missing_rig", static_cast<int>(a.missing_rig));
  RecordProperty("missing_ephys", static_cast<int>(a.missing_ephys));
  RecordProperty("residual_us_rms", std::to_string(a.residual_us_rms));
  RecordProperty("residual_us_max", std::to_string(a.residual_us_max));
  RecordProperty("worst_event_error_us", std::to_string(worst));
}

// Drift that changes during the session (a clock warming up): no single line fits, a piecewise map does.
TEST(SyncAlign, DriftThatChangesGetsAPiecewiseMapThatStaysWithin50Us) {
  const auto ephys_of = [](std::int64_t device_us) {
    const double t = static_cast<double>(device_us) * 1e-6;
    return 1234.0 + t * (1.0 + 30e-6) + 2e-3 * std::sin(2.0 * M_PI * t / 3600.0);
  };
  const SimulatedRecording r = simulate(17, 1.0, ephys_of);
  const SyncAlignment a = align_sync_pulses(r.rig_us, r.ephys_s);
  EXPECT_TRUE(a.piecewise);
  expect_counts(a, r);
  EXPECT_LT(a.residual_us_max, 25.0);
  const double worst = worst_error_us(a, r, ephys_of);
  EXPECT_LE(worst, 50.0);
  RecordProperty("residual_us_max", std::to_string(a.residual_us_max));
  RecordProperty("worst_event_error_us", std::to_string(worst));
}

TEST(SyncAlign, UnrelatedPulseTrainsDoNotAlign) {
  const auto ephys_of = [](std::int64_t device_us) { return static_cast<double>(device_us) * 1e-6; };
  const SimulatedRecording rig = simulate(1, 0.05, ephys_of, 0.0, 0);
  const SimulatedRecording other = simulate(2, 0.05, ephys_of, 0.0, 0);
  try {
    align_sync_pulses(rig.rig_us, other.ephys_s);
    FAIL() << "unrelated pulse trains aligned";
  } catch (const SyncAlignError& e) {
    EXPECT_NE(std::string(e.what()).find("sync pulses matched (at least 10 needed"), std::string::npos) << e.what();
  }
}

TEST(SyncAlign, EdgesOutOfOrderAreAnErrorNamingTheSideAndTheEdge) {
  try {
    align_sync_pulses({1, 2, 2}, {0.1, 0.2});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "rig sync edges are not strictly increasing at edge 3");
  }
  try {
    align_sync_pulses({1, 2}, {0.2, 0.1});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "ephys sync edges are not strictly increasing at edge 2");
  }
}

TEST(EphysSyncCsv, ReadsTheTimeColumnWhateverElseTheFileHas) {
  EXPECT_EQ(parse_ephys_sync_csv("time_s\n0.5\n0.625\n1.0\n"), (std::vector<double>{0.5, 0.625, 1.0}));
  EXPECT_EQ(parse_ephys_sync_csv("sample, Time_s ,channel\r\n15000,0.5,7\r\n\r\n18750, 0.625 ,7\r\n"),
            (std::vector<double>{0.5, 0.625}));
}

TEST(EphysSyncCsv, BadFilesNameTheLineAndWhatIsWrong) {
  const auto message = [](std::string_view text) {
    try {
      parse_ephys_sync_csv(text);
      return std::string("accepted");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
  };
  EXPECT_EQ(message("0.5\n0.6\n"),
            "line 1: no header with a column time_s (the first line is '0.5'; export the sync channel's rising edges "
            "in seconds)");
  EXPECT_EQ(message("time_s\n0.5\nabc\n"), "line 3: column time_s: expected a time in seconds, got 'abc'");
  EXPECT_EQ(message("time_s\n0.5\nnan\n"), "line 3: column time_s: expected a time in seconds, got 'nan'");
  EXPECT_EQ(message("time_s\n0.5\n0.4\n"), "line 3: column time_s: the times must increase (0.4 s comes after 0.500000 s)");
  EXPECT_EQ(message("time_s\n"), "no sync edges: the file has a header and no rows");
  EXPECT_EQ(message(""), "the file is empty: expected a header with a column time_s");
}

}  // namespace rig::analysis
