#include "host/task/record.hpp"

namespace rig::task {
namespace {

std::optional<std::int64_t> device_time_us(std::int64_t t_us) {
  if (t_us < 0) return std::nullopt;
  return t_us;
}

// to_us - from_us when both happened.
std::optional<std::int64_t> elapsed_us(std::int64_t from_us, std::int64_t to_us) {
  if (from_us < 0 || to_us < 0) return std::nullopt;
  return to_us - from_us;
}

}  // namespace

model::TrialRecord record_trial(const TrialPlan& plan, const wire::TrialResult& result, const model::TrialTimes& times,
                                const TrialUpdate& update) {
  model::TrialRecord record;
#define RIG_TRIAL_FIELD(name, type, since, view, source, doc) record.name = source;
#include "host/model/trial.def"
#undef RIG_TRIAL_FIELD
  return record;
}

}  // namespace rig::task
