// What `rig run` (and rigd) need around a session: loading and checking the inputs with clear errors, the
// device choice, the subject's history for the fitter, the end-of-session report.
#pragma once

#include "host/config/install_paths.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "device_factory.hpp"
#include "host/analysis/trial_record.hpp"
#include "host/config/bounded_read.hpp"
#include "host/store/store.hpp"
#include "host/store/subject_elsewhere.hpp"
#include "host/task/protocol.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"
#include "session_runner.hpp"

namespace rig::app {

// Bad input (files, arguments): the message says which file/field and what is wrong; exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A session refused because it conflicts with what runs elsewhere (the subject is training on another rig):
// exit code 2 like other bad input; rigd answers 409.
class ConflictError : public InputError {
 public:
  using InputError::InputError;
};

// A session refused for the animal's sake (under its weight threshold without a stated reason): exit code 3.
class WelfareRefusal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
inline constexpr int kExitWelfareRefused = 3;

struct RunInputs {
  std::string rig_path, rig_text;
  std::string subjects_path;
  std::string protocol_path, protocol_text;
  task::RigConfig rig;
  task::Subject subject;
  task::Protocol protocol;
};

// The rig config to use when none is given: $RIG_CONFIG, ~/.config/rig/rig.yaml, else the simulated rig's
// example shipped with the sources. Reads the environment; thread-safe.
std::string default_rig_config_path();

// Data files (CSV exports read back by `rig fit` and `rig report`) are at most this large.
inline constexpr std::size_t kMaxDataFileBytes = std::size_t{1} << 30;

// The contents of `path` when it is a regular file of at most `max_bytes` (config::read_bounded_file: a FIFO
// or a device is refused without blocking). Reads the file; thread-safe. Throws InputError
// "PATH: cannot read (REASON)".
std::string read_file(const std::string& path, std::size_t max_bytes = config::kDefaultMaxConfigBytes);

// A file, its text and what it was read as.
template <typename T>
struct CheckedFile {
  std::string path, text;
  T value;
};

// Reads and checks a rig config. Thread-safe. Throws InputError with every FILE:LINE:COL diagnostic.
CheckedFile<task::RigConfig> load_rig_config_checked(const std::string& path);
// Reads and checks a protocol, and that it can run on `rig`. Thread-safe. Throws InputError with every
// FILE:LINE:COL diagnostic.
// Reads with the rig's size cap (rig.max_file_bytes).
CheckedFile<task::Protocol> load_protocol_checked(const std::string& path, const task::RigConfig& rig);

// Reads and checks a subjects file. Thread-safe. Throws InputError with every FILE:LINE:COL diagnostic.
task::SubjectList load_subjects_checked(const std::string& path, std::size_t max_bytes = config::kDefaultMaxConfigBytes);

// The rig config and the subjects file, read and checked.
struct RigFiles {
  std::string rig_path, rig_text;
  task::RigConfig rig;
  std::string subjects_path;
  task::SubjectList subjects;
};

// Loads the rig config (default: default_rig_config_path()) and the subjects file (default: subjects.yaml
// beside the rig config). Reads the files; thread-safe. Throws InputError with every FILE:LINE:COL diagnostic.
RigFiles load_rig_files(const std::string& config, const std::string& subjects);

// The subject `subject_id` of `list` (read from `subjects_path`). Pure. Throws InputError naming the file and
// the subjects it knows.
const task::Subject& subject_in(const task::SubjectList& list, const std::string& subjects_path,
                                const std::string& subject_id);

// The directories from which a request (rigd's API) may name a protocol, made absolute and with symlinks
// resolved: the rig config's files.protocol_dirs (relative to the rig config), or when it names none, the
// directories of the subjects' stage protocols. Missing directories are left out. Reads the file system;
// thread-safe.
std::vector<std::filesystem::path> protocol_dirs(const RigFiles& files);

// The protocol file `requested` names, when it resolves (symlinks followed) to an existing file inside one of
// protocol_dirs(files): a relative name is looked up in each directory in turn. Reads the file system;
// thread-safe. Throws InputError naming the request and the allowed directories, never reading the file.
std::string protocol_in_protocol_dirs(const RigFiles& files, const std::string& requested);

// Loads the rig config, the subjects file (default: subjects.yaml beside the rig config), the subject and its
// protocol (default: its stage), and checks they fit together. With `confine_protocol` (a protocol named in a
// request), `protocol` must be in the rig's protocol directories (protocol_in_protocol_dirs). Files are read
// with the rig config's size cap (files.max_file_bytes). Throws InputError with every FILE:LINE:COL diagnostic.
RunInputs load_run_inputs(const std::string& config, const std::string& subjects, const std::string& subject_id,
                          const std::string& protocol, bool confine_protocol = false);

// "sim", "simavr", "serial" or "serial:/dev/ttyACM0"; empty = the rig config's device. Throws InputError.
DeviceRequest device_request(const std::string& device, const task::RigConfig& rig, double speed, uint64_t seed);
const char* device_kind_name(DeviceChoice kind);
// A program installed next to this executable (rig-simavr, rig-vmcu).
using config::sibling_program;

std::chrono::year_month_day today();
analysis::TrialRecord to_analysis_record(const store::SubjectTrial& trial);
// The same from a stored trial row (its stored deliveries and probabilities). Pure.
analysis::TrialRecord to_analysis_record(const store::StoredTrial& trial);
// Every trial of the subject, as the fitter reads them: the sessions other rigs ran (`elsewhere`, from the lab;
// may be null), then those in `db`, each in trial order. The fit does not depend on the order of whole sessions
// (each restarts the history; their tags, "RIG/ID" for another rig's, never equal this rig's ids). Reads the
// database; throws store::StoreError.
std::vector<analysis::TrialRecord> subject_history(const store::Store& db, const std::string& subject_id,
                                                   const store::SubjectElsewhere* elsewhere = nullptr);
// Plain words for a device fault bit (host/model/enums.hpp).
using model::fault_text;

// The end-of-session report: counts, volumes, the pooled fit's indices with SEs, the randomization test's
// p-values (crt_surrogates > 0), the stage decision, where the data went.
nlohmann::json session_report(const SessionEnd& end, const std::vector<analysis::TrialRecord>& trials,
                              int crt_surrogates, uint64_t seed, const std::string& subject_id, int64_t session_id,
                              const std::string& db_path);
void print_report(const nlohmann::json& report);

// Runs `body`, turning exceptions into a message on stderr and an exit code: InputError and
// task::ConfigError -> 2, WelfareRefusal -> 3, anything else -> 1.
int run_with_errors(const std::string& command, const std::function<int()>& body);

}  // namespace rig::app
