// Wheel traces: exact round trips of every shape of batch sequence, and the size of an hour at 1 kHz.
#include <gtest/gtest.h>

#include "host/store/wheel_codec.hpp"
#include "store_test_support.hpp"

namespace rig::store {
namespace {

model::WheelSamples batch(std::int64_t t0_us, std::uint16_t period_us, std::vector<std::int32_t> positions) {
  model::WheelSamples b;
  b.t0_us = t0_us;
  b.period_us = period_us;
  b.position_ticks = std::move(positions);
  return b;
}

TEST(WheelCodec, ContiguousBatchesMergeIntoOneExactRun) {
  const auto trace = encode_wheel_trace({batch(1'000, 1000, {0, 0, 0, 5}), batch(5'000, 1000, {-70000, 2'000'000'000}),
                                         batch(7'000, 1000, {-2'000'000'000, -2'000'000'000})});
  EXPECT_EQ(trace.t0_us, 1'000);
  EXPECT_EQ(trace.period_us, 1000);
  EXPECT_EQ(trace.sample_count, 8);
  const auto runs = decode_wheel_trace(trace);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].t0_us, 1'000);
  EXPECT_EQ(runs[0].position_ticks,
            (std::vector<std::int32_t>{0, 0, 0, 5, -70000, 2'000'000'000, -2'000'000'000, -2'000'000'000}));
}

TEST(WheelCodec, GapsPeriodChangesAndDisorderKeepSeparateRunsInTimeOrder) {
  const auto trace = encode_wheel_trace({batch(50'000, 500, {9, 9}), batch(10'000, 1000, {1, 2}),
                                         batch(20'000, 1000, {3}), batch(30'000, 1000, {})});
  const auto runs = decode_wheel_trace(trace);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].t0_us, 10'000);
  EXPECT_EQ(runs[1].t0_us, 20'000);
  EXPECT_EQ(runs[2].t0_us, 50'000);
  EXPECT_EQ(runs[2].period_us, 500);
  EXPECT_EQ(runs[2].position_ticks, (std::vector<std::int32_t>{9, 9}));
  EXPECT_EQ(trace.sample_count, 5);
}

TEST(WheelCodec, NoBatchesIsAnEmptyTrace) {
  const auto trace = encode_wheel_trace({});
  EXPECT_EQ(trace.sample_count, 0);
  EXPECT_TRUE(trace.data.empty());
  EXPECT_TRUE(decode_wheel_trace(trace).empty());
}

TEST(WheelCodec, TruncatedOrMiscountedDataIsRefused) {
  auto trace = encode_wheel_trace({batch(0, 1000, {0, 100, 300, 600})});
  auto truncated = trace;
  truncated.data.pop_back();
  EXPECT_THROW(decode_wheel_trace(truncated), std::invalid_argument);
  auto miscounted = trace;
  miscounted.sample_count = 5;
  EXPECT_THROW(decode_wheel_trace(miscounted), std::invalid_argument);
}

TEST(WheelCodec, SyntheticSessionTracesRoundTripExactly) {
  synthetic::Session session(3, "M1");
  for (int i = 0; i < 20; ++i) {
    const auto trial = session.next();
    std::vector<std::int32_t> expected;
    for (const auto& b : trial.wheel) expected.insert(expected.end(), b.position_ticks.begin(), b.position_ticks.end());
    const auto runs = decode_wheel_trace(encode_wheel_trace(trial.wheel));
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].t0_us, trial.wheel.front().t0_us);
    EXPECT_EQ(runs[0].position_ticks, expected);
  }
}

// The budget: a one-hour session at 1 kHz costs at most 10 MB of database, all tables included.
TEST(WheelCodec, OneHourSessionAtOneKilohertzFitsInTenMegabytes) {
  testing::TempDir dir;
  const auto path = dir.file("hour.sqlite");
  std::int64_t samples = 0;
  {
    auto store = Store::open(path);
    synthetic::Session session(7, "M1");
    const auto session_id = store.begin_session(testing::session_start("M1", 7, session.state()));
    while (samples < 3'600'000) {
      const auto trial = session.next();
      for (const auto& b : trial.wheel) samples += static_cast<std::int64_t>(b.position_ticks.size());
      testing::commit(store, session_id, trial);
    }
    store.end_session(session_id, "max_minutes", "{}");
    connection_of(store).exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint");
  }
  std::uintmax_t bytes = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code error;
    const auto size = std::filesystem::file_size(path + suffix, error);
    if (!error) bytes += size;
  }
  RecordProperty("database_bytes_per_hour", std::to_string(bytes));
  EXPECT_LE(bytes, 10'000'000u) << "database of one hour at 1 kHz: " << bytes << " bytes";
  EXPECT_GE(samples, 3'600'000);
}

}  // namespace
}  // namespace rig::store
