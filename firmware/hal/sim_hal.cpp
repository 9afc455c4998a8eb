#include "firmware/hal/sim_hal.hpp"

#include <algorithm>
#include <limits>

namespace rig {
namespace hal {

SimHal::SimHal(uint64_t start_us) : now_us_(start_us) { fast_.reset(ab_); }

void SimHal::open_now(uint8_t valve_mask, const uint32_t open_us[wire::kValveCount]) {
  for (uint8_t v = 0; v < wire::kValveCount; ++v) {
    if ((valve_mask & (1u << v)) == 0 || open_[v] || open_us[v] == 0) continue;
    open_[v] = true;
    close_at_us_[v] = now_us_ + open_us[v];
    log_index_[v] = valve_log_.size();
    valve_log_.push_back(SimValvePulse{v, now_us_, 0});
    if (valve_cb_) valve_cb_(valve_log_.back());
  }
}

void SimHal::close_valve(uint8_t valve, uint64_t t_us) {
  if (!open_[valve]) return;
  open_[valve] = false;
  valve_log_[log_index_[valve]].close_us = t_us;
  if (valve_cb_) valve_cb_(valve_log_[log_index_[valve]]);
}

uint32_t SimHal::open_valves(uint8_t valve_mask, const uint32_t open_us[wire::kValveCount]) {
  open_now(valve_mask, open_us);
  return now_us();
}

void SimHal::close_all_valves() {
  for (uint8_t v = 0; v < wire::kValveCount; ++v) close_valve(v, now_us_);
}

uint8_t SimHal::open_valve_mask() {
  uint8_t mask = 0;
  for (uint8_t v = 0; v < wire::kValveCount; ++v) {
    if (open_[v]) mask |= static_cast<uint8_t>(1u << v);
  }
  return mask;
}

void SimHal::set_cue(uint8_t cue_id, bool on) {
  if (cue_id != 0 || on == cue_on_) return;
  cue_on_ = on;
  if (cue_cb_) cue_cb_(cue_id, on, now_us_);
}

size_t SimHal::uart_read(uint8_t* out, size_t capacity) {
  const size_t n = std::min(capacity, rx_.size());
  std::copy_n(rx_.begin(), n, out);
  rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

size_t SimHal::uart_write_space() { return tx_.size() >= tx_capacity_ ? 0 : tx_capacity_ - tx_.size(); }

void SimHal::uart_write(const uint8_t* data, size_t size) { tx_.insert(tx_.end(), data, data + size); }

void SimHal::advance_to(uint64_t t_us) {
  if (t_us < now_us_) return;
  for (;;) {
    const uint64_t valve_deadline = next_valve_deadline_us();
    const uint64_t train_deadline = next_train_edge_us();
    const uint64_t deadline = std::min(valve_deadline, train_deadline);
    if (deadline > t_us) break;
    now_us_ = deadline;
    for (uint8_t v = 0; v < wire::kValveCount; ++v) {
      if (open_[v] && close_at_us_[v] == deadline) close_valve(v, deadline);
    }
    for (uint8_t line = 0; line < kTrainCount; ++line) {
      if (trains_[line].running && trains_[line].next_edge_us == deadline) train_edge(line);
    }
  }
  now_us_ = t_us;
}

uint64_t SimHal::next_train_edge_us() const {
  uint64_t earliest = std::numeric_limits<uint64_t>::max();
  for (const Train& t : trains_) {
    if (t.running) earliest = std::min(earliest, t.next_edge_us);
  }
  return earliest;
}

void SimHal::train_start(uint8_t line, uint32_t first_rise_us, uint32_t width_us) {
  if (line >= kTrainCount) return;
  train_stop(line);
  Train& t = trains_[line];
  t.intervals.clear();
  t.rises.clear();
  t.lost = 0;
  t.width_us = width_us;
  // Device times are 32-bit: the first edge is the nearest future time with those low bits.
  t.next_edge_us = now_us_ + static_cast<uint32_t>(first_rise_us - static_cast<uint32_t>(now_us_));
  t.running = true;
}

void SimHal::train_stop(uint8_t line) {
  if (line >= kTrainCount) return;
  Train& t = trains_[line];
  t.running = false;
  if (t.high) {
    t.high = false;
    if (train_cb_) train_cb_(line, false, now_us_);
  }
}

uint8_t SimHal::train_interval_room(uint8_t line) {
  if (line >= kTrainCount) return 0;
  return static_cast<uint8_t>(kTrainIntervalSlots - trains_[line].intervals.size());
}

void SimHal::train_push_interval(uint8_t line, uint32_t interval_us) {
  if (line >= kTrainCount || trains_[line].intervals.size() >= kTrainIntervalSlots) return;
  trains_[line].intervals.push_back(interval_us);
}

uint8_t SimHal::train_take_rises(uint8_t line, uint32_t* rise_us, uint8_t capacity, uint16_t* lost) {
  *lost = 0;
  if (line >= kTrainCount) return 0;
  Train& t = trains_[line];
  uint8_t n = 0;
  while (n < capacity && !t.rises.empty()) {
    rise_us[n++] = t.rises.front();
    t.rises.pop_front();
  }
  *lost = t.lost;
  t.lost = 0;
  return n;
}

void SimHal::train_edge(uint8_t line) {
  Train& t = trains_[line];
  if (!t.high) {
    t.high = true;
    t.last_rise_us = t.next_edge_us;
    if (t.rises.size() >= kTrainRiseSlots) {
      ++t.lost;
    } else {
      t.rises.push_back(static_cast<uint32_t>(t.next_edge_us));
    }
    t.next_edge_us += t.width_us;
    if (train_cb_) train_cb_(line, true, now_us_);
    return;
  }
  t.high = false;
  if (train_cb_) train_cb_(line, false, now_us_);
  if (t.intervals.empty()) {
    t.running = false;
    return;
  }
  t.next_edge_us = t.last_rise_us + t.intervals.front();
  t.intervals.pop_front();
}

void SimHal::licks_enable(bool on) {
  licks_enabled_ = on;
  if (!on) lick_edges_.clear();
}

uint8_t SimHal::take_lick_edges(LickInputEdge* out, uint8_t capacity, uint16_t* lost) {
  uint8_t n = 0;
  while (n < capacity && !lick_edges_.empty()) {
    out[n++] = lick_edges_.front();
    lick_edges_.pop_front();
  }
  *lost = licks_lost_;
  licks_lost_ = 0;
  return n;
}

void SimHal::set_lick(uint8_t spout, bool high) {
  if (spout >= kLickInputCount) return;
  const uint8_t bit = static_cast<uint8_t>(1u << spout);
  if (((lick_levels_ & bit) != 0) == high) return;
  lick_levels_ = static_cast<uint8_t>(high ? (lick_levels_ | bit) : (lick_levels_ & ~bit));
  if (!licks_enabled_) return;
  if (lick_edges_.size() >= kLickEdgeSlots) {
    ++licks_lost_;
    return;
  }
  lick_edges_.push_back(LickInputEdge{static_cast<uint32_t>(now_us_), spout, static_cast<uint8_t>(high ? 1 : 0)});
}

uint64_t SimHal::next_valve_deadline_us() const {
  uint64_t earliest = std::numeric_limits<uint64_t>::max();
  for (uint8_t v = 0; v < wire::kValveCount; ++v) {
    if (open_[v]) earliest = std::min(earliest, close_at_us_[v]);
  }
  return earliest;
}

void SimHal::set_encoder(uint8_t ab) {
  ab_ = static_cast<uint8_t>(ab & 3u);
  const uint8_t fired = fast_.on_edge(ab_);
  if (fired == 0) return;
  uint32_t open_us[wire::kValveCount];
  for (uint8_t v = 0; v < wire::kValveCount; ++v) open_us[v] = fast_.open_us_for(v);
  open_now(static_cast<uint8_t>(fired & core::kAllValves), open_us);
  fast_.on_fired_at(now_us());
}

void SimHal::move_wheel(int32_t delta_ticks) {
  const int8_t step = delta_ticks > 0 ? 1 : -1;
  for (int32_t i = 0; i < (delta_ticks > 0 ? delta_ticks : -delta_ticks); ++i) {
    set_encoder(core::quadrature_step(ab_, step));
  }
}

void SimHal::inject_encoder_glitch() { set_encoder(core::quadrature_step(ab_, 2)); }

void SimHal::host_send(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (rx_.size() >= rx_capacity_) {
      if (rx_overruns_ != 0xFFFF) ++rx_overruns_;
      continue;
    }
    rx_.push_back(data[i]);
  }
}

std::vector<uint8_t> SimHal::host_receive() {
  std::vector<uint8_t> out(tx_.begin(), tx_.end());
  tx_.clear();
  return out;
}

}  // namespace hal
}  // namespace rig
