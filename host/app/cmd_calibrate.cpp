// `rig calibrate`: measures a valve's calibration table through the Rig (pulse trains the operator weighs)
// and writes it, dated, into the rig config, changing nothing else in that file.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "host/config/rig_config_file.hpp"
#include "command_registry.hpp"
#include "calibration_rig.hpp"
#include "device_factory.hpp"
#include "host/config/atomic_file.hpp"
#include "host/task/calibration.hpp"
#include "host/task/calibration_plan.hpp"
#include "host/config/calibration_yaml.hpp"
#include "host/task/rig_config.hpp"
#include "run_support.hpp"

namespace rig::app {
namespace {

namespace fs = std::filesystem;

// Simulated devices run this many times faster than real time so a calibration takes seconds.
constexpr double kSimulatedSpeed = 50.0;
// Volumes are written with this many decimals: 0.1 mg over 100 pulses is 0.001 uL.
constexpr int kVolumeDecimals = 4;
// The loader's upper bound of a calibrated volume (docs/config.md).
constexpr double kMaxVolumeUl = 1000.0;

struct CalibrateOptions {
  std::string valve;
  std::string config;
  std::string device;
  std::string open_us = "10000,20000,40000,80000";
  std::uint32_t pulses = 100;
  std::uint32_t interval_ms = 300;
  std::string weights;
  bool yes = false;
  bool dry_run = false;
};

// Prompts on stderr and reads one line from stdin; nullopt at the end of input.
std::optional<std::string> ask(const std::string& prompt) {
  std::fflush(stdout);  // what the question is about comes first
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  return line;
}

// Asks for the total weight of `pulse_count` pulses of open_us until it reads as a plausible weight in mg.
double ask_weight(std::uint32_t open_us, std::uint32_t pulse_count) {
  while (true) {
    const auto answer = ask("Total weight of the " + std::to_string(pulse_count) + " pulses of " +
                            std::to_string(open_us) + " us, in mg: ");
    if (!answer) throw std::runtime_error("no weight entered (end of input); the rig config was not changed");
    const auto weight_mg = task::parse_weight_mg(*answer);
    if (!weight_mg) {
      std::fprintf(stderr, "'%s' is not a weight in mg: enter a positive number such as 812.5\n", answer->c_str());
    } else if (*weight_mg / pulse_count > kMaxVolumeUl) {
      std::fprintf(stderr, "%s mg is more than %g uL per pulse: enter the total weight of all pulses in mg\n",
                   answer->c_str(), kMaxVolumeUl);
    } else {
      return *weight_mg;
    }
  }
}

// A duration for the operator: "25 s", or "12 min" from two minutes on.
std::string format_seconds(std::int64_t duration_us) {
  char text[32];
  const bool long_one = duration_us >= 120000000;
  std::snprintf(text, sizeof text, long_one ? "%.0f min" : "%.0f s", long_one ? duration_us / 60e6 : duration_us / 1e6);
  return text;
}

void print_comparison(const task::CalibrationTable& old_table, const task::CalibrationTable& new_table,
                      wire::Valve valve) {
  std::printf("valve %s: calibration of %s -> %s\n", task::flavour_name(valve),
              task::format_date(old_table.calibrated_on).c_str(), task::format_date(new_table.calibrated_on).c_str());
  std::printf("  %9s  %12s  %12s  %8s\n", "open_us", "new uL", "old uL", "change");
  for (const auto& row : task::compare_calibration(old_table, new_table)) {
    std::printf("  %9u  %12.4f  %12.4f  %+7.1f%%%s\n", row.open_us, row.new_volume_ul, row.old_volume_ul,
                row.change_percent, row.extrapolated ? "  (old table extrapolated)" : "");
  }
  std::string old_points;
  for (const auto& point : old_table.points) {
    char text[64];
    std::snprintf(text, sizeof text, "%s%u us %g uL", old_points.empty() ? "" : ", ", point.open_us, point.volume_ul);
    old_points += text;
  }
  std::printf("  old table: %s\n", old_points.c_str());
}

// Rewrites valves.<valve> of the rig config at `path` (whose text was `original` when the calibration
// started), reloads it and restores the original if it does not read back as intended.
void write_table(const std::string& path, const std::string& original, wire::Valve valve,
                 const task::RigConfig& old_config, const task::CalibrationTable& table) {
  const std::string paste = "\nThe new table, to paste under valves: by hand:\n" + config::format_valve_calibration(valve, table);
  if (read_file(path) != original) {
    throw std::runtime_error(path + " changed during the calibration; it was not written." + paste);
  }
  std::string rewritten;
  try {
    rewritten = config::replace_valve_calibration(original, valve, table);
  } catch (const config::CalibrationYamlError& e) {
    throw std::runtime_error(path + ": cannot rewrite it: " + e.what() + paste);
  }
  const fs::path target = fs::is_symlink(path) ? fs::canonical(path) : fs::path(path);
  config::write_file_atomically(target, rewritten);

  const wire::Valve other = valve == wire::Valve::kCherry ? wire::Valve::kGrape : wire::Valve::kCherry;
  const auto reloaded = config::load_rig_config_file(path);
  if (reloaded.ok() && reloaded.value->table(valve) == table && reloaded.value->table(other) == old_config.table(other)) {
    return;
  }
  std::string why;
  for (const auto& d : reloaded.diagnostics) why += "\n  " + task::format_diagnostic(d);
  config::write_file_atomically(target, original);
  throw std::runtime_error(path + ": the rewritten file did not read back as written; the original was restored" + why +
                           paste);
}

int calibrate(const CalibrateOptions& o) {
  const wire::Valve* valve = task::value_of(task::kFlavourNames, o.valve);
  if (!valve) throw InputError("--valve: '" + o.valve + "' is not a valve (cherry or grape)");
  task::CalibrationPlan plan;
  plan.valve = *valve;
  try {
    plan.open_us = task::parse_open_times(o.open_us);
  } catch (const std::invalid_argument& e) {
    throw InputError(std::string("--open-us: ") + e.what());
  }
  plan.pulse_count = o.pulses;
  plan.interval_us = o.interval_ms * 1000;
  if (const auto problems = task::check_plan(plan); !problems.empty()) {
    std::string message = "the pulses cannot be delivered as asked:";
    for (const auto& p : problems) message += "\n  " + p;
    throw InputError(message);
  }

  const std::string config_path = o.config.empty() ? default_rig_config_path() : o.config;
  const std::string original = read_file(config_path);
  const auto loaded = config::parse_rig_config(original, config_path);
  if (!loaded.ok()) {
    std::string message = "invalid rig config:";
    for (const auto& d : loaded.diagnostics) message += "\n  " + task::format_diagnostic(d);
    throw InputError(message);
  }
  const task::RigConfig& config = *loaded.value;
  const task::CalibrationTable& old_table = config.table(plan.valve);
  try {
    // Find out now, not after the pulses, whether the file can be rewritten.
    (void)config::replace_valve_calibration(original, plan.valve, old_table);
  } catch (const config::CalibrationYamlError& e) {
    throw InputError(config_path + ": cannot rewrite its table: " + e.what());
  }

  std::optional<std::vector<task::WeighedPulses>> given;
  if (!o.weights.empty()) {
    try {
      given = task::measurements_from_weights(plan, task::parse_weights(read_file(o.weights), o.weights));
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string("--weights: ") + e.what());
    }
    for (const auto& m : *given) {
      if (m.total_weight_mg / m.pulse_count > kMaxVolumeUl) {
        throw InputError("--weights: " + o.weights + ": " + std::to_string(m.open_us) + " us: more than 1000 uL per " +
                         "pulse; the weights are the total of all pulses in mg");
      }
    }
  }

