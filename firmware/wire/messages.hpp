// Message structs of the rig wire protocol, generated from messages.def, plus the enums their fields use.
// Header-only, C++14, C headers only: the same file builds in the firmware (avr-g++) and the host (g++).
#ifndef RIG_WIRE_MESSAGES_HPP
#define RIG_WIRE_MESSAGES_HPP

#include <stddef.h>
#include <stdint.h>

namespace rig {
namespace wire {

// Bumped whenever a message layout or meaning changes; both sides refuse a mismatch at the handshake.
constexpr uint16_t kProtocolVersion = 2;
// Largest payload of any message; frames are sized from it.
constexpr size_t kMaxPayload = 64;
constexpr uint8_t kWheelBatchMax = 20;
constexpr uint8_t kSyncEdgesMax = 8;
constexpr uint8_t kLickEdgesMax = 7;

enum class Direction : uint8_t { kHostToDevice = 0, kDeviceToHost = 1 };
enum class Delivery : uint8_t { kBestEffort = 0, kReliable = 1 };

enum class TrialKind : uint8_t { kFree = 0, kInstructedLeft = 1, kInstructedRight = 2 };
enum class Side : uint8_t { kLeft = 0, kRight = 1 };
enum class Valve : uint8_t { kCherry = 0, kGrape = 1 };
constexpr uint8_t kValveCount = 2;
// ArmTrial.open_us index for a side and a valve.
constexpr uint8_t open_index(Side side, Valve valve) {
  return static_cast<uint8_t>(static_cast<uint8_t>(side) * kValveCount + static_cast<uint8_t>(valve));
}

enum class TrialOutcome : uint8_t {
  kLeft = 0,
  kRight = 1,
  kMiss = 2,
  kAborted = 3,
  kNoQuiescence = 4,
  kWatchdogAbort = 5,
};
enum class TrialEventKind : uint8_t {
  kArmed = 1,
  kQuiescenceRestarted = 2,
  kGoCue = 3,
  kChoice = 4,
  kValvesClosed = 5,
};
enum class TrialState : uint8_t { kIdle = 0, kQuiescence = 1, kResponse = 2, kDelivering = 3 };
// kBusy: the event queue has no room to set aside for the trial's result; arm again once events are acknowledged.
enum class AckStatus : uint8_t { kOk = 0, kClamped = 1, kBadState = 2, kBadArgument = 3, kUnknownType = 4, kBusy = 5 };
enum class CameraEvent : uint8_t { kStarted = 1, kStopped = 2 };
// LickEdges.kind bits.
constexpr uint8_t kLickGrape = 1u << 0;
constexpr uint8_t kLickOnset = 1u << 1;
enum class HalKind : uint8_t { kAvr = 0, kSimulated = 1, kSimavr = 2 };

// Fault bits (Fault.fault_bit, *.latched_faults).
constexpr uint16_t kFaultHostTimeout = 1u << 0;     // host heartbeat missing past the timeout
constexpr uint16_t kFaultEventOverflow = 1u << 1;   // event ring buffer full: an event could not be queued
constexpr uint16_t kFaultValveLimit = 1u << 2;      // a command asked for more than a hard valve limit
constexpr uint16_t kFaultEncoderInvalid = 1u << 3;  // invalid quadrature transitions (missed edges)
constexpr uint16_t kFaultRxOverrun = 1u << 4;       // UART receive overrun or buffer overflow
constexpr uint16_t kFaultReset = 1u << 5;           // the MCU restarted (watchdog or brown-out reset cause)

// Result flags (TrialResult.flags).
constexpr uint8_t kResultClamped = 1u << 0;
constexpr uint8_t kResultWrongSide = 1u << 1;

#define RIG_MESSAGE(Name, id, direction, delivery, bytes, doc)                            \
  struct __attribute__((packed)) Name {                                                  \
    static constexpr uint8_t kId = id;                                                   \
    static constexpr Direction kDirection = Direction::direction;                        \
    static constexpr Delivery kDelivery = Delivery::delivery;                            \
    static constexpr size_t kPayloadBytes = bytes;
#define RIG_FIELD(type, name, doc) type name;
#define RIG_ARRAY(type, name, count, doc) type name[count];
#define RIG_END(Name) \
  }                   \
  ;
#include "messages.def"
#undef RIG_MESSAGE
#undef RIG_FIELD
#undef RIG_ARRAY
#undef RIG_END

// Pin every payload size: a field added or retyped without updating messages.def fails the build on both sides.
#define RIG_MESSAGE(Name, id, direction, delivery, bytes, doc)                                        \
  static_assert(sizeof(Name) == (bytes), #Name " size differs from messages.def");                    \
  static_assert((bytes) <= kMaxPayload, #Name " exceeds kMaxPayload");                                \
  static_assert(((id) >= 0x80) == (Direction::direction == Direction::kDeviceToHost), #Name " id range");
#define RIG_FIELD(type, name, doc)
#define RIG_ARRAY(type, name, count, doc)
#define RIG_END(Name)
#include "messages.def"
#undef RIG_MESSAGE
#undef RIG_FIELD
#undef RIG_ARRAY
#undef RIG_END

static_assert(sizeof(WheelBatch::delta_ticks) / sizeof(int16_t) == kWheelBatchMax, "kWheelBatchMax out of sync");
static_assert(sizeof(SyncEdges::rise_t_us) / sizeof(uint32_t) == kSyncEdgesMax, "kSyncEdgesMax out of sync");
static_assert(sizeof(LickEdges::t_us) / sizeof(uint32_t) == kLickEdgesMax, "kLickEdgesMax out of sync");
static_assert(sizeof(ArmTrial::open_us) / sizeof(uint32_t) == 2 * kValveCount, "open_us layout");
#if defined(__BYTE_ORDER__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire layout is little-endian; add byte swaps for this target");
#endif

// Payload size of message `type`, or -1 if no message has that id. Pure; thread-safe.
inline int16_t payload_size(uint8_t type) {
  switch (type) {
#define RIG_MESSAGE(Name, id, direction, delivery, bytes, doc) \
  case id:                                                     \
    return bytes;
#define RIG_FIELD(type, name, doc)
#define RIG_ARRAY(type, name, count, doc)
#define RIG_END(Name)
#include "messages.def"
#undef RIG_MESSAGE
#undef RIG_FIELD
#undef RIG_ARRAY
#undef RIG_END
    default:
      return -1;
  }
}

// True if `type` is a reliable (sequenced, acknowledged) message. Pure; thread-safe.
inline bool is_reliable(uint8_t type) {
  switch (type) {
#define RIG_MESSAGE(Name, id, direction, delivery, bytes, doc) \
  case id:                                                     \
    return Delivery::delivery == Delivery::kReliable;
#define RIG_FIELD(type, name, doc)
#define RIG_ARRAY(type, name, count, doc)
#define RIG_END(Name)
#include "messages.def"
#undef RIG_MESSAGE
#undef RIG_FIELD
#undef RIG_ARRAY
#undef RIG_END
    default:
      return false;
  }
}

}  // namespace wire
}  // namespace rig

#endif
