// `rig ports`: lists serial ports that could be a rig board, likely Arduino boards first.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "command_registry.hpp"
#include "serial_port.hpp"

namespace {

const rig::app::CommandRegistration kPortsRegistration{
    "ports", "List serial ports that could be a rig board (Arduino Mega and common USB-serial chips first)",
    [](CLI::App& command) {
      auto all = std::make_shared<bool>(false);
      command.add_flag("--all", *all, "Also list ports that do not look like an Arduino");
      return [all] {
        const auto ports = rig::link::list_ports();
        int shown = 0;
        for (const auto& p : ports) {
          if (!p.likely_arduino && !*all) continue;
          if (p.usb_vid >= 0) {
            std::printf("%-20s %04x:%04x  %s%s\n", p.path.c_str(), p.usb_vid, p.usb_pid, p.description.c_str(),
                        p.likely_arduino ? "  (likely a rig board)" : "");
          } else {
            std::printf("%-20s %-9s  %s\n", p.path.c_str(), "-", p.description.c_str());
          }
          ++shown;
        }
        if (shown == 0) {
          std::printf(ports.empty() ? "no serial ports found\n"
                                    : "no Arduino-like ports found (%zu other ports; --all lists them)\n",
                      ports.size());
        }
        return rig::app::kExitOk;
      };
    }};

}  // namespace
