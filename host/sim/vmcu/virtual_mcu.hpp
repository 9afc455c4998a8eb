// The virtual MCU: the firmware core on the simulated HAL (a sim::SimBoard), with an optional simulated mouse
// turning its wheel. Two ways to run it:
// - behind a private pseudo-terminal, in its own thread (start()), paced against wall time by `speed`: a host
//   opens path() like a USB serial port (rig run --device sim, rig-vmcu, demos and soak runs); `speed` is
//   the most it runs at: it waits for a host that is still talking but far behind on acknowledging events;
// - on an in-process line, stepped by its owner (step()) on simulated time: a host connects through
//   plug_host(); nothing depends on wall time (tests; see SimLoop). Faults can be injected on the
// simulated serial line for tests: bit flips, bursts of garbage, a delayed device output, a cut line (a pulled
// cable, a host gone silent), withheld event acknowledgements; the MCU can be halted (a hang or power loss).
// Every valve opening is logged for tests.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "host/sim/sim_board.hpp"
#include "host/sim/sim_mouse.hpp"
#include "in_process_line.hpp"
#include "pty_endpoint.hpp"

namespace rig::device {

// Where the virtual MCU's serial line goes.
enum class VmcuLine : uint8_t { kPty, kInProcess };

struct VirtualMcuOptions {
  VmcuLine line = VmcuLine::kPty;
  double speed = 1.0;        // kPty: simulated microseconds per wall microsecond; 0 = as fast as possible
  uint32_t boot_id = 1;      // reported in HelloReply; a restarted MCU reports a new one
  uint32_t slice_us = 250;   // simulated time run per loop iteration, between pty reads and writes
  uint32_t loop_period_us = 50;  // the firmware main loop's period in simulated time (the AVR loop: 10-50 us)
  uint64_t seed = 1;         // the mouse's movements (sim::movement_seed) and the injected faults; the chooser has its own
  sim::MouseConfig mouse;    // how the mouse moves, when there is one
};

// A snapshot of what the virtual MCU has done.
struct VirtualMcuCounters {
  uint64_t sim_time_us = 0;            // the board's simulated time
  uint64_t trials_seen = 0;            // go cues the mouse saw (0 without a mouse)
  uint64_t bytes_from_host = 0;        // read from the pty
  uint64_t bytes_to_host = 0;          // written to the pty (including injected garbage)
  uint64_t device_frames_dropped = 0;  // frames the firmware rejected, all reasons
  uint64_t bytes_corrupted = 0;        // bytes given a flipped bit, both directions
  uint64_t garbage_bytes = 0;          // injected garbage bytes, both directions
  uint64_t last_host_byte_us = 0;      // simulated time the last byte from the host reached the UART (0: none)
  uint64_t acks_withheld = 0;          // EventAck frames from the host dropped by withhold_event_acks
};

// Which way an injected fault travels on the simulated serial line.
enum class LineDirection : uint8_t { kToHost, kToDevice };

// When an injected fault takes effect: at once (from the next slice), or at the end of the loop slice in
// which the board next turns its go cue on, or next opens a valve (within one slice of it).
enum class FaultMoment : uint8_t { kNow, kNextGoCue, kNextValveOpen };

class VirtualMcu {
 public:
  // Opens the pty (kPty) and boots the board (not running until start() or step()). Without a chooser there is no mouse
  // and the wheel stays still. Throws std::system_error if no pty can be allocated, std::invalid_argument
  // for a negative speed, a zero slice or an invalid mouse config.
  VirtualMcu(const VirtualMcuOptions& options, std::unique_ptr<sim::Chooser> chooser);
  // Stops the thread; the pty closes.
  ~VirtualMcu();
  VirtualMcu(const VirtualMcu&) = delete;
  VirtualMcu& operator=(const VirtualMcu&) = delete;

  // kPty: starts the board's thread. Throws std::logic_error if it was started before, or on an in-process
  // line. Not thread-safe with stop().
  void start();
  // Stops the board for good: joins the thread (kPty), or makes step() do nothing; the line stays open but
  // silent. Idempotent. Not thread-safe with start() or step().
  void stop();

  // kInProcess: runs one slice (slice_us of simulated time) on the caller's thread: reads what the host
  // sent, runs the firmware and the mouse, sends what the firmware wrote. Returns the bytes it sent to the host
  // (0 once stopped or halted: it does nothing then). Throws std::logic_error on a pty (its thread runs it).
  // Not thread-safe: one stepping thread.
  size_t step();
  // kInProcess: a new cable between the device and a host; returns the host's end (a non-blocking descriptor
  // the caller owns, to hand to link::OpenPort). An earlier cable is unplugged (its host end reads
  // end-of-file). Throws std::logic_error on a pty, std::system_error when no socket pair can be made. The
  // stepping thread only.
  int plug_host();

  // The pty path a host opens (/dev/pts/N), or "in-process line". Thread-safe (fixed at construction).
  const std::string& path() const { return path_; }
  // Writes path() to `file` atomically. Throws std::runtime_error naming the file, std::logic_error on an
  // in-process line. Thread-safe.
  void publish_path(const std::string& file) const;

  // Thread-safe snapshot; each counter is current as of the end of a loop slice (bytes are counted before
  // they reach the pty, so a host that has read a reply sees a sim_time_us at least that of its sending).
  VirtualMcuCounters counters() const;

