// libFuzzer target: arbitrary host frames into the firmware core (Device) on the simulated HAL.
//
// The input is a script. Its first byte picks the mode:
//   even: raw   - the rest is the host-to-device byte stream, delivered in chunks of up to 64 bytes with two
//                 main-loop iterations (1 ms each) after each (CRC, COBS and every decoder see arbitrary bytes);
//   odd:  framed - the rest is a list of records, each encoded with a correct CRC so that mutations reach
//                 the message decoders and the command handlers:
//                   0xFF w     run the main loop for (w + 1) ms
//                   0xFE d     turn the wheel by (int8_t)d * 8 ticks (lets armed trials fire their valves)
//                   n T s0 s1  a frame of type T, sequence s0 | s1 << 8 and the next n % 64 bytes as payload
//                              (the frame decoder drops a payload whose size does not match its type).
//
// What must hold for every input (otherwise the target aborts):
//   - no crash, no undefined behaviour, no leak (ASan + UBSan + LeakSanitizer);
//   - valves open only for commands that could open them: a valid ArmTrial (at most one pulse per valve,
//     the valve given a non-zero time for either side) or a valid PulseValve (at most `count` pulses of that
//     valve), counted in the frames the device actually decoded and only after they arrived; every pulse
//     lasts no longer than the longest time such a command asked for, nor the firmware's hard limit;
//   - the event queue never exceeds its capacity, and takes its last slot only for the overflow fault;
//     every reliable event it sends carries a sequence number it has issued;
//   - everything the device sends is a well-formed frame (the host-side decoder drops nothing).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "firmware/core/valve_guard.hpp"
#include "host/sim/sim_board.hpp"
#include "firmware/wire/wire.hpp"

using namespace rig;

namespace {

constexpr uint32_t kLoopPeriodUs = 1000;  // coarse, for speed; the device needs no finer loop to be correct
constexpr size_t kRawChunk = 64;

// What the host sent that may open a valve: from `t_us` on, up to `pulses` more pulses of at most
// `longest_us` each on `valve`.
struct ValveBudget {
  uint64_t t_us;
  uint8_t valve;
  uint32_t pulses;
  uint32_t longest_us;
};

class Harness {
 public:
  Harness() : board_(1, kLoopPeriodUs) {}

  void send(const uint8_t* data, size_t size) {
    // The device decodes the same bytes (nothing is lost: chunks are smaller than the receive buffer and
    // the loop runs long enough to drain it before the next one).
    for (size_t i = 0; i < size; ++i) {
      wire::FrameView frame;
      if (mirror_.push(data[i], frame) == wire::FrameDecoder::Status::kFrame) note(frame);
    }
    board_.send_bytes(std::vector<uint8_t>(data, data + size));
  }

  void run_for(uint64_t us) {
    board_.run_for(us);
    check();
  }

  void move_wheel(int32_t ticks) { board_.hal().move_wheel(ticks); }

  // Lets every open valve close on time, then checks the whole valve log against what was sent.
  void finish() {
    const uint64_t deadline = board_.hal().next_valve_deadline_us();
    if (deadline != UINT64_MAX) board_.hal().advance_to(deadline);
    check_valves();
  }

 private:
  void note(const wire::FrameView& frame) {
    const uint64_t now = board_.now_us();
    if (frame.type == wire::ArmTrial::kId) {
      wire::ArmTrial m{};
      if (!wire::decode_message(frame, m)) return;
      for (uint8_t v = 0; v < wire::kValveCount; ++v) {
        const uint32_t longest = std::max(m.open_us[wire::open_index(wire::Side::kLeft, static_cast<wire::Valve>(v))],
                                          m.open_us[wire::open_index(wire::Side::kRight, static_cast<wire::Valve>(v))]);
        if (longest > 0) budgets_.push_back(ValveBudget{now, v, 1, longest});
      }
    } else if (frame.type == wire::PulseValve::kId) {
      wire::PulseValve m{};
      if (!wire::decode_message(frame, m)) return;
      if (m.valve < wire::kValveCount && m.count > 0 && m.open_us > 0) {
        budgets_.push_back(ValveBudget{now, m.valve, m.count, m.open_us});
      }
    } else if (frame.type == wire::ClearFaults::kId) {
      wire::ClearFaults m{};
      if (wire::decode_message(frame, m) && (m.fault_mask & wire::kFaultEventOverflow) != 0) overflow_cleared_ = true;
    }
  }

