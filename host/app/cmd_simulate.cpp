// `rig simulate`: sessions of the task engine played by a simulated agent, with no device and no clock, as
// fast as the machine allows, stored like real sessions (so `rig fit --subject`, `rig report`, `rig export`
// work on them).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "agent_chooser.hpp"
#include "command_registry.hpp"
#include "host/analysis/agent_yaml.hpp"
#include "host/store/store.hpp"
#include "host/task/engine_state.hpp"
#include "run_support.hpp"
#include "simulate.hpp"

namespace rig::app {
namespace {

struct SimulateOptions {
  std::string agent = "mixed";
  std::string protocol;
  std::string config;
  std::string subject = "SIMULATED";
  std::string controllable = "cherry";
  int sessions = 1;
  double days_apart = 0.0;  // between session starts; the last one starts now
  int64_t trials = 500;
  uint64_t seed = 1;
  std::string db;
  bool json = false;
};

analysis::AgentParams agent_params(const std::string& agent) {
  if (const auto preset = analysis::parse_agent_preset(agent)) return analysis::agent_preset(*preset);
  if (!std::filesystem::exists(agent)) {
    throw InputError("--agent: '" + agent + "' is neither naive, savvy, mixed nor an agent YAML file");
  }
  task::Subject subject;
  subject.simulated_agent = task::AgentSpec{task::AgentSpec::Kind::kFile, agent};
  try {
    return agent_params_for(subject, std::filesystem::absolute(agent).string());
  } catch (const std::exception& e) {
    throw InputError(e.what());
  }
}

int simulate(const SimulateOptions& o) {
  if (o.protocol.empty()) throw InputError("--protocol is required (e.g. protocols/distractor.yaml)");
  // A subject file is not needed: the simulated subject is described by the options.
  RunInputs in;
  auto rig = load_rig_config_checked(o.config.empty() ? default_rig_config_path() : o.config);
  in.rig_path = std::move(rig.path);
  in.rig_text = std::move(rig.text);
  in.rig = std::move(rig.value);
  auto protocol = load_protocol_checked(o.protocol, in.rig);
  in.protocol_path = std::move(protocol.path);
  in.protocol_text = std::move(protocol.text);
  in.protocol = std::move(protocol.value);
  in.protocol.limits.max_trials = o.trials;
  in.protocol.limits.max_minutes.reset();
  in.protocol.limits.max_volume_per_spout_ul.reset();
  if (o.controllable != "cherry" && o.controllable != "grape") throw InputError("--controllable: cherry or grape");
  in.subject.id = o.subject;
  in.subject.controllable = o.controllable == "cherry" ? wire::Valve::kCherry : wire::Valve::kGrape;
  in.subject.stage = o.protocol;
  in.subject.daily_water_max_ml.reset();
  const analysis::AgentParams params = agent_params(o.agent);

  const std::string db_path = o.db.empty() ? store::Store::default_path() : o.db;
  // Session s starts (sessions - 1 - s) * days_apart days before now; what the store stamps during a session
  // (its trials' commits, its end) runs on from that start with the wall clock.
  const int64_t now_unix_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto session_start_unix_us = [&](int s) {
    return now_unix_us - static_cast<int64_t>(static_cast<double>(o.sessions - 1 - s) * o.days_apart * 86400e6);
  };
  int64_t session_base_unix_us = session_start_unix_us(0);
  auto session_base_steady = std::chrono::steady_clock::now();
  store::OpenOptions open_options = store::OpenOptions::with_clock([&] {
    return session_base_unix_us + std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - session_base_steady)
                                      .count();
  });
  open_options.cache_kib = 32 * 1024;  // bulk inserts: the table's and the key's pages stay in memory
  store::Store db = store::Store::open(db_path, open_options);

