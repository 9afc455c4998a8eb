#include "host/store/nwb_export.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <sstream>
#include <type_traits>

#include "host/model/enums.hpp"
#include "host/store/hdf5.hpp"
#include "host/store/local_time.hpp"
#include "host/store/session_clock.hpp"

namespace rig::store {
namespace {

using hdf5::AppendedDataset;
using hdf5::AppendOptions;
using hdf5::Element;
using hdf5::Group;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Trial columns are few rows; the wheel and the recordings are many (a 1-hour session: 3.6 M wheel samples).
constexpr AppendOptions kTableColumn{1024, 4};
constexpr AppendOptions kSeriesColumn{65536, 4};

// A unit by name suffix, longest suffix first.
struct UnitSuffix {
  const char* suffix;
  const char* unit;
};
constexpr UnitSuffix kUnitSuffixes[] = {
    {"_unix_us", "microseconds since the Unix epoch (UTC)"},
    {"_device_us", "microseconds (device clock, since the device booted)"},
    {"_us", "microseconds"},
    {"_ul", "microliters"},
    {"_ticks", "wheel encoder ticks"},
};

// "2025-01-06T10:30:00.000000+01:00": the host's local time with its offset, as NWB's isodatetime wants.
std::string iso8601_local(std::int64_t unix_us) {
  const std::time_t seconds = static_cast<std::time_t>(unix_us / 1'000'000 - (unix_us % 1'000'000 < 0 ? 1 : 0));
  const auto micros = unix_us - static_cast<std::int64_t>(seconds) * 1'000'000;
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &local);
  const long offset_min = local.tm_gmtoff / 60;
  char zone[32];
  std::snprintf(zone, sizeof zone, "%c%02ld:%02ld", offset_min < 0 ? '-' : '+', std::labs(offset_min) / 60,
                std::labs(offset_min) % 60);
  char fraction[32];
  std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>(micros));
  return std::string(text) + fraction + zone;
}

// A uuid-shaped id derived from the session's identifier and the object's path: the same export writes the
// same ids (object_id must be unique within the file and is by path; across files, by the session's uuid).
std::string object_id(const std::string& identifier, const std::string& path) {
  std::string hex = sha256_hex(identifier + "\n" + path).substr(0, 32);
  hex[12] = '4';  // the uuid's version nibble: the layout of a version-4 uuid
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

// A trial field's NWB dtype from its C++ type (see nwb_trial_columns()).
template <class T>
struct TrialDtype {
  static constexpr NwbDtype kValue = std::is_same_v<T, bool>     ? NwbDtype::kBool
                                     : std::is_integral_v<T>     ? NwbDtype::kInt64
                                     : std::is_same_v<T, double> ? NwbDtype::kFloat64
                                                                 : NwbDtype::kText;
};
template <class T>
struct TrialDtype<std::optional<T>> {
  static constexpr NwbDtype kValue = TrialDtype<T>::kValue == NwbDtype::kText ? NwbDtype::kText : NwbDtype::kFloat64;
};

Element element_of(NwbDtype dtype) {
  switch (dtype) {
    case NwbDtype::kBool:
      return Element::kInt8Bool;
    case NwbDtype::kInt64:
      return Element::kInt64;
    case NwbDtype::kFloat64:
      return Element::kFloat64;
    case NwbDtype::kText:
    default:
      return Element::kText;
  }
}

void append_value(AppendedDataset& column, Element element, const model::ColumnValue& value) {
  if (std::holds_alternative<std::monostate>(value)) {
    if (element == Element::kText) {
      column.append(std::string());
    } else {
      column.append(kNaN);
    }
  } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    if (element == Element::kFloat64) {
      column.append(static_cast<double>(*integer));
    } else {
      column.append(*integer);
    }
  } else if (const auto* real = std::get_if<double>(&value)) {
    column.append(*real);
  } else {
    column.append(std::get<std::string>(value));
  }
}

// The file being written, with what every typed object needs (neurodata_type, namespace, object_id).
class NwbWriter {
 public:
  NwbWriter(hdf5::H5File& file, std::string identifier) : file_(file), identifier_(std::move(identifier)) {}

