// rig-simavr: the real firmware image in simavr, its UART0 bridged to a private pseudo-terminal
// (`rig run --device simavr` starts it). The scripted scenarios and the benchmarks are rig-simavr-check
// (tests/simavr).
#include <CLI/CLI.hpp>

#include "host/config/install_paths.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "mouse_options.hpp"
#include "pty_endpoint.hpp"
#include "simavr_board.hpp"
#include "simavr_mouse.hpp"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

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
  app.set_version_flag("--version", std::string("rig-simavr ") + RIG_HOST_VERSION);
  // The installed image (the package's /usr/lib/rig/firmware), else the one this build produced.
  const auto installed = rig::config::installed_lib("firmware/rig-firmware-simavr.elf");
  std::string elf = installed ? installed->string() : RIG_DEFAULT_SIMAVR_ELF;
  app.add_option("--elf", elf, "Firmware image to load (default: the installed one, else the one this build produced)")
      ->capture_default_str();

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
    if (serve_cmd->parsed()) return serve(elf, pty_file, speed, mouse_options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig-simavr: %s\n", e.what());
    return 1;
  }
  return 2;
}