  DeviceRequest request = device_request(o.device, config, kSimulatedSpeed, 1);
  request.simavr_program = sibling_program("rig-simavr");
  const double speed = request.kind == DeviceChoice::kSerial ? 1.0 : request.speed;
  std::int64_t total_us = 0;
  for (const auto open_us : plan.open_us) total_us += task::pulse_train_duration_us(open_us, plan.pulse_count, plan.interval_us);
  std::fprintf(stderr, "rig calibrate: valve %s, %zu open times x %u pulses %u ms apart (about %s of pulses); %s\n",
               o.valve.c_str(), plan.open_us.size(), plan.pulse_count, o.interval_ms,
               format_seconds(static_cast<std::int64_t>(total_us / speed)).c_str(), config_path.c_str());

  std::vector<task::WeighedPulses> measurements;
  {
    CalibrationRig rig(config.device_policy);
    rig.connect(std::move(request));
    std::fprintf(stderr, "rig calibrate: connected to %s\n", rig.description().c_str());
    for (std::size_t i = 0; i < plan.open_us.size(); ++i) {
      const std::uint32_t open_us = plan.open_us[i];
      if (!given) {
        const auto answer = ask("Put an empty, weighed cup under the " + o.valve + " spout and press Enter (q to stop): ");
        if (!answer || *answer == "q") throw std::runtime_error("stopped by the operator; the rig config was not changed");
        rig.throw_if_failed();
      }
      const std::int64_t train_us = task::pulse_train_duration_us(open_us, plan.pulse_count, plan.interval_us);
      const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(train_us / speed * 1.5 / 1000) + 10000);
      std::fprintf(stderr, "rig calibrate: %u pulses of %u us (about %s)...\n", plan.pulse_count, open_us,
                   format_seconds(static_cast<std::int64_t>(train_us / speed)).c_str());
      rig.deliver(wire::PulseValve{static_cast<uint8_t>(plan.valve), static_cast<uint16_t>(plan.pulse_count), open_us,
                                   plan.interval_us},
                  timeout);
      const double weight_mg = given ? (*given)[i].total_weight_mg : ask_weight(open_us, plan.pulse_count);
      measurements.push_back(task::WeighedPulses{open_us, plan.pulse_count, weight_mg});
    }
    rig.throw_if_failed();
  }