  void type_group(const Group& group, const char* neurodata_type, const char* name_space) {
    group.set_attribute("neurodata_type", std::string(neurodata_type));
    group.set_attribute("namespace", std::string(name_space));
    group.set_attribute("object_id", object_id(identifier_, group.path()));
  }
  void type_dataset(const std::string& path, const char* neurodata_type, const char* name_space,
                    const std::string& description) {
    hdf5::set_dataset_attribute(file_.id(), path, "neurodata_type", std::string(neurodata_type));
    hdf5::set_dataset_attribute(file_.id(), path, "namespace", std::string(name_space));
    hdf5::set_dataset_attribute(file_.id(), path, "object_id", object_id(identifier_, path));
    if (!description.empty()) hdf5::set_dataset_attribute(file_.id(), path, "description", description);
  }
  hid_t file_id() const { return file_.id(); }

 private:
  hdf5::H5File& file_;
  std::string identifier_;
};

// A TimeSeries (or IntervalSeries, SpatialSeries) in a processing module, created at its first sample so that
// a session without, say, camera frames has no empty camera series.
class LazySeries {
 public:
  struct Spec {
    const char* name;
    const char* neurodata_type;
    std::string description;
    Element data_element;
    std::string unit;
    double conversion = 1.0;
    double resolution = -1.0;
    std::string reference_frame;  // SpatialSeries only
  };

  // A series of events or intervals: no unit, no conversion, no reference frame.
  static Spec events(const char* name, const char* neurodata_type, std::string description, Element data_element) {
    return Spec{name, neurodata_type, std::move(description), data_element, "n/a", 1.0, -1.0, ""};
  }

  LazySeries(NwbWriter& writer, const Group& module, Spec spec)
      : writer_(writer), module_(module), spec_(std::move(spec)) {}

  void append(double t_s, std::int64_t value) {
    if (!data_) create();
    timestamps_->append(t_s);
    data_->append(value);
  }
  // Writes what is buffered; returns the samples written.
  std::int64_t finish() {
    if (!data_) return 0;
    data_->finish();
    timestamps_->finish();
    return data_->rows();
  }

 private:
  void create() {
    group_ = std::make_unique<Group>(module_.create_group(spec_.name));
    writer_.type_group(*group_, spec_.neurodata_type, "core");
    group_->set_attribute("description", spec_.description);
    group_->set_attribute("comments", std::string("no comments"));
    data_ = std::make_unique<AppendedDataset>(*group_, "data", spec_.data_element, kSeriesColumn);
    timestamps_ = std::make_unique<AppendedDataset>(*group_, "timestamps", Element::kFloat64, kSeriesColumn);
    const auto id = writer_.file_id();
    hdf5::set_dataset_attribute(id, data_->path(), "unit", spec_.unit);
    hdf5::set_dataset_attribute(id, data_->path(), "conversion", spec_.conversion);
    hdf5::set_dataset_attribute(id, data_->path(), "resolution", spec_.resolution);
    hdf5::set_dataset_attribute(id, data_->path(), "offset", 0.0);
    hdf5::set_dataset_attribute(id, timestamps_->path(), "unit", std::string("seconds"));
    hdf5::set_dataset_attribute(id, timestamps_->path(), "interval", std::int32_t{1});
    if (!spec_.reference_frame.empty()) group_->write_scalar("reference_frame", spec_.reference_frame);
  }

  NwbWriter& writer_;
  const Group& module_;
  Spec spec_;
  std::unique_ptr<Group> group_;
  std::unique_ptr<AppendedDataset> data_;
  std::unique_ptr<AppendedDataset> timestamps_;
};

// A DynamicTable's column (VectorData) and the table's column names.
struct TableColumns {
  std::vector<std::string> names;
  void add(NwbWriter& writer, const std::string& path, const std::string& name, const std::string& description) {
    writer.type_dataset(path, "VectorData", "hdmf-common", description);
    names.push_back(name);
  }
};

void type_table(NwbWriter& writer, const Group& table, const char* neurodata_type, const char* name_space,
                const std::string& description, const TableColumns& columns, const std::string& id_path) {
  writer.type_group(table, neurodata_type, name_space);
  table.set_attribute("description", description);
  table.set_attribute("colnames", columns.names);
  writer.type_dataset(id_path, "ElementIdentifiers", "hdmf-common", "");
}