  void check() {
    const core::Device& device = board_.device();
    // The harness delivers every byte (otherwise the valve budget above would not be what the device saw).
    if (board_.hal().uart_rx_overruns() != 0) abort();

    const core::EventQueue& events = device.events();
    if (events.depth() > core::EventQueue::capacity()) abort();
    // The last slot is reserved for the overflow fault.
    if (events.depth() == core::EventQueue::capacity() &&
        (device.latched_faults() & wire::kFaultEventOverflow) == 0 && !overflow_cleared_) {
      abort();
    }

    for (const sim::DeviceFrame& frame : board_.receive()) {
      if (static_cast<int>(frame.payload.size()) != wire::payload_size(frame.type)) abort();
      if (!wire::is_reliable(frame.type)) continue;
      // Issued sequence numbers are 1 .. next_seq - 1.
      if (static_cast<int16_t>(frame.seq - events.next_seq()) >= 0) abort();
    }
    if (board_.host_drops().total() != 0) abort();
  }

  void check_valves() {
    std::vector<hal::SimValvePulse> pulses = board_.hal().valve_log();
    std::stable_sort(pulses.begin(), pulses.end(),
                     [](const hal::SimValvePulse& a, const hal::SimValvePulse& b) { return a.open_us < b.open_us; });
    uint32_t opened[wire::kValveCount] = {0, 0};
    for (const hal::SimValvePulse& pulse : pulses) {
      if (pulse.valve >= wire::kValveCount) abort();
      uint64_t allowed = 0;
      uint32_t longest_us = 0;
      for (const ValveBudget& b : budgets_) {
        if (b.valve != pulse.valve || b.t_us > pulse.open_us) continue;
        allowed += b.pulses;
        longest_us = std::max(longest_us, b.longest_us);
      }
      if (++opened[pulse.valve] > allowed) abort();  // a valve opened that no command called for
      if (pulse.close_us == 0 || pulse.close_us < pulse.open_us) abort();
      const uint64_t open_for_us = pulse.close_us - pulse.open_us;
      if (open_for_us > longest_us || open_for_us > core::kHardMaxOpenUs) abort();
    }
  }

  sim::SimBoard board_;
  wire::FrameDecoder mirror_;
  std::vector<ValveBudget> budgets_;
  bool overflow_cleared_ = false;
};

void run_raw(Harness& h, const uint8_t* data, size_t size) {
  for (size_t at = 0; at < size; at += kRawChunk) {
    h.send(data + at, std::min(kRawChunk, size - at));
    h.run_for(2 * kLoopPeriodUs);
  }
}

void run_framed(Harness& h, const uint8_t* data, size_t size) {
  size_t at = 0;
  while (at < size) {
    const uint8_t op = data[at++];
    if (op == 0xFF) {
      if (at >= size) break;
      h.run_for((data[at++] + 1u) * 1000u);
    } else if (op == 0xFE) {
      if (at >= size) break;
      h.move_wheel(static_cast<int8_t>(data[at++]) * 8);
    } else {
      if (size - at < 3) break;
      const uint8_t type = data[at];
      const uint16_t seq = static_cast<uint16_t>(data[at + 1] | data[at + 2] << 8);
      at += 3;
      const size_t n = std::min<size_t>(op % 64u, size - at);
      uint8_t payload[wire::kMaxPayload] = {};
      std::copy(data + at, data + at + n, payload);
      at += n;
      uint8_t encoded[wire::kMaxEncodedFrame];
      const size_t bytes = wire::encode_frame(type, seq, payload, n, encoded, sizeof(encoded));
      if (bytes == 0) abort();
      h.send(encoded, bytes);
      h.run_for(2 * kLoopPeriodUs);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Harness h;
  if ((data[0] & 1) == 0) {
    run_raw(h, data + 1, size - 1);
  } else {
    run_framed(h, data + 1, size - 1);
  }
  h.run_for(300000);  // past the watchdog: a silent host stops everything
  h.finish();
  return 0;
}
