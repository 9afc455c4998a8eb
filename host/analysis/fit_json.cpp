#include "host/analysis/fit_json.hpp"

#include <cmath>

namespace rig::analysis {
namespace {

nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

nlohmann::json number(const std::optional<double>& x) { return x ? number(*x) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json fit_to_json(const HistoryFit& fit, const CrtResult* crt, std::uint64_t crt_seed) {
  nlohmann::json weights = nlohmann::json::object();
  nlohmann::json se = nlohmann::json::object();
  for (const OutcomeType type : kOutcomeTypes) {
    const std::string name(outcome_name(type));
    weights[name] = nlohmann::json::array();
    se[name] = nlohmann::json::array();
    for (const auto& w : fit.weights[static_cast<std::size_t>(type)]) {
      weights[name].push_back(w ? number(w->value) : nlohmann::json(nullptr));
      se[name].push_back(w ? number(w->se) : nlohmann::json(nullptr));
    }
  }
  // Indices of a fit that cannot be read are null, with the reason beside them.
  const Estimability state = estimability(fit);
  auto value = [&](const std::optional<Estimate>& e) {
    return e && state.estimable ? number(e->value) : nlohmann::json(nullptr);
  };
  auto error = [&](const std::optional<Estimate>& e) {
    return e && state.estimable ? number(e->se) : nlohmann::json(nullptr);
  };
  nlohmann::json out{
      {"n_trials", fit.n_trials},
      {"lags", fit.lags},
      {"bias", number(fit.bias.value)},
      {"bias_se", number(fit.bias.se)},
      {"weights", weights},
      {"se", se},
      {"controllable_index", value(fit.controllable_index)},
      {"controllable_index_se", error(fit.controllable_index)},
      {"distractor_index", value(fit.distractor_index)},
      {"distractor_index_se", error(fit.distractor_index)},
      {"loglik", number(fit.model.loglik)},
      {"converged", fit.model.converged},
      {"iterations", fit.model.iterations},
      {"separation", fit.model.separation},
      {"singular", fit.model.singular},
      {"estimable", state.estimable},
  };
  if (!state.estimable) out["reason"] = state.reason;
  if (crt != nullptr) {
    out["crt"] = nlohmann::json{{"surrogates", crt->surrogates},
                                {"seed", crt_seed},
                                {"controllable_p", number(crt->controllable_p)},
                                {"distractor_p", number(crt->distractor_p)},
                                {"structure_p", number(crt->structure_p)},
                                {"separated_surrogates",
                                 {{"controllable", crt->controllable_separated},
                                  {"distractor", crt->distractor_separated},
                                  {"structure", crt->structure_separated}}}};
  }
  return out;
}

nlohmann::json estimate_to_json(const std::optional<Estimate>& estimate) {
  if (!estimate || !std::isfinite(estimate->value) || !std::isfinite(estimate->se)) return nullptr;
  return {{"value", estimate->value}, {"se", estimate->se}};
}

}  // namespace rig::analysis