// The temporary file an export writes before renaming it over `path`: removed unless kept.
class TemporaryPath {
 public:
  explicit TemporaryPath(const std::filesystem::path& target)
      : path_(target.parent_path() /
              ("." + target.filename().string() + "." + std::to_string(::getpid()) + ".partial")) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  ~TemporaryPath() {
    if (!kept_) {
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
    }
  }
  TemporaryPath(const TemporaryPath&) = delete;
  TemporaryPath& operator=(const TemporaryPath&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  std::filesystem::path path_;
  bool kept_ = false;
};

void check_target(const std::filesystem::path& target, bool force) {
  const auto directory = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw NwbInputError(target.string() + ": the directory " + directory.string() + " does not exist");
  }
  if (::access(directory.c_str(), W_OK) != 0) {
    throw NwbInputError(target.string() + ": the directory " + directory.string() + " is not writable");
  }
  if (std::filesystem::is_directory(target, error)) throw NwbInputError(target.string() + " is a directory");
  if (!force && std::filesystem::exists(target, error)) {
    throw NwbInputError(target.string() + " exists (--force replaces it)");
  }
}

// The subject's weight on the session's day: its last weighing of that (local) day at or before the session's
// start, else the day's first after it.
std::optional<model::Weighing> weight_on_the_day(const Store& store, const std::string& subject_id,
                                                 std::int64_t started_at_unix_us) {
  const auto day = local_day_of(started_at_unix_us);
  std::optional<model::Weighing> before, after;
  for (const auto& weighing : store.welfare_rows<model::Weighing>(subject_id)) {
    if (local_day_of(weighing.weighed_at_unix_us) != day) continue;
    if (weighing.weighed_at_unix_us <= started_at_unix_us) {
      before = weighing;
    } else if (!after) {
      after = weighing;
    }
  }
  return before ? before : after;
}

