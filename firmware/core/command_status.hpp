// The outcome of a device command: the AckStatus and detail its CommandAck carries.
#ifndef RIG_CORE_COMMAND_STATUS_HPP
#define RIG_CORE_COMMAND_STATUS_HPP

#include <stdint.h>

#include "firmware/wire/messages.hpp"

namespace rig {
namespace core {

struct CommandStatus {
  wire::AckStatus status;
  uint32_t detail;  // for kBadArgument, the 1-based number of the offending field in messages.def
};

constexpr CommandStatus kCommandOk = {wire::AckStatus::kOk, 0};

}  // namespace core
}  // namespace rig

#endif
