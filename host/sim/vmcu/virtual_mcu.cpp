#include "vmcu/virtual_mcu.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace rig::device {

namespace {

// Each direction and the garbage get their own stream, so what is injected one way does not depend on how
// the other way's traffic interleaves with it in wall time.
constexpr uint64_t kToHostStream = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kToDeviceStream = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kGarbageStream = 0x165667B19E3779F9ull;

// A host that floods the pty is held back by the pty's own buffer rather than by our memory.
constexpr size_t kMaxQueuedToDevice = 4096;

// When the loop falls this far behind wall time (a stopped debugger, a loaded machine), it resumes pacing
// from where it is instead of racing to catch up.
constexpr std::chrono::milliseconds kMaxLag{100};

// A paced board holding this many events its host has not acknowledged waits for the host, as long as the
// host is still talking (sent something within kHostTalkingWindow of wall time): a slow host (a loaded
// machine) must not lose data or results to a simulation that runs ahead of it, which a real board at 1x
// would never do. A host that is gone is not waited for: its board's watchdog must trip on time.
constexpr uint8_t kHostBehindEvents = 12;
constexpr std::chrono::milliseconds kHostTalkingWindow{100};
constexpr std::chrono::microseconds kHostBehindPause{500};

const VirtualMcuOptions& checked(const VirtualMcuOptions& options) {
  if (!(options.speed >= 0)) throw std::invalid_argument("VirtualMcu: speed must be >= 0");
  if (options.slice_us == 0) throw std::invalid_argument("VirtualMcu: slice_us must be > 0");
  return options;
}

}  // namespace

VirtualMcu::VirtualMcu(const VirtualMcuOptions& options, std::unique_ptr<sim::Chooser> chooser)
    : options_(checked(options)),
      pty_(options.line == VmcuLine::kPty ? std::make_unique<PtyEndpoint>() : nullptr),
      path_(pty_ ? pty_->path() : "in-process line"),
      board_(options.boot_id, options.loop_period_us),
      rng_to_host_(options.seed ^ kToHostStream),
      rng_to_device_(options.seed ^ kToDeviceStream),
      rng_garbage_(options.seed ^ kGarbageStream) {
  if (chooser) {
    adapter_ = std::make_unique<sim::SimBoardMouseAdapter>(board_);
    mouse_ = std::make_unique<sim::SimMouse>(*adapter_, std::move(chooser), options.mouse, sim::movement_seed(options.seed));
  }
}

VirtualMcu::~VirtualMcu() { stop(); }

void VirtualMcu::start() {
  if (!pty_) throw std::logic_error("VirtualMcu: an in-process line is stepped by its owner, not started");
  if (thread_.joinable() || stop_) throw std::logic_error("VirtualMcu: started twice");
  thread_ = std::thread([this] { run(); });
}

size_t VirtualMcu::step() {
  if (pty_) throw std::logic_error("VirtualMcu: a pty board runs in its own thread (start()), not step()");
  return stop_ ? 0 : run_slice();
}

int VirtualMcu::plug_host() {
  if (pty_) throw std::logic_error("VirtualMcu: a pty board is opened by its path, not plugged");
  return line_.plug();
}

void VirtualMcu::publish_path(const std::string& file) const {
  if (!pty_) throw std::logic_error("VirtualMcu: an in-process line has no path to publish");
  pty_->publish_path(file);
}

size_t VirtualMcu::line_read(uint8_t* out, size_t capacity) {
  return pty_ ? pty_->read(out, capacity) : line_.read(out, capacity);
}

void VirtualMcu::line_write(const uint8_t* data, size_t size) {
  if (pty_) {
    pty_->write(data, size);
  } else {
    line_.write(data, size);
  }
}

void VirtualMcu::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

VirtualMcuCounters VirtualMcu::counters() const {
  VirtualMcuCounters c;
  c.sim_time_us = sim_time_us_.load();
  c.trials_seen = trials_seen_.load();
  c.bytes_from_host = bytes_from_host_.load();
  c.bytes_to_host = bytes_to_host_.load();
  c.device_frames_dropped = device_frames_dropped_.load();
  c.bytes_corrupted = bytes_corrupted_.load();
  c.garbage_bytes = garbage_bytes_.load();
  c.last_host_byte_us = last_host_byte_us_.load();
  c.acks_withheld = acks_withheld_.load();
  return c;
}

std::vector<hal::SimValvePulse> VirtualMcu::valve_pulses() const {
  std::lock_guard<std::mutex> lock(valve_mutex_);
  return valve_pulses_;
}