std::string format_number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// /general: the session's provenance.
void write_general(NwbWriter& writer, const Group& root, const Store& store, const SessionInfo& info,
                   const SessionStart& start, const NwbOptions& options, const nlohmann::json& hardware,
                   std::int64_t ticks_per_rev) {
  const auto general = root.create_group("general");
  const auto weighing = weight_on_the_day(store, info.subject_id, start.started_at_unix_us);
  // Who ran the session: as given, else who weighed the mouse that day (not a simulated body's scale).
  std::string experimenter = options.experimenter;
  if (experimenter.empty() && weighing && !weighing->who.empty() && weighing->who != "simulated body") {
    experimenter = weighing->who;
  }
  if (!experimenter.empty()) general.write_strings("experimenter", {experimenter});
  if (!options.lab.empty()) general.write_scalar("lab", options.lab);
  if (!options.institution.empty()) general.write_scalar("institution", options.institution);
  general.write_scalar("session_id", std::to_string(info.session_id));
  general.write_scalar("protocol", start.protocol_text);
  general.write_strings("keywords", {"distractor-rewards task", "credit assignment", "head-fixed mouse", "wheel"});
  nlohmann::ordered_json collection = {
      {"rng_seed", std::to_string(start.rng_seed)},
      {"protocol_path", start.protocol_path},
      {"protocol_sha256", info.protocol_sha256},
      {"rig_config_path", start.rig_config_path},
      {"rig_config", start.rig_config_text},
      {"valve_calibration", nlohmann::json::parse(start.valve_calibration_json, nullptr, false)},
      {"device_kind", start.device_kind},
      {"firmware_build_id", start.firmware_build_id},
      {"host_version", start.host_version},
      {"controllable_flavour", model::flavour_name(start.subject.controllable)},
      {"distractor_flavour", model::flavour_name(start.subject.distractor())},
      {"resume_count", info.resume_count},
      {"end_reason", info.end_reason ? nlohmann::ordered_json(*info.end_reason) : nlohmann::ordered_json()},
      {"store_uuid", store.store_uuid()},
  };
  general.write_scalar("data_collection", collection.dump(2));
  general.write_scalar("notes", "Exported by rig " + start.host_version + " from session " +
                                    std::to_string(info.session_id) + " of " + store.path() +
                                    ". data_collection holds the session's provenance as JSON: the RNG seed, the "
                                    "protocol's path and SHA-256 (the protocol's text is /general/protocol), the "
                                    "rig config and valve calibration in force, the firmware and host versions.");

  const auto devices = general.create_group("devices");
  const auto board = devices.create_group("rig_board");
  writer.type_group(board, "Device", "core");
  const char* hal = start.device_kind == "sim"      ? "the virtual MCU (firmware core on the host, simulated rig)"
                    : start.device_kind == "simavr" ? "the firmware in simavr (simulated ATmega2560)"
                                                    : "an ATmega2560 (Arduino Mega class) board";
  board.set_attribute("description", std::string("The rig's microcontroller: ") + hal + "; firmware " +
                                         start.firmware_build_id + "; wheel encoder " + std::to_string(ticks_per_rev) +
                                         " ticks per revolution; hardware " + hardware.dump());
  board.set_attribute("manufacturer", std::string("rig controller (firmware ") + start.firmware_build_id + ")");

  const auto subject = general.create_group("subject");
  writer.type_group(subject, "Subject", "core");
  subject.write_scalar("subject_id", info.subject_id);
  subject.write_scalar("species", "Mus musculus");
  subject.write_scalar("sex", model::name_of(task::kSexNames, start.subject.sex));
  if (start.subject.date_of_birth) {
    const auto birth = std::chrono::sys_days(*start.subject.date_of_birth);
    subject.write_scalar("date_of_birth", iso8601_local(local_midnight_unix_us(*start.subject.date_of_birth)));
    const auto days = (local_day_of(start.started_at_unix_us) - birth).count();
    subject.write_scalar("age", "P" + std::to_string(days) + "D");
  }
  if (!start.subject.strain.empty()) subject.write_scalar("strain", start.subject.strain);
  if (!start.subject.genotype.empty()) subject.write_scalar("genotype", start.subject.genotype);
  if (weighing) {
    subject.write_scalar("weight", format_number(weighing->weight_g / 1000.0) + " kg");
  }
  const bool simulated = start.device_kind != "serial";
  subject.write_scalar("description",
                       std::string(simulated ? "A simulated mouse (the rig's agent) on a simulated rig. " : "") +
                           "Controllable flavour: " + model::flavour_name(start.subject.controllable) +
                           "; distractor: " + model::flavour_name(start.subject.distractor()) + ".");
}

// What the parts of an export share.
struct ExportContext {
  const Store& store;
  std::int64_t session_id;
  const SessionClock& clock;
  NwbWriter& writer;
  const Group& behavior;
  NwbSummary& summary;
};

