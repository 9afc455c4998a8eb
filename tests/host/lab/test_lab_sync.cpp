// The lab database (issue 18) against a private PostgreSQL server: the schema generated from the store, pushes
// of rigs' outboxes, and the faults after which the lab must still equal the union of the rigs' stores.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include "host/lab/lab_roles.hpp"
#include "host/lab/subject_record.hpp"
#include "lab_test_support.hpp"
#include "support/postgres_server.hpp"
#include "support/run_command.hpp"
#include "support/stalling_proxy.hpp"

namespace rig::lab {
namespace {

using store::Store;
using testing::expect_lab_equals;
using testing::fill_rig;

class LabSync : public testing::LabSuite {
 protected:
  Store open_rig(const std::string& name) { return Store::open(dir_.file(name + ".sqlite")); }
};

TEST(LabSchema, EveryStoreTableIsALabTableWithTheSameColumnsKeyedByRig) {
  const auto& tables = store::synced_tables(store::kSchemaVersion);
  std::set<std::string> names;
  for (const auto& table : tables) names.insert(table.name);
  EXPECT_EQ(names, (std::set<std::string>{"subjects", "sessions", "trials", "wheel_traces", "events", "licks",
                                          "sync_edges", "camera_runs", "weighings", "water_given"}));
  const auto& sql = lab_migrations().front().sql;
  for (const auto& table : tables) {
    EXPECT_NE(sql.find("CREATE TABLE " + table.name + " (\n  rig_id text NOT NULL"), std::string::npos) << table.name;
  }
  EXPECT_NE(sql.find("PRIMARY KEY (rig_id, session_id, trial_number)"), std::string::npos);
  EXPECT_NE(sql.find("PRIMARY KEY (rig_id, row_id)"), std::string::npos);
  EXPECT_NE(sql.find("sessions (\n  rig_id text NOT NULL REFERENCES rigs (rig_id),"), std::string::npos);
  EXPECT_NE(sql.find("wheel_traces (\n  rig_id text NOT NULL,\n  session_id bigint NOT NULL"), std::string::npos)
      << "no foreign-key check on each row of a per-trial table";
  EXPECT_NE(sql.find("data bytea NOT NULL"), std::string::npos);
}

TEST(LabSchema, APasswordInTheUrlIsRefusedBeforeAnyConnection) {
  EXPECT_THROW(check_conninfo("postgresql://rig:secret@lab.example.org/lab"), LabInputError);
  EXPECT_THROW(check_conninfo("host=lab password=secret"), LabInputError);
  EXPECT_THROW(check_conninfo("postgresql://[bad"), LabInputError);
  EXPECT_NO_THROW(check_conninfo("postgresql://rig@lab.example.org/lab?sslmode=verify-full"));
  EXPECT_NO_THROW(check_conninfo("service=lab"));
}

TEST_F(LabSync, InitCreatesTheSchemaOnceAndAgainIsANoOp) {
  EXPECT_EQ(lab_schema_version(*lab_), store::kSchemaVersion);
  EXPECT_EQ(migrate_lab(*lab_), store::kSchemaVersion);
  for (const auto& table : store::synced_tables(store::kSchemaVersion)) {
    const auto columns = lab_->exec("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE "
                                    "table_name = $1 ORDER BY ordinal_position",
                                    {PgParam{table.name}}, "read columns");
    const int first = table.key.empty() ? 2 : 1;
    ASSERT_EQ(columns.rows(), first + static_cast<int>(table.columns.size())) << table.name;
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      const int row = first + static_cast<int>(i);
      EXPECT_EQ(columns.text(row, 0), table.columns[i].name) << table.name;
      EXPECT_EQ(columns.text(row, 1), lab_column_type(table.columns[i].type)) << table.name;
      // A key column is NOT NULL in PostgreSQL (SQLite's INTEGER PRIMARY KEY does not say so).
      const bool key = std::find(table.key.begin(), table.key.end(), table.columns[i].name) != table.key.end();
      EXPECT_EQ(columns.text(row, 2), table.columns[i].not_null || key ? "NO" : "YES")
          << table.name << "." << table.columns[i].name;
    }
  }
}

TEST_F(LabSync, APushMakesTheLabEqualTheStoreAndEmptiesTheOutbox) {
  auto rig = open_rig("a");
  fill_rig(rig, "M1", 5, 2, 12);
  // Text that COPY's format must escape: a tab, a newline, a return and a backslash; and UTF-8.
  rig.log_event(std::nullopt, "note", 0, "{\"text\":\n\t\"back\\\\slash \\\"quoted\\\" \u00b5s\"\r}");
  EXPECT_GT(rig.outbox_backlog().entries, 0);
  PushOptions options;
  options.batch_entries = 20;  // many batches
  const auto result = push_outbox(rig, *lab_, "rig-a", options);
  EXPECT_GT(result.batches, 3u);
  EXPECT_EQ(result.backlog.entries, 0);
  EXPECT_FALSE(result.backlog.oldest_queued_unix_us.has_value());
  EXPECT_EQ(rig.outbox_backlog().entries, 0);
  EXPECT_EQ(result.rows_by_table.at("trials"), 24u);
  expect_lab_equals(*lab_, {{&rig, "rig-a"}});
  // Nothing new: a second push sends nothing.
  EXPECT_EQ(push_outbox(rig, *lab_, "rig-a").rows, 0u);
  expect_lab_equals(*lab_, {{&rig, "rig-a"}});
}

TEST_F(LabSync, RowsChangedOrDeletedAfterTheirPushAreChangedOrDeletedInTheLab) {
  auto rig = open_rig("a");
  fill_rig(rig, "M1", 7, 1, 5);
  push_outbox(rig, *lab_, "rig-a");
  // A resumed session ends again: its sessions row changes, its water row is replaced (deleted, inserted).
  const auto session_id = rig.sessions().front().session_id;
  rig.resume_session(session_id, store::ResumeInfo{"fw-test-1", "{}", "0.1.0-test"});
  rig.end_session(session_id, "operator stop", "{}");
  EXPECT_GT(rig.outbox_backlog().entries, 0);
  push_outbox(rig, *lab_, "rig-a");
  expect_lab_equals(*lab_, {{&rig, "rig-a"}});
  const auto reasons = lab_->exec("SELECT end_reason, resume_count FROM sessions", "read sessions");
  ASSERT_EQ(reasons.rows(), 1);
  EXPECT_EQ(reasons.text(0, 0), "operator stop");
  EXPECT_EQ(reasons.text(0, 1), "1");
}

TEST_F(LabSync, ABatchResentAfterItsAcknowledgementWasLostIsNotDuplicated) {
  auto rig = open_rig("a");
  fill_rig(rig, "M1", 9, 1, 10);
  PushOptions losing;
  losing.batch_entries = 20;
  int batches = 0;
  losing.after_lab_commit = [&batches] {
    if (++batches == 3) throw std::runtime_error("acknowledgement lost");
  };
  EXPECT_THROW(push_outbox(rig, *lab_, "rig-a", losing), std::runtime_error);
  EXPECT_GT(rig.outbox_backlog().entries, 0);
  const auto resent = push_outbox(rig, *lab_, "rig-a");
  EXPECT_GT(resent.rows, 0u);
  expect_lab_equals(*lab_, {{&rig, "rig-a"}});
}

TEST_F(LabSync, TheServerStoppedMidPushAndRestartedLosesNothingAndDuplicatesNothing) {
  auto rig = open_rig("a");
  fill_rig(rig, "M1", 11, 2, 10);
  PushOptions options;
  options.batch_entries = 25;
  int batches = 0;
  options.after_lab_commit = [&batches] {
    if (++batches == 2) server_->stop("fast");
  };
  EXPECT_THROW(push_outbox(rig, *lab_, "rig-a", options), LabError);
  const auto left = rig.outbox_backlog().entries;
  EXPECT_GT(left, 0);
  // The rig keeps working while the lab is away: its outbox grows.
  rig.log_event(std::nullopt, "note", 0, R"({"text": "while the lab was down"})");
  EXPECT_EQ(rig.outbox_backlog().entries, left + 1);
  EXPECT_THROW(PgConnection{url()}, LabError);
  server_->start();
  PgConnection again(url());
  push_outbox(rig, again, "rig-a");
  expect_lab_equals(again, {{&rig, "rig-a"}});
}

// A lab (or a network path, a proxy) that stops answering without closing the connection: TCP reports nothing,
// so each statement has a deadline; past it the push fails naming the cause, the unacknowledged batch stays in
// the outbox, and the next push (on a new connection) completes it.
TEST_F(LabSync, ALabThatStopsAnsweringMidPushFailsAtTheDeadlineAndTheNextPushCompletes) {
  auto rig = open_rig("a");
  fill_rig(rig, "M1", 12, 2, 10);
  rig::testing::StallingProxy proxy(server_->port());
  PgConnection through_proxy(server_->tcp_url(proxy.port(), database_));
  PushOptions options;
  options.batch_entries = 25;
  int batches = 0;
  options.on_batch = [&](const PushResult&) {
    if (++batches != 2) return;
    proxy.stall();
    // Only the stalled statements meet the short deadline: a slow machine cannot trip it before.
    through_proxy.set_answer_timeout(std::chrono::milliseconds(1000));
  };
  try {
    push_outbox(rig, through_proxy, "rig-a", options);
    ADD_FAILURE() << "the push went on through a stalled connection";
  } catch (const LabError& e) {
    EXPECT_NE(std::string(e.what()).find("no answer within 1 s"), std::string::npos) << e.what();
  }
  EXPECT_EQ(batches, 2);
  EXPECT_FALSE(through_proxy.usable());
  EXPECT_THROW(through_proxy.exec("SELECT 1", "after the deadline"), LabError) << "a dropped connection is not reused";
  const auto left = rig.outbox_backlog().entries;
  EXPECT_GT(left, 0);
  proxy.resume();
  PgConnection again(server_->tcp_url(proxy.port(), database_), PgTimeouts{5, std::chrono::milliseconds(30000)});
  push_outbox(rig, again, "rig-a");
  expect_lab_equals(again, {{&rig, "rig-a"}});
}

// A wait for the lab ends at once when its abort descriptor fires (rigd stopping), whatever the deadline.
TEST_F(LabSync, AWaitForAStalledLabEndsAtOnceWhenAborted) {
  rig::testing::StallingProxy proxy(server_->port());
  PgConnection through_proxy(server_->tcp_url(proxy.port(), database_), PgTimeouts{5, std::chrono::milliseconds(0)});
  int abort_pipe[2];
  ASSERT_EQ(::pipe(abort_pipe), 0);
  through_proxy.set_abort_fd(abort_pipe[0]);
  proxy.stall();
  std::jthread stopper([&] {
    const char stop = 1;
    // Whenever it comes (before or during the wait), the abort ends the statement: no deadline is set.
    EXPECT_EQ(::write(abort_pipe[1], &stop, 1), 1);
  });
  try {
    through_proxy.exec("SELECT 1", "probe");
    ADD_FAILURE() << "a stalled statement without a deadline returned";
  } catch (const LabError& e) {
    EXPECT_NE(std::string(e.what()).find("probe: stopped"), std::string::npos) << e.what();
  }
  stopper.join();
  ::close(abort_pipe[0]);
  ::close(abort_pipe[1]);
}

// A certificate authority and a server certificate for `localhost` signed by it, made with the openssl tool in
// `dir` (ca.crt, server.crt, server.key); `name` tells two authorities apart.
void make_certificates(const std::filesystem::path& dir, const std::string& name) {
  std::filesystem::create_directories(dir);
  const std::string d = dir.string();
  {
    std::ofstream(dir / "san.ext") << "subjectAltName=DNS:localhost\n";
  }
  const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const auto run = rig::testing::run_command(
      "(cd " + d + " && openssl req -x509" + key + " -keyout ca.key -out ca.crt -days 2 -subj '/CN=" + name +
      "' && openssl req" + key + " -keyout server.key -out server.csr -subj /CN=localhost && openssl x509 -req -in "
      "server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext) 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
}

// docs/lab.md advises sslmode=verify-full with the lab's CA: the rig then talks only to a server whose
// certificate that CA signed for the host name in the URL.
TEST_F(LabSync, TlsWithVerifyFullConnectsOnlyToTheServerTheCaVouchesFor) {
  make_certificates(dir_.file("lab-ca"), "rig test lab CA");
  make_certificates(dir_.file("other-ca"), "some other CA");
  server_->enable_tls(dir_.file("lab-ca/server.crt"), dir_.file("lab-ca/server.key"));
  const std::string base = "postgresql://postgres@localhost:" + std::to_string(server_->port()) + "/" + database_ +
                           "?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=";
  PgConnection lab(base + dir_.file("lab-ca/ca.crt"));
  EXPECT_EQ(lab.exec("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", "tls").text(0, 0), "t");
  auto rig = open_rig("a");
  fill_rig(rig, "M1", 13, 1, 5);
  push_outbox(rig, lab, "rig-a");
  expect_lab_equals(lab, {{&rig, "rig-a"}});
  try {
    PgConnection impostor(base + dir_.file("other-ca/ca.crt"));
    ADD_FAILURE() << "connected to a server another CA vouches for";
  } catch (const LabError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
  }
  try {
    PgConnection wrong_name("postgresql://postgres@127.0.0.1:" + std::to_string(server_->port()) + "/" + database_ +
                            "?sslmode=verify-full&sslrootcert=" + dir_.file("lab-ca/ca.crt"));
    ADD_FAILURE() << "connected although the certificate names another host";
  } catch (const LabError& e) {
    EXPECT_NE(std::string(e.what()).find("does not match host name"), std::string::npos) << e.what();
  }
}

TEST_F(LabSync, TwoRigsPushingTheSameSubjectKeepBothHistories) {
  auto a = open_rig("a");
  auto b = open_rig("b");
  fill_rig(a, "M1", 13, 1, 8);
  fill_rig(b, "M1", 14, 2, 6);
  PushOptions small;
  small.batch_entries = 10;
  // Interleaved, as two rigs would.
  for (int i = 0; i < 3; ++i) {
    PushOptions one = small;
    int n = 0;
    one.after_lab_commit = [&n] {
      if (++n == 2) throw std::runtime_error("pause");
    };
    EXPECT_THROW(push_outbox(a, *lab_, "rig-a", one), std::runtime_error);
    n = 0;
    EXPECT_THROW(push_outbox(b, *lab_, "rig-b", one), std::runtime_error);
  }
  push_outbox(a, *lab_, "rig-a", small);
  push_outbox(b, *lab_, "rig-b", small);
  expect_lab_equals(*lab_, {{&a, "rig-a"}, {&b, "rig-b"}});
  const auto sessions = lab_->exec("SELECT COUNT(*), COUNT(DISTINCT session_uuid) FROM sessions WHERE subject_id = 'M1'", "count");
  EXPECT_EQ(sessions.text(0, 0), "3");
  EXPECT_EQ(sessions.text(0, 1), "3");
}

TEST_F(LabSync, AStoreAndARigIdBelongTogether) {
  auto a = open_rig("a");
  auto b = open_rig("b");
  fill_rig(a, "M1", 15, 1, 2);
  fill_rig(b, "M2", 16, 1, 2);
  push_outbox(a, *lab_, "rig-a");
  EXPECT_EQ(a.lab_rig_id(), "rig-a");
  // The same store as another rig: refused, nothing pushed.
  a.log_event(std::nullopt, "note", 0, "{}");
  try {
    push_outbox(a, *lab_, "rig-x");
    FAIL() << "a store pushed as another rig";
  } catch (const LabInputError& e) {
    EXPECT_NE(std::string(e.what()).find("was pushed to the lab as rig \"rig-a\""), std::string::npos) << e.what();
  }
  // Another store with a rig id the lab knows: refused, nothing pushed.
  try {
    push_outbox(b, *lab_, "rig-a");
    FAIL() << "two stores as one rig";
  } catch (const LabInputError& e) {
    EXPECT_NE(std::string(e.what()).find("belongs to another rig's store"), std::string::npos) << e.what();
  }
  EXPECT_EQ(lab_->exec("SELECT COUNT(*) FROM sessions WHERE subject_id = 'M2'", "count").text(0, 0), "0");
  EXPECT_EQ(lab_->exec("SELECT COUNT(*) FROM rigs", "count").text(0, 0), "1");
}

TEST_F(LabSync, AnOlderLabIsRefusedWithTheCommandThatMigratesIt) {
  lab_->exec("DELETE FROM lab_schema_version WHERE version = " + std::to_string(store::kSchemaVersion), "downgrade");
  auto rig = open_rig("a");
  try {
    push_outbox(rig, *lab_, "rig-a");
    FAIL() << "pushed to an older lab";
  } catch (const LabError& e) {
    EXPECT_NE(std::string(e.what()).find("rig lab init"), std::string::npos) << e.what();
  }
}

// What a session start on rig-b reads of a subject that also trained on rig-a (issue 18, "a mouse across rigs").
TEST_F(LabSync, ASubjectsRecordElsewhereIsEveryOtherRigsSessionTrialWeighingAndWaterButNotThisRigs) {
  auto a = open_rig("a");
  auto b = open_rig("b");
  fill_rig(a, "M1", 31, 2, 7);
  fill_rig(a, "M2", 41, 1, 5);
  fill_rig(b, "M1", 51, 1, 4);
  push_outbox(a, *lab_, "rig-a");
  push_outbox(b, *lab_, "rig-b");

  const auto seen_by_b = read_subject_elsewhere(*lab_, "rig-b", "M1", 0);
  EXPECT_EQ(seen_by_b.lab, lab_->server());
  ASSERT_EQ(seen_by_b.sessions.size(), 2u);
  std::vector<store::SubjectTrial> read;
  double rewards_ul = 0.0;
  for (const auto& session : seen_by_b.sessions) {
    EXPECT_EQ(session.rig_id, "rig-a");
    EXPECT_TRUE(session.ended);
    read.insert(read.end(), session.trials.begin(), session.trials.end());
  }
  for (const auto& reward : seen_by_b.rewards) rewards_ul += reward.volume_ul;
  EXPECT_EQ(read, a.subject_trials("M1")) << "every field of every trial, in order";
  EXPECT_EQ(seen_by_b.weighings, a.welfare_rows<model::Weighing>("M1"));
  const auto water = a.welfare_rows<model::WaterGiven>("M1");
  EXPECT_EQ(seen_by_b.water, water);
  double session_water_ul = 0.0;
  for (const auto& w : water) session_water_ul += w.kind == model::WaterKind::kSession ? w.volume_ul : 0.0;
  EXPECT_GT(rewards_ul, 0.0);
  EXPECT_NEAR(rewards_ul, session_water_ul, 1e-9) << "every reward, as the sessions' water rows sum them";
  EXPECT_TRUE(read_subject_elsewhere(*lab_, "rig-b", "M1", a.now_unix_us() + 1).rewards.empty())
      << "rewards before the window asked for are left out";

  const auto seen_by_a = read_subject_elsewhere(*lab_, "rig-a", "M1", 0);
  ASSERT_EQ(seen_by_a.sessions.size(), 1u);
  EXPECT_EQ(seen_by_a.sessions[0].rig_id, "rig-b");
  EXPECT_EQ(seen_by_a.trial_count(), 4u);
  EXPECT_TRUE(read_subject_elsewhere(*lab_, "rig-a", "M9", 0).sessions.empty());
  EXPECT_FALSE(running_elsewhere(seen_by_b, "M1", a.now_unix_us()));
}

TEST_F(LabSync, ASessionWithoutEndOnAnotherRigIsRunningUntilItsLastTrialIsTenMinutesOld) {
  auto a = open_rig("a");
  store::synthetic::Session synthetic(61, "M1");
  const auto session_id = a.begin_session(store::testing::session_start("M1", 61, synthetic.state()));
  push_outbox(a, *lab_, "rig-a");
  const auto started = read_subject_elsewhere(*lab_, "rig-b", "M1", 0);
  ASSERT_EQ(started.sessions.size(), 1u);
  EXPECT_FALSE(started.sessions[0].ended);
  const auto busy = running_elsewhere(started, "M1", started.sessions[0].started_at_unix_us + 60'000'000);
  ASSERT_TRUE(busy) << "a session started a minute ago, no trial yet";
  EXPECT_NE(busy->find("M1 is running on rig rig-a"), std::string::npos) << *busy;

  const auto trial = synthetic.next();
  a.commit_trial(session_id, trial.record(), trial.wheel, trial.state_after);
  push_outbox(a, *lab_, "rig-a");
  const auto running = read_subject_elsewhere(*lab_, "rig-b", "M1", 0);
  const std::int64_t last_trial_us = running.sessions[0].last_activity_unix_us;
  EXPECT_GE(last_trial_us, running.sessions[0].started_at_unix_us);
  constexpr std::int64_t kWindowUs = 10 * 60 * 1'000'000LL;
  EXPECT_TRUE(running_elsewhere(running, "M1", last_trial_us + kWindowUs - 1));
  EXPECT_FALSE(running_elsewhere(running, "M1", last_trial_us + kWindowUs))
      << "a rig that died mid-session frees its subject after the window";

  a.end_session(session_id, "operator stop", "{}");
  push_outbox(a, *lab_, "rig-a");
  EXPECT_FALSE(running_elsewhere(read_subject_elsewhere(*lab_, "rig-b", "M1", 0), "M1", a.now_unix_us()));
  EXPECT_TRUE(read_subject_elsewhere(*lab_, "rig-a", "M1", 0).sessions.empty()) << "the rig's own session is not elsewhere";
}

// Least privilege (issue 18): a rig's role reads every rig's rows and writes only its own; a reader only reads.
TEST_F(LabSync, ARigsRoleWritesOnlyItsOwnRowsAndReadsEveryRigsWhileAReaderOnlyReads) {
  EXPECT_TRUE(add_lab_role(*lab_, LabRole::kRig, "rig-a", std::nullopt));
  EXPECT_TRUE(add_lab_role(*lab_, LabRole::kRig, "rig-b", std::string("b's secret")));
  EXPECT_FALSE(add_lab_role(*lab_, LabRole::kRig, "rig-b", std::nullopt)) << "already there";
  EXPECT_TRUE(add_lab_role(*lab_, LabRole::kReader, "reader", std::nullopt));
  EXPECT_THROW(add_lab_role(*lab_, LabRole::kRig, "lab_reader", std::nullopt), LabInputError);
  EXPECT_THROW(add_lab_role(*lab_, LabRole::kRig, "postgres", std::nullopt), LabInputError) << "a superuser";
  const auto hash = lab_->exec("SELECT rolpassword FROM pg_authid WHERE rolname = 'rig-b'", "read the hash").text(0, 0);
  EXPECT_EQ(hash.rfind("SCRAM-SHA-256$", 0), 0u) << "hashed before it was sent: " << hash;

  auto a = open_rig("a");
  auto b = open_rig("b");
  fill_rig(a, "M1", 91, 2, 6);
  fill_rig(b, "M1", 92, 1, 5);
  PgConnection as_a(server_->url(database_, "rig-a"));
  PgConnection as_b(server_->url(database_, "rig-b"));
  push_outbox(a, as_a, "rig-a");
  push_outbox(b, as_b, "rig-b");
  b.outbox_enqueue_all();
  push_outbox(b, as_b, "rig-b");  // every row again: the upserts of a role under row-level security
  expect_lab_equals(*lab_, {{&a, "rig-a"}, {&b, "rig-b"}});

  auto c = open_rig("c");
  fill_rig(c, "M2", 93, 1, 3);
  try {
    push_outbox(c, as_a, "rig-b");
    FAIL() << "rig-a's role pushed as rig-b";
  } catch (const LabInputError& e) {
    EXPECT_NE(std::string(e.what()).find("connects as role \"rig-a\""), std::string::npos) << e.what();
  }
  const auto refused = [](PgConnection& lab, const std::string& sql) {
    try {
      lab.exec(sql, "try");
    } catch (const LabError& e) {
      return e.sqlstate();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(as_a.exec("UPDATE weighings SET weight_g = 1 WHERE rig_id = 'rig-b'", "try").affected_rows(), "0");
  EXPECT_EQ(as_a.exec("DELETE FROM trials WHERE rig_id = 'rig-b'", "try").affected_rows(), "0");
  EXPECT_EQ(refused(as_a, "UPDATE weighings SET rig_id = 'rig-b' WHERE rig_id = 'rig-a'"), "42501") << "row-level security";
  EXPECT_EQ(refused(as_a, "ALTER TABLE trials DISABLE ROW LEVEL SECURITY"), "42501");
  EXPECT_EQ(refused(as_a, "DROP TABLE trials"), "42501");
  EXPECT_EQ(refused(as_a, "DELETE FROM lab_schema_version"), "42501");
  EXPECT_EQ(read_subject_elsewhere(as_a, "rig-a", "M1", 0).sessions.size(), 1u) << "rig-b's session, read by rig-a";

  PgConnection reader(server_->url(database_, "reader"));
  EXPECT_EQ(reader.exec("SELECT COUNT(*) FROM sessions", "count").text(0, 0), "3");
  EXPECT_EQ(refused(reader, "DELETE FROM trials"), "42501");
  EXPECT_EQ(refused(reader, "UPDATE subjects SET subject_id = subject_id"), "42501");
  expect_lab_equals(*lab_, {{&a, "rig-a"}, {&b, "rig-b"}});
}

}  // namespace
}  // namespace rig::lab
