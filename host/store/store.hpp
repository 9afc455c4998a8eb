// The session store: one SQLite database file per rig holding subjects, sessions, trials with their wheel
// traces, the engine state after every trial, and session events. Schema and exports: docs/data-format.md.
//
// Thread-safety: a Store is one SQLite connection (opened without SQLite's mutex) and is not thread-safe: use it
// from one thread at a time (one Store per thread; moving a Store to a worker thread is fine). Several
// Stores (threads or processes) may open the same file: WAL lets readers run beside the one writer, and a
// writer waits up to kBusyTimeoutMs for another.
//
// Durability: every write is one transaction. The database runs in WAL mode with synchronous=FULL, so a
// transaction is on disk (the WAL is fsync'd) when the call returns: a committed trial survives a host crash
// and a power cut. (synchronous=NORMAL in WAL mode keeps the file consistent but may lose the last
// transactions on power loss, which DESIGN.md decision 8 forbids.)
//
// Errors: every failure (cannot create or open the file, read-only file or filesystem, disk full, corrupt or
// foreign file, schema newer than this program) throws StoreError naming the file and SQLite's reason; a
// failed write leaves nothing half-written (its transaction is rolled back).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "firmware/wire/messages.hpp"
#include "host/model/device.hpp"
#include "host/model/recording.hpp"
#include "host/model/trial_record.hpp"
#include "host/model/welfare.hpp"
#include "host/store/outbox.hpp"
#include "host/store/store_error.hpp"
#include "host/task/engine.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"

namespace rig::store {

inline constexpr int kSchemaVersion = 6;
inline constexpr int kBusyTimeoutMs = 5000;
inline constexpr const char* kInterruptedReason = "interrupted (host stopped without ending the session)";

struct OpenOptions {
  bool read_only = false;  // never creates, migrates or writes; for export and listing
  // Wall clock in microseconds since the Unix epoch (UTC), for commit and end times; tests substitute one.
  std::function<std::int64_t()> clock_unix_us;
  // SQLite's page cache for this connection, in KiB (SQLite's default, 2 MB). A session's store stays within
  // it however long the session; a bulk loader (rig simulate) raises it to keep its index pages in memory.
  int cache_kib = 2048;

  static OpenOptions reading() {
    OpenOptions options;
    options.read_only = true;
    return options;
  }
  static OpenOptions with_clock(std::function<std::int64_t()> clock_unix_us) {
    OpenOptions options;
    options.clock_unix_us = std::move(clock_unix_us);
    return options;
  }
};

// What a session is made of, recorded once at its start (everything that reproduces it).
struct SessionStart {
  task::Subject subject;                 // upserted into `subjects` in the same transaction
  std::string protocol_path;
  std::string protocol_text;             // the file's bytes; its SHA-256 is computed and stored
  std::string rig_config_path;
  std::string rig_config_text;
  std::string valve_calibration_json;    // calibration_json(rig): the tables in force
  std::string device_kind;               // sim | serial | simavr
  std::string firmware_build_id;
  std::string hardware_json;             // model::device_info_json(device)
  std::string host_version;
  std::uint64_t rng_seed = 0;
  std::int64_t started_at_unix_us = 0;
  std::string initial_state_json;        // task::engine_state_to_json(engine.state()) before the first trial
};

// A session as the store knows it.
struct SessionInfo {
  std::int64_t session_id = 0;
  std::string session_uuid;  // the session's identity outside this database (the lab, exports); random (v4)
  std::string subject_id;
  std::string protocol_path;
  std::string protocol_sha256;
  std::uint64_t rng_seed = 0;
  std::string started_at_utc;
  std::int64_t started_at_unix_us = 0;
  std::optional<std::string> ended_at_utc;  // nullopt: running, or the host died (see mark_interrupted_sessions)
  std::optional<std::string> end_reason;
  bool interrupted = false;                 // ended by mark_interrupted_sessions(), not by the runner
  std::int64_t resume_count = 0;
  std::int64_t trial_count = 0;
  std::int64_t left_choices = 0;
  std::int64_t right_choices = 0;
  std::int64_t high_side_choices = 0;       // choice trials on the controllable flavour's high side

