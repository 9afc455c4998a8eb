// Turns a running session into the dashboard's JSON: one event per session, start, trial, link change, fault
// and end (pushed on /ws), and the status document folded from them on the monitor's thread (GET
// /api/status, the first WebSocket message). Schema: docs/rigd.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <array>
#include <boost/asio/thread_pool.hpp>
#include <string>

#include "firmware/wire/limits.hpp"
#include "host/monitor/monitor_server.hpp"
#include "host/session/lick_raster.hpp"
#include "live_fit.hpp"
#include "session_runner.hpp"

namespace rig::app {

// At most this many points in a trial's wheel trace sent to the dashboard.
inline constexpr std::size_t kWheelTracePoints = 200;
// The status document keeps the most recent trials only (the raster), whatever the session's length: the
// full history is paged from the store (GET /api/sessions/{id}/trials).
inline constexpr std::size_t kStatusTrialLimit = 200;
// Points of the indices' history kept in the status; past it every second point is dropped, so the history
// spans the whole session at a coarser step.
inline constexpr std::size_t kStatusIndexLimit = 500;
inline constexpr std::size_t kStatusFaultLimit = 50;
inline constexpr std::size_t kStatusAlertLimit = 20;  // the newest alerts (the dashboard's banner), across sessions

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
  task::SyncSettings sync;     // the rig config's sync output (its health is judged against max_interval_us)
  bool licks_enabled = false;  // the rig config's lick inputs (the lick raster)
  double daily_water_min_ul = 0.0;  // the day's minimum (the top-up owed is what today's water leaves short of it)
  nlohmann::json welfare = nullptr;  // the subject's day before the session (welfare_json)
  nlohmann::json protocol_detail = nullptr;  // the running protocol (protocol_detail_json), for its read-only view
};

// The session's protocol as the dashboard shows it read-only: {name, path, sha256 (of the file's text, as the
// session row records it), effective_yaml (rig check --effective)}. Pure; thread-safe.
nlohmann::json protocol_detail_json(const task::Protocol& protocol, const std::string& path, const std::string& text);

// The sync line is called silent when its last reported edge is this much older than the newest device time
// the session saw, beyond the longest interval between pulses: the firmware reports an edge within
// wire::kSyncFlushUs, and the host needs a little more to receive it.
inline constexpr int64_t kSyncSilentSlackUs = 2 * wire::kSyncFlushUs;

// The session as the dashboard sees it: one compact JSON event per session announcement, start, trial, link
// change, fault and end (schema: docs/rigd.md), handed to `publish` on the io thread. It never serializes:
// the monitor's thread does that, once for all clients, and folds the events into the status (StatusBoard).
// `publish` must not block (MonitorServer::publish hands the event over).
class MonitorObserver : public SessionObserver {
 public:
  using Publish = std::function<void(nlohmann::json event)>;
  // Publishes the "session" event (a new session, connecting).
  MonitorObserver(const LiveFit& fit, MonitorContext context, Publish publish);

  void on_started(const SessionStartInfo& info) override;
  void on_trial(const CompletedTrial& trial) override;
  void on_link(const link::LinkStatus& status) override;
  void on_fault(const wire::Fault& fault, int64_t t_us) override;
  void on_finished(const SessionEnd& end) override;

  // Water given by hand during the session (the API recorded it): counted in today's water from now on, and
  // published as a "water" event. io thread.
  void add_water_by_hand(double volume_ul);

 private:
  nlohmann::json totals_json() const;
  nlohmann::json water_json() const;
  nlohmann::json link_json() const;
  nlohmann::json session_id_json() const;
  nlohmann::json sync_json() const;
  // The recording since the previous trial: sync edges counted, licks into the raster.
  void add_recording(const model::RecordingChunk& recording);
  // The raster's rows completed by now (all of them with `all`), as the trial and finished events carry them.
  nlohmann::json lick_rows_json(bool all);
  // `timing`: stamps its published_ns at the hand-off to publish.
  void emit(nlohmann::json event, TrialTiming* timing = nullptr);

  const LiveFit& fit_;
  MonitorContext context_;
  Publish publish_;

  model::TrialTally tally_;  // this run's trials (the water drunk today counts this run's volume)
  uint32_t block_ = 0;
  std::string high_side_ = "left";
  link::LinkStatus link_;

