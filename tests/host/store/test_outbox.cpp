// The outbox (schema 5, host/store/outbox.hpp): every write to a synced table queues its row in the same
// transaction; a batch hands each changed row once, as it is now; an acknowledgement removes exactly its batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "store_test_support.hpp"

namespace rig::store {
namespace {

using testing::commit;
using testing::count;
using testing::hand_trial;
using testing::session_start;
using testing::TempDir;

const OutboxRow* find_row(const OutboxBatch& batch, const std::string& table) {
  for (const auto& row : batch.rows) {
    if (row.table->name == table) return &row;
  }
  return nullptr;
}

TEST(Outbox, TheSyncedTablesAreReadFromTheSchemaWithTheirKeys) {
  std::map<std::string, std::vector<std::string>> keys;
  for (const auto& table : synced_tables(kSchemaVersion)) keys[table.name] = table.key;
  EXPECT_EQ(keys.at("trials"), (std::vector<std::string>{"session_id", "trial_number"}));
  EXPECT_EQ(keys.at("wheel_traces"), (std::vector<std::string>{"session_id", "trial_number"}));
  EXPECT_EQ(keys.at("sessions"), std::vector<std::string>{"session_id"});
  EXPECT_EQ(keys.at("events"), std::vector<std::string>{"event_id"});
  EXPECT_EQ(keys.at("subjects"), std::vector<std::string>{"subject_id"});
  EXPECT_TRUE(keys.at("licks").empty()) << "keyed by the row id";
  EXPECT_TRUE(keys.at("weighings").empty());
  EXPECT_FALSE(keys.contains("session_states"));
  EXPECT_FALSE(keys.contains("outbox"));
  EXPECT_FALSE(keys.contains("schema_version"));
  // The trials table's columns are the field table's, in order.
  const auto& trials = *std::find_if(synced_tables(kSchemaVersion).begin(), synced_tables(kSchemaVersion).end(),
                                     [](const SyncedTable& t) { return t.name == "trials"; });
  ASSERT_EQ(trials.columns.size(), model::kTrialFieldCount);
  for (std::size_t i = 0; i < trials.columns.size(); ++i) EXPECT_EQ(trials.columns[i].name, model::kTrialFields[i].name);
  EXPECT_THROW(synced_tables(kOutboxVersion - 1), std::out_of_range);
}

TEST(Outbox, EveryWriteIsQueuedInItsTransactionAndAFailedOneQueuesNothing) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  EXPECT_EQ(store.outbox_backlog().entries, 0);
  EXPECT_FALSE(store.outbox_backlog().oldest_queued_unix_us.has_value());
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  // The subject and the session.
  EXPECT_EQ(store.outbox_backlog().entries, 2);
  commit(store, session_id, hand_trial(1));
  EXPECT_EQ(store.outbox_backlog().entries, 4) << "the trial and its wheel trace";
  connection_of(store).exec(
      "CREATE TEMP TRIGGER fail_state BEFORE UPDATE ON session_states BEGIN SELECT RAISE(ABORT, 'injected'); END",
      "inject");
  EXPECT_THROW(commit(store, session_id, hand_trial(2)), StoreError);
  EXPECT_EQ(store.outbox_backlog().entries, 4) << "a rolled-back trial leaves no outbox entry";
  connection_of(store).exec("DROP TRIGGER fail_state", "remove injection");
  const auto oldest = store.outbox_backlog().oldest_queued_unix_us;
  ASSERT_TRUE(oldest.has_value());
  EXPECT_NEAR(static_cast<double>(*oldest), static_cast<double>(store.now_unix_us()), 60e6);
}

TEST(Outbox, ABatchHandsEachChangedRowOnceAsItIsNowAndDeletionsByKey) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  commit(store, session_id, hand_trial(1));
  store.end_session(session_id, "max_trials", "{}");  // the session row changes again; a water row is written
  store.resume_session(session_id, ResumeInfo{"fw", "{}", "v"});
  store.end_session(session_id, "operator stop", "{}");  // the water row is replaced: deleted, inserted
  const auto batch = store.outbox_batch(1000);
  EXPECT_EQ(batch.entries, static_cast<std::size_t>(store.outbox_backlog().entries));
  std::map<std::string, int> rows;
  for (const auto& row : batch.rows) ++rows[row.table->name + (row.deleted ? " deleted" : "")];
  EXPECT_EQ(rows["sessions"], 1) << "changed four times, handed once";
  EXPECT_EQ(rows["trials"], 1);
  // SQLite gave the replacement the deleted row's id: one upsert of that key.
  EXPECT_EQ(rows["water_given"], 1) << "the replacement";
  EXPECT_EQ(rows["water_given deleted"], 0);
  const auto* session = find_row(batch, "sessions");
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->key, std::vector<SqlValue>{SqlValue{session_id}});
  const auto& columns = session->table->columns;
  const auto reason = std::find_if(columns.begin(), columns.end(), [](const SyncedColumn& c) { return c.name == "end_reason"; });
  ASSERT_NE(reason, columns.end());
  EXPECT_EQ(std::get<std::string>(session->values.at(static_cast<std::size_t>(reason - columns.begin()))), "operator stop")
      << "the row as it is now";
  const auto* wheel = find_row(batch, "wheel_traces");
  ASSERT_NE(wheel, nullptr);
  EXPECT_TRUE(std::holds_alternative<std::vector<std::uint8_t>>(wheel->values.back())) << "the trace as a blob";
  // An acknowledgement removes its batch and nothing written after it.
  store.log_event(std::nullopt, "note", 0, "{}");
  store.outbox_acknowledge(batch.last_seq);
  EXPECT_EQ(store.outbox_backlog().entries, 1);
  const auto next = store.outbox_batch(1000);
  ASSERT_EQ(next.rows.size(), 1u);
  EXPECT_EQ(next.rows[0].table->name, "events");
}