  bool ended() const { return ended_at_utc.has_value(); }
};

// Where a session stands after its last committed trial: what `rig run --resume` needs to construct
// TaskEngine(protocol, rig, subject, engine_state_from_json(state_json)) and continue the numbering.
struct ResumePoint {
  std::int64_t session_id = 0;
  std::string subject_id;
  std::uint32_t last_trial_number = 0;  // 0: no trial committed yet (state_json is the initial state)
  std::string state_json;
  std::uint64_t rng_seed = 0;
  std::string protocol_path;
  std::string protocol_text;
  std::string protocol_sha256;
  std::string rig_config_text;
};

// What changed when a session continues after a restart (logged with the `session_resumed` event).
struct ResumeInfo {
  std::string firmware_build_id;
  std::string hardware_json;
  std::string host_version;
};

// One stored trial: a row of `trials` (host/model/trial.def).
using StoredTrial = model::TrialRecord;

// One trial of a subject's history, for the fitter.
struct SubjectTrial {
  std::int64_t session_id = 0;
  std::uint32_t trial_number = 0;
  std::optional<wire::Side> choice;  // nullopt: miss (or abort)
  bool free_choice = true;
  bool controllable_delivered = false;
  bool distractor_delivered = false;
  std::array<double, 2> p_controllable_by_side{};  // [left, right]
  double p_distractor = 0.0;
  bool operator==(const SubjectTrial&) const = default;
};

// One row of `events`.
struct StoredEvent {
  std::int64_t event_id = 0;
  std::optional<std::int64_t> session_id;
  std::string kind;
  std::int64_t t_us = 0;
  std::int64_t logged_at_unix_us = 0;
  std::string detail_json;
};

class Connection;

class Store {
 public:
  // Opens the database at `path`, creating its directories and the file, setting WAL, synchronous=FULL,
  // foreign keys and the busy timeout, and applying the missing migrations (each in its own transaction).
  // read_only opens an existing file without writing and requires its schema to be current. Does not mark
  // interrupted sessions (a second process, e.g. `rig sessions`, must not end a running session). Throws
  // StoreError (see the file comment).
  static Store open(const std::string& path, OpenOptions options = {});
  // $XDG_DATA_HOME/rig/rig.sqlite, or ~/.local/share/rig/rig.sqlite. Reads the environment; thread-safe.
  static std::string default_path();

  Store(Store&&) noexcept;
  ~Store();

  const std::string& path() const;
  int schema_version() const;

  // Inserts or updates a subject's row from its config. Throws StoreError.
  void upsert_subject(const task::Subject& subject);

  // Records a new session (and upserts its subject) and returns its id. Throws StoreError.
  std::int64_t begin_session(const SessionStart& start);
  // Ends a running session: end time (the clock), reason (e.g. a StopReason name or "operator stop"), and the
  // summary JSON (any JSON text); in the same transaction, the session's `session` row of water_given (its
  // trials' rewards; a resumed session's row is replaced). Throws StoreError when the session does not exist or
  // has already ended.
  void end_session(std::int64_t session_id, const std::string& reason, const std::string& summary_json);
  // Ends every session without an end as interrupted (kInterruptedReason), dated at its last committed trial
  // (or its start), with its water_given row as end_session writes it, and returns their ids. Call only from the process that runs the rig, before it starts a
  // session. Throws StoreError.
  std::vector<std::int64_t> mark_interrupted_sessions();