  LickRaster raster_;
  struct SyncCount {
    uint64_t edges = 0;  // edges this run received
    uint64_t lost = 0;   // gaps in their running index (a device restart starts the index again: not lost)
    std::optional<int64_t> last_index, last_device_us;
  } sync_;
  int64_t newest_device_us_ = 0;  // the newest device time seen (licks, sync edges, the trials' times)
};

// The status document folded from MonitorObserver's events (and rigd's "daemon" events, and "welfare" events
// after a weighing or water was recorded): {type:"status", state: "connecting"|"running"|"finished" (or rigd's
// "idle"|"starting"), subject, protocol, session_id, device, trials, totals, water, welfare (the subject's day),
// link, sync, faults[], fit, indices[], trial_log[] (the last kStatusTrialLimit),
// lick_rows[] (the last kStatusTrialLimit), alerts[] (the newest kStatusAlertLimit, kept across sessions),
// last_trial, wheel, end, and rigd's daemon, run, last_report, and lab (rigd's push to the lab database: a "lab"
// event's {server, state, backlog_entries, oldest_waiting_s, last_push_unix_us, rows_pushed, last_error})}. Bounded in size whatever the session's length.
// Used on the monitor's thread only.
class StatusBoard : public monitor::StatusModel {
 public:
  // A "daemon" event ({type:"daemon", daemon, run, state, last_report}: null leaves a field to the session)
  // is answered with the whole status for WebSocket clients; every other event is passed on as it is.
  std::optional<nlohmann::json> apply(const nlohmann::json& event) override;
  nlohmann::json document() const override;

 private:
  void take_lick_rows(const nlohmann::json& event);

  nlohmann::json session_ = nlohmann::json::object();  // the session's fields
  nlohmann::json daemon_ = nlohmann::json::object();   // rigd's fields, over the session's
  nlohmann::json lab_;                                  // rigd's push to the lab (a "lab" event), null without one
  std::deque<nlohmann::json> faults_, trial_log_, indices_, lick_rows_, alerts_;
};

// {sessions: [{session_id, subject, protocol, started_at, ended_at, end_reason, interrupted, trials, left,
// right, high_side_choices}]} from the store at `db_path`, opened read-only (a missing database: an empty
// list). Blocks for the read; any thread. Throws store errors.
nlohmann::json session_list_json(const std::string& db_path, const std::string& subject_id = {});

// GET /api/sessions/{id}/trials: {session_id, after, trials: [the kShown fields of each trial, as the
// dashboard's trial events], next_after: the last trial's number, or null when no more follow} for the
// trials numbered above `after`, at most `limit`. 404 when the database or the session does not exist.
// Blocks for the read; any thread. Throws store errors.
monitor::ApiReply session_trials_reply(const std::string& db_path, int64_t session_id, int64_t after, int64_t limit);

// Sets the API's read-only views of the store at `db_path` (GET /api/sessions, GET /api/sessions/{id}/trials).
// Each read runs on `readers`, never on the session's or the server's thread; an error answers 500 with its
// message. `readers` must outlive the server.
void add_store_views(monitor::ApiHandlers& api, boost::asio::thread_pool& readers, const std::string& db_path);

// Called after the API recorded a weighing or water (a reader thread): the subject, the water volume given (0 for
// a weighing) and the subject's welfare JSON now (welfare_json).
using WelfareRecorded = std::function<void(const std::string& subject, double water_ul, const nlohmann::json& welfare)>;

// Sets the API's welfare views and records: GET /api/subjects ({subjects: [welfare_json...]}), GET
// /api/subjects/{id} (welfare_json; 404 for a subject the subjects file lacks), POST /api/subjects/{id}/weighings
// ({weight_g, baseline?, force?: REASON, who?}) and POST /api/subjects/{id}/water ({volume_ul, kind?: topup|gel|free,
// who?}), each answering 201 {welfare} or 400 {error} with nothing stored. The subjects come from the rig
// config `config` and the subjects file `subjects` (as `rig run` finds them), read at each request; the records
// from the store at `db_path`. Each runs on `readers`; `recorded` (may be empty) follows every record. `readers`
// must outlive the server.
void add_welfare_views(monitor::ApiHandlers& api, boost::asio::thread_pool& readers, const std::string& db_path,
                       const std::string& config, const std::string& subjects, WelfareRecorded recorded);

// A trial's wheel trace, flattened and decimated to at most `max_points` points:
// {t_ms: [...], position_ticks: [...]} with times from the first sample. Pure.
nlohmann::json decimated_wheel(const std::vector<device::WheelSamples>& batches, std::size_t max_points);

}  // namespace rig::app