void VirtualMcu::inject_corruption(LineDirection direction, double probability_per_byte) {
  if (!(probability_per_byte >= 0.0 && probability_per_byte <= 1.0)) {
    throw std::invalid_argument("VirtualMcu: corruption probability must be in [0, 1]");
  }
  std::lock_guard<std::mutex> lock(faults_mutex_);
  (direction == LineDirection::kToHost ? faults_.corrupt_to_host : faults_.corrupt_to_device) = probability_per_byte;
}

void VirtualMcu::inject_garbage(LineDirection direction, size_t bytes) {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  (direction == LineDirection::kToHost ? faults_.garbage_to_host : faults_.garbage_to_device) += bytes;
}

void VirtualMcu::delay_device_output(uint64_t delay_us) {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  faults_.delay_us = delay_us;
}

VirtualMcu::Pending VirtualMcu::pending_for(FaultMoment when) {
  switch (when) {
    case FaultMoment::kNextGoCue: return Pending::kAtGoCue;
    case FaultMoment::kNextValveOpen: return Pending::kAtValveOpen;
    case FaultMoment::kNow: break;
  }
  return Pending::kOn;
}

void VirtualMcu::cut_line(LineDirection direction, FaultMoment when) {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  (direction == LineDirection::kToHost ? faults_.cut_to_host : faults_.cut_to_device) = pending_for(when);
}

void VirtualMcu::restore_line(LineDirection direction) {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  (direction == LineDirection::kToHost ? faults_.cut_to_host : faults_.cut_to_device) = Pending::kOff;
}

void VirtualMcu::withhold_event_acks(bool on) {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  faults_.withhold_acks = on;
}

void VirtualMcu::halt(FaultMoment when) {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  faults_.halt = pending_for(when);
}

void VirtualMcu::fire_pending(bool cue_rose, bool valve_opened) {
  if (!cue_rose && !valve_opened) return;
  const auto fire = [&](Pending& p) {
    if ((p == Pending::kAtGoCue && cue_rose) || (p == Pending::kAtValveOpen && valve_opened)) p = Pending::kOn;
  };
  std::lock_guard<std::mutex> lock(faults_mutex_);
  fire(faults_.cut_to_host);
  fire(faults_.cut_to_device);
  fire(faults_.halt);
}

void VirtualMcu::sync_valve_log() {
  const auto& log = board_.hal().valve_log();
  if (valve_final_ == log.size()) return;
  std::lock_guard<std::mutex> lock(valve_mutex_);
  valve_pulses_.resize(log.size());
  // Entries from the first one still open may change; those before it are final.
  size_t first_open = log.size();
  for (size_t i = valve_final_; i < log.size(); ++i) {
    valve_pulses_[i] = log[i];
    if (log[i].close_us == 0 && first_open == log.size()) first_open = i;
  }
  valve_final_ = first_open;
}

VirtualMcu::Faults VirtualMcu::take_faults() {
  std::lock_guard<std::mutex> lock(faults_mutex_);
  const Faults now = faults_;
  faults_.garbage_to_host = 0;
  faults_.garbage_to_device = 0;
  return now;
}

size_t VirtualMcu::run_slice() {
  const Faults faults = take_faults();
  if (faults.halt == Pending::kOn) {
    halted_ = true;
    return 0;
  }
  feed_device(faults);
  const size_t valves_before = board_.hal().valve_log().size();
  const uint64_t until_us = board_.now_us() + options_.slice_us;
  if (mouse_) {
    mouse_->run_until(until_us);
    trials_seen_ = mouse_->stats().cues;
  } else {
    board_.run_until(until_us);
  }
  sim_time_us_ = board_.now_us();
  device_frames_dropped_ = board_.device().rx_drops().total();
  const bool cue_on = board_.hal().cue_on();
  fire_pending(cue_on && !cue_was_on_, board_.hal().valve_log().size() > valves_before);
  cue_was_on_ = cue_on;
  sync_valve_log();
  return send_to_host(faults);
}