  // Commits one completed trial in ONE transaction: the trial row (its session_id, subject_id and
  // committed_at_unix_us are the store's, whatever `trial` holds), its wheel trace (encode_wheel_trace) and the
  // engine state after it (state_after; what resume restores). Durable when it returns. Throws StoreError
  // (nothing written) when the session does not exist or has ended, the trial number is already stored, or
  // SQLite fails (disk full, read-only, ...).
  // `recording` (licks, sync edges, camera runs since the previous commit) goes in the same transaction; its
  // rows' session_id is the store's.
  void commit_trial(std::int64_t session_id, const model::TrialRecord& trial,
                    const std::vector<model::WheelSamples>& wheel, const task::EngineState& state_after,
                    const model::RecordingChunk& recording = {});
  // Writes what the rig recorded after a session's last trial, in one transaction. Throws StoreError as
  // commit_trial.
  void record(std::int64_t session_id, const model::RecordingChunk& recording);
  // Calls visit(row) for every row of a recording table (Record: model::LickRecord, SyncRecord or
  // CameraRecord) of the session, in the order recorded. Throws StoreError, or std::invalid_argument naming
  // the field of a malformed row.
  template <class Record>
  void for_each_recording(std::int64_t session_id, const std::function<void(const Record&)>& visit) const;

  // Commits many trials (no wheel traces) and the engine state after the last of them in ONE transaction,
  // e.g. a simulated session: all or nothing, one fsync. Trials are stored in the order given, all with the
  // same commit time. Throws StoreError as commit_trial (nothing written).
  void commit_trials(std::int64_t session_id, const std::vector<model::TrialRecord>& trials,
                     const task::EngineState& state_after);

  // Appends an event: kind (e.g. "fault", "link", "device_reset", "trial_lost",
  // "reversal", "stage_decision", "session_stop"), its time t_us on the caller's clock (device or host; say
  // which in detail), and detail as JSON text. session_id nullopt: not tied to a session. Returns its id.
  // Throws std::invalid_argument when detail_json is not JSON, StoreError on SQLite failures.
  std::int64_t log_event(std::optional<std::int64_t> session_id, const std::string& kind, std::int64_t t_us,
                         const std::string& detail_json);

  // The subject's most recent session, or nullopt. Throws StoreError.
  std::optional<SessionInfo> latest_session(const std::string& subject_id) const;
  // One session, or nullopt when no session has this id. Throws StoreError.
  std::optional<SessionInfo> session(std::int64_t session_id) const;
  // Sessions in id order, of one subject or (empty subject_id) all. Throws StoreError.
  std::vector<SessionInfo> sessions(const std::string& subject_id = {}) const;

  // What the session was started with (SessionStart as begin_session took it; the subject as far as the store
  // knows it: the session's id and controllable flavour, and the subject's sex, date of birth, strain and
  // genotype as last stored). Throws StoreError when the session does not exist.
  SessionStart session_start(std::int64_t session_id) const;

  // The state to resume `session_id` from. Throws StoreError when the session does not exist.
  ResumePoint resume_point(std::int64_t session_id) const;
  // Continues an ended or interrupted session in the same row (trial numbers carry on, the session stays one
  // history for the analysis): clears its end, counts the resume and logs a `session_resumed` event with
  // `info` and the previous end reason. Throws StoreError when the session does not exist.
  void resume_session(std::int64_t session_id, const ResumeInfo& info);

  // The trials of a session in trial order. Throws StoreError.
  std::vector<StoredTrial> trials(std::int64_t session_id) const;
  // Calls visit(trial) for every trial of the session in trial order, one row at a time (for exports of long
  // sessions): those numbered above `after_trial_number`, at most `limit` of them (< 0: all). Throws
  // StoreError, or std::invalid_argument naming the field of a malformed row.
  void for_each_trial(std::int64_t session_id, const std::function<void(const StoredTrial&)>& visit,
                      std::int64_t after_trial_number = 0, std::int64_t limit = -1) const;
  // The wheel trace of one trial as runs of samples (empty when none was stored). Throws StoreError, or
  // std::invalid_argument when the stored blob is malformed.
  std::vector<model::WheelSamples> wheel_trace(std::int64_t session_id, std::uint32_t trial_number) const;
  // Calls visit(trial_number, runs) for every stored wheel trace of the session, in trial order. Throws
  // StoreError, or std::invalid_argument when a stored blob is malformed.
  void for_each_wheel_trace(
      std::int64_t session_id,
      const std::function<void(std::uint32_t trial_number, const std::vector<model::WheelSamples>& runs)>& visit) const;
  // Events of a session in order. Throws StoreError.
  std::vector<StoredEvent> events(std::int64_t session_id) const;

