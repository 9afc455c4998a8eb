#include "firmware/core/device.hpp"

#include <string.h>

#include "firmware/core/time.hpp"

namespace rig {
namespace core {

Device::Device(hal::Hal& hal, const BoardInfo& board)
    : hal_(hal), board_(board), executor_(hal, guard_, *this) {}

void Device::begin(uint32_t now_us) {
  now_us_ = now_us;
  wheel_.configure(kDefaultWheelPeriodUs, kDefaultWheelBatch, now_us);
  hello_reply_pending_ = true;
  hello_reply_nonce_ = 0;
  next_status_us_ = now_us;
  last_ack_progress_us_ = now_us;
  last_poll_us_ = now_us;
}

void Device::poll(uint32_t now_us) {
  const int32_t loop_us = elapsed_us(now_us, last_poll_us_);
  if (loop_us > max_loop_us_) max_loop_us_ = loop_us > 0xFFFF ? 0xFFFF : static_cast<uint16_t>(loop_us);
  last_poll_us_ = now_us;
  now_us_ = now_us;

  check_watchdog(now_us);
  executor_.poll(now_us);

  // The encoder is read only when a wheel sample or a status report needs it: masked time is choice latency.
  int32_t position_ticks = 0;
  uint16_t invalid = encoder_invalid_seen_;
  const bool need_encoder = wheel_.due(now_us) || reached(now_us, next_status_us_);
  if (need_encoder) hal_.read_encoder(&position_ticks, &invalid);
  if (invalid != encoder_invalid_seen_) {
    encoder_invalid_seen_ = invalid;
    raise_fault(wire::kFaultEncoderInvalid, now_us, invalid);
  }
  const uint16_t overruns = hal_.uart_rx_overruns();
  if (overruns != rx_overruns_seen_) {
    rx_overruns_seen_ = overruns;
    raise_fault(wire::kFaultRxOverrun, now_us, overruns);
  }

  receive(now_us);

  wire::WheelBatch batch;
  if (need_encoder && wheel_.poll(now_us, position_ticks, &batch)) {
    // An unsent older batch is replaced: the stream is best effort and batch_seq shows the gap.
    wheel_batch_ = batch;
    wheel_batch_pending_ = true;
  }

  poll_inputs_and_trains(now_us);
  transmit(now_us);
}

void Device::poll_inputs_and_trains(uint32_t now_us) {
  wire::LickEdges licks;
  if (licks_.poll(now_us, hal_, &licks)) queue(licks, EventClass::kData);
  wire::SyncEdges edges;
  if (sync_.poll(now_us, hal_, &edges)) queue(edges, EventClass::kData);
  wire::CameraFrames frames;
  if (camera_.poll(hal_, &frames)) queue(frames);
}

void Device::check_watchdog(uint32_t now_us) {
  if (!host_present_) return;
  const int32_t silent_us = elapsed_us(now_us, last_host_frame_us_);
  if (silent_us <= static_cast<int32_t>(guard_.limits().heartbeat_timeout_ms) * 1000) return;
  host_present_ = false;
  executor_.emergency_stop(now_us);
  raise_fault(wire::kFaultHostTimeout, now_us, static_cast<uint32_t>(silent_us) / 1000);
}

void Device::raise_fault(uint16_t fault_bit, uint32_t now_us, uint32_t detail) {
  const bool newly = (latched_faults_ & fault_bit) == 0;
  latched_faults_ |= fault_bit;
  // Repeats of a latched fault are not queued again (a noisy encoder must not flood the queue), except
  // watchdog trips: each one ended a trial and the host must see every one.
  if (!newly && fault_bit != wire::kFaultHostTimeout) return;
  wire::Fault fault;
  fault.fault_bit = fault_bit;
  fault.latched_faults = latched_faults_;
  fault.t_us = now_us;
  fault.detail = detail;
  queue(fault);
}

template <typename Message>
void Device::queue(const Message& msg, EventClass cls) {
  const bool was_empty = events_.depth() == 0;
  if (events_.push_message(msg, cls)) {
    if (was_empty) last_ack_progress_us_ = now_us_;
    return;
  }
  if ((latched_faults_ & wire::kFaultEventOverflow) != 0) return;
  latched_faults_ |= wire::kFaultEventOverflow;
  wire::Fault fault;
  fault.fault_bit = wire::kFaultEventOverflow;
  fault.latched_faults = latched_faults_;
  fault.t_us = now_us_;
  fault.detail = Message::kId;  // the type of the first event lost
  events_.push_message(fault, EventClass::kOverflow);
}

void Device::receive(uint32_t now_us) {
  uint8_t bytes[kMaxBytesPerPoll];
  const size_t n = hal_.uart_read(bytes, sizeof(bytes));
  for (size_t i = 0; i < n; ++i) {
    wire::FrameView frame;
    if (decoder_.push(bytes[i], frame) == wire::FrameDecoder::Status::kFrame) handle_frame(frame, now_us);
  }
}

void Device::handle_frame(const wire::FrameView& frame, uint32_t now_us) {
  host_present_ = true;
  last_host_frame_us_ = now_us;
  switch (frame.type) {
    case wire::Hello::kId:
      handle_hello(frame);
      return;
    case wire::Heartbeat::kId:
      return;
    case wire::EventAck::kId: {
      wire::EventAck ack = {};
      if (wire::decode_message(frame, ack) && events_.ack(ack.acked_seq) > 0) last_ack_progress_us_ = now_us;
      return;
    }
    default:
      break;
  }
  if (!wire::is_reliable(frame.type) || frame.type >= 0x80) return;  // device-to-host types: not for us

  if (!have_host_seq_) {
    // First command after a boot with no Hello yet: take it as the start of the host's sequence.
    have_host_seq_ = true;
    last_command_seq_ = static_cast<uint16_t>(frame.seq - 1);
  }
  const int16_t ahead = static_cast<int16_t>(frame.seq - last_command_seq_);
  if (ahead == 1) {
    const CommandStatus status = execute(frame, now_us);
    last_command_seq_ = frame.seq;
    ++commands_executed_;
    queue_ack(frame.seq, frame.type, status);
    return;
  }
  if (ahead <= 0) {
    // A repeat of a command already executed (its ack was lost): answer again, never execute twice.
    ++commands_duplicated_;
    for (uint8_t i = 0; i < kAckHistory; ++i) {
      const wire::CommandAck& old = recent_acks_[i];
      if (old.command_seq == frame.seq && old.command_type == frame.type) {
        queue_ack(frame.seq, frame.type, CommandStatus{static_cast<wire::AckStatus>(old.status), old.detail});
        return;
      }
    }
    queue_ack(frame.seq, frame.type, CommandStatus{wire::AckStatus::kOk, 0});
  }
  // ahead > 1: an earlier command was lost; the host sends it again first (go-back-N), so drop this one.
}

void Device::handle_hello(const wire::FrameView& frame) {
  wire::Hello hello = {};
  if (!wire::decode_message(frame, hello)) return;
  if (!have_host_seq_ || hello.host_nonce != host_nonce_) {
    // A new host (or the first after boot): its next command carries Hello's seq + 1.
    have_host_seq_ = true;
    host_nonce_ = hello.host_nonce;
    last_command_seq_ = frame.seq;
  }
  hello_reply_pending_ = true;
  hello_reply_nonce_ = hello.host_nonce;
  events_.rewind();  // a (re)connected host gets every unacknowledged event again
}

CommandStatus Device::execute(const wire::FrameView& frame, uint32_t now_us) {
  switch (frame.type) {
    case wire::ArmTrial::kId: {
      wire::ArmTrial m = {};
      wire::decode_message(frame, m);
      // The trial's result must never be lost to a full queue: set its slot aside first, or refuse to arm.
      if (!events_.reserve_result()) return CommandStatus{wire::AckStatus::kBusy, events_.depth()};
      const CommandStatus status = executor_.arm(m, now_us);
      if (status.status != wire::AckStatus::kOk && status.status != wire::AckStatus::kClamped) events_.release_result();
      return status;
    }
    case wire::AbortTrial::kId: {
      wire::AbortTrial m = {};
      wire::decode_message(frame, m);
      return executor_.abort(m.trial_id, now_us);
    }
    case wire::PulseValve::kId: {
      wire::PulseValve m = {};
      wire::decode_message(frame, m);
      return executor_.pulse(m, now_us);
    }
    case wire::SetWheelStream::kId: {
      wire::SetWheelStream m = {};
      wire::decode_message(frame, m);
      if (!wheel_.configure(m.period_us, m.samples_per_batch, now_us)) {
        return CommandStatus{wire::AckStatus::kBadArgument, m.period_us};
      }
      wheel_batch_pending_ = false;
      return CommandStatus{wire::AckStatus::kOk, 0};
    }
    case wire::SetSafety::kId: {
      wire::SetSafety m = {};
      wire::decode_message(frame, m);
      SafetyLimits requested;
      requested.max_open_us = m.max_open_us;
      requested.max_open_us_per_s = m.max_open_us_per_s;
      requested.heartbeat_timeout_ms = m.heartbeat_timeout_ms;
      bool clamped = false;
      guard_.set_limits(clamp_limits(requested, &clamped));
      return CommandStatus{clamped ? wire::AckStatus::kClamped : wire::AckStatus::kOk, 0};
    }
    case wire::SetSync::kId: {
      wire::SetSync m = {};
      wire::decode_message(frame, m);
      return sync_.configure(m, now_us, hal_);
    }
    case wire::SetCamera::kId: {
      wire::SetCamera m = {};
      wire::decode_message(frame, m);
      return camera_.configure(m, now_us, hal_);
    }
    case wire::SetLicks::kId: {
      wire::SetLicks m = {};
      wire::decode_message(frame, m);
      return licks_.configure(m, hal_);
    }
    case wire::ClearFaults::kId: {
      wire::ClearFaults m = {};
      wire::decode_message(frame, m);
      latched_faults_ = static_cast<uint16_t>(latched_faults_ & ~m.fault_mask);
      return CommandStatus{wire::AckStatus::kOk, latched_faults_};
    }
    default:
      return CommandStatus{wire::AckStatus::kUnknownType, frame.type};
  }
}

void Device::queue_ack(uint16_t seq, uint8_t type, const CommandStatus& status) {
  wire::CommandAck ack;
  ack.command_seq = seq;
  ack.command_type = type;
  ack.status = static_cast<uint8_t>(status.status);
  ack.detail = status.detail;
  recent_acks_[recent_ack_next_] = ack;
  recent_ack_next_ = static_cast<uint8_t>((recent_ack_next_ + 1) % kAckHistory);
  // A full ack queue drops the ack; the host repeats the command and gets it from recent_acks_.
  if (pending_ack_count_ < kPendingAcks) pending_acks_[pending_ack_count_++] = ack;
}

bool Device::send_frame(uint8_t type, uint16_t seq, const void* payload, size_t size) {
  uint8_t out[wire::kMaxEncodedFrame];
  const size_t n = wire::encode_frame(type, seq, payload, size, out, sizeof(out));
  if (n == 0 || hal_.uart_write_space() < n) return false;
  hal_.uart_write(out, n);
  return true;
}

void Device::fill_hello_reply(wire::HelloReply* reply, uint32_t nonce) const {
  memset(reply, 0, sizeof(*reply));
  reply->protocol_version = wire::kProtocolVersion;
  reply->host_nonce = nonce;
  // NUL-padded, not necessarily NUL-terminated (all 16 characters may be used).
  for (size_t i = 0; i < sizeof(reply->firmware_build_id) && board_.build_id[i] != '\0'; ++i) {
    reply->firmware_build_id[i] = board_.build_id[i];
  }
  reply->boot_id = board_.boot_id;
  reply->clock_hz = board_.clock_hz;
  reply->encoder_ticks_per_rev = board_.encoder_ticks_per_rev;
  reply->pin_encoder_a = board_.pin_encoder_a;
  reply->pin_encoder_b = board_.pin_encoder_b;
  reply->pin_valve_cherry = board_.pin_valve_cherry;
  reply->pin_valve_grape = board_.pin_valve_grape;
  reply->pin_cue = board_.pin_cue;
  reply->max_open_us = guard_.limits().max_open_us;
  reply->max_open_us_per_s = guard_.limits().max_open_us_per_s;
  reply->heartbeat_timeout_ms = guard_.limits().heartbeat_timeout_ms;
  reply->event_queue_capacity = EventQueue::capacity();
  reply->next_event_seq = events_.next_seq();
  reply->oldest_unacked_seq = static_cast<uint16_t>(events_.next_seq() - events_.depth());
  reply->latched_faults = latched_faults_;
  reply->hal_kind = static_cast<uint8_t>(board_.hal_kind);
  reply->pin_sync = board_.pin_sync;
  reply->pin_camera = board_.pin_camera;
  reply->pin_lick_cherry = board_.pin_lick_cherry;
  reply->pin_lick_grape = board_.pin_lick_grape;
}

void Device::transmit(uint32_t now_us) {
  if (events_.depth() > 0 && events_.all_sent() && elapsed_us(now_us, last_ack_progress_us_) >=
                                                       static_cast<int32_t>(kRetransmitAfterUs)) {
    // No acknowledgement progress: a frame was lost on the way; send everything unacknowledged again.
    events_.rewind();
    last_ack_progress_us_ = now_us;
  }
  while (hal_.uart_write_space() >= wire::kMaxEncodedFrame) {
    if (hello_reply_pending_) {
      wire::HelloReply reply;
      fill_hello_reply(&reply, hello_reply_nonce_);
      send_frame(wire::HelloReply::kId, 0, &reply, sizeof(reply));
      hello_reply_pending_ = false;
    } else if (pending_ack_count_ > 0) {
      send_frame(wire::CommandAck::kId, 0, &pending_acks_[0], sizeof(wire::CommandAck));
      --pending_ack_count_;
      memmove(pending_acks_, pending_acks_ + 1, pending_ack_count_ * sizeof(wire::CommandAck));
    } else if (const QueuedEvent* event = events_.next_to_send()) {
      send_frame(event->type, event->seq, event->payload, event->size);
      events_.mark_sent();
    } else if (wheel_batch_pending_) {
      send_frame(wire::WheelBatch::kId, 0, &wheel_batch_, sizeof(wheel_batch_));
      wheel_batch_pending_ = false;
    } else if (reached(now_us, next_status_us_)) {
      wire::DeviceStatus status;
      status.t_us = now_us;
      status.trial_state = static_cast<uint8_t>(executor_.state());
      status.armed_trial_id = executor_.armed_trial_id();
      status.latched_faults = latched_faults_;
      status.queue_depth = events_.depth();
      const uint32_t dropped = decoder_.drops().total();
      status.rx_dropped = dropped > 0xFFFFu ? 0xFFFFu : static_cast<uint16_t>(dropped);
      status.encoder_invalid = encoder_invalid_seen_;
      status.max_loop_us = max_loop_us_;
      send_frame(wire::DeviceStatus::kId, 0, &status, sizeof(status));
      max_loop_us_ = 0;
      next_status_us_ += kStatusPeriodUs;
      if (reached(now_us, next_status_us_)) next_status_us_ = now_us + kStatusPeriodUs;
    } else {
      break;
    }
  }
}

}  // namespace core
}  // namespace rig