void VirtualMcu::run() {
  using Clock = std::chrono::steady_clock;
  auto wall0 = Clock::now();
  uint64_t sim0_us = board_.now_us();
  while (!stop_) {
    run_slice();
    if (halted_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (options_.speed > 0 && waiting_for_host()) {
      std::this_thread::sleep_for(kHostBehindPause);
      wall0 = Clock::now();
      sim0_us = board_.now_us();
      continue;
    }
    if (options_.speed > 0) {
      const auto due = wall0 + std::chrono::microseconds(
                                   static_cast<int64_t>(static_cast<double>(board_.now_us() - sim0_us) / options_.speed));
      const auto now = Clock::now();
      if (now - due > kMaxLag) {
        wall0 = now;
        sim0_us = board_.now_us();
      } else {
        std::this_thread::sleep_until(due);
      }
    }
  }
}

bool VirtualMcu::waiting_for_host() const {
  if (board_.device().events().depth() < kHostBehindEvents) return false;
  if (withholding_) return false;  // a test makes the host deaf on purpose: let the queue fill
  return std::chrono::steady_clock::now() - last_host_bytes_wall_ < kHostTalkingWindow;
}

void VirtualMcu::feed_device(const Faults& faults) {
  uint8_t buf[512];
  if (withholding_ && !faults.withhold_acks) {
    to_device_.insert(to_device_.end(), partial_frame_.begin(), partial_frame_.end());
    partial_frame_.clear();
  }
  withholding_ = faults.withhold_acks;
  while (to_device_.size() < kMaxQueuedToDevice) {
    const size_t n = line_read(buf, sizeof(buf));
    if (n == 0) break;
    bytes_from_host_ += n;
    last_host_bytes_wall_ = std::chrono::steady_clock::now();
    if (faults.cut_to_device == Pending::kOn) continue;  // lost on the cut line
    if (withholding_) {
      filter_event_acks(buf, n);
    } else {
      to_device_.insert(to_device_.end(), buf, buf + n);
    }
  }
  if (faults.garbage_to_device > 0) {
    const auto junk = garbage(faults.garbage_to_device);
    to_device_.insert(to_device_.end(), junk.begin(), junk.end());
  }
  // The simulated line carries one byte per kUsPerByte, like the real UART: a burst from the host never
  // overruns the firmware's receive buffer just because the pty delivered it at once.
  const size_t budget = std::max<size_t>(1, options_.slice_us / kUsPerByte);
  std::vector<uint8_t> bytes(to_device_.begin(), to_device_.begin() + std::min(budget, to_device_.size()));
  to_device_.erase(to_device_.begin(), to_device_.begin() + static_cast<std::ptrdiff_t>(bytes.size()));
  corrupt(bytes, faults.corrupt_to_device, rng_to_device_);
  board_.hal().host_send(bytes.data(), bytes.size());
  if (!bytes.empty()) last_host_byte_us_ = board_.now_us();
}

void VirtualMcu::filter_event_acks(const uint8_t* bytes, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    partial_frame_.push_back(bytes[i]);
    if (bytes[i] != wire::kDelimiter) continue;
    // A whole frame (or garbage up to a delimiter): decode it on its own to see its type.
    wire::FrameDecoder decoder;
    wire::FrameView frame{};
    bool is_ack = false;
    for (uint8_t b : partial_frame_) {
      if (decoder.push(b, frame) == wire::FrameDecoder::Status::kFrame) is_ack = frame.type == wire::EventAck::kId;
    }
    if (is_ack) {
      ++acks_withheld_;
    } else {
      to_device_.insert(to_device_.end(), partial_frame_.begin(), partial_frame_.end());
    }
    partial_frame_.clear();
  }
}

size_t VirtualMcu::send_to_host(const Faults& faults) {
  std::vector<uint8_t> out = board_.hal().host_receive();
  corrupt(out, faults.corrupt_to_host, rng_to_host_);
  if (faults.garbage_to_host > 0) {
    const auto junk = garbage(faults.garbage_to_host);
    out.insert(out.end(), junk.begin(), junk.end());
  }
  if (faults.cut_to_host == Pending::kOn) out.clear();  // lost on the cut line
  const uint64_t now_us = board_.now_us();
  if (!out.empty()) held_.push_back(HeldOutput{now_us + faults.delay_us, std::move(out)});
  size_t sent = 0;
  while (!held_.empty() && held_.front().release_us <= now_us) {
    const auto& bytes = held_.front().bytes;
    sent += bytes.size();
    line_write(bytes.data(), bytes.size());
    held_.pop_front();
  }
  bytes_to_host_ += sent;
  return sent;
}

void VirtualMcu::corrupt(std::vector<uint8_t>& bytes, double probability, std::mt19937_64& rng) {
  if (probability <= 0.0) return;
  std::uniform_real_distribution<double> hit(0.0, 1.0);
  std::uniform_int_distribution<int> bit(0, 7);
  for (uint8_t& b : bytes) {
    if (hit(rng) >= probability) continue;
    b = static_cast<uint8_t>(b ^ (1u << bit(rng)));
    ++bytes_corrupted_;
  }
}

std::vector<uint8_t> VirtualMcu::garbage(size_t bytes) {
  std::vector<uint8_t> junk(bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : junk) b = static_cast<uint8_t>(byte(rng_garbage_));
  garbage_bytes_ += bytes;
  return junk;
}

}  // namespace rig::device
