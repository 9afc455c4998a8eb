#include "host/session/alerts.hpp"

#include <chrono>

#include "host/model/enums.hpp"
#include "host/session/run_support.hpp"

namespace rig::app {

AlertSink::AlertSink(std::string rig_id, const task::AlertSettings& settings, AlertOutlets outlets, WebhookOptions webhook)
    : rig_id_(std::move(rig_id)), outlets_(std::move(outlets)) {
  if (!settings.webhook_url.empty()) {
    try {
      webhook_ = std::make_unique<WebhookSender>(settings.webhook_url, webhook, outlets_.warn);
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string("alerts.webhook_url: ") + e.what());
    }
  }
}

model::Alert AlertSink::stamped(model::Alert alert) const {
  if (alert.rig_id.empty()) alert.rig_id = rig_id_;
  if (alert.raised_at_unix_us == 0) {
    alert.raised_at_unix_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  return alert;
}

void AlertSink::deliver(model::Alert alert, bool store) {
  alert = stamped(std::move(alert));
  if (outlets_.log) outlets_.log(alert);
  if (store && outlets_.store) outlets_.store(alert);
  if (outlets_.publish) outlets_.publish(alert);
  if (webhook_) webhook_->send(model::webhook_body(alert));
}

bool AlertSink::send_test(WebhookSender::Done done) {
  if (!webhook_) return false;
  model::Alert alert;
  alert.kind = model::AlertKind::kTest;
  alert.text = "a test alert (rig alerts test): if you read this, alerts reach you";
  webhook_->send(model::webhook_body(stamped(std::move(alert))), std::move(done));
  return true;
}

AlertObserver::AlertObserver(boost::asio::io_context& io, AlertSink& sink, const task::AlertSettings& settings,
                             std::optional<double> planned_minutes, std::string subject_id,
                             std::function<std::int64_t()> session_id, std::function<void(const model::Alert&)> store)
    : sink_(sink),
      rules_(settings, planned_minutes),
      subject_id_(std::move(subject_id)),
      session_id_(std::move(session_id)),
      store_(std::move(store)),
      tick_(io) {}

AlertObserver::~AlertObserver() {
  *alive_ = false;
  tick_.cancel();
}

std::int64_t AlertObserver::now_us() { return steady_now_ns() / 1000; }

void AlertObserver::raise(const std::vector<AlertDraft>& drafts) {
  for (const AlertDraft& d : drafts) {
    model::Alert alert;
    alert.kind = d.kind;
    alert.text = d.text;
    alert.subject_id = subject_id_;
    const std::int64_t id = session_id_ ? session_id_() : 0;
    if (id > 0) alert.session_id = id;
    alert = sink_.stamped(std::move(alert));
    if (store_) store_(alert);
    sink_.raise_stored(std::move(alert));
  }
}

void AlertObserver::schedule_tick() {
  tick_.expires_after(std::chrono::seconds(1));
  tick_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    raise(rules_.tick(now_us()));
    schedule_tick();
  });
}

void AlertObserver::on_started(const SessionStartInfo&) {
  raise(rules_.on_started(now_us()));
  schedule_tick();
}

void AlertObserver::on_trial(const CompletedTrial& trial) { raise(rules_.on_trial(trial.record.choice.has_value(), now_us())); }

void AlertObserver::on_link(const link::LinkStatus& status) {
  raise(rules_.on_link(status.state == link::LinkState::kConnected, now_us()));
}

void AlertObserver::on_fault(const wire::Fault& fault, int64_t) {
  raise(rules_.on_fault(model::fault_text(fault.fault_bit), now_us()));
}

void AlertObserver::on_finished(const SessionEnd& end) {
  tick_.cancel();
  raise(rules_.on_finished(end.reason, end.error, now_us()));
}

}  // namespace rig::app
