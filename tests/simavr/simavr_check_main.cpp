// rig-simavr-check: the real firmware image in simavr under scripted scenarios (CTest label simavr) and the
// firmware timing benchmarks (docs/performance.md).
//   rig-simavr-check [--elf FILE] scenario [NAMES... | all]   exit 1 if one fails
//   rig-simavr-check [--elf FILE] bench [--trials N] [--encoder-seconds S] [--seed N] [--only PARTS] [--output FILE]
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "scenarios.hpp"

namespace {

int run_scenarios(const std::vector<std::string>& names, const std::string& elf) {
  std::vector<std::string> to_run = names;
  if (to_run.empty() || (to_run.size() == 1 && to_run[0] == "all")) to_run = rig::device::scenario_names();
  int failed = 0;
  for (const auto& name : to_run) {
    const auto start = std::chrono::steady_clock::now();
    rig::device::ScenarioReport report;
    try {
      report = rig::device::run_scenario(name, elf);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "rig-simavr-check: %s (known: all", e.what());
      for (const auto& n : rig::device::scenario_names()) std::fprintf(stderr, ", %s", n.c_str());
      std::fprintf(stderr, ")\n");
      return 2;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-14s %s (%.1f s)\n", name.c_str(), report.passed() ? "PASS" : "FAIL", s);
    for (const auto& n : report.notes) std::printf("    %s\n", n.c_str());
    for (const auto& f : report.failures) std::printf("    failed: %s\n", f.c_str());
    failed += report.passed() ? 0 : 1;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rig-simavr-check: scripted scenarios and timing benchmarks of the rig firmware in simavr"};
  app.require_subcommand(1);
  std::string elf = RIG_DEFAULT_SIMAVR_ELF;
  app.add_option("--elf", elf, "Firmware image to load (default: the one this build produced)")->capture_default_str();

  std::vector<std::string> names;
  auto* scenario = app.add_subcommand("scenario", "Run scripted scenarios against the firmware (exit 1 if one fails)");
  scenario->add_option("names", names, "Scenario names, or 'all' (default)");

  rig::device::BenchOptions bench_options;
  std::string bench_output;
  auto* bench = app.add_subcommand("bench", "Measure latency, pulse accuracy, encoder rate, watchdog; print JSON");
  bench->add_option("--trials", bench_options.trials, "Choice-to-valve trials")->capture_default_str()->check(CLI::PositiveNumber);
  bench->add_option("--encoder-seconds", bench_options.encoder_seconds, "Simulated seconds per encoder rate")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench->add_option("--seed", bench_options.seed, "Seed for the edge phases")->capture_default_str();
  bench->add_option("--only", bench_options.only,
                    "Run only these parts (choice, choice_busy, pulses, encoder, watchdog, io, licks); the JSON "
                    "then has only their keys")
      ->delimiter(',')
      ->check(CLI::IsMember({"choice", "choice_busy", "pulses", "encoder", "watchdog", "io", "licks"}));
  bench->add_option("--output", bench_output, "Also write the JSON to this file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (scenario->parsed()) return run_scenarios(names, elf);
    if (bench->parsed()) {
      bench_options.elf_path = elf;
      const auto result = rig::device::run_bench(bench_options);
      std::cout << result.dump(2) << std::endl;
      if (!bench_output.empty()) std::ofstream(bench_output) << result.dump(2) << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig-simavr-check: %s\n", e.what());
    return 1;
  }
  return 2;
}