// /intervals/trials: one pass over the trials, every trial field a column; the go cues and valve openings
// (processing/behavior) in the same pass.
void write_trials(const ExportContext& c, const Group& root) {
  auto& writer = c.writer;
  const auto& clock = c.clock;
  const auto& behavior = c.behavior;
  auto& summary = c.summary;
  const auto intervals = root.create_group("intervals");
  const auto trials = intervals.create_group("trials");
  TableColumns trial_columns;
  AppendedDataset trial_ids(trials, "id", Element::kInt64, kTableColumn);
  AppendedDataset start_time(trials, "start_time", Element::kFloat64, kTableColumn);
  AppendedDataset stop_time(trials, "stop_time", Element::kFloat64, kTableColumn);
  trial_columns.add(writer, start_time.path(), "start_time",
                    "when the trial was armed on the device (its planning, for a trial the device never ran), "
                    "seconds");
  trial_columns.add(writer, stop_time.path(), "stop_time",
                    "when the next trial was armed (the session's last trial: its last event), seconds");
  std::vector<AppendedDataset> field_columns;
  std::vector<Element> field_elements;
  field_columns.reserve(model::kTrialFieldCount);
  for (const auto& column : nwb_trial_columns()) {
    field_columns.emplace_back(trials, column.field->name, element_of(column.dtype), kTableColumn);
    field_elements.push_back(element_of(column.dtype));
    trial_columns.add(writer, field_columns.back().path(), column.field->name, column.description);
    if (!column.unit.empty()) {
      hdf5::set_dataset_attribute(writer.file_id(), field_columns.back().path(), "unit", column.unit);
    }
  }
  struct EventColumn {
    const char* name;
    const char* description;
    std::optional<std::int64_t> model::TrialRecord::*device_us;
  };
  const EventColumn event_columns[] = {
      {"go_cue_time", "go_cue_device_us on the file's clock, seconds; NaN without a go cue",
       &model::TrialRecord::go_cue_device_us},
      {"choice_time", "choice_device_us on the file's clock, seconds; NaN without a choice",
       &model::TrialRecord::choice_device_us},
      {"valve_open_time", "valve_open_device_us on the file's clock, seconds; NaN when no valve opened",
       &model::TrialRecord::valve_open_device_us},
  };
  std::vector<AppendedDataset> event_datasets;
  for (const auto& column : event_columns) {
    event_datasets.emplace_back(trials, column.name, Element::kFloat64, kTableColumn);
    trial_columns.add(writer, event_datasets.back().path(), column.name, column.description);
  }

  LazySeries go_cues(writer, behavior,
                     LazySeries::events("go_cues", "TimeSeries", "the go cue of each trial; data: the trial's number",
                                        Element::kInt64));
  std::array<LazySeries, wire::kValveCount> valves{
      LazySeries(
          writer, behavior,
          LazySeries::events("valve_cherry", "IntervalSeries",
                             "the cherry valve: +1 it opened, -1 it closed (opening plus the delivered open time)",
                             Element::kInt8)),
      LazySeries(
          writer, behavior,
          LazySeries::events("valve_grape", "IntervalSeries",
                             "the grape valve: +1 it opened, -1 it closed (opening plus the delivered open time)",
                             Element::kInt8))};

  // A trial's own end (its last event), for the stop time of the session's last trial and of a trial before a
  // restart.
  struct PendingTrial {
    std::size_t segment = 0;
    double start_s = 0.0;
    double last_event_s = 0.0;
  };
  std::optional<PendingTrial> pending;
  c.store.for_each_trial(c.session_id, [&](const StoredTrial& trial) {
    const std::size_t segment = clock.segment_of_trial(trial.trial_number);
    const auto at = [&](const std::optional<std::int64_t>& device_us) {
      return device_us ? clock.seconds(segment, *device_us) : kNaN;
    };
    const double start_s =
        trial.armed_device_us ? at(trial.armed_device_us) : clock.engine_seconds(segment, trial.planned_at_us);
    if (pending) {
      const bool follows = pending->segment == segment && start_s >= pending->last_event_s;
      stop_time.append(follows ? start_s : pending->last_event_s);
    }
    double last_event_s = start_s;
    trial_ids.append(static_cast<std::int64_t>(trial.trial_number));
    start_time.append(start_s);
    std::size_t i = 0;
    model::for_each_trial_field(trial, [&](const model::FieldInfo&, const auto& member) {
      append_value(field_columns[i], field_elements[i], model::to_column(member));
      ++i;
    });
    for (std::size_t k = 0; k < std::size(event_columns); ++k) {
      const double t_s = at(trial.*event_columns[k].device_us);
      event_datasets[k].append(t_s);
      if (!std::isnan(t_s)) last_event_s = std::max(last_event_s, t_s);
    }
    if (trial.go_cue_device_us) go_cues.append(at(trial.go_cue_device_us), trial.trial_number);
    if (trial.valve_open_device_us) {
      for (const auto valve : {wire::Valve::kCherry, wire::Valve::kGrape}) {
        const auto open_us = model::delivered_open_us(trial, valve);
        if (open_us == 0) continue;
        const double close_s = clock.seconds(segment, *trial.valve_open_device_us + open_us);
        valves[static_cast<std::size_t>(valve)].append(at(trial.valve_open_device_us), 1);
        valves[static_cast<std::size_t>(valve)].append(close_s, -1);
        last_event_s = std::max(last_event_s, close_s);
        ++summary.valve_openings;
      }
    }
    pending = PendingTrial{segment, start_s, last_event_s};
    ++summary.trials;
  });
  if (pending) stop_time.append(pending->last_event_s);
  trial_ids.finish();
  start_time.finish();
  stop_time.finish();
  for (auto& column : field_columns) column.finish();
  for (auto& column : event_datasets) column.finish();
  type_table(writer, trials, "TimeIntervals", "core",
             "The session's trials: every field of the rig's trial record (host/model/trial.def; the same columns "
             "and values as `rig export --format csv`, with NULL as NaN or empty text), and the trial's times on "
             "the file's clock",
             trial_columns, trial_ids.path());
  go_cues.finish();
  for (auto& valve : valves) valve.finish();
}

