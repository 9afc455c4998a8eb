// Shared by the lab tests: rigs' stores filled with synthetic sessions (trials with wheel traces, licks, sync
// edges, events, weighings and water), and the comparison the issue asks for after every fault: the lab database
// equals the union of the rigs' stores, row for row.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "host/lab/lab_schema.hpp"
#include "host/lab/lab_sync.hpp"
#include "host/store/sqlite.hpp"
#include "host/store/store.hpp"
#include "host/store/store_test_support.hpp"
#include "support/postgres_server.hpp"

namespace rig::lab::testing {

// One row as text, the same for SQLite's and PostgreSQL's value of a column: integers in decimal, reals with 17
// significant digits, blobs in hex (PostgreSQL's \x form), NULL as \N.
inline std::string real_text(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

inline std::string sqlite_text(const store::Statement& row, int column) {
  switch (row.column_type(column)) {
    case SQLITE_NULL: return "\\N";
    case SQLITE_INTEGER: return std::to_string(row.int64(column));
    case SQLITE_FLOAT: return real_text(row.real(column));
    case SQLITE_BLOB: {
      std::string hex = "\\x";
      char byte[3];
      for (const auto b : row.blob(column)) {
        std::snprintf(byte, sizeof byte, "%02x", b);
        hex += byte;
      }
      return hex;
    }
    default: return row.text(column);
  }
}

// Every synced table's rows as text lines "rig|key...|columns...", per table.
using Dump = std::map<std::string, std::multiset<std::string>>;

inline void dump_store(const store::Store& store, const std::string& rig_id, Dump& dump) {
  for (const auto& table : store::synced_tables(store::kSchemaVersion)) {
    std::string columns = table.key.empty() ? "rowid" : "";
    for (const auto& column : table.columns) columns += (columns.empty() ? "" : ", ") + column.name;
    auto rows = store::connection_of(store).prepare("SELECT " + columns + " FROM " + table.name);
    auto& lines = dump[table.name];
    while (rows.step("dump " + table.name)) {
      std::string line = rig_id;
      for (int c = 0; c < rows.column_count(); ++c) line += "|" + sqlite_text(rows, c);
      lines.insert(line);
    }
  }
}

inline Dump dump_lab(PgConnection& lab) {
  Dump dump;
  for (const auto& table : store::synced_tables(store::kSchemaVersion)) {
    std::string columns = "rig_id";
    std::vector<store::SqlType> types{store::SqlType::kText};
    if (table.key.empty()) {
      columns += std::string(", ") + store::kRowIdColumn;
      types.push_back(store::SqlType::kInteger);
    }
    for (const auto& column : table.columns) {
      columns += ", " + column.name;
      types.push_back(column.type);
    }
    const auto rows = lab.exec("SELECT " + columns + " FROM " + table.name, "dump " + table.name);
    auto& lines = dump[table.name];
    for (int r = 0; r < rows.rows(); ++r) {
      std::string line;
      for (std::size_t c = 0; c < types.size(); ++c) {
        const int column = static_cast<int>(c);
        std::string value = rows.is_null(r, column) ? "\\N" : rows.text(r, column);
        if (!rows.is_null(r, column) && types[c] == store::SqlType::kReal) value = real_text(std::stod(value));
        line += (c == 0 ? "" : "|") + value;
      }
      lines.insert(line);
    }
  }
  return dump;
}

// Fails the test, table by table, where the lab differs from the union of the stores.
inline void expect_lab_equals(PgConnection& lab, const std::vector<std::pair<const store::Store*, std::string>>& rigs) {
  Dump expected;
  for (const auto& [store, rig_id] : rigs) dump_store(*store, rig_id, expected);
  const Dump actual = dump_lab(lab);
  for (const auto& [table, rows] : expected) {
    const auto found = actual.find(table);
    ASSERT_NE(found, actual.end()) << table;
    EXPECT_EQ(found->second.size(), rows.size()) << "rows of " << table;
    std::vector<std::string> missing, extra;
    std::set_difference(rows.begin(), rows.end(), found->second.begin(), found->second.end(), std::back_inserter(missing));
    std::set_difference(found->second.begin(), found->second.end(), rows.begin(), rows.end(), std::back_inserter(extra));
    EXPECT_TRUE(missing.empty()) << table << ": " << missing.size() << " rows missing in the lab, e.g. "
                                 << (missing.empty() ? "" : missing.front().substr(0, 300));
    EXPECT_TRUE(extra.empty()) << table << ": " << extra.size() << " rows only in the lab, e.g. "
                               << (extra.empty() ? "" : extra.front().substr(0, 300));
  }
}

// A suite whose every test has a lab database of its own with the lab schema, and a connection to it (lab_).
class LabSuite : public rig::testing::PostgresSuite {
 protected:
  LabSuite() : PostgresSuite("lab") {}
  void SetUp() override {
    PostgresSuite::SetUp();
    lab_ = std::make_unique<PgConnection>(url());
    migrate_lab(*lab_);
  }

  store::testing::TempDir dir_;
  std::unique_ptr<PgConnection> lab_;
};

// `sessions` sessions of `trials` synthetic trials each for `subject_id` (wheel traces, a lick and a sync edge
// per trial, an event per session, each session ended), then a weighing and a top-up. Deterministic for a seed.
inline void fill_rig(store::Store& store, const std::string& subject_id, std::uint64_t seed, int sessions, int trials) {
  for (int s = 0; s < sessions; ++s) {
    store::synthetic::Session session(seed + static_cast<std::uint64_t>(s), subject_id);
    const auto session_id = store.begin_session(store::testing::session_start(subject_id, seed + s, session.state()));
    for (int t = 0; t < trials; ++t) {
      const auto trial = session.next();
      model::RecordingChunk chunk;
      model::LickRecord lick;
      lick.spout = wire::Valve::kCherry;
      lick.onset = true;
      lick.device_us = trial.times.armed_us + 100;
      lick.trial_number = trial.plan.trial_number;
      chunk.licks.push_back(lick);
      model::SyncRecord edge;
      edge.edge_index = t;
      edge.device_us = trial.times.armed_us + 50;
      chunk.sync_edges.push_back(edge);
      store.commit_trial(session_id, trial.record(), trial.wheel, trial.state_after, chunk);
    }
    store.log_event(session_id, "reversal", 1000 + s, R"({"block": 1})");
    store.end_session(session_id, "max_trials", R"({"trials": )" + std::to_string(trials) + "}");
  }
  model::Weighing weighing;
  weighing.subject_id = subject_id;
  weighing.weighed_at_unix_us = 1'736'150'000'000'000 + static_cast<std::int64_t>(seed);
  weighing.weight_g = 23.45 + static_cast<double>(seed % 7) / 10.0;
  weighing.who = "test";
  store.add_welfare(weighing);
  model::WaterGiven water;
  water.subject_id = subject_id;
  water.given_at_unix_us = 1'736'160'000'000'000;
  water.volume_ul = 333.3;
  water.kind = model::WaterKind::kTopup;
  water.who = "test";
  store.add_welfare(water);
}

}  // namespace rig::lab::testing
