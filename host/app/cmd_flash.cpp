// `rig flash`: writes the shipped firmware to a connected board with avrdude (docs/install.md). It first asks
// the board over the rig's own link: a board whose firmware already speaks this host's protocol version is left
// alone unless --force (flashing resets the board and is needless wear); a board that speaks another version,
// or no rig firmware at all, is flashed. After writing, it asks again and says what the board now runs.
#include <CLI/CLI.hpp>

#include <boost/asio/io_context.hpp>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command_registry.hpp"
#include "firmware/wire/wire.hpp"
#include "host/config/install_paths.hpp"
#include "host/link/link.hpp"
#include "host/task/rig_config.hpp"
#include "run_support.hpp"

extern char** environ;

namespace rig::app {
namespace {

namespace fs = std::filesystem;

// The Arduino Mega 2560's bootloader (STK500 v2 at 115200 baud, avrdude's "wiring" programmer).
constexpr const char* kAvrdudePart = "atmega2560";
constexpr const char* kAvrdudeProgrammer = "wiring";
constexpr int kBootloaderBaud = 115200;
// Opening the port resets a Mega; its bootloader waits about a second before the firmware starts, so the
// link's handshake gets this long to succeed.
constexpr std::chrono::seconds kProbeTime{8};

struct FlashOptions {
  std::string port;
  std::string config;
  std::string firmware;
  std::string avrdude = "avrdude";
  bool force = false;
  bool dry_run = false;
};

// What the board said to the rig's handshake.
struct BoardAnswer {
  enum class Kind { kSameVersion, kOtherVersion, kNoAnswer } kind = Kind::kNoAnswer;
  std::string detail;  // the firmware build id, or the link's reason
};

// Connects to `port` with the rig's link for at most kProbeTime. Blocks; runs its own io_context.
BoardAnswer ask_board(const std::string& port) {
  boost::asio::io_context io;
  BoardAnswer answer;
  answer.detail = "no rig firmware answered within " + std::to_string(kProbeTime.count()) + " s";
  link::LinkOptions options;
  options.port_path = port;
  link::Link::Callbacks callbacks;
  callbacks.on_status = [&](const link::LinkStatus& status) {
    if (status.state == link::LinkState::kFailed) {
      answer = {status.reason.rfind("protocol version mismatch", 0) == 0 ? BoardAnswer::Kind::kOtherVersion
                                                                          : BoardAnswer::Kind::kNoAnswer,
                status.reason};
      io.stop();
    }
  };
  callbacks.on_device = [&](const link::DeviceInfo& device, bool) {
    answer = {BoardAnswer::Kind::kSameVersion, device.firmware_build_id};
    io.stop();
  };
  auto link = link::Link::create(io, options, callbacks);
  link->start();
  io.run_for(kProbeTime);
  link->stop(false);
  return answer;
}

std::string default_port(const std::string& config) {
  const auto rig = load_rig_config_checked(config.empty() ? default_rig_config_path() : config).value;
  return rig.device_kind == task::DeviceKind::kSerial && !rig.port.empty() ? rig.port : "/dev/rig-mega";
}

std::string default_firmware() {
  if (const auto installed = config::installed_lib("firmware/rig-firmware.hex")) return installed->string();
  return RIG_BUILD_FIRMWARE_HEX;
}

// Runs avrdude with `args`, its output going to ours; returns its exit status (127: it could not be started).
int run_avrdude(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (spawned != 0) {
    throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(spawned) +
                             " (install avrdude: sudo apt install avrdude)");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("waiting for avrdude: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int flash(const FlashOptions& o) {
  const std::string port = o.port.empty() ? default_port(o.config) : o.port;
  const std::string firmware = o.firmware.empty() ? default_firmware() : o.firmware;
  std::error_code ec;
  if (!fs::is_regular_file(firmware, ec)) {
    throw InputError(firmware + ": firmware image not found (--firmware FILE.hex; the package installs it in "
                     "/usr/lib/rig/firmware)");
  }
  if (fs::path(firmware).extension() != ".hex") {
    throw InputError(firmware + ": expected an Intel HEX image (.hex), as avrdude writes it");
  }
  if (!fs::exists(port, ec)) {
    throw InputError(port + ": no such port (is the board plugged in? `rig ports` lists candidates; --port PATH)");
  }
  const std::vector<std::string> command{o.avrdude,
                                         "-p", kAvrdudePart,
                                         "-c", kAvrdudeProgrammer,
                                         "-P", port,
                                         "-b", std::to_string(kBootloaderBaud),
                                         "-D",
                                         "-U", "flash:w:" + firmware + ":i"};
  std::string shown;
  for (const auto& a : command) shown += (shown.empty() ? "" : " ") + a;

  std::printf("asking the board on %s which firmware it runs...\n", port.c_str());
  const BoardAnswer before = ask_board(port);
  switch (before.kind) {
    case BoardAnswer::Kind::kSameVersion:
      std::printf("the board runs '%s', which speaks this host's protocol version %u\n", before.detail.c_str(),
                  static_cast<unsigned>(wire::kProtocolVersion));
      if (!o.force) {
        std::printf("nothing to do: it already matches (--force writes %s anyway)\n", firmware.c_str());
        return kExitOk;
      }
      break;
    case BoardAnswer::Kind::kOtherVersion:
      std::printf("%s\n", before.detail.c_str());
      break;
    case BoardAnswer::Kind::kNoAnswer:
      std::printf("%s: flashing it\n", before.detail.c_str());
      break;
  }
  if (o.dry_run) {
    std::printf("would run: %s\n", shown.c_str());
    return kExitOk;
  }
  std::printf("running: %s\n", shown.c_str());
  const int status = run_avrdude(command);
  if (status != 0) {
    std::fprintf(stderr, "rig flash: avrdude exited %d: the board was not written (or not completely); check the "
                         "port, then run rig flash again\n", status);
    return kExitFailure;
  }
  const BoardAnswer after = ask_board(port);
  if (after.kind != BoardAnswer::Kind::kSameVersion) {
    std::fprintf(stderr, "rig flash: avrdude wrote the image, but the board does not answer as rig firmware of "
                         "protocol version %u: %s\n", static_cast<unsigned>(wire::kProtocolVersion), after.detail.c_str());
    return kExitFailure;
  }
  std::printf("the board now runs '%s' (protocol version %u)\n", after.detail.c_str(),
              static_cast<unsigned>(wire::kProtocolVersion));
  return kExitOk;
}

const CommandRegistration kFlashRegistration{
    "flash", "Write the shipped firmware to the board with avrdude (skipped when the board already matches)",
    [](CLI::App& command) {
      auto o = std::make_shared<FlashOptions>();
      command.add_option("--port", o->port, "The board's serial port (default: the rig config's device port, else /dev/rig-mega)");
      command.add_option("--config", o->config, "Rig config YAML, for its device port (default: as rig run)");
      command.add_option("--firmware", o->firmware, "Intel HEX image (default: the installed rig-firmware.hex, else this build's)");
      command.add_option("--avrdude", o->avrdude, "The avrdude program")->capture_default_str();
      command.add_flag("--force", o->force, "Write even when the board already speaks this host's protocol version");
      command.add_flag("--dry-run", o->dry_run, "Ask the board and show the avrdude command, but write nothing");
      return [o] { return run_with_errors("flash", [&] { return flash(*o); }); };
    }};

}  // namespace
}  // namespace rig::app