  task::CalibrationTable table;
  try {
    table = task::round_volumes(task::fit_calibration(measurements, today()), kVolumeDecimals);
    if (const auto problem = task::check_table(table)) throw std::invalid_argument(problem->message);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string(e.what()) + "; the rig config was not changed");
  }
  print_comparison(old_table, table, plan.valve);

  if (o.dry_run) {
    std::printf("dry run: %s was not changed. The new table:\n%s", config_path.c_str(),
                config::format_valve_calibration(plan.valve, table).c_str());
    return kExitOk;
  }
  if (!o.yes) {
    const auto answer = ask("Write the new " + o.valve + " table to " + config_path + "? [y/N] ");
    if (!answer || (*answer != "y" && *answer != "Y" && *answer != "yes")) {
      std::printf("%s was not changed\n", config_path.c_str());
      return kExitOk;
    }
  }
  write_table(config_path, original, plan.valve, config, table);
  std::printf("wrote valves.%s (calibrated_on %s) to %s\n", o.valve.c_str(), task::format_date(table.calibrated_on).c_str(),
              config_path.c_str());
  return kExitOk;
}

const CommandRegistration kCalibrateRegistration{
    "calibrate", "Measure a valve's calibration (pulses you weigh) and write the table into the rig config",
    [](CLI::App& command) {
      auto o = std::make_shared<CalibrateOptions>();
      command.add_option("--valve", o->valve, "cherry | grape")->required();
      command.add_option("--config", o->config, "Rig config YAML to update (default: $RIG_CONFIG, ~/.config/rig/rig.yaml, installed: /etc/rig/rig.yaml, else the simulated rig's example)");
      command.add_option("--device", o->device, "sim | simavr | serial[:PATH] (default: the rig config's device)");
      command.add_option("--open-us", o->open_us, "Open times to measure, in us, increasing, comma-separated")
          ->capture_default_str();
      command.add_option("--pulses", o->pulses, "Pulses per open time, weighed together")
          ->capture_default_str()->check(CLI::Range(1, 65535));
      command.add_option("--interval-ms", o->interval_ms, "Start-to-start time between pulses, in ms")
          ->capture_default_str()->check(CLI::Range(1, 4294967));
      command.add_option("--weights", o->weights, "File of `open_us weight_mg` lines instead of asking (for scripts)");
      command.add_flag("--yes", o->yes, "Write the new table without asking");
      command.add_flag("--dry-run", o->dry_run, "Measure and show the new table, but do not write it");
      return [o] { return run_with_errors("calibrate", [&] { return calibrate(*o); }); };
    }};

}  // namespace
}  // namespace rig::app
