// `rig align` end to end (issue 16): a session on the virtual MCU records its sync edges and licks; a
// recording's side is synthesized from the stored edges as an acquisition system would see them (30 ppm drift,
// a 1,234 s offset, 30 kHz sampling, 1% of pulses lost, 5 spurious ones, a recording that starts late and ends
// early); `rig align` must put every event within 50 us of its true ephys time. Bad input exits 2 naming the
// file and line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "program_test_support.hpp"
#include "support/run_command.hpp"

namespace {

using Command = rig::testing::CommandRun;
Command run(const std::string& command) { return rig::testing::run_command(command); }
using rig::testing::e2e;

constexpr double kDrift = 30e-6;
constexpr double kOffsetS = 1234.0;
constexpr double kSampleRateHz = 30000.0;

// The true ephys time of a device time.
double truth_s(double device_us) { return kOffsetS + device_us * 1e-6 * (1.0 + kDrift); }

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream fields_in(line);
    std::string field;
    while (std::getline(fields_in, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    rows.push_back(fields);
  }
  return rows;
}

class RigAlignE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rig::testing::fresh_test_dir("rig-align");
    db_ = (dir_ / "rig.sqlite").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int run_session(const std::string& rig_yaml, int trials) {
    const Command c = run(std::string(RIG_BINARY) + " run --config " + rig_yaml + " --subjects " + e2e("subjects.yaml") +
                          " --subject SAVVY --device sim --speed 50 --max-trials " + std::to_string(trials) +
                          " --seed 11 --crt 0 --db " + db_ + " --json-summary");
    EXPECT_EQ(c.exit_code, 0) << c.output;
    return nlohmann::json::parse(c.output)["session_id"].get<int>();
  }

  Command export_table(int session, const std::string& table) {
    return run(std::string(RIG_BINARY) + " export --db " + db_ + " --session " + std::to_string(session) +
               " --format csv --table " + table);
  }

  // The sync edges as the recording saw them (CSV with a time_s column): it starts after the first 5% of the
  // session and ends before the last 5%, loses 1% of the pulses (counted in `lost`), has 5 spurious ones, and
  // samples at 30 kHz.
  static std::string recording_edges_csv(const std::vector<double>& device_us, std::size_t& lost) {
    std::mt19937 rng(16);
    std::bernoulli_distribution lose(0.01);
    std::vector<double> ephys_s;
    const size_t from = device_us.size() / 20, to = device_us.size() - device_us.size() / 20;
    for (size_t i = from; i < to; ++i) {
      if (lose(rng)) {
        ++lost;
        continue;
      }
      ephys_s.push_back(std::round(truth_s(device_us[i]) * kSampleRateHz) / kSampleRateHz);
    }
    std::uniform_real_distribution<double> anywhere(ephys_s.front(), ephys_s.back());
    for (int k = 0; k < 5; ++k) ephys_s.push_back(std::round(anywhere(rng) * kSampleRateHz) / kSampleRateHz);
    std::sort(ephys_s.begin(), ephys_s.end());
    ephys_s.erase(std::unique(ephys_s.begin(), ephys_s.end()), ephys_s.end());
    std::ostringstream csv;
    csv << "time_s,channel\n";
    char line[64];
    for (double t : ephys_s) {
      std::snprintf(line, sizeof line, "%.6f,XA0\n", t);
      csv << line;
    }
    return csv.str();
  }

  // The session's sync edges, device microseconds, from `rig export --table sync`.
  std::vector<double> sync_edges_us(int session) {
    const Command sync = export_table(session, "sync");
    EXPECT_EQ(sync.exit_code, 0) << sync.output;
    const auto rows = csv_rows(sync.output);
    std::vector<double> device_us;
    for (size_t i = 1; i < rows.size(); ++i) device_us.push_back(std::stod(rows[i][2]));
    return device_us;
  }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
  std::string db_;
};

}  // namespace