TEST(Outbox, ARowDeletedAfterItWasQueuedIsLeftToItsDeletionWhichCarriesItsKey) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  model::Weighing weighing;
  weighing.subject_id = "M1";
  weighing.weight_g = 24.0;
  store.add_welfare(weighing);
  weighing.weight_g = 24.5;
  store.add_welfare(weighing);
  const auto first = store.outbox_batch(1);  // the first insert's entry only
  ASSERT_EQ(first.rows.size(), 1u);
  EXPECT_EQ(first.rows[0].key, std::vector<SqlValue>{SqlValue{std::int64_t{1}}}) << "its row id";
  connection_of(store).exec("DELETE FROM weighings WHERE weight_g = 24.0", "delete");
  const auto again = store.outbox_batch(1);
  EXPECT_TRUE(again.rows.empty()) << "the row is gone: its delete entry, later, removes it from the lab";
  EXPECT_EQ(again.entries, 1u);
  const auto all = store.outbox_batch(10);
  ASSERT_EQ(all.rows.size(), 2u);
  EXPECT_FALSE(all.rows[0].deleted) << "the second weighing";
  EXPECT_TRUE(all.rows[1].deleted);
  EXPECT_EQ(all.rows[1].key, std::vector<SqlValue>{SqlValue{std::int64_t{1}}});
  EXPECT_TRUE(all.rows[1].values.empty());
}

TEST(Outbox, EnqueueAllQueuesEveryRowAgain) {
  TempDir dir;
  auto store = Store::open(dir.file("rig.sqlite"));
  const auto session_id = store.begin_session(session_start("M1", 5, {}));
  commit(store, session_id, hand_trial(1));
  store.outbox_acknowledge(store.outbox_batch(1000).last_seq);
  EXPECT_EQ(store.outbox_backlog().entries, 0);
  EXPECT_EQ(store.outbox_enqueue_all(), 4);
  EXPECT_EQ(store.outbox_backlog().entries, 4);
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM outbox WHERE table_name = 'wheel_traces'"), 1);
}

TEST(Outbox, TheStoreHasAUuidAndRemembersTheRigItWasPushedAs) {
  TempDir dir;
  std::string uuid;
  {
    auto store = Store::open(dir.file("rig.sqlite"));
    uuid = store.store_uuid();
    EXPECT_EQ(uuid.size(), 36u);
    EXPECT_EQ(uuid[14], '4') << "a version 4 uuid: " << uuid;
    EXPECT_FALSE(store.lab_rig_id().has_value());
    store.set_lab_rig_id("rig-1");
    store.set_lab_rig_id("rig-2");  // the first is kept
  }
  auto store = Store::open(dir.file("rig.sqlite"));
  EXPECT_EQ(store.store_uuid(), uuid);
  EXPECT_EQ(store.lab_rig_id(), "rig-1");
  EXPECT_NE(Store::open(dir.file("other.sqlite")).store_uuid(), uuid);
}

}  // namespace
}  // namespace rig::store
