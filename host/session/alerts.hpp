// Alerts raised and delivered (docs/operator-guide.md, "Alerts"): every alert is logged, stored as an `alert`
// event, published to the dashboard and, when the rig config names a webhook, posted to it from the webhook's
// own thread; nothing here waits for the network. AlertObserver raises a session's alerts from its events and a
// one-second tick (SessionAlertRules).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "host/model/alert.hpp"
#include "host/session/alert_rules.hpp"
#include "host/session/session_runner.hpp"
#include "host/session/webhook.hpp"

namespace rig::app {

// Where alerts go. Each may be empty; each is called on the thread that raised the alert and must not block.
struct AlertOutlets {
  std::function<void(const model::Alert&)> log;      // the operator's log (journald under systemd)
  std::function<void(const model::Alert&)> store;    // an `alert` event in the store
  std::function<void(const model::Alert&)> publish;  // the dashboard
  std::function<void(const std::string&)> warn;      // the webhook's delivery problems (once per episode)
};

class AlertSink {
 public:
  // Throws InputError for a webhook URL it cannot use.
  AlertSink(std::string rig_id, const task::AlertSettings& settings, AlertOutlets outlets, WebhookOptions webhook = {});

  // Stamps `alert` with the rig and the wall time (when unset) and sends it to every outlet and the webhook.
  // Never blocks on the network. Thread-safe as the outlets are.
  void raise(model::Alert alert) { deliver(std::move(alert), true); }
  // The same for an alert its caller has stored already (a session's, stored with the session): every outlet
  // but `store`.
  void raise_stored(model::Alert alert) { deliver(std::move(alert), false); }
  // The alert as raise() would stamp it. Thread-safe.
  model::Alert stamped(model::Alert alert) const;
  // Posts a test alert to the webhook only; `done` tells how it ended (sender's thread). False when no webhook
  // is configured (`done` is not called).
  bool send_test(WebhookSender::Done done);
  const std::string& rig_id() const { return rig_id_; }

 private:
  void deliver(model::Alert alert, bool store);

  std::string rig_id_;
  AlertOutlets outlets_;
  std::unique_ptr<WebhookSender> webhook_;
};

// A session's alerts. Construct and use on the io thread; the tick timer stops when the session ends or the
// observer is destroyed.
class AlertObserver : public SessionObserver {
 public:
  // `session_id`: the store's id of the session (0 until known); `store`: stores an alert with the session (the
  // session's recorder), called before the sink's other outlets.
  AlertObserver(boost::asio::io_context& io, AlertSink& sink, const task::AlertSettings& settings,
                std::optional<double> planned_minutes, std::string subject_id, std::function<std::int64_t()> session_id,
                std::function<void(const model::Alert&)> store);
  ~AlertObserver() override;

  void on_started(const SessionStartInfo& info) override;
  void on_trial(const CompletedTrial& trial) override;
  void on_link(const link::LinkStatus& status) override;
  void on_fault(const wire::Fault& fault, int64_t t_us) override;
  void on_finished(const SessionEnd& end) override;

 private:
  void raise(const std::vector<AlertDraft>& drafts);
  void schedule_tick();
  static std::int64_t now_us();

  AlertSink& sink_;
  SessionAlertRules rules_;
  std::string subject_id_;
  std::function<std::int64_t()> session_id_;
  std::function<void(const model::Alert&)> store_;
  boost::asio::steady_timer tick_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rig::app