TEST_F(RigAlignE2e, PutsEveryEventOfAVirtualMcuSessionWithin50usOfItsEphysTime) {
  const int session = run_session(e2e("rig.yaml"), 60);
  const Command sync = export_table(session, "sync");
  ASSERT_EQ(sync.exit_code, 0) << sync.output;
  const auto sync_rows = csv_rows(sync.output);
  ASSERT_EQ(sync_rows.front(), (std::vector<std::string>{"session_id", "edge_index", "device_us"}));
  std::vector<double> device_us;
  for (size_t i = 1; i < sync_rows.size(); ++i) {
    if (i > 1) {
      EXPECT_EQ(std::stoll(sync_rows[i][1]), std::stoll(sync_rows[i - 1][1]) + 1) << "an edge was lost";
    }
    device_us.push_back(std::stod(sync_rows[i][2]));
  }
  ASSERT_GT(device_us.size(), 200u) << "60 trials should take minutes of device time";

  std::size_t lost = 0;
  const auto ephys_file = write("sync_edges.csv", recording_edges_csv(device_us, lost));
  const size_t from = device_us.size() / 20, to = device_us.size() - device_us.size() / 20;
  const auto aligned_file = (dir_ / "aligned.csv").string();

  const Command align = run(std::string(RIG_BINARY) + " align --db " + db_ + " --session " + std::to_string(session) +
                            " --ephys-sync " + ephys_file + " --json --out " + aligned_file);
  ASSERT_EQ(align.exit_code, 0) << align.output;
  const auto report = nlohmann::json::parse(align.output.substr(align.output.find('{')));
  EXPECT_GE(report["matched"].get<size_t>(), (to - from) - lost - 2);
  EXPECT_NEAR(report["drift_ppm"].get<double>(), 30.0, 0.5);
  EXPECT_NEAR(report["offset_s"].get<double>(), kOffsetS, 1e-4);
  EXPECT_LT(report["residual_us_max"].get<double>(), 50.0);

  std::ifstream aligned_in(aligned_file);
  std::stringstream aligned_text;
  aligned_text << aligned_in.rdbuf();
  const auto rows = csv_rows(aligned_text.str());
  ASSERT_EQ(rows.front(), (std::vector<std::string>{"trial_number", "event", "spout", "device_us", "ephys_s"}));
  double worst_us = 0;
  int go_cues = 0, licks = 0, valves = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const double error_us = std::fabs(std::stod(rows[i][4]) - truth_s(std::stod(rows[i][3]))) * 1e6;
    worst_us = std::max(worst_us, error_us);
    go_cues += rows[i][1] == "go_cue";
    licks += rows[i][1] == "lick_onset";
    valves += rows[i][1] == "valve_open";
  }
  EXPECT_GE(go_cues, 50);  // every trial but one that never saw a still wheel
  EXPECT_GT(valves, 20);
  EXPECT_GT(licks, valves) << "the simulated mouse licks in bouts after deliveries";
  EXPECT_LT(worst_us, 50.0);
  RecordProperty("aligned_event_error_us_max", std::to_string(worst_us));
  RecordProperty("aligned_events", std::to_string(rows.size() - 1));

  // The licks are stored too, each onset followed by its offset on the same spout.
  const Command lick_csv = export_table(session, "licks");
  ASSERT_EQ(lick_csv.exit_code, 0) << lick_csv.output;
  const auto lick_rows = csv_rows(lick_csv.output);
  ASSERT_EQ(lick_rows.front(), (std::vector<std::string>{"session_id", "spout", "onset", "device_us", "trial_number"}));
  EXPECT_GT(lick_rows.size(), 40u);

  // Each trial row says how its deliveries were licked: the simulated mouse drinks almost every one.
  const Command trials = export_table(session, "trials");
  ASSERT_EQ(trials.exit_code, 0) << trials.output;
  const auto trial_rows = csv_rows(trials.output);
  const auto& header = trial_rows.front();
  auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const size_t delivered = column("delivered_cherry_open_us"), consumed = column("cherry_consumed"),
               latency = column("first_lick_cherry_latency_us"), count = column("licks_cherry");
  ASSERT_LT(latency, header.size());
  int deliveries = 0, drunk = 0;
  for (size_t i = 1; i < trial_rows.size(); ++i) {
    const auto& row = trial_rows[i];
    ASSERT_NE(row[count], "") << "trial " << row[1] << " has no lick count";
    if (row[delivered] == "0") {
      EXPECT_EQ(row[consumed], "") << "trial " << row[1];
      continue;
    }
    ++deliveries;
    if (row[consumed] == "1") {
      ++drunk;
      // The first lick in the window (a bout still going from before counts too).
      EXPECT_GE(std::stoll(row[latency]), 0) << "trial " << row[1];
      EXPECT_LE(std::stoll(row[latency]), 1000000) << "trial " << row[1];
    }
  }
  ASSERT_GT(deliveries, 10);
  EXPECT_GE(drunk, deliveries * 8 / 10) << drunk << " of " << deliveries << " cherry deliveries consumed";
}