  // Fault injection, thread-safe, applied by the loop from its next slice on.
  // Each byte travelling `direction` gets one random bit flipped with `probability_per_byte` (0 turns it
  // off). Throws std::invalid_argument outside [0, 1].
  void inject_corruption(LineDirection direction, double probability_per_byte);
  // Inserts `bytes` random bytes travelling `direction` once, between frames.
  void inject_garbage(LineDirection direction, size_t bytes);
  // Holds every byte the device sends for `delay_us` of simulated time before it reaches the pty (0 turns
  // it off; bytes already held keep their time). Order is always preserved.
  void delay_device_output(uint64_t delay_us);
  // Cuts the line in `direction` from `when` on: every byte travelling that way is lost (read from the pty
  // and discarded, or taken from the UART and discarded) until restore_line(). A replaced pending cut is
  // forgotten.
  void cut_line(LineDirection direction, FaultMoment when = FaultMoment::kNow);
  void restore_line(LineDirection direction);
  // While on, every EventAck frame from the host is dropped before it reaches the firmware (other frames
  // pass): a host that stops acknowledging events. Turning it off passes a frame held half-read.
  void withhold_event_acks(bool on);
  // The MCU stops running from `when` on (a hang, or the power gone): simulated time stops, nothing is
  // read or sent. Irreversible; stop() still ends the thread. halted() tells once it happened.
  void halt(FaultMoment when = FaultMoment::kNow);
  bool halted() const { return halted_.load(); }

  // Every valve opening so far, in order (close_us 0 while still open), as of the end of the last slice.
  // Thread-safe copy.
  std::vector<hal::SimValvePulse> valve_pulses() const;

  // The host->device line rate: 250000 baud 8N1 is 40 us per byte.
  static constexpr uint32_t kUsPerByte = 40;

 private:
  // A line cut or halt: off, waiting for its moment, or in effect.
  enum class Pending : uint8_t { kOff, kAtGoCue, kAtValveOpen, kOn };
  struct Faults {
    double corrupt_to_host = 0;
    double corrupt_to_device = 0;
    size_t garbage_to_host = 0;
    size_t garbage_to_device = 0;
    uint64_t delay_us = 0;
    Pending cut_to_host = Pending::kOff;
    Pending cut_to_device = Pending::kOff;
    Pending halt = Pending::kOff;
    bool withhold_acks = false;
  };
  struct HeldOutput {
    uint64_t release_us;
    std::vector<uint8_t> bytes;
  };

  static Pending pending_for(FaultMoment when);
  void run();
  // Paced (kPty) only: whether the board holds so many unacknowledged events that it waits for a host that
  // is still talking (virtual_mcu.cpp, kHostBehindEvents).
  bool waiting_for_host() const;
  size_t run_slice();  // returns the bytes sent to the host
  size_t line_read(uint8_t* out, size_t capacity);
  void line_write(const uint8_t* data, size_t size);
  Faults take_faults();
  // After a slice: fires the pending cuts and halt whose moment came (a cue turned on, a valve opened).
  void fire_pending(bool cue_rose, bool valve_opened);
  void feed_device(const Faults& faults);
  void filter_event_acks(const uint8_t* bytes, size_t size);
  void sync_valve_log();
  size_t send_to_host(const Faults& faults);
  void corrupt(std::vector<uint8_t>& bytes, double probability, std::mt19937_64& rng);
  std::vector<uint8_t> garbage(size_t bytes);

  VirtualMcuOptions options_;
  std::unique_ptr<PtyEndpoint> pty_;  // kPty
  InProcessLine line_;                // kInProcess
  std::string path_;
  sim::SimBoard board_;
  std::unique_ptr<sim::SimBoardMouseAdapter> adapter_;
  std::unique_ptr<sim::SimMouse> mouse_;

  // Loop thread only.
  std::deque<uint8_t> to_device_;  // read from the pty, waiting for the simulated line
  std::deque<HeldOutput> held_;    // delayed device output
  std::mt19937_64 rng_to_host_;
  std::mt19937_64 rng_to_device_;
  std::mt19937_64 rng_garbage_;
  std::vector<uint8_t> partial_frame_;  // host bytes since the last delimiter, while acks are withheld
  bool withholding_ = false;
  std::chrono::steady_clock::time_point last_host_bytes_wall_{};  // when the host's last bytes were read
  bool cue_was_on_ = false;
  size_t valve_final_ = 0;  // valve log entries before this one are closed and copied

  mutable std::mutex valve_mutex_;
  std::vector<hal::SimValvePulse> valve_pulses_;

  mutable std::mutex faults_mutex_;
  Faults faults_;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sim_time_us_{0};
  std::atomic<uint64_t> trials_seen_{0};
  std::atomic<uint64_t> bytes_from_host_{0};
  std::atomic<uint64_t> bytes_to_host_{0};
  std::atomic<uint64_t> device_frames_dropped_{0};
  std::atomic<uint64_t> bytes_corrupted_{0};
  std::atomic<uint64_t> garbage_bytes_{0};
  std::atomic<uint64_t> last_host_byte_us_{0};
  std::atomic<uint64_t> acks_withheld_{0};
  std::atomic<bool> halted_{false};
};

}  // namespace rig::device
