#include "serial_rig.hpp"

namespace rig::device {

SerialRig::SerialRig(boost::asio::io_context& io, link::LinkOptions options) : io_(io), options_(std::move(options)) {}

SerialRig::~SerialRig() {
  // The owner's handlers may already be gone: stop without calling them.
  if (link_) link_->stop(false);
}

void SerialRig::start(RigEvents events) {
  events_ = std::move(events);
  link::Link::Callbacks callbacks;
  callbacks.on_status = [this](const LinkStatus& status) {
    if (events_.on_link) events_.on_link(status);
  };
  callbacks.on_device = [this](const DeviceInfo& info, bool reset) {
    if (reset) {
      clock_.reset();
      have_lick_index_ = false;
    }
    if (events_.on_device) events_.on_device(info, reset);
  };
  callbacks.on_message = [this](const wire::FrameView& frame) { dispatch(frame); };
  link_ = link::Link::create(io_, options_, std::move(callbacks));
  link_->start();
}

void SerialRig::stop() {
  if (link_) link_->stop();
}

void SerialRig::dispatch(const wire::FrameView& frame) {
  switch (frame.type) {
    case wire::TrialEvent::kId: {
      wire::TrialEvent e{};
      wire::decode_message(frame, e);
      const int64_t t = clock_.unwrap(e.t_us);
      if (events_.on_trial_event) events_.on_trial_event(e, t);
      break;
    }
    case wire::TrialResult::kId: {
      wire::TrialResult r{};
      wire::decode_message(frame, r);
      TrialTimes times;
      times.armed_us = clock_.unwrap(r.armed_t_us);
      times.go_cue_us = clock_.unwrap_optional(r.go_cue_t_us);
      times.choice_us = clock_.unwrap_optional(r.choice_t_us);
      times.valve_open_us = clock_.unwrap_optional(r.valve_open_t_us);
      if (events_.on_trial_result) events_.on_trial_result(r, times);
      break;
    }
    case wire::Fault::kId: {
      wire::Fault f{};
      wire::decode_message(frame, f);
      const int64_t t = clock_.unwrap(f.t_us);
      if (events_.on_fault) events_.on_fault(f, t);
      break;
    }
    case wire::PulseDone::kId: {
      wire::PulseDone p{};
      wire::decode_message(frame, p);
      if (events_.on_pulse_done) events_.on_pulse_done(p);
      break;
    }
    case wire::WheelBatch::kId: {
      wire::WheelBatch b{};
      wire::decode_message(frame, b);
      WheelSamples samples;
      samples.batch_seq = b.batch_seq;
      samples.t0_us = clock_.unwrap(b.t0_us);
      samples.period_us = b.period_us;
      const uint8_t count = b.count > wire::kWheelBatchMax ? wire::kWheelBatchMax : b.count;
      int32_t position = b.position0_ticks;
      for (uint8_t i = 0; i < count; ++i) {
        samples.position_ticks.push_back(position);
        if (i + 1 < count) position += b.delta_ticks[i];
      }
      if (events_.on_wheel) events_.on_wheel(samples);
      break;
    }
    case wire::SyncEdges::kId: {
      wire::SyncEdges b{};
      wire::decode_message(frame, b);
      std::vector<model::SyncRecord> edges;
      const uint8_t count = b.count > wire::kSyncEdgesMax ? wire::kSyncEdgesMax : b.count;
      for (uint8_t i = 0; i < count; ++i) {
        model::SyncRecord edge;
        edge.edge_index = static_cast<int64_t>(b.first_edge_index) + i;
        edge.device_us = clock_.unwrap(b.rise_t_us[i]);
        edges.push_back(edge);
      }
      if (events_.on_sync) events_.on_sync(edges);
      break;
    }
    case wire::LickEdges::kId: {
      wire::LickEdges b{};
      wire::decode_message(frame, b);
      const uint32_t lost = have_lick_index_ ? static_cast<uint16_t>(b.first_index - next_lick_index_) : 0;
      const uint8_t count = b.count > wire::kLickEdgesMax ? wire::kLickEdgesMax : b.count;
      have_lick_index_ = true;
      next_lick_index_ = static_cast<uint16_t>(b.first_index + count);
      std::vector<model::LickRecord> licks;
      for (uint8_t i = 0; i < count; ++i) {
        model::LickRecord lick;
        lick.spout = (b.kind[i] & wire::kLickGrape) ? wire::Valve::kGrape : wire::Valve::kCherry;
        lick.onset = (b.kind[i] & wire::kLickOnset) != 0;
        lick.device_us = clock_.unwrap(b.t_us[i]);
        licks.push_back(lick);
      }
      if (events_.on_licks) events_.on_licks(licks, b.glitches, lost);
      break;
    }
    case wire::CameraFrames::kId: {
      wire::CameraFrames f{};
      wire::decode_message(frame, f);
      const int64_t first = f.frame_count > 0 ? clock_.unwrap(f.first_frame_t_us) : -1;
      const int64_t last = f.frame_count > 0 ? clock_.unwrap(f.last_frame_t_us) : -1;
      if (events_.on_camera) events_.on_camera(f, first, last);
      break;
    }
    case wire::DeviceStatus::kId: {
      wire::DeviceStatus s{};
      wire::decode_message(frame, s);
      clock_.unwrap(s.t_us);
      if (events_.on_status) events_.on_status(s);
      break;
    }
    default:
      break;
  }
}

void SerialRig::arm_trial(const wire::ArmTrial& trial, CommandDone done) { link_->send(trial, std::move(done)); }

void SerialRig::abort_trial(uint32_t trial_id, CommandDone done) {
  wire::AbortTrial m{};
  m.trial_id = trial_id;
  link_->send(m, std::move(done));
}

void SerialRig::pulse_valve(const wire::PulseValve& pulse, CommandDone done) { link_->send(pulse, std::move(done)); }

void SerialRig::set_wheel_stream(uint16_t period_us, uint8_t samples_per_batch, CommandDone done) {
  wire::SetWheelStream m{};
  m.period_us = period_us;
  m.samples_per_batch = samples_per_batch;
  link_->send(m, std::move(done));
}

void SerialRig::set_safety(const wire::SetSafety& limits, CommandDone done) { link_->send(limits, std::move(done)); }

void SerialRig::clear_faults(uint16_t fault_mask, CommandDone done) {
  wire::ClearFaults m{};
  m.fault_mask = fault_mask;
  link_->send(m, std::move(done));
}

void SerialRig::set_sync(const wire::SetSync& sync, CommandDone done) { link_->send(sync, std::move(done)); }

void SerialRig::set_camera(const wire::SetCamera& camera, CommandDone done) { link_->send(camera, std::move(done)); }

void SerialRig::set_licks(const wire::SetLicks& licks, CommandDone done) { link_->send(licks, std::move(done)); }

bool SerialRig::connected() const { return link_ && link_->state() == link::LinkState::kConnected; }

const DeviceInfo& SerialRig::device() const {
  static const DeviceInfo kNone;
  return link_ ? link_->device() : kNone;
}

LinkStats SerialRig::link_stats() const { return link_ ? link_->stats() : LinkStats{}; }

}  // namespace rig::device
