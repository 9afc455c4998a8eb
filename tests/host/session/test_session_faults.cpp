// The whole session stack under device and link faults: SessionRunner + StoreRecorder on a real SQLite store +
// LiveFit + MonitorObserver (the dashboard's JSON), driving a virtual MCU through a SerialRig, all on one
// simulated clock (device::SimLoop): each test's outcome depends only on its seeds, never on the machine.
// For each fault: every completed trial is stored exactly once and numbered 1..N, no valve opened that a
// stored trial does not account for, and the fault is in the store's events and in the dashboard stream.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "host/store/sqlite.hpp"
#include "host/store/store.hpp"
#include "live_fit.hpp"
#include "monitor_observer.hpp"
#include "serial_rig.hpp"
#include "session_host.hpp"
#include "session_runner.hpp"
#include "store_recorder.hpp"
#include "vmcu/sim_loop.hpp"
#include "vmcu/virtual_mcu.hpp"

using namespace rig;
using namespace std::chrono_literals;
using device::FaultMoment;
using device::LineDirection;

namespace {

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("rig-session-faults-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// What the session told its observers, and a hook for a test to act after each trial.
struct Witness : app::SessionObserver {
  void on_trial(const app::CompletedTrial& t) override {
    trials.push_back(t);
    if (after_trial) after_trial(t);
  }
  void on_link(const link::LinkStatus& s) override { links.push_back(s); }
  void on_fault(const wire::Fault& f, int64_t) override { faults.push_back(f); }
  bool saw_fault(uint16_t bit) const {
    for (const auto& f : faults) {
      if (f.fault_bit == bit) return true;
    }
    return false;
  }

  std::vector<app::CompletedTrial> trials;
  std::vector<link::LinkStatus> links;
  std::vector<wire::Fault> faults;
  std::function<void(const app::CompletedTrial&)> after_trial;
};

// One session of the distractor protocol on a virtual MCU, with its store and dashboard view.
class FaultSession {
 public:
  FaultSession(const std::string& name, int64_t max_trials, const std::function<void(app::SessionPlan&)>& adjust = {})
      : loop_(io_), dir_(temp_dir(name)) {
    app::SessionHostOptions options;
    options.subject = "SIM001";
    options.protocol = std::string(RIG_SOURCE_DIR) + "/protocols/distractor.yaml";
    options.config = std::string(RIG_SOURCE_DIR) + "/config/rig.sim.yaml";
    options.device = "sim";
    options.speed = 1.0;  // simulated time: the firmware's own 250 ms watchdog
    options.max_trials = max_trials;
    options.db = (dir_ / "rig.sqlite").string();
    options.seed = 17;
    app::SessionPlan plan = app::SessionHost::prepare(options, [](const std::string&) {});
    if (adjust) adjust(plan);
    db_path_ = plan.db_path;

    start_device(1, std::move(plan.device.chooser));
    link::LinkOptions link_options;
    link_options.open_line = loop_.line_opener();
    link_options.host_nonce = 0x5EED0017u;
    rig_ = std::make_unique<device::SerialRig>(io_, link_options);

    recorder_ = std::make_unique<app::StoreRecorder>(io_, std::move(*plan.db), std::move(plan.recording));
    loop_.add_busy_check([this] { return recorder_ && !recorder_->idle(); });
    live_ = std::make_unique<app::LiveFit>(std::move(plan.history), -1);
    app::MonitorContext context{plan.inputs.subject.id, plan.inputs.protocol.name, 1000.0, 0.0,
                                [this] { return rig_->link_stats(); }, [this] { return recorder_->session_id(); },
                                plan.inputs.rig.sync, plan.inputs.rig.licks.enabled, plan.welfare.minimum_ul,
                                nullptr, nullptr};
    monitor_ = std::make_unique<app::MonitorObserver>(*live_, std::move(context), [this](nlohmann::json event) {
      board_.apply(event);
      published.push_back(std::move(event));
    });
    runner_ = app::SessionRunner::create(io_, *rig_, plan.config, *recorder_);
    runner_->add_observer(live_.get());
    runner_->add_observer(&witness);
    runner_->add_observer(monitor_.get());
  }

  ~FaultSession() {
    runner_.reset();
    rig_.reset();
    if (vmcu_) vmcu_->stop();
    recorder_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A board with `boot_id` (a random mouse when no chooser is given) on the session's line.
  void start_device(uint32_t boot_id, std::unique_ptr<sim::Chooser> chooser = {}) {
    device::VirtualMcuOptions options;
    options.line = device::VmcuLine::kInProcess;
    options.boot_id = boot_id;
    options.seed = boot_id;
    if (!chooser) chooser = std::make_unique<sim::RandomChooser>(boot_id, 0.5, 0.05);
    vmcu_ = std::make_unique<device::VirtualMcu>(options, std::move(chooser));
    loop_.attach(vmcu_.get());
  }

  // The board is gone for good (its valve log kept): a reset or a power loss.
  void kill_device() {
    loop_.attach(nullptr);
    vmcu_->stop();
    const auto pulses = vmcu_->valve_pulses();
    dead_pulses_.push_back(pulses);
    vmcu_.reset();
  }

  // Runs the session to its end (or `limit` of simulated time), calling `step` on the test thread after every
  // slice. Then reads the store (after the recorder has drained) and the dashboard's status.
  bool run(const std::function<void()>& step = {}, std::chrono::seconds limit = 600s) {
    runner_->start([this](const app::SessionEnd& e) { end = e; });
    const auto stop_at = loop_.elapsed() + limit;
    while (!end && loop_.elapsed() < stop_at) {
      loop_.step();
      if (step) step();
    }
    if (!end) return false;
    status = board_.document();
    recorder_.reset();  // joins the store's worker: everything queued is on disk
    const store::Store db = store::Store::open(db_path_, store::OpenOptions::reading());
    const auto session = db.latest_session("SIM001");
    if (!session) return false;
    session_id = session->session_id;
    stored = db.trials(session_id);
    events = db.events(session_id);
    auto summary = store::connection_of(db).prepare("SELECT summary_json FROM sessions WHERE session_id = ?");
    summary.bind(1, session_id);
    if (summary.step("summary")) summary_json = nlohmann::json::parse(summary.text(0));
    return true;
  }

  device::VirtualMcu& vmcu() { return *vmcu_; }
  device::SerialRig& rig() { return *rig_; }
  // Valve openings of every board of the session, one list per board in order of their lives.
  std::vector<std::vector<hal::SimValvePulse>> boards_pulses() const {
    auto all = dead_pulses_;
    if (vmcu_) all.push_back(vmcu_->valve_pulses());
    return all;
  }

  std::vector<nlohmann::json> published;  // every dashboard message, in order
  app::StatusBoard board_;                // the dashboard's status folded from them, as the monitor folds it
  Witness witness;
  std::optional<app::SessionEnd> end;
  nlohmann::json status;                  // the dashboard status after the end
  int64_t session_id = 0;
  std::vector<store::StoredTrial> stored;
  std::vector<store::StoredEvent> events;
  nlohmann::json summary_json;

 private:
  boost::asio::io_context io_;
  device::SimLoop loop_;  // before the rig and the runner: their timers run on its clock
  std::filesystem::path dir_;
  std::string db_path_;
  std::unique_ptr<device::VirtualMcu> vmcu_;
  std::vector<std::vector<hal::SimValvePulse>> dead_pulses_;
  std::unique_ptr<device::SerialRig> rig_;
  std::unique_ptr<app::StoreRecorder> recorder_;
  std::unique_ptr<app::LiveFit> live_;
  std::unique_ptr<app::MonitorObserver> monitor_;
  std::shared_ptr<app::SessionRunner> runner_;
};

bool is_choice(wire::TrialOutcome o) { return o == wire::TrialOutcome::kLeft || o == wire::TrialOutcome::kRight; }
bool cut_short(wire::TrialOutcome o) {
  return o == wire::TrialOutcome::kWatchdogAbort || o == wire::TrialOutcome::kAborted;
}

// The longer of the two sides' planned open time for `valve`.
uint32_t most_planned(const store::StoredTrial& t, int valve) {
  const auto v = static_cast<wire::Valve>(valve);
  return std::max(model::planned_open_us(t, wire::Side::kLeft, v), model::planned_open_us(t, wire::Side::kRight, v));
}

// Every valve opening belongs to one stored trial that reports delivering from that valve, opened at the
// trial's valve-open time and for exactly the time it reports; every reported delivery is such an opening;
// what a trial delivered is its plan for the side chosen (never more than either side's plan when cut
// short, nothing otherwise). `last_trial_on_board` splits the trials: trials up to its [i] ran on board i (a
// restarted MCU starts its clock again). A trial the host recorded as aborted because its result could not
// come (listed in `synthesized`) may have one opening per valve no stored trial accounts for, within its plan.
void expect_valves_match_trials(const std::vector<std::vector<hal::SimValvePulse>>& boards_pulses,
                                const std::vector<store::StoredTrial>& stored, const std::vector<uint32_t>& last_trial_on_board,
                                const std::vector<uint32_t>& synthesized = {}) {
  ASSERT_EQ(boards_pulses.size(), last_trial_on_board.size());
  size_t first = 0;
  for (size_t b = 0; b < boards_pulses.size(); ++b) {
    const auto& pulses = boards_pulses[b];
    std::vector<bool> used(pulses.size(), false);
    for (const auto& p : pulses) {
      EXPECT_NE(p.close_us, 0u) << "board " << b << ": valve " << int(p.valve) << " opened at " << p.open_us << " is still open";
      EXPECT_LE(p.close_us - p.open_us, 500000u) << "board " << b << ": past the hard limit";
    }
    size_t i = first;
    for (; i < stored.size() && stored[i].trial_number <= last_trial_on_board[b]; ++i) {
      const auto& t = stored[i];
      for (int v = 0; v < 2; ++v) {
        const uint32_t delivered = model::delivered_open_us(t, static_cast<wire::Valve>(v));
        if (is_choice(t.outcome)) {
          const auto side = *t.choice;
          EXPECT_EQ(delivered, model::planned_open_us(t, side, static_cast<wire::Valve>(v)))
              << "trial " << t.trial_number << " valve " << v;
        } else if (cut_short(t.outcome)) {
          EXPECT_LE(delivered, most_planned(t, v)) << "trial " << t.trial_number << " valve " << v;
        } else {
          EXPECT_EQ(delivered, 0u) << "trial " << t.trial_number << " valve " << v;
        }
        if (delivered == 0) continue;
        bool found = false;
        for (size_t k = 0; k < pulses.size() && !found; ++k) {
          if (used[k] || pulses[k].valve != v || static_cast<int64_t>(pulses[k].open_us) != t.valve_open_device_us.value_or(-1)) continue;
          used[k] = found = true;
          EXPECT_EQ(pulses[k].close_us - pulses[k].open_us, delivered) << "trial " << t.trial_number << " valve " << v;
        }
        EXPECT_TRUE(found) << "trial " << t.trial_number << " reports valve " << v << " open at " << t.valve_open_device_us.value_or(-1)
                           << " for " << delivered << " us, the board has no such opening";
      }
    }
    // Openings no stored trial reports: only for a trial the host synthesized, within its plan.
    std::vector<int> spare_per_valve(2, 0);
    const store::StoredTrial* lost = nullptr;
    for (size_t j = first; j < i; ++j) {
      for (uint32_t n : synthesized) {
        if (stored[j].trial_number == n) lost = &stored[j];
      }
    }
    for (size_t k = 0; k < pulses.size(); ++k) {
      if (used[k]) continue;
      const auto& p = pulses[k];
      ASSERT_NE(lost, nullptr) << "board " << b << ": valve " << int(p.valve) << " opened at " << p.open_us << " for "
                               << p.close_us - p.open_us << " us, and no stored trial called for it";
      EXPECT_LE(++spare_per_valve[p.valve], 1) << "board " << b;
      EXPECT_LE(p.close_us - p.open_us, most_planned(*lost, p.valve)) << "trial " << lost->trial_number;
    }
    first = i;
  }
  EXPECT_EQ(first, stored.size()) << "trials after the last board";
}

// The session ended at its limit with every trial stored once, numbered 1..N, as the observers saw it, and
// the dashboard got one trial message per trial.
void expect_every_trial_once(const FaultSession& s, uint32_t n) {
  ASSERT_TRUE(s.end.has_value());
  EXPECT_FALSE(s.end->error) << s.end->reason;
  EXPECT_EQ(s.end->reason, "max_trials reached");
  EXPECT_EQ(s.end->trials, n);
  ASSERT_EQ(s.stored.size(), n);
  for (uint32_t i = 0; i < n; ++i) EXPECT_EQ(s.stored[i].trial_number, i + 1);
  ASSERT_EQ(s.witness.trials.size(), n) << "the runner reported another number of completed trials";
  for (uint32_t i = 0; i < n; ++i) {
    const auto& seen = s.witness.trials[i];
    const auto& kept = s.stored[i];
    EXPECT_EQ(seen.record.trial_number, kept.trial_number);
    EXPECT_EQ(seen.record.outcome, kept.outcome) << "trial " << kept.trial_number;
    EXPECT_EQ(seen.record.delivered_cherry_open_us, kept.delivered_cherry_open_us) << "trial " << kept.trial_number;
    EXPECT_EQ(seen.record.delivered_grape_open_us, kept.delivered_grape_open_us) << "trial " << kept.trial_number;
    EXPECT_EQ(seen.record.valve_open_device_us, kept.valve_open_device_us) << "trial " << kept.trial_number;
  }
  std::vector<uint32_t> shown;
  for (const auto& m : s.published) {
    if (m["type"] == "trial") shown.push_back(m["trial"]["trial_number"].get<uint32_t>());
  }
  std::vector<uint32_t> expected(n);
  for (uint32_t i = 0; i < n; ++i) expected[i] = i + 1;
  EXPECT_EQ(shown, expected) << "dashboard trial messages";
  EXPECT_EQ(s.status["trials"], n);
  EXPECT_EQ(s.status["state"], "finished");
}

size_t count_events(const FaultSession& s, const std::string& kind, const std::string& detail_part = {}) {
  size_t n = 0;
  for (const auto& e : s.events) {
    if (e.kind == kind && e.detail_json.find(detail_part) != std::string::npos) ++n;
  }
  return n;
}

// A device fault reported to the host is in the store's events and in the dashboard's stream and status.
void expect_fault_reported(const FaultSession& s, uint16_t bit) {
  EXPECT_GE(count_events(s, "fault", "\"fault_bit\":" + std::to_string(bit) + ","), 1u) << "fault " << bit << " not in the store";
  size_t streamed = 0;
  for (const auto& m : s.published) {
    if (m["type"] == "fault" && m["fault"]["bit"] == bit) ++streamed;
  }
  EXPECT_GE(streamed, 1u) << "fault " << bit << " not pushed to the dashboard";
  size_t in_status = 0;
  for (const auto& f : s.status["faults"]) in_status += f["bit"] == bit ? 1 : 0;
  EXPECT_GE(in_status, 1u) << "fault " << bit << " not in the dashboard status";
}

// A lost connection is in the store (link events) and in the dashboard (link messages, the counters).
void expect_link_loss_reported(const FaultSession& s) {
  EXPECT_GE(count_events(s, "link", "\"state\":\"connecting\""), 1u) << "no link loss in the store";
  size_t lost = 0;
  for (const auto& m : s.published) {
    if (m["type"] == "link" && m["link"]["state"] != "connected") ++lost;
  }
  EXPECT_GE(lost, 1u) << "no link loss pushed to the dashboard";
  EXPECT_GE(s.status["link"]["counters"]["reconnects"].get<uint64_t>(), 1u);
  EXPECT_GE(s.summary_json["link"]["reconnects"].get<uint64_t>(), 1u) << s.summary_json.dump();
}

// The last trial of the only board: all of them.
std::vector<uint32_t> one_board(uint32_t n) { return {n}; }

// Runs `s` to its end, pulling the cable (both directions cut) after each trial `pull_after` selects, at
// `when`, and putting it back `replug_after_us` of device time later. `port_error`: the host's port read
// fails at once (a USB unplug) and the link drops the port; otherwise the link notices the silence.
void run_with_unplugs(FaultSession& s, const std::function<bool(uint32_t)>& pull_after, FaultMoment when,
                      bool port_error, uint64_t replug_after_us) {
  std::optional<uint64_t> replug_at_us;  // device time
  s.witness.after_trial = [&](const app::CompletedTrial& t) {
    if (!pull_after(t.record.trial_number)) return;
    s.vmcu().cut_line(LineDirection::kToHost, when);
    s.vmcu().cut_line(LineDirection::kToDevice, when);
    if (port_error) s.rig().drop_connection("test: cable pulled");
    replug_at_us = s.vmcu().counters().sim_time_us + replug_after_us;
  };
  ASSERT_TRUE(s.run([&] {
    if (replug_at_us && s.vmcu().counters().sim_time_us > *replug_at_us) {
      s.vmcu().restore_line(LineDirection::kToHost);
      s.vmcu().restore_line(LineDirection::kToDevice);
      replug_at_us.reset();
    }
  })) << "the session did not finish";
}

// Runs `s` to its end; the MCU halts at the go cue of trial 6 and a new one with `new_boot_id` appears on the
// same line.
void run_with_mcu_reset(FaultSession& s, uint32_t new_boot_id) {
  bool halting = false, restarted = false;
  s.witness.after_trial = [&](const app::CompletedTrial& t) {
    if (t.record.trial_number == 5) {
      s.vmcu().halt(FaultMoment::kNextGoCue);
      halting = true;
    }
  };
  ASSERT_TRUE(s.run([&] {
    if (halting && !restarted && s.vmcu().halted()) {
      s.kill_device();
      s.start_device(new_boot_id);
      restarted = true;
    }
  })) << "the session did not finish";
  ASSERT_TRUE(restarted);
}

// After unplugs of the same board: the invariants, the link losses and the device watchdog's report, and
// no reset.
void expect_unplugs_survived(const FaultSession& s, uint32_t n) {
  expect_every_trial_once(s, n);
  expect_valves_match_trials(s.boards_pulses(), s.stored, one_board(n));
  expect_link_loss_reported(s);
  expect_fault_reported(s, wire::kFaultHostTimeout);
  EXPECT_EQ(s.summary_json["link"]["device_resets"], 0);
}

}  // namespace

// The cable is pulled at the go cue of trials 4, 12 and 20 and put back 5 s (device time) later, so the
// device watchdog trips (the trial ends on the device, by the mouse's choice or the watchdog); the link
// notices the silence and reconnects to the same board, which replays what the host had not acknowledged.
TEST(SessionFaults, UnplugMidTrialRecordsTheTrialOnceAndReportsIt) {
  constexpr uint32_t kTrials = 24;
  FaultSession s("unplug-trial", kTrials);
  // ITI and quiescence (1.5 s) to the cue, then 5 s unplugged: past the device's watchdog.
  ASSERT_NO_FATAL_FAILURE(
      run_with_unplugs(s, [](uint32_t n) { return n % 8 == 3; }, FaultMoment::kNextGoCue, false, 6500000));
  expect_unplugs_survived(s, kTrials);
}

// The cable is pulled after trials 5, 13 and 21: the host's port read fails at once (the link drops the
// port) and nothing passes for 4 s of device time (the idle device's watchdog trips too); the next trial is
// armed when the board is back.
TEST(SessionFaults, UnplugMidItiLosesNothingAndReportsIt) {
  constexpr uint32_t kTrials = 24;
  FaultSession s("unplug-iti", kTrials);
  ASSERT_NO_FATAL_FAILURE(run_with_unplugs(s, [](uint32_t n) { return n % 8 == 5; }, FaultMoment::kNow, true, 4000000));
  expect_unplugs_survived(s, kTrials);
  EXPECT_GE(count_events(s, "link"), 3u);
}

// The MCU hangs at the go cue of trial 6 and a new one (new boot id) appears on the same port file: the
// trial is recorded once, as aborted by the host; the reset is in the store and the dashboard counters.
TEST(SessionFaults, McuResetMidTrialIsRecordedOnceAsAborted) {
  constexpr uint32_t kTrials = 16;
  FaultSession s("mcu-reset", kTrials);
  ASSERT_NO_FATAL_FAILURE(run_with_mcu_reset(s, 2));
  expect_every_trial_once(s, kTrials);
  const auto& dead = s.stored[5];
  EXPECT_EQ(dead.outcome, wire::TrialOutcome::kAborted);
  EXPECT_TRUE(s.witness.trials[5].synthesized);
  EXPECT_EQ(dead.delivered_cherry_open_us + dead.delivered_grape_open_us, 0u);
  size_t shown_synthesized = 0;
  for (const auto& m : s.published) {
    if (m["type"] == "trial" && m["trial"]["synthesized"] == true) ++shown_synthesized;
  }
  EXPECT_EQ(shown_synthesized, 1u);
  // Board 1 ran trials 1..6 (6 died with it), board 2 the rest.
  expect_valves_match_trials(s.boards_pulses(), s.stored, {6, kTrials}, {6});
  EXPECT_EQ(count_events(s, "device_reset", "\"boot_id\":2"), 1u);
  EXPECT_EQ(s.status["link"]["counters"]["device_resets"], 1);
  EXPECT_EQ(s.summary_json["link"]["device_resets"], 1);
  expect_link_loss_reported(s);
}

// As above, but the new MCU reports the same boot id (a board whose boot id did not change, or came round
// again): the handshake still finds it is not the board the host talked to, since its event numbers cannot hold
// the events the host took. The trial is recorded once as aborted and every later event is taken; before,
// the host dropped the new board's events as replays of old ones and waited for trial 6 forever.
TEST(SessionFaults, AnMcuResetThatKeepsItsBootIdIsStillFoundAndTheTrialRecordedAborted) {
  constexpr uint32_t kTrials = 12;
  FaultSession s("mcu-reset-same-id", kTrials);
  ASSERT_NO_FATAL_FAILURE(run_with_mcu_reset(s, 1));
  expect_every_trial_once(s, kTrials);
  EXPECT_EQ(s.stored[5].outcome, wire::TrialOutcome::kAborted);
  EXPECT_TRUE(s.witness.trials[5].synthesized);
  expect_valves_match_trials(s.boards_pulses(), s.stored, {6, kTrials}, {6});
  EXPECT_EQ(count_events(s, "device_reset", "\"boot_id\":1"), 1u);
  EXPECT_EQ(s.summary_json["link"]["device_resets"], 1);
}

// One byte in a hundred has a bit flipped, both ways (about one frame in three damaged).
TEST(SessionFaults, ByteCorruptionAtOnePerHundredLosesNothing) {
  constexpr uint32_t kTrials = 24;
  FaultSession s("corrupt", kTrials);
  s.vmcu().inject_corruption(LineDirection::kToHost, 1e-2);
  s.vmcu().inject_corruption(LineDirection::kToDevice, 1e-2);
  ASSERT_TRUE(s.run()) << "the session did not finish";
  expect_every_trial_once(s, kTrials);
  expect_valves_match_trials(s.boards_pulses(), s.stored, one_board(kTrials));
  EXPECT_GT(s.vmcu().counters().bytes_corrupted, 0u);
  EXPECT_GT(s.vmcu().counters().device_frames_dropped, 0u);
  EXPECT_GT(s.summary_json["link"]["dropped"].get<uint64_t>(), 0u) << "the store does not show the dropped frames";
  EXPECT_GT(s.status["link"]["counters"]["dropped"].get<uint64_t>(), 0u) << "the dashboard does not show them";
}

// 300 random bytes each way after every 6th trial.
TEST(SessionFaults, GarbageBurstsAreDroppedAndReported) {
  constexpr uint32_t kTrials = 24;
  FaultSession s("garbage", kTrials);
  s.witness.after_trial = [&](const app::CompletedTrial& t) {
    if (t.record.trial_number % 6 == 0) {
      s.vmcu().inject_garbage(LineDirection::kToHost, 300);
      s.vmcu().inject_garbage(LineDirection::kToDevice, 300);
    }
  };
  ASSERT_TRUE(s.run()) << "the session did not finish";
  expect_every_trial_once(s, kTrials);
  expect_valves_match_trials(s.boards_pulses(), s.stored, one_board(kTrials));
  EXPECT_GE(s.vmcu().counters().garbage_bytes, 1200u);
  EXPECT_GT(s.summary_json["link"]["dropped"].get<uint64_t>(), 0u);
  EXPECT_GT(s.status["link"]["counters"]["dropped"].get<uint64_t>(), 0u);
}

// Everything the device sends is held 250 ms (device time), longer than the host's retransmission timeout:
// commands go again, each runs once.
TEST(SessionFaults, DelayedAcknowledgementsRetransmitButArmEachTrialOnce) {
  constexpr uint32_t kTrials = 16;
  FaultSession s("ack-delay", kTrials);
  s.vmcu().delay_device_output(250000);
  ASSERT_TRUE(s.run()) << "the session did not finish";
  expect_every_trial_once(s, kTrials);
  expect_valves_match_trials(s.boards_pulses(), s.stored, one_board(kTrials));
  EXPECT_GT(s.summary_json["link"]["retransmitted"].get<uint64_t>(), 0u);
  EXPECT_GT(s.status["link"]["counters"]["retransmitted"].get<uint64_t>(), 0u);
}

// The host goes silent towards the device when a valve opens (its frames stop arriving; it still hears
// the device). At speed 1 the session's watchdog is the firmware default, 250 ms: the valve, opened for
// 350 ms, must close within 255 ms of the last byte the device got from the host (sim time), the trial is
// recorded as a watchdog abort with what was delivered, and the session goes on once the line is back.
TEST(SessionFaults, SilentHostClosesTheValveWithinTheWatchdogBound) {
  constexpr uint32_t kTrials = 5;
  FaultSession s("watchdog", kTrials, [](app::SessionPlan& plan) {
    // Long openings (3 uL = 350 ms, within the 600 ms per valve per second) so the watchdog, not the plan,
    // ends the one cut short.
    for (auto& table : plan.config.rig_config.calibration) table.points = {{100000, 0.5}, {450000, 4.0}};
    plan.config.protocol.trial.iti_ms = 200;
    plan.config.protocol.trial.quiescence_ms = 200;
  });
  std::optional<uint64_t> restore_at_us;  // device time
  std::optional<size_t> pulses_before;  // valve openings when the cut was set up
  std::optional<hal::SimValvePulse> cut_at;
  uint64_t last_host_byte_us = 0;
  s.witness.after_trial = [&](const app::CompletedTrial& t) {
    if (t.record.trial_number != 1) return;
    pulses_before = s.vmcu().valve_pulses().size();
    s.vmcu().cut_line(LineDirection::kToDevice, FaultMoment::kNextValveOpen);
  };
  ASSERT_TRUE(s.run([&] {
    if (pulses_before && !cut_at) {
      const auto pulses = s.vmcu().valve_pulses();
      if (pulses.size() > *pulses_before) {
        // The cut took effect in the slice this valve opened: the device has heard the last of the host.
        cut_at = pulses[*pulses_before];
        last_host_byte_us = s.vmcu().counters().last_host_byte_us;
        restore_at_us = cut_at->open_us + 700000;
      }
    }
    if (restore_at_us && s.vmcu().counters().sim_time_us > *restore_at_us) {
      s.vmcu().restore_line(LineDirection::kToDevice);
      restore_at_us.reset();
    }
  })) << "the session did not finish";
  ASSERT_TRUE(cut_at.has_value()) << "no valve opened after trial 1";
  expect_every_trial_once(s, kTrials);
  expect_valves_match_trials(s.boards_pulses(), s.stored, one_board(kTrials));
  const store::StoredTrial* cut_trial = nullptr;
  for (const auto& t : s.stored) {
    if (t.valve_open_device_us.value_or(-1) == static_cast<int64_t>(cut_at->open_us)) cut_trial = &t;
  }
  ASSERT_NE(cut_trial, nullptr);
  EXPECT_EQ(cut_trial->outcome, wire::TrialOutcome::kWatchdogAbort) << "trial " << cut_trial->trial_number;
  size_t checked = 0;
  for (const auto& p : s.vmcu().valve_pulses()) {
    if (p.open_us != cut_at->open_us) continue;
    ++checked;
    EXPECT_LT(p.close_us - p.open_us, most_planned(*cut_trial, p.valve)) << "the watchdog did not cut the opening short";
    EXPECT_LE(p.close_us, last_host_byte_us + 255000) << "valve " << int(p.valve) << " closed "
                                                      << (p.close_us - last_host_byte_us) << " us after the host fell silent";
    RecordProperty("valve_closed_after_silence_us", std::to_string(p.close_us - last_host_byte_us));
  }
  EXPECT_GE(checked, 1u);
  expect_fault_reported(s, wire::kFaultHostTimeout);
}

// A host that stops acknowledging device events (it still sends heartbeats and commands): the 32-slot event
// queue fills and the device reports kFaultEventOverflow in its reserved slot instead of losing events
// silently. The report reaches the store and the dashboard; once acknowledgements flow again the session
// goes on to its end, every trial recorded once. No trial is lost: the device keeps a slot for the result of
// every trial it arms (and answers kBusy to an arm it has no slot for, which the host repeats).
TEST(SessionFaults, EventQueueOverflowIsReportedEndToEnd) {
  constexpr uint32_t kTrials = 20;
  FaultSession s("overflow", kTrials);
  bool withholding = false, released = false;
  s.witness.after_trial = [&](const app::CompletedTrial& t) {
    if (t.record.trial_number == 3) {
      s.vmcu().withhold_event_acks(true);
      withholding = true;
    }
  };
  ASSERT_TRUE(s.run([&] {
    if (withholding && !released && s.witness.saw_fault(wire::kFaultEventOverflow)) {
      s.vmcu().withhold_event_acks(false);
      released = true;
    }
  })) << "the session did not finish (overflow seen: " << s.witness.saw_fault(wire::kFaultEventOverflow) << ")";
  ASSERT_TRUE(released) << "no overflow reported";
  EXPECT_GT(s.vmcu().counters().acks_withheld, 0u);
  expect_every_trial_once(s, kTrials);
  expect_fault_reported(s, wire::kFaultEventOverflow);
  std::vector<uint32_t> synthesized;
  for (const auto& t : s.witness.trials) {
    if (t.synthesized) synthesized.push_back(t.record.trial_number);
  }
  // Every result reached the host: no trial was synthesized, none is recorded as lost.
  EXPECT_TRUE(synthesized.empty()) << "trial " << synthesized.front() << " lost its result";
  EXPECT_EQ(count_events(s, "trial_lost", ""), 0u);
  expect_valves_match_trials(s.boards_pulses(), s.stored, one_board(kTrials), synthesized);
}
