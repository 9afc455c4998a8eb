// rig-vmcu: the virtual MCU as a program. The firmware core on the simulated HAL, with a simulated mouse,
// behind a new pseudo-terminal whose path it prints; runs until SIGINT or SIGTERM.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>

#include "mouse_options.hpp"
#include "vmcu/virtual_mcu.hpp"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

int serve(const rig::device::VirtualMcuOptions& options, const rig::app::MouseOptions& mouse,
          const std::string& pty_file) {
  rig::device::VirtualMcu vmcu(options, rig::app::make_chooser(mouse));
  if (!pty_file.empty()) vmcu.publish_path(pty_file);
  std::fprintf(stderr, "rig-vmcu: boot id %u on %s (speed %s, mouse %s, seed %llu)\n", options.boot_id,
               vmcu.path().c_str(), options.speed > 0 ? std::to_string(options.speed).c_str() : "unthrottled",
               mouse.kind.c_str(), static_cast<unsigned long long>(mouse.seed));
  std::printf("%s\n", vmcu.path().c_str());
  std::fflush(stdout);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  vmcu.start();
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  vmcu.stop();
  if (!pty_file.empty()) std::remove(pty_file.c_str());
  const auto c = vmcu.counters();
  std::fprintf(stderr, "rig-vmcu: stopped at %.3f s simulated, %llu trials seen, %llu bytes in, %llu bytes out\n",
               c.sim_time_us / 1e6, static_cast<unsigned long long>(c.trials_seen),
               static_cast<unsigned long long>(c.bytes_from_host), static_cast<unsigned long long>(c.bytes_to_host));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rig-vmcu: the virtual MCU (rig firmware core on a simulated board) behind a pseudo-terminal"};
  rig::device::VirtualMcuOptions options;
  app.set_version_flag("--version", std::string("rig-vmcu ") + RIG_HOST_VERSION);
  options.boot_id = static_cast<uint32_t>(std::random_device{}()) | 1u;  // a restarted rig-vmcu is a reset MCU
  std::string pty_file;
  rig::app::MouseOptions mouse;
  app.add_option("--speed", options.speed, "Simulated time per wall time (0 = as fast as possible)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--pty-file", pty_file, "Write the pty path to this file once it is ready (removed at exit)");
  app.add_option("--boot-id", options.boot_id, "Boot id reported in HelloReply (default: random)");
  rig::app::add_mouse_options(app, mouse, "random");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  options.seed = mouse.seed;
  try {
    return serve(options, mouse, pty_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig-vmcu: %s\n", e.what());
    return 1;
  }
}
