// The welfare tables (host/model/welfare.def) in the store: rows round trip, a session's water row written when
// it ends (replaced when a resumed session ends again, written for an interrupted one), and the day's water across
// two sessions and across midnight as `rig subject` and the weight check read it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "host/task/welfare.hpp"
#include "store_test_support.hpp"

namespace rig::store {
namespace {

using namespace testing;
using namespace std::chrono;

// UTC for the test's duration (local days are UTC days), restored after.
class UtcZone {
 public:
  UtcZone() {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~UtcZone() {
    ::unsetenv("TZ");
    ::tzset();
  }
};

constexpr std::int64_t kDayUs = 86'400'000'000;
const sys_days kDay = sys_days(2025y / January / 6);
std::int64_t at(sys_days day, double hours) {
  return static_cast<std::int64_t>(day.time_since_epoch().count()) * kDayUs + static_cast<std::int64_t>(hours * 3600e6);
}
sys_days utc_day(std::int64_t unix_us) { return sys_days(days(unix_us / kDayUs)); }

model::WaterGiven session_row(const std::vector<model::WaterGiven>& rows, std::int64_t session_id) {
  for (const auto& row : rows) {
    if (row.session_id == session_id) return row;
  }
  ADD_FAILURE() << "no water row for session " << session_id;
  return {};
}

TEST(WelfareStore, WeighingsAndWaterRoundTripInTimeOrderPerSubject) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const model::Weighing later{"M1", 2'000, 24.5, false, "ana", ""};
  const model::Weighing earlier{"M1", 1'000, 25.25, true, "ben", "first day"};
  const model::Weighing other{"M2", 1'500, 30.0, false, "ana", ""};
  for (const auto& w : {later, earlier, other}) store.add_welfare(w);
  EXPECT_EQ(store.welfare_rows<model::Weighing>("M1"), (std::vector<model::Weighing>{earlier, later}));
  EXPECT_EQ(store.welfare_rows<model::Weighing>().size(), 3u);
  const model::WaterGiven gel{"M1", 3'000, 350.0, model::WaterKind::kGel, std::nullopt, "ana"};
  store.add_welfare(gel);
  EXPECT_EQ(store.welfare_rows<model::WaterGiven>("M1"), (std::vector<model::WaterGiven>{gel}));
  EXPECT_TRUE(store.welfare_rows<model::WaterGiven>("M2").empty());
}

TEST(WelfareStore, ASessionsWaterRowIsWrittenWhenItEndsAndReplacedWhenAResumeEndsIt) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  for (std::uint32_t n = 1; n <= 2; ++n) commit(store, session_id, hand_trial(n));
  store.end_session(session_id, "max_trials", "{}");
  auto row = session_row(store.welfare_rows<model::WaterGiven>("M1"), session_id);
  EXPECT_EQ(row.kind, model::WaterKind::kSession);
  EXPECT_DOUBLE_EQ(row.volume_ul, 2 * 2.95);
  EXPECT_EQ(row.who, "rig");

  store.resume_session(session_id, {"fw-test-1", "{}", "0.1.0-test"});
  commit(store, session_id, hand_trial(3));
  store.end_session(session_id, "max_trials", "{}");
  const auto rows = store.welfare_rows<model::WaterGiven>("M1");
  ASSERT_EQ(rows.size(), 1u) << "one row per session";
  EXPECT_DOUBLE_EQ(rows[0].volume_ul, 3 * 2.95);

  const auto interrupted = store.begin_session(session_start("M1", 6, {}));
  commit(store, interrupted, hand_trial(1));
  EXPECT_EQ(store.mark_interrupted_sessions(), std::vector<std::int64_t>{interrupted});
  EXPECT_DOUBLE_EQ(session_row(store.welfare_rows<model::WaterGiven>("M1"), interrupted).volume_ul, 2.95);
}

TEST(WelfareStore, TopUpOwedAcrossTwoSessionsInADayAndAcrossMidnight) {
  UtcZone utc;
  TempDir dir;
  std::int64_t now_us = at(kDay, 9.0);
  auto store = Store::open(dir.file("rig.sqlite"), OpenOptions::with_clock([&] { return now_us; }));
  task::Subject subject;
  subject.id = "M1";
  subject.daily_water_target_ml = 1.0;
  subject.welfare.daily_water_min_ml = 0.02;  // 20 uL: a few synthetic trials' worth
  const auto day_status = [&](sys_days day) {
    return task::welfare_status(subject, store.welfare_rows<model::Weighing>("M1"),
                                store.welfare_rows<model::WaterGiven>("M1"),
                                store.session_water_by_day("M1", day - days(task::kWelfareHistoryDays - 1), day), day,
                                utc_day);
  };

  // Morning and afternoon sessions on day 1: 2 + 1 trials of 2.95 uL.
  const auto morning = store.begin_session(session_start("M1", 1, {}));
  for (std::uint32_t n = 1; n <= 2; ++n) commit(store, morning, hand_trial(n));
  store.end_session(morning, "max_trials", "{}");
  now_us = at(kDay, 15.0);
  const auto afternoon = store.begin_session(session_start("M1", 2, {}));
  commit(store, afternoon, hand_trial(1));
  store.end_session(afternoon, "max_trials", "{}");
  auto s = day_status(kDay);
  EXPECT_DOUBLE_EQ(s.session_today_ul, 3 * 2.95);
  EXPECT_DOUBLE_EQ(s.owed_ul, 20.0 - 3 * 2.95);
  now_us = at(kDay, 16.0);
  store.add_welfare(model::WaterGiven{"M1", now_us, 5.0, model::WaterKind::kTopup, std::nullopt, "ana"});
  s = day_status(kDay);
  EXPECT_DOUBLE_EQ(s.by_hand_today_ul, 5.0);
  EXPECT_DOUBLE_EQ(s.owed_ul, 20.0 - 3 * 2.95 - 5.0);

  // An evening session across midnight: two trials before it, three after, counted on their own days.
  now_us = at(kDay, 23.9);
  const auto evening = store.begin_session(session_start("M1", 3, {}));
  for (std::uint32_t n = 1; n <= 5; ++n) {
    now_us = n <= 2 ? at(kDay, 23.9) : at(kDay + days(1), 0.1);
    commit(store, evening, hand_trial(n));
  }
  store.end_session(evening, "max_trials", "{}");
  s = day_status(kDay);
  EXPECT_DOUBLE_EQ(s.session_today_ul, 5 * 2.95);
  EXPECT_DOUBLE_EQ(s.owed_ul, 20.0 - 5 * 2.95 - 5.0);
  const auto next = day_status(kDay + days(1));
  EXPECT_DOUBLE_EQ(next.session_today_ul, 3 * 2.95);
  EXPECT_DOUBLE_EQ(next.by_hand_today_ul, 0.0);
  EXPECT_DOUBLE_EQ(next.owed_ul, 20.0 - 3 * 2.95);
  EXPECT_DOUBLE_EQ(next.days[task::kWelfareHistoryDays - 2].session_ul, 5 * 2.95) << "yesterday in the history";
}

}  // namespace
}  // namespace rig::store
