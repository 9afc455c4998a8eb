#include "host/analysis/fit_json.hpp"

#include <gtest/gtest.h>

#include "support/simulated_task.hpp"

namespace rig::analysis {
namespace {

TEST(FitJson, HasTheKeysOfTheIssueWithWeightsByLag) {
  const auto trials = test_support::simulate_agent(agent_preset(AgentPreset::kMixed), 1, 600, 1);
  const HistoryFit fit = fit_history(trials, FitOptions{.lags = 3});
  const nlohmann::json j = fit_to_json(fit);
  for (const char* key : {"n_trials", "lags", "bias", "weights", "se", "controllable_index", "distractor_index",
                          "loglik", "converged"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_FALSE(j.contains("crt"));
  EXPECT_EQ(j["lags"], 3);
  EXPECT_EQ(j["n_trials"], fit.n_trials);
  for (const char* type : {"none", "controllable", "distractor", "both"}) {
    ASSERT_EQ(j["weights"][type].size(), 3u) << type;
    ASSERT_EQ(j["se"][type].size(), 3u) << type;
  }
  EXPECT_DOUBLE_EQ(j["weights"]["both"][2].get<double>(), fit.weights[3][2]->value);
  EXPECT_DOUBLE_EQ(j["se"]["none"][0].get<double>(), fit.weights[0][0]->se);
  EXPECT_DOUBLE_EQ(j["controllable_index"].get<double>(), fit.controllable_index->value);
  EXPECT_DOUBLE_EQ(j["loglik"].get<double>(), fit.model.loglik);
  EXPECT_EQ(j["converged"], true);
}

TEST(FitJson, MissingWeightsAndIndicesAreNull) {
  auto trials = test_support::simulate_agent(agent_preset(AgentPreset::kSavvy), 1, 400, 2);
  for (auto& t : trials) t.distractor_delivered = false;
  const nlohmann::json j = fit_to_json(fit_history(trials, FitOptions{}));
  EXPECT_TRUE(j["weights"]["distractor"][0].is_null());
  EXPECT_TRUE(j["se"]["both"][4].is_null());
  EXPECT_TRUE(j["distractor_index"].is_null());
  EXPECT_TRUE(j["controllable_index"].is_number());
}

TEST(FitJson, CarriesTheTestResultsWhenGiven) {
  CrtResult crt;
  crt.surrogates = 1000;
  crt.controllable_p = 0.001;
  const nlohmann::json j = fit_to_json(HistoryFit{}, &crt, 42);
  EXPECT_EQ(j["crt"]["surrogates"], 1000);
  EXPECT_EQ(j["crt"]["controllable_p"], 0.001);
  EXPECT_TRUE(j["crt"]["distractor_p"].is_null());
  EXPECT_EQ(j["crt"]["seed"], 42);
}

}  // namespace
}  // namespace rig::analysis
