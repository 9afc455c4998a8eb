// The firmware application: the wire protocol, the watchdog, the event queue, the wheel stream and the
// trial executor, driven by one main-loop call per iteration. Knows no registers: all I/O goes through Hal.
#ifndef RIG_CORE_DEVICE_HPP
#define RIG_CORE_DEVICE_HPP

#include <stdint.h>

#include "firmware/core/event_queue.hpp"
#include "firmware/core/lick_detector.hpp"
#include "firmware/core/pulse_trains.hpp"
#include "firmware/core/trial_executor.hpp"
#include "firmware/core/valve_guard.hpp"
#include "firmware/core/wheel_stream.hpp"
#include "firmware/hal/hal.hpp"
#include "firmware/wire/wire.hpp"

namespace rig {
namespace core {

// The board as HelloReply describes it.
struct BoardInfo {
  const char* build_id;          // up to 16 characters
  uint32_t boot_id;              // differs at every reset
  uint32_t clock_hz;
  uint16_t encoder_ticks_per_rev;
  uint8_t pin_encoder_a, pin_encoder_b, pin_valve_cherry, pin_valve_grape, pin_cue;
  uint8_t pin_sync, pin_camera, pin_lick_cherry, pin_lick_grape;
  wire::HalKind hal_kind;
};

constexpr uint32_t kStatusPeriodUs = 100000;      // DeviceStatus, the device's heartbeat
constexpr uint32_t kRetransmitAfterUs = 200000;   // unacknowledged events are sent again after this
constexpr uint8_t kMaxBytesPerPoll = 64;          // bounded receive work per iteration

// Main-loop priority order of poll(), highest first:
//   1. safety: the host watchdog (close valves, abort) runs before anything the host may have sent;
//   2. the trial and pulse train: fired choices, go cue, response window end, closed valves;
//   3. receive: at most kMaxBytesPerPoll bytes are decoded and their commands executed;
//   4. the wheel stream sample;
//   5. licks, the sync line and the camera trigger: debounce captured lick edges, keep the trains' intervals
//      queued, batch captured edges into reliable events (they give way to trial events and results when
//      the event queue is nearly full, see EventClass);
//   6. transmit, while the UART has room: command acks and hello replies, then reliable events (oldest
//      first), then wheel batches and the status heartbeat (best effort, dropped when there is no room).
// Interrupts only capture (encoder and lick edges with their time, UART bytes, timer ticks); the actions
// taken in an interrupt are opening the valves of a fired choice, closing them on time, and re-arming the
// timer compares that make the sync and camera edges.
// Not thread-safe: call from the main loop only.
class Device : private EventSink {
 public:
  Device(hal::Hal& hal, const BoardInfo& board);

  // Announces the (re)boot with an unsolicited HelloReply so a connected host notices the new boot_id.
  void begin(uint32_t now_us);

  // One main-loop iteration at device time `now_us`.
  void poll(uint32_t now_us);

  // Latches and reports a fault found outside the core (e.g. the reset cause at boot).
  void report_fault(uint16_t fault_bit, uint32_t now_us, uint32_t detail) { raise_fault(fault_bit, now_us, detail); }

  // Introspection for tests and the simulator.
  uint16_t latched_faults() const { return latched_faults_; }
  const EventQueue& events() const { return events_; }
  const TrialExecutor& executor() const { return executor_; }
  const LickDetector& licks() const { return licks_; }
  const ValveGuard& guard() const { return guard_; }
  const wire::DropCounters& rx_drops() const { return decoder_.drops(); }
  uint32_t commands_executed() const { return commands_executed_; }
  uint32_t commands_duplicated() const { return commands_duplicated_; }

 private:
  // EventSink
  void emit(const wire::TrialEvent& event) override { queue(event); }
  void emit(const wire::TrialResult& result) override { queue(result, EventClass::kResult); }
  void emit(const wire::PulseDone& done) override { queue(done); }
  void raise_fault(uint16_t fault_bit, uint32_t now_us, uint32_t detail) override;

  template <typename Message>
  void queue(const Message& msg, EventClass cls = EventClass::kControl);
  void poll_inputs_and_trains(uint32_t now_us);

  void check_watchdog(uint32_t now_us);
  void receive(uint32_t now_us);
  void handle_frame(const wire::FrameView& frame, uint32_t now_us);
  void handle_hello(const wire::FrameView& frame);
  CommandStatus execute(const wire::FrameView& frame, uint32_t now_us);
  void queue_ack(uint16_t seq, uint8_t type, const CommandStatus& status);
  void transmit(uint32_t now_us);
  bool send_frame(uint8_t type, uint16_t seq, const void* payload, size_t size);
  void fill_hello_reply(wire::HelloReply* reply, uint32_t nonce) const;

  hal::Hal& hal_;
  BoardInfo board_;
  ValveGuard guard_;
  TrialExecutor executor_;
  EventQueue events_;
  WheelStream wheel_;
  SyncOutput sync_;
  CameraTrigger camera_;
  LickDetector licks_;
  wire::FrameDecoder decoder_;

  uint16_t latched_faults_ = 0;
  // Watchdog.
  bool host_present_ = false;
  uint32_t last_host_frame_us_ = 0;
  // Host command sequence (duplicate suppression) and the acks of the last few commands, to answer repeats.
  bool have_host_seq_ = false;
  uint32_t host_nonce_ = 0;
  uint16_t last_command_seq_ = 0;
  static constexpr uint8_t kAckHistory = 8;
  wire::CommandAck recent_acks_[kAckHistory] = {};
  uint8_t recent_ack_next_ = 0;
  uint32_t commands_executed_ = 0;
  uint32_t commands_duplicated_ = 0;
  // Transmit state.
  static constexpr uint8_t kPendingAcks = 8;
  wire::CommandAck pending_acks_[kPendingAcks] = {};
  uint8_t pending_ack_count_ = 0;
  bool hello_reply_pending_ = false;
  uint32_t hello_reply_nonce_ = 0;
  bool wheel_batch_pending_ = false;
  wire::WheelBatch wheel_batch_ = {};
  uint32_t next_status_us_ = 0;
  uint32_t last_ack_progress_us_ = 0;
  uint16_t max_loop_us_ = 0;
  uint32_t last_poll_us_ = 0;
  uint32_t now_us_ = 0;
  uint16_t encoder_invalid_seen_ = 0;
  uint16_t rx_overruns_seen_ = 0;
};

}  // namespace core
}  // namespace rig

#endif
