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

using yaml::MapReader;
using yaml::Need;

constexpr yaml::NumberRule kWaterMl{0.0, 10.0, true, false, "a volume in mL in (0, 10]"};

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
    map.sink().error(map.location("simulated_agent"),
                     map.path("simulated_agent") +
                         ": expected a preset (naive, savvy, mixed), a path to an agent YAML file or an inline "
                         "mapping, got " +
                         yaml::describe(*node));
  }
}

constexpr yaml::NumberRule kWeightG{0.0, 1000.0, true, false, "a weight in grams in (0, 1000]"};
constexpr yaml::NumberRule kPercent{0.0, 100.0, true, false, "a percentage in (0, 100]"};
constexpr yaml::NumberRule kUlPerG{0.0, 1000.0, true, false, "microlitres per gram in (0, 1000]"};

void read_welfare(MapReader& map, Subject& subject) {
  auto welfare = map.mapping("welfare", {"baseline_weight_g", "baseline_weighings", "min_weight_percent",
                                         "daily_water_target_ul_per_g", "daily_water_min_ml", "daily_water_min_ul_per_g",
                                         "simulated_weight_g"});
  if (!welfare) return;
  WelfareSettings& w = subject.welfare;
  double value = 0.0;
  if (welfare->number("baseline_weight_g", value, kWeightG)) w.baseline_weight_g = value;
  welfare->integer("baseline_weighings", w.baseline_weighings, 1, 30, "a count of weighings in [1, 30]");
  welfare->number("min_weight_percent", w.min_weight_percent, kPercent);
  if (welfare->number("daily_water_target_ul_per_g", value, kUlPerG)) w.daily_water_target_ul_per_g = value;
  if (welfare->number("daily_water_min_ml", value, kWaterMl)) w.daily_water_min_ml = value;
  if (welfare->number("daily_water_min_ul_per_g", value, kUlPerG)) {
    if (w.daily_water_min_ml) {
      map.sink().error(welfare->location("daily_water_min_ul_per_g"),
                       welfare->path("daily_water_min_ul_per_g") +
                           ": give the day's minimum once, as daily_water_min_ml or as daily_water_min_ul_per_g");
    }
    w.daily_water_min_ul_per_g = value;
  }
  welfare->number("simulated_weight_g", w.simulated_weight_g, kWeightG);
}

SubjectList read_subjects(yaml::Sink& sink, const YAML::Node& document) {
  SubjectList list;
  MapReader root(sink, document, "", {"subjects"});
  std::set<std::string> ids;
  const auto items = root.list("subjects", Need::kRequired);
  for (std::size_t i = 0; items && i < items->size(); ++i) {
    MapReader map(sink, (*items)[i], "subjects[" + std::to_string(i) + "]",
                  {"id", "controllable", "stage", "daily_water_target_ml", "daily_water_max_ml", "simulated_agent",
                   "welfare", "sex", "date_of_birth", "strain", "genotype"});
    if (!map.is_mapping()) continue;
    Subject subject;
    if (map.text("id", subject.id, Need::kRequired) && !ids.insert(subject.id).second) {
      sink.error(map.location("id"), map.path("id") + ": duplicate subject id " + subject.id);
    }
    map.choice("controllable", subject.controllable, kFlavourNames, Need::kRequired);
    map.text("stage", subject.stage, Need::kRequired);
    map.number("daily_water_target_ml", subject.daily_water_target_ml, kWaterMl, Need::kRequired);
    // The daily maximum always applies: left out, it is kDefaultDailyWaterMaxFactor times the target.
    double max_ml = subject.daily_water_target_ml * kDefaultDailyWaterMaxFactor;
    const bool stated = map.number("daily_water_max_ml", max_ml, kWaterMl);
    subject.daily_water_max_ml = max_ml;
    if (stated && max_ml < subject.daily_water_target_ml) {
      sink.error(map.location("daily_water_max_ml"),
                 map.path("daily_water_max_ml") + ": expected at least daily_water_target_ml (" +
                     yaml::format_number(subject.daily_water_target_ml) + "), got " +
                     yaml::format_number(*subject.daily_water_max_ml));
    }
    map.choice("sex", subject.sex, kSexNames);
    std::string birth;
    if (map.text("date_of_birth", birth)) {
      subject.date_of_birth = parse_date(birth);
      if (!subject.date_of_birth) {
        sink.error(map.location("date_of_birth"), map.path("date_of_birth") + ": expected a date YYYY-MM-DD, got " + birth);
      }
    }
    map.text("strain", subject.strain);
    map.text("genotype", subject.genotype);
    read_agent(map, subject);
    read_welfare(map, subject);
    list.subjects.push_back(std::move(subject));
  }
  return list;
}

}  // namespace

Loaded<SubjectList> load_subjects_file(const std::string& path) {
  return yaml::load_file<SubjectList>(path, read_subjects);
}

Loaded<SubjectList> parse_subjects(const std::string& text, const std::string& file_name) {
  return yaml::load_text<SubjectList>(text, file_name, read_subjects);
}

}  // namespace rig::config