// The wheel: every stored sample, as encoder ticks with the conversion to radians.
void write_wheel(const ExportContext& c, std::int64_t ticks_per_rev) {
  const auto& clock = c.clock;
  const auto session_id = c.session_id;
  const double radians_per_tick = ticks_per_rev > 0 ? 2.0 * std::numbers::pi / static_cast<double>(ticks_per_rev) : 0.0;
  LazySeries wheel(c.writer, c.behavior,
                   {"wheel_position", "SpatialSeries",
                    "the wheel's angle sampled by the device (data: encoder ticks; data * conversion: radians)",
                    Element::kInt32, "radians", radians_per_tick, radians_per_tick,
                    "0 rad: the wheel's position when the device booted; positive: the direction the encoder "
                    "counts up"});
  c.store.for_each_wheel_trace(
      session_id, [&](std::uint32_t trial_number, const std::vector<model::WheelSamples>& runs) {
        if (ticks_per_rev <= 0) {
          throw NwbInputError("session " + std::to_string(session_id) +
                              " has wheel samples but its device description gives no encoder_ticks_per_rev");
        }
        const std::size_t segment = clock.segment_of_trial(trial_number);
        for (const auto& run : runs) {
          for (std::size_t i = 0; i < run.position_ticks.size(); ++i) {
            const std::int64_t t_us = run.t0_us + static_cast<std::int64_t>(i) * run.period_us;
            wheel.append(clock.seconds(segment, t_us), run.position_ticks[i]);
          }
        }
      });
  c.summary.wheel_samples = wheel.finish();
}

// Licks, sync edges and camera frames, in the order recorded.
void write_recordings(const ExportContext& c) {
  auto& writer = c.writer;
  const auto& clock = c.clock;
  const auto& behavior = c.behavior;
  auto& summary = c.summary;
  std::array<LazySeries, wire::kValveCount> licks{
      LazySeries(
          writer, behavior,
          LazySeries::events("licks_cherry", "IntervalSeries",
                             "the cherry spout's lick sensor: +1 a lick's onset, -1 its offset", Element::kInt8)),
      LazySeries(
          writer, behavior,
          LazySeries::events("licks_grape", "IntervalSeries",
                             "the grape spout's lick sensor: +1 a lick's onset, -1 its offset", Element::kInt8))};
  {
    SegmentTracker tracker(clock);
    c.store.for_each_recording<model::LickRecord>(c.session_id, [&](const model::LickRecord& lick) {
      const auto segment = tracker.place(lick.trial_number, lick.device_us);
      licks[static_cast<std::size_t>(lick.spout)].append(clock.seconds(segment, lick.device_us), lick.onset ? 1 : -1);
    });
  }
  for (auto& series : licks) summary.lick_edges += series.finish();
  LazySeries sync(writer, behavior,
                  LazySeries::events(
                      "sync_pulses", "TimeSeries",
                      "rising edges of the rig's sync output (random intervals, for alignment to a recording); data: "
                      "the edge's index since the device booted",
                      Element::kInt64));
  {
    SegmentTracker tracker(clock);
    c.store.for_each_recording<model::SyncRecord>(c.session_id, [&](const model::SyncRecord& edge) {
      sync.append(clock.seconds(tracker.place(std::nullopt, edge.device_us), edge.device_us), edge.edge_index);
    });
  }
  summary.sync_edges = sync.finish();
  LazySeries frames(writer, behavior,
                    LazySeries::events("camera_frames", "TimeSeries",
                                       "the camera's frame triggers; data: the frame's number in the session (0-based)",
                                       Element::kInt64));
  {
    SegmentTracker tracker(clock);
    std::int64_t frame = 0;
    c.store.for_each_recording<model::CameraRecord>(c.session_id, [&](const model::CameraRecord& run) {
      const auto segment = tracker.place(std::nullopt, run.first_frame_device_us);
      for (std::uint32_t k = 0; k < run.frame_count; ++k) {
        const std::int64_t t_us = run.first_frame_device_us + static_cast<std::int64_t>(k) * run.period_us;
        frames.append(clock.seconds(segment, t_us), frame++);
      }
    });
  }
  summary.camera_frames = frames.finish();
}

