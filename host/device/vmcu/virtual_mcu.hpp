// The virtual MCU: the firmware core on the simulated HAL (a sim::SimBoard), behind a private pseudo-terminal,
// running in its own thread, with an optional simulated mouse turning its wheel. A host opens path() like a
// USB serial port. Simulated time is paced against wall time by `speed`. Faults can be injected on the
// simulated serial line for tests: bit flips, bursts of garbage, a delayed device output.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "firmware/sim/sim_board.hpp"
#include "firmware/sim/sim_mouse.hpp"
#include "pty_endpoint.hpp"

namespace rig::device {

struct VirtualMcuOptions {
  double speed = 1.0;        // simulated microseconds per wall microsecond; 0 = as fast as possible
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
};

// Which way an injected fault travels on the simulated serial line.
enum class LineDirection : uint8_t { kToHost, kToDevice };

class VirtualMcu {
 public:
  // Opens the pty and boots the board (not running until start()). Without a chooser there is no mouse
  // and the wheel stays still. Throws std::system_error if no pty can be allocated, std::invalid_argument
  // for a negative speed, a zero slice or an invalid mouse config.
  VirtualMcu(const VirtualMcuOptions& options, std::unique_ptr<sim::Chooser> chooser);
  // Stops the thread; the pty closes.
  ~VirtualMcu();
  VirtualMcu(const VirtualMcu&) = delete;
  VirtualMcu& operator=(const VirtualMcu&) = delete;

  // Starts the board's thread. Throws std::logic_error if it was started before. Not thread-safe with stop().
  void start();
  // Stops the thread and joins it; idempotent. Not thread-safe with start().
  void stop();

  // The pty path a host opens (/dev/pts/N). Thread-safe (fixed at construction).
  const std::string& path() const { return pty_.path(); }
  // Writes path() to `file` atomically. Throws std::system_error naming the file. Thread-safe.
  void publish_path(const std::string& file) const { pty_.publish_path(file); }

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

  // The host->device line rate: 250000 baud 8N1 is 40 us per byte.
  static constexpr uint32_t kUsPerByte = 40;

 private:
  struct Faults {
    double corrupt_to_host = 0;
    double corrupt_to_device = 0;
    size_t garbage_to_host = 0;
    size_t garbage_to_device = 0;
    uint64_t delay_us = 0;
  };
  struct HeldOutput {
    uint64_t release_us;
    std::vector<uint8_t> bytes;
  };

  void run();
  Faults take_faults();
  void feed_device(const Faults& faults);
  void send_to_host(const Faults& faults);
  void corrupt(std::vector<uint8_t>& bytes, double probability, std::mt19937_64& rng);
  std::vector<uint8_t> garbage(size_t bytes);

  VirtualMcuOptions options_;
  PtyEndpoint pty_;
  sim::SimBoard board_;
  std::unique_ptr<sim::SimBoardMouseAdapter> adapter_;
  std::unique_ptr<sim::SimMouse> mouse_;

  // Loop thread only.
  std::deque<uint8_t> to_device_;  // read from the pty, waiting for the simulated line
  std::deque<HeldOutput> held_;    // delayed device output
  std::mt19937_64 rng_to_host_;
  std::mt19937_64 rng_to_device_;
  std::mt19937_64 rng_garbage_;

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
};

}  // namespace rig::device