TEST_F(RigAlignE2e, ExportsAVirtualMcuSessionAsNwbOnTheRecordingsClock) {
  const int session = run_session(e2e("rig.yaml"), 30);
  const auto device_us = sync_edges_us(session);
  ASSERT_GT(device_us.size(), 100u);
  std::size_t lost = 0;
  const auto ephys_file = write("sync_edges.csv", recording_edges_csv(device_us, lost));
  const auto nwb = (dir_ / "session.nwb").string();
  const Command exported = run(std::string(RIG_BINARY) + " export --db " + db_ + " --session " +
                               std::to_string(session) + " --format nwb --out " + nwb + " --ephys-sync " + ephys_file +
                               " 2>&1");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_NE(exported.output.find("(on the ephys clock)"), std::string::npos) << exported.output;

  const Command validated = run(std::string(RIG_NWB_VALIDATE) + " " + nwb + " 2>&1");
  EXPECT_EQ(validated.exit_code, 0) << validated.output;
  for (const char* table : {"trials", "wheel", "licks", "sync", "frames"}) {
    const Command csv = export_table(session, table);
    ASSERT_EQ(csv.exit_code, 0) << csv.output;
    write(std::string(table) + ".csv", csv.output);
  }
  const Command read_back = run(std::string("/usr/bin/python3 ") + RIG_NWB_ROUNDTRIP + " " + nwb + " " + dir_.string());
  EXPECT_EQ(read_back.exit_code, 0) << read_back.output;
  const auto summary = nlohmann::json::parse(read_back.output);
  EXPECT_GT(summary["wheel_samples"].get<int>(), 1000);
  EXPECT_GT(summary["lick_edges"].get<int>(), 20);

  // Every sync edge and go cue in the file is at its true ephys time.
  const Command error = run(std::string("/usr/bin/python3 -c \"import csv, h5py, numpy as np\n"
                                        "f = h5py.File('") + nwb + "', 'r')\n"
                            "def worst(series, device_us):\n"
                            "    truth = 1234.0 + np.array(device_us) * 1e-6 * (1 + 30e-6)\n"
                            "    return np.max(np.abs(f['processing/behavior/' + series + '/timestamps'][:] - truth)) * 1e6\n"
                            "sync = [int(r['device_us']) for r in csv.DictReader(open('" + (dir_ / "sync.csv").string() + "'))]\n"
                            "cues = [int(r['go_cue_device_us']) for r in csv.DictReader(open('" + (dir_ / "trials.csv").string() +
                            "')) if r['go_cue_device_us']]\n"
                            "print(max(worst('sync_pulses', sync), worst('go_cues', cues)))\"");
  ASSERT_EQ(error.exit_code, 0) << error.output;
  EXPECT_LT(std::stod(error.output), 50.0) << "us from the true ephys time";
}

TEST_F(RigAlignE2e, RefusesBadSyncFilesAndSessionsWithoutSyncEdgesNamingTheFileAndLine) {
  const int session = run_session(e2e("rig.yaml"), 5);
  const std::string align = std::string(RIG_BINARY) + " align --db " + db_ + " --session " + std::to_string(session) +
                            " --ephys-sync ";
  struct Case {
    const char* name;
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"no_header.csv", "1.0\n2.0\n", "line 1"},
      {"text.csv", "time_s\n1.0\nabc\n", "line 3"},
      {"unsorted.csv", "time_s\n1.0\n3.0\n2.0\n", "line 4"},
      {"empty.csv", "time_s\n", "no"},
  };
  for (const Case& c : cases) {
    const auto path = write(c.name, c.text);
    const Command result = run(align + path + " 2>&1");
    EXPECT_EQ(result.exit_code, 2) << c.name << ": " << result.output;
    EXPECT_NE(result.output.find(path), std::string::npos) << c.name << ": " << result.output;
    EXPECT_NE(result.output.find(c.expected), std::string::npos) << c.name << ": " << result.output;
  }
  const Command missing = run(align + (dir_ / "absent.csv").string() + " 2>&1");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("absent.csv"), std::string::npos) << missing.output;

  // A rig whose sync output was off recorded no edges: nothing to align.
  std::ifstream in(e2e("rig.yaml"));
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  yaml.replace(yaml.find("sync: {enabled: true}"), std::string("sync: {enabled: true}").size(), "sync: {enabled: false}");
  const int silent = run_session(write("rig.yaml", yaml), 3);
  const Command none = run(std::string(RIG_BINARY) + " align --db " + db_ + " --session " + std::to_string(silent) +
                           " --ephys-sync " + write("fine.csv", "time_s\n1.0\n2.0\n") + " 2>&1");
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("no sync edges"), std::string::npos) << none.output;
  const Command unknown = run(align.substr(0, align.find(" --session")) + " --session 999 --ephys-sync x.csv");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
}
