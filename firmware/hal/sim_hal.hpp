// The simulated board: a Hal whose clock, encoder, valves and UART are driven by a host program (tests, the
// virtual MCU, the simulated mouse). Host-only (uses the C++ standard library). Every hardware input can be
// given faults: encoder glitches, receive overruns, a transmit path with no room.
#ifndef RIG_HAL_SIM_HAL_HPP
#define RIG_HAL_SIM_HAL_HPP

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "firmware/hal/hal.hpp"

namespace rig {
namespace hal {

// One valve opening as the simulated pins saw it.
struct SimValvePulse {
  uint8_t valve;
  uint64_t open_us;
  uint64_t close_us;  // 0 while still open
};

// Not thread-safe: one thread drives the simulation and runs the firmware's main loop. lock()/unlock() are
// no-ops because "interrupts" (set_encoder, advance_to) only happen between main-loop iterations.
class SimHal final : public Hal {
 public:
  explicit SimHal(uint64_t start_us = 0);

  // --- Hal ---
  uint32_t now_us() override { return static_cast<uint32_t>(now_us_); }
  void lock() override {}
  void unlock() override {}
  core::FastPath& fast_path() override { return fast_; }
  void read_encoder(int32_t* position_ticks, uint16_t* invalid_transitions) override {
    *position_ticks = fast_.position_ticks();
    *invalid_transitions = fast_.invalid_transitions();
  }
  uint32_t open_valves(uint8_t valve_mask, const uint32_t open_us[wire::kValveCount]) override;
  void close_all_valves() override;
  uint8_t open_valve_mask() override;
  void set_cue(uint8_t cue_id, bool on) override;
  size_t uart_read(uint8_t* out, size_t capacity) override;
  size_t uart_write_space() override;
  void uart_write(const uint8_t* data, size_t size) override;
  uint16_t uart_rx_overruns() override { return rx_overruns_; }
  void train_start(uint8_t line, uint32_t first_rise_us, uint32_t width_us) override;
  void train_stop(uint8_t line) override;
  uint8_t train_interval_room(uint8_t line) override;
  void train_push_interval(uint8_t line, uint32_t interval_us) override;
  uint8_t train_take_rises(uint8_t line, uint32_t* rise_us, uint8_t capacity, uint16_t* lost) override;
  void licks_enable(bool on) override;
  uint8_t take_lick_edges(LickInputEdge* out, uint8_t capacity, uint16_t* lost) override;
  uint8_t lick_levels() override { return lick_levels_; }

  // --- simulation side ---
  // Moves the clock to `t_us` (never backwards), closing every valve whose time is up at its exact time.
  void advance_to(uint64_t t_us);
  uint64_t time_us() const { return now_us_; }
  // Earliest pending valve close, or UINT64_MAX.
  uint64_t next_valve_deadline_us() const;
  // Earliest pending pulse-train edge, or UINT64_MAX.
  uint64_t next_train_edge_us() const;

  // A lick input changes level at the current time (spout 0 cherry, 1 grape); its "interrupt" captures it
  // when the inputs are enabled.
  void set_lick(uint8_t spout, bool high);

  // Encoder "interrupt": new levels ab = (A << 1) | B at the current time.
  void set_encoder(uint8_t ab);
  uint8_t encoder_levels() const { return ab_; }
  // Turns the wheel by `delta_ticks`, one valid quadrature edge per tick, all at the current time.
  void move_wheel(int32_t delta_ticks);
  // Fault: both encoder lines change at once (a missed edge).
  void inject_encoder_glitch();

  // Bytes from the host into the UART receive buffer (capacity rx_capacity; the excess is an overrun).
  void host_send(const uint8_t* data, size_t size);
  // Bytes the firmware sent, removed from the transmit buffer.
  std::vector<uint8_t> host_receive();
  size_t tx_pending() const { return tx_.size(); }
  // Fault: the transmit path has room for only `bytes` (0 = a stalled host side); default 4096.
  void set_tx_capacity(size_t bytes) { tx_capacity_ = bytes; }
  void set_rx_capacity(size_t bytes) { rx_capacity_ = bytes; }

  // Called when a cue output changes or a valve opens/closes, at the simulated time.
  void on_cue(std::function<void(uint8_t cue_id, bool on, uint64_t t_us)> callback) { cue_cb_ = std::move(callback); }
  void on_valve(std::function<void(const SimValvePulse& pulse)> callback) { valve_cb_ = std::move(callback); }
  // Called at every pulse-train pin edge, at its exact simulated time.
  void on_train_edge(std::function<void(uint8_t line, bool high, uint64_t t_us)> callback) {
    train_cb_ = std::move(callback);
  }
  bool train_running(uint8_t line) const { return line < kTrainCount && trains_[line].running; }

  bool cue_on() const { return cue_on_; }
  const std::vector<SimValvePulse>& valve_log() const { return valve_log_; }
  void clear_valve_log() { valve_log_.clear(); }

 private:
  void open_now(uint8_t valve_mask, const uint32_t open_us[wire::kValveCount]);
  void close_valve(uint8_t valve, uint64_t t_us);
  void train_edge(uint8_t line);

  struct Train {
    bool running = false;
    bool high = false;
    uint64_t next_edge_us = 0;
    uint64_t last_rise_us = 0;
    uint32_t width_us = 0;
    std::deque<uint32_t> intervals;
    std::deque<uint32_t> rises;
    uint16_t lost = 0;
  };

  uint64_t now_us_;
  core::FastPath fast_;
  uint8_t ab_ = 0;
  bool open_[wire::kValveCount] = {false, false};
  uint64_t close_at_us_[wire::kValveCount] = {0, 0};
  size_t log_index_[wire::kValveCount] = {0, 0};
  std::vector<SimValvePulse> valve_log_;
  bool cue_on_ = false;
  std::deque<uint8_t> rx_;
  std::deque<uint8_t> tx_;
  size_t rx_capacity_ = 256;
  size_t tx_capacity_ = 4096;
  uint16_t rx_overruns_ = 0;
  std::function<void(uint8_t, bool, uint64_t)> cue_cb_;
  std::function<void(const SimValvePulse&)> valve_cb_;
  std::function<void(uint8_t, bool, uint64_t)> train_cb_;
  Train trains_[kTrainCount];
  bool licks_enabled_ = false;
  uint8_t lick_levels_ = 0;
  std::deque<LickInputEdge> lick_edges_;
  uint16_t licks_lost_ = 0;
};

}  // namespace hal
}  // namespace rig

#endif
