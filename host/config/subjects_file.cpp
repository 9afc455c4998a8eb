#include "host/config/subjects_file.hpp"

#include <set>

#include "host/task/calibration.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"
#include "host/config/yaml_reader.hpp"

namespace rig::config {

// The task's types, which these files describe.
using namespace rig::task;
namespace {

using yaml::Field;
using yaml::FieldKind;
using yaml::MapReader;
using yaml::Need;
using yaml::Shape;

constexpr yaml::NumberRule kWaterMl{0.0, 10.0, true, false, "a volume in mL in (0, 10]"};
constexpr yaml::NumberRule kWeightG{0.0, 1000.0, true, false, "a weight in grams in (0, 1000]"};
constexpr yaml::NumberRule kPercent{0.0, 100.0, true, false, "a percentage in (0, 100]"};
constexpr yaml::NumberRule kUlPerG{0.0, 1000.0, true, false, "microlitres per gram in (0, 1000]"};

// The field tables of a subjects file: what the loader reads and what `rig schema subjects` writes.
constexpr Field kWelfareFields[] = {
    {.key = "baseline_weight_g", .kind = FieldKind::kNumber, .rule = kWeightG,
     .doc = "The weight welfare is judged against; else the last rig weigh --baseline, else the mean of the first "
            "baseline_weighings weighings."},
    {.key = "baseline_weighings", .kind = FieldKind::kInteger,
     .rule = {1.0, 30.0, false, false, "a count of weighings in [1, 30]"},
     .doc = "How many first weighings make the baseline when none is stated."},
    {.key = "min_weight_percent", .kind = FieldKind::kNumber, .rule = kPercent,
     .doc = "A session does not start below this percentage of the baseline."},
    {.key = "daily_water_target_ul_per_g", .kind = FieldKind::kNumber, .rule = kUlPerG,
     .doc = "The day's water target per gram of baseline (in place of daily_water_target_ml once a baseline is known)."},
    {.key = "daily_water_min_ml", .kind = FieldKind::kNumber, .rule = kWaterMl, .doc = "The day's minimum water."},
    {.key = "daily_water_min_ul_per_g", .kind = FieldKind::kNumber, .rule = kUlPerG,
     .doc = "The day's minimum per gram of baseline, when daily_water_min_ml is not given.",
     .excludes = "daily_water_min_ml"},
    {.key = "simulated_weight_g", .kind = FieldKind::kNumber, .rule = kWeightG,
     .doc = "A simulated subject's weight on the simulated rig."},
};
constexpr Shape kWelfareShape{kWelfareFields};

constexpr auto kSubjectFlavours = yaml::names_of(kFlavourNames);
constexpr auto kSexes = yaml::names_of(kSexNames);
constexpr Field kSubjectFields[] = {
    {.key = "id", .kind = FieldKind::kText, .need = Need::kRequired, .doc = "The subject's id, unique in the file."},
    {.key = "controllable", .kind = FieldKind::kChoice, .need = Need::kRequired,
     .doc = "The flavour the subject's choices control; the other is the distractor.", .choices = kSubjectFlavours},
    {.key = "stage", .kind = FieldKind::kText, .need = Need::kRequired,
     .doc = "The protocol file of the subject's current training stage, relative to this file."},
    {.key = "daily_water_target_ml", .kind = FieldKind::kNumber, .rule = kWaterMl, .need = Need::kRequired,
     .doc = "The day's water target."},
    {.key = "daily_water_max_ml", .kind = FieldKind::kNumber, .rule = kWaterMl,
     .doc = "The day's most water (at least the target); left out, 1.5 times the target."},
    {.key = "simulated_agent", .kind = FieldKind::kAgent,
     .rule = {.expected = "a preset (naive, savvy, mixed), a path to an agent YAML file or an inline mapping"},
     .doc = "The simulated mouse on the simulated rig."},
    {.key = "welfare", .kind = FieldKind::kMapping, .doc = "Weight and water rules.", .shape = &kWelfareShape},
    {.key = "sex", .kind = FieldKind::kChoice, .doc = "F, M, U (unknown) or O (other), as NWB spells it.",
     .choices = kSexes},
    {.key = "date_of_birth", .kind = FieldKind::kDate, .rule = {.expected = "a date YYYY-MM-DD"},
     .doc = "The subject's date of birth."},
    {.key = "strain", .kind = FieldKind::kText, .doc = "The strain (e.g. C57BL/6J)."},
    {.key = "genotype", .kind = FieldKind::kText, .doc = "The genotype."},
};
constexpr Shape kSubjectShape{kSubjectFields};
constexpr Field kSubjectListFields[] = {
    {.key = "subjects", .kind = FieldKind::kMappingList, .need = Need::kRequired, .doc = "The lab's subjects.",
     .shape = &kSubjectShape},
};
constexpr Shape kSubjectListShape{kSubjectListFields};

void read_agent(MapReader& map, Subject& subject) {
  const auto node = map.raw("simulated_agent");
  if (!node) return;
  if (node->IsMap()) {
    YAML::Emitter out;
    out << *node;
    subject.simulated_agent = AgentSpec{AgentSpec::Kind::kInline, out.c_str()};
  } else if (node->IsScalar() && !node->Scalar().empty()) {
    const std::string& text = node->Scalar();
    const bool preset = text == "naive" || text == "savvy" || text == "mixed";
    subject.simulated_agent = AgentSpec{preset ? AgentSpec::Kind::kPreset : AgentSpec::Kind::kFile, text};
  } else {
    map.sink().error(map.location("simulated_agent"), map.path("simulated_agent") + ": expected " +
                                                          std::string(map.field("simulated_agent").rule.expected) +
                                                          ", got " + yaml::describe(*node));
  }
}

void read_welfare(MapReader& map, Subject& subject) {
  auto welfare = map.mapping("welfare");
  if (!welfare) return;
  WelfareSettings& w = subject.welfare;
  double value = 0.0;
  if (welfare->read("baseline_weight_g", value)) w.baseline_weight_g = value;
  welfare->read("baseline_weighings", w.baseline_weighings);
  welfare->read("min_weight_percent", w.min_weight_percent);
  if (welfare->read("daily_water_target_ul_per_g", value)) w.daily_water_target_ul_per_g = value;
  if (welfare->read("daily_water_min_ml", value)) w.daily_water_min_ml = value;
  welfare->read("daily_water_min_ul_per_g", w.daily_water_min_ul_per_g);
  welfare->read("simulated_weight_g", w.simulated_weight_g);
}

SubjectList read_subjects(yaml::Sink& sink, const YAML::Node& document) {
  SubjectList list;
  MapReader root(sink, document, "", kSubjectListShape);
  std::set<std::string> ids;
  auto items = root.mapping_list("subjects");
  if (!items) return list;
  for (MapReader& map : *items) {
    Subject subject;
    if (map.read("id", subject.id) && !ids.insert(subject.id).second) {
      sink.error(map.location("id"), map.path("id") + ": duplicate subject id " + subject.id);
    }
    map.read("controllable", subject.controllable, kFlavourNames);
    map.read("stage", subject.stage);
    map.read("daily_water_target_ml", subject.daily_water_target_ml);
    // The daily maximum always applies: left out, it is kDefaultDailyWaterMaxFactor times the target.
    double max_ml = subject.daily_water_target_ml * kDefaultDailyWaterMaxFactor;
    const bool stated = map.read("daily_water_max_ml", max_ml);
    subject.daily_water_max_ml = max_ml;
    if (stated && max_ml < subject.daily_water_target_ml) {
      sink.error(map.location("daily_water_max_ml"),
                 map.path("daily_water_max_ml") + ": expected at least daily_water_target_ml (" +
                     yaml::format_number(subject.daily_water_target_ml) + "), got " +
                     yaml::format_number(*subject.daily_water_max_ml));
    }
    map.read("sex", subject.sex, kSexNames);
    std::chrono::year_month_day birth{};
    if (map.read("date_of_birth", birth)) subject.date_of_birth = birth;
    map.read("strain", subject.strain);
    map.read("genotype", subject.genotype);
    read_agent(map, subject);
    read_welfare(map, subject);
    list.subjects.push_back(std::move(subject));
  }
  return list;
}

}  // namespace

const yaml::Shape& subjects_file_shape() { return kSubjectListShape; }

Loaded<SubjectList> load_subjects_file(const std::string& path) {
  return yaml::load_file<SubjectList>(path, read_subjects);
}

Loaded<SubjectList> parse_subjects(const std::string& text, const std::string& file_name) {
  return yaml::load_text<SubjectList>(text, file_name, read_subjects);
}

}  // namespace rig::config
