// `rig version`: host version and the wire protocol version it speaks.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "command_registry.hpp"
#include "firmware/wire/wire.hpp"

namespace {

const rig::app::CommandRegistration kVersionRegistration{
    "version", "Print the host version and the wire protocol version", [](CLI::App&) {
      return [] {
        std::printf("rig %s (wire protocol %u)\n", RIG_HOST_VERSION,
                    static_cast<unsigned>(rig::wire::kProtocolVersion));
        return rig::app::kExitOk;
      };
    }};

}  // namespace