  const auto t0 = std::chrono::steady_clock::now();
  uint64_t total = 0;
  double simulate_seconds = 0;  // engine + agent, without storage
  nlohmann::json sessions = nlohmann::json::array();
  analysis::QLearningAgent agent(params);  // one animal across its sessions: it keeps what it learned
  analysis::Rng rng(o.seed);
  for (int s = 0; s < o.sessions; ++s) {
    const uint64_t seed = o.seed * 1000003ull + static_cast<uint64_t>(s);
    task::TaskEngine engine(in.protocol, in.rig, in.subject, seed);
    store::SessionStart start;
    start.subject = in.subject;
    start.protocol_path = o.protocol;
    start.protocol_text = in.protocol_text;
    start.rig_config_path = in.rig_path;
    start.rig_config_text = in.rig_text;
    start.valve_calibration_json = store::calibration_json(in.rig);
    start.device_kind = "simulate";
    start.host_version = RIG_HOST_VERSION;
    start.rng_seed = seed;
    session_base_unix_us = session_start_unix_us(s);
    session_base_steady = std::chrono::steady_clock::now();
    start.started_at_unix_us = session_base_unix_us;
    start.initial_state_json = task::engine_state_to_json(engine.state());
    const int64_t session_id = db.begin_session(start);

    std::vector<model::TrialRecord> batch;
    batch.reserve(static_cast<size_t>(o.trials));
    const auto sim_start = std::chrono::steady_clock::now();
    simulate_session(engine, agent, rng, [&](const CompletedTrial& t) {
      batch.push_back(t.record);
    });
    simulate_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - sim_start).count();
    // One transaction per session: simulated trials need no per-trial durability, and the last engine
    // state is stored for the session's end.
    db.commit_trials(session_id, batch, engine.state());
    db.end_session(session_id, "simulated: " + std::to_string(batch.size()) + " trials", "{}");
    total += batch.size();
    sessions.push_back({{"session_id", session_id}, {"trials", batch.size()}});
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"subject", o.subject},
                                        {"agent", o.agent},
                                        {"sessions", sessions},
                                        {"trials", total},
                                        {"seconds", seconds},
                                        {"trials_per_s", total / seconds},
                                        {"simulate_seconds", simulate_seconds},
                                        {"simulate_trials_per_s", total / simulate_seconds},
                                        {"db", db_path}}
                            .dump(2)
                            .c_str());
  } else {
    std::printf("simulated %llu trials of %s (%s agent) in %d session(s), %.2f s (%.0f trials/s)\n",
                static_cast<unsigned long long>(total), o.subject.c_str(), o.agent.c_str(), o.sessions, seconds,
                total / seconds);
    std::printf("stored in %s; fit with: rig fit --db %s --subject %s\n", db_path.c_str(), db_path.c_str(),
                o.subject.c_str());
  }
  return kExitOk;
}

const CommandRegistration kSimulateRegistration{
    "simulate", "Simulate sessions of an agent on a protocol (no device, no clock) and store them",
    [](CLI::App& command) {
      auto o = std::make_shared<SimulateOptions>();
      command.add_option("--agent", o->agent, "naive | savvy | mixed | an agent YAML file")->capture_default_str();
      command.add_option("--protocol", o->protocol, "Protocol YAML")->required();
      command.add_option("--config", o->config, "Rig config YAML (valve calibration, wheel)");
      command.add_option("--subject", o->subject, "Subject id to store the sessions under")->capture_default_str();
      command.add_option("--controllable", o->controllable, "Which flavour is controllable: cherry | grape")
          ->capture_default_str();
      command.add_option("--sessions", o->sessions, "Sessions to simulate")->capture_default_str()->check(CLI::PositiveNumber);
      command.add_option("--trials", o->trials, "Trials per session")->capture_default_str()->check(CLI::PositiveNumber);
      command.add_option("--days-apart", o->days_apart,
                         "Days between the sessions' starts, the last one starting now (0: all now)")
          ->capture_default_str()
          ->check(CLI::NonNegativeNumber);
      command.add_option("--seed", o->seed, "Seed (schedule draws and the agent)")->capture_default_str();
      command.add_option("--db", o->db, "Session database (default: " + store::Store::default_path() + ")");
      command.add_flag("--json", o->json, "Print the result as JSON");
      return [o] { return run_with_errors("simulate", [&] { return simulate(*o); }); };
    }};

}  // namespace
}  // namespace rig::app