// /analysis: the caller's derived tables, each a DynamicTable.
void write_analysis(NwbWriter& writer, const Group& analysis, const std::vector<NwbTable>& tables) {
  for (const auto& table : tables) {
    const auto group = analysis.create_group(table.name);
    TableColumns columns;
    std::size_t rows = 0;
    for (const auto& column : table.columns) {
      std::string column_path;
      if (const auto* reals = std::get_if<std::vector<double>>(&column.values)) {
        AppendedDataset data(group, column.name, Element::kFloat64, kTableColumn);
        for (double value : *reals) data.append(value);
        data.finish();
        column_path = data.path();
        rows = reals->size();
      } else {
        const auto& texts = std::get<std::vector<std::string>>(column.values);
        column_path = group.write_strings(column.name, texts);
        rows = texts.size();
      }
      columns.add(writer, column_path, column.name, column.description);
    }
    AppendedDataset ids(group, "id", Element::kInt64, kTableColumn);
    for (std::size_t i = 0; i < rows; ++i) ids.append(static_cast<std::int64_t>(i));
    ids.finish();
    type_table(writer, group, "DynamicTable", "hdmf-common", table.description, columns, ids.path());
  }
}

}  // namespace

std::vector<NwbTrialColumn> nwb_trial_columns() {
  std::vector<NwbTrialColumn> columns;
  const model::TrialRecord prototype{};
  model::for_each_trial_field(prototype, [&](const model::FieldInfo& field, const auto& member) {
    const NwbDtype dtype = TrialDtype<std::decay_t<decltype(member)>>::kValue;
    auto unit = nwb_unit_of(field.name);
    std::string description = field.doc;
    if (!unit.empty()) description += " (unit: " + unit + ")";
    if (field.nullable) description += dtype == NwbDtype::kText ? "; empty where NULL" : "; NaN where NULL";
    columns.push_back({&field, dtype, std::move(unit), std::move(description)});
  });
  return columns;
}

const char* nwb_dtype_name(NwbDtype dtype) {
  switch (dtype) {
    case NwbDtype::kBool:
      return "bool";
    case NwbDtype::kInt64:
      return "int64";
    case NwbDtype::kFloat64:
      return "float64";
    case NwbDtype::kText:
    default:
      return "text";
  }
}

std::string nwb_unit_of(const std::string& field_name) {
  for (const auto& suffix : kUnitSuffixes) {
    const std::string s = suffix.suffix;
    if (field_name.size() > s.size() && field_name.compare(field_name.size() - s.size(), s.size(), s) == 0) {
      return suffix.unit;
    }
  }
  return "";
}