  // Every trial of a subject across its sessions, ordered by session then trial number, through the index
  // trials_by_subject (no table scan). Throws StoreError.
  std::vector<SubjectTrial> subject_trials(const std::string& subject_id) const;
  // Water (both flavours, uL) the subject received in trials committed on `local_date` in the host's local
  // time zone (midnight to midnight). Throws StoreError.
  double water_today_ul(const std::string& subject_id, std::chrono::year_month_day local_date) const;

  // The rewards of the subject's trials per local day, for each day from `first` to `last` (water_today_ul of
  // each). Throws StoreError.
  std::map<std::chrono::sys_days, double> session_water_by_day(const std::string& subject_id, std::chrono::sys_days first,
                                                               std::chrono::sys_days last) const;

  // Appends a welfare row (model::Weighing or model::WaterGiven, host/model/welfare.def) in one transaction; durable
  // when it returns. Throws StoreError (nothing written).
  template <class Record>
  void add_welfare(const Record& row);
  // A subject's welfare rows (every subject's when `subject_id` is empty) in time order. Throws StoreError, or
  // std::invalid_argument naming the field of a malformed row.
  template <class Record>
  std::vector<Record> welfare_rows(const std::string& subject_id = {}) const;

  // The outbox (outbox.hpp): up to `max_entries` of its oldest entries, each changed row once with its values as
  // they are now (a row deleted since is left out; its own entry deletes it). Reads only. Throws StoreError.
  OutboxBatch outbox_batch(std::size_t max_entries) const;
  // Removes the outbox's entries up to `last_seq` (a batch the lab has committed), in one transaction. Throws
  // StoreError.
  void outbox_acknowledge(std::int64_t last_seq);
  // Queues every row of every synced table again, in one transaction (`rig sync --all`: a lab restored from an
  // older backup, or emptied). Returns the entries queued. Throws StoreError.
  std::int64_t outbox_enqueue_all();
  // The entries waiting after entry `after_seq` (0: all) and the oldest one's time. Throws StoreError.
  OutboxBacklog outbox_backlog(std::int64_t after_seq = 0) const;
  // This database's own uuid (made when it reached schema 5; it tells the lab one rig's store from another's).
  // Throws StoreError.
  std::string store_uuid() const;
  // The rig id the database was pushed to the lab as, or nullopt before its first push. Throws StoreError.
  std::optional<std::string> lab_rig_id() const;
  // Records the rig id of the first push (kept for every later one). Throws StoreError.
  void set_lab_rig_id(const std::string& rig_id);

  // PRAGMA integrity_check: "ok", or SQLite's list of problems. Throws StoreError.
  std::string integrity_check() const;

  // The store's clock (OpenOptions::clock_unix_us, else the system clock), microseconds since the Unix epoch:
  // the time rows are stamped with. Thread-safe as the clock is.
  std::int64_t now_unix_us() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  friend Connection& connection_of(const Store& store);
  std::unique_ptr<Impl> impl_;
};

// `unix_us` as UTC ISO-8601 with microseconds: "2025-01-06T09:30:00.000000Z". Pure; thread-safe.
std::string utc_iso8601(std::int64_t unix_us);
// Lower-case hex SHA-256 of `bytes` (OpenSSL EVP). Pure; thread-safe.
std::string sha256_hex(const std::string& bytes);
// The hardware description recorded with a session: every DeviceInfo field as a JSON object. Pure; thread-safe.
using model::device_info_json;
// The valve calibration tables in force as JSON: {"cherry": {"calibrated_on": "...", "points": [{"open_us",
// "volume_ul"}...]}, "grape": ...}. Pure; thread-safe.
std::string calibration_json(const task::RigConfig& rig);

}  // namespace rig::store
