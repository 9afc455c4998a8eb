// rig-simavr: the real firmware image in simavr. Scripted scenarios (CTest label simavr), benchmarks, and a
// bridge that exposes the simulated board's UART0 on a private pseudo-terminal.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "mouse_options.hpp"
#include "pty_endpoint.hpp"
#include "scenarios.hpp"
#include "simavr_board.hpp"
#include "simavr_mouse.hpp"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

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
      std::fprintf(stderr, "rig-simavr: %s (known: all", e.what());
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

int serve(const std::string& elf, const std::string& pty_file, double speed, const rig::app::MouseOptions& mouse_options) {
  rig::device::SimavrBoard board(elf);
  rig::device::SimavrMouseAdapter adapter(board);
  std::unique_ptr<rig::sim::SimMouse> mouse;
  if (auto chooser = rig::app::make_chooser(mouse_options)) {
    mouse = std::make_unique<rig::sim::SimMouse>(adapter, std::move(chooser), rig::sim::MouseConfig{},
                                                 rig::sim::movement_seed(mouse_options.seed));
  }
  rig::device::PtyEndpoint pty;
  if (!pty_file.empty()) pty.publish_path(pty_file);
  std::fprintf(stderr, "rig-simavr: %s on %s (speed %s)\n", elf.c_str(), pty.path().c_str(),
               speed > 0 ? std::to_string(speed).c_str() : "unthrottled");
  std::printf("%s\n", pty.path().c_str());
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto wall0 = std::chrono::steady_clock::now();
  const uint64_t sim0 = board.now_us();
  uint8_t buf[512];
  while (!g_stop) {
    for (size_t n; (n = pty.read(buf, sizeof(buf))) > 0;) board.send_bytes(buf, n);
    if (mouse) {
      mouse->run_until(board.now_us() + 200);
    } else {
      board.run_for(200);
    }
    const auto out = board.take_output();
    if (!out.empty()) pty.write(out.data(), out.size());
    if (speed > 0) {
      const auto due = wall0 + std::chrono::microseconds(static_cast<int64_t>((board.now_us() - sim0) / speed));
      std::this_thread::sleep_until(due);
    }
  }
  if (!pty_file.empty()) std::remove(pty_file.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rig-simavr: run the real rig firmware (ATmega2560 .elf) in simavr"};
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
  bench->add_option("--output", bench_output, "Also write the JSON to this file");

  std::string pty_file;
  double speed = 1.0;
  auto* serve_cmd = app.add_subcommand("serve", "Bridge UART0 to a new pseudo-terminal and run until killed");
  serve_cmd->add_option("--pty-file", pty_file, "Write the pty path to this file once it is ready");
  serve_cmd->add_option("--speed", speed, "Simulated time per wall time (0 = as fast as possible)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  rig::app::MouseOptions mouse_options;
  rig::app::add_mouse_options(*serve_cmd, mouse_options, "none");

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
    if (serve_cmd->parsed()) return serve(elf, pty_file, speed, mouse_options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig-simavr: %s\n", e.what());
    return 1;
  }
  return 2;
}