NwbSummary export_nwb(const Store& store, std::int64_t session_id, const std::string& path, const NwbOptions& options) {
  const auto info = store.session(session_id);
  if (!info) throw NwbInputError("no session " + std::to_string(session_id) + " in " + store.path());
  const std::filesystem::path target(path);
  check_target(target, options.force);
  const auto start = store.session_start(session_id);
  const auto hardware = nlohmann::json::parse(start.hardware_json, nullptr, false);
  const std::int64_t ticks_per_rev = hardware.is_object() && hardware.contains("encoder_ticks_per_rev")
                                         ? hardware["encoder_ticks_per_rev"].get<std::int64_t>()
                                         : 0;

  // The session's clock: one pass over the trials, and its restarts from the events.
  std::vector<std::int64_t> resets, resumes;
  for (const auto& event : store.events(session_id)) {
    if (event.kind == "device_reset") resets.push_back(event.t_us);
    if (event.kind == "session_resumed") resumes.push_back(event.t_us);
  }
  SessionClock::Builder builder(std::move(resets), std::move(resumes));
  store.for_each_trial(session_id, [&](const StoredTrial& trial) { builder.add(trial); });
  SessionClock clock = std::move(builder).finish();
  if (options.device_to_ephys_s) {
    try {
      clock.use_ephys_clock(options.device_to_ephys_s);
    } catch (const std::invalid_argument& error) {
      throw NwbInputError("session " + std::to_string(session_id) + ": " + error.what());
    }
  }

  NwbSummary summary;
  summary.path = path;
  summary.identifier = info->session_uuid;
  summary.clock_segments = clock.segment_count();
  TemporaryPath temporary(target);
  auto file = [&] {
    try {
      return hdf5::H5File::create(temporary.path().string());
    } catch (const hdf5::Hdf5Error&) {
      throw NwbInputError(target.string() + ": cannot create a file in " + temporary.path().parent_path().string());
    }
  }();
  NwbWriter writer(file, info->session_uuid);
  const auto& root = file.root();

  root.set_attribute("namespace", std::string("core"));
  root.set_attribute("neurodata_type", std::string("NWBFile"));
  root.set_attribute("nwb_version", std::string(kNwbVersion));
  root.set_attribute("object_id", object_id(info->session_uuid, "/"));
  const std::int64_t created = options.created_at_unix_us ? options.created_at_unix_us : system_clock_unix_us();
  root.write_strings("file_create_date", {iso8601_local(created)});
  root.write_scalar("identifier", info->session_uuid);
  root.write_scalar("session_description",
                    "Distractor-rewards task (head-fixed mouse, wheel choice): subject " + info->subject_id +
                        ", protocol " + start.protocol_path + ", session " + std::to_string(session_id) + ", " +
                        std::to_string(info->trial_count) + " trials" +
                        (info->end_reason ? ", ended: " + *info->end_reason : std::string()) + ".");
  root.write_scalar("session_start_time", iso8601_local(info->started_at_unix_us));
  // On the rig's clock the axis starts at the session's start. On an ephys clock it starts at the recording's
  // zero: the wall time of the first segment's anchor minus that anchor's ephys time.
  std::int64_t reference_unix_us = info->started_at_unix_us;
  if (clock.on_ephys_clock()) {
    const auto& first = clock.segments().front();
    const double anchor_ephys_s = clock.seconds(0, first.device_anchor_us);
    reference_unix_us += first.engine_anchor_us - static_cast<std::int64_t>(std::llround(anchor_ephys_s * 1e6));
  }
  root.write_scalar("timestamps_reference_time", iso8601_local(reference_unix_us));
  root.create_group("acquisition");
  const auto analysis = root.create_group("analysis");
  const auto processing = root.create_group("processing");
  const auto stimulus = root.create_group("stimulus");
  stimulus.create_group("presentation");
  stimulus.create_group("templates");
  write_general(writer, root, store, *info, start, options, hardware, ticks_per_rev);

  const auto behavior = processing.create_group("behavior");
  writer.type_group(behavior, "ProcessingModule", "core");
  behavior.set_attribute(
      "description", std::string("What the rig recorded during the session: the wheel, lick onsets and offsets "
                                 "per spout, valve openings, go cues, sync pulses and camera frame triggers, "
                                 "each stamped by the device (") +
                         (clock.on_ephys_clock() ? "on the ephys recording's clock: " + options.ephys_clock_description
                                                 : std::string("seconds from the session's start")) +
                         ")");

  const ExportContext context{store, session_id, clock, writer, behavior, summary};
  write_trials(context, root);
  write_wheel(context, ticks_per_rev);
  write_recordings(context);
  write_analysis(writer, analysis, options.analysis);

  file.close();
  if (!options.force && std::filesystem::exists(target)) {
    throw NwbInputError(target.string() + " appeared while the export ran (--force replaces it)");
  }
  std::error_code error;
  std::filesystem::rename(temporary.path(), target, error);
  if (error)
    throw NwbInputError("cannot rename " + temporary.path().string() + " to " + target.string() + ": " +
                        error.message());
  temporary.keep();
  return summary;
}

}  // namespace rig::store
