// Turns a running session into the dashboard's JSON: a status snapshot (GET /api/status, the first WebSocket
// message) and one event per trial, link change, fault, start and end (pushed on /ws). Schema: docs/rigd.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "host/monitor/monitor_server.hpp"
#include "live_fit.hpp"
#include "session_runner.hpp"

namespace rig::app {

// At most this many points in a trial's wheel trace sent to the dashboard.
inline constexpr std::size_t kWheelTracePoints = 200;
// The status keeps this many trials (the most recent) for the raster and the indices' history: a day's
// session, while the memory of a session of any length stays bounded (about 2 kB per trial as JSON).
inline constexpr std::size_t kStatusTrialLimit = 1500;
inline constexpr std::size_t kStatusFaultLimit = 50;

// The dashboard server's options for `rig run --serve` and rigd: `address`:`port`, the installed dashboard
// files, and the control token read from `token_file` ("": none, control is refused). Reads the file;
// thread-safe. Throws InputError naming the token file when it cannot be read or is empty.
monitor::ServerOptions dashboard_server_options(std::string address, uint16_t port, const std::string& token_file);

struct MonitorContext {
  std::string subject_id;
  std::string protocol_name;
  double daily_water_target_ul = 1000.0;
  double water_before_session_ul = 0.0;  // what the subject drank earlier today
  std::function<link::LinkStats()> link_stats;  // counters shown with the link state (may be empty)
  std::function<int64_t()> session_id;           // the store's session id, 0 until known (may be empty)
};

// The session as the dashboard sees it. Observer calls on the io thread; status() and status_text() on the
// io thread too (they read the observer's state). `publish` gets each event as JSON text, on the io thread,
// and must not block (MonitorServer::publish queues).
class MonitorObserver : public SessionObserver {
 public:
  MonitorObserver(const LiveFit& fit, MonitorContext context, std::function<void(std::string)> publish);

  void on_started(const SessionStartInfo& info) override;
  void on_trial(const CompletedTrial& trial) override;
  void on_link(const link::LinkStatus& status) override;
  void on_fault(const wire::Fault& fault, int64_t t_us) override;
  void on_finished(const SessionEnd& end) override;

  // {type:"status", state: "connecting"|"running"|"finished", subject, protocol, session_id, device, trials,
  //  totals, water, link, faults[], fit (fit_to_json or null), indices[], trial_log[], last_trial, wheel,
  //  end (null until finished)}. io thread; no errors.
  nlohmann::json status() const;

 private:
  nlohmann::json totals_json() const;
  nlohmann::json water_json() const;
  nlohmann::json link_json() const;
  nlohmann::json session_id_json() const;
  // `timing`: stamps its published_ns at the hand-off to publish.
  void emit(const nlohmann::json& event, TrialTiming* timing = nullptr);

  const LiveFit& fit_;
  MonitorContext context_;
  std::function<void(std::string)> publish_;

  std::string state_ = "connecting";
  std::string device_;
  uint32_t trials_ = 0, choices_ = 0, high_choices_ = 0, misses_ = 0, reversals_ = 0;
  std::array<uint32_t, 2> rewards_{};
  std::array<double, 2> volume_ul_{};
  uint32_t block_ = 0;
  std::string high_side_ = "left";
  link::LinkStatus link_;
  std::deque<nlohmann::json> faults_;
  std::deque<nlohmann::json> trial_log_;
  std::deque<nlohmann::json> indices_;
  nlohmann::json last_trial_;
  nlohmann::json wheel_;
  nlohmann::json end_;
};

// {sessions: [{session_id, subject, protocol, started_at, ended_at, end_reason, interrupted, trials, left,
// right, high_side_choices}]} from the store at `db_path`, opened read-only (a missing database: an empty
// list). Blocks for the read; any thread. Throws store errors.
nlohmann::json session_list_json(const std::string& db_path, const std::string& subject_id = {});

// A trial's wheel trace, flattened and decimated to at most `max_points` points:
// {t_ms: [...], position_ticks: [...]} with times from the first sample. Pure.
nlohmann::json decimated_wheel(const std::vector<device::WheelSamples>& batches, std::size_t max_points);

}  // namespace rig::app
