// rig-bench-analysis: the analysis performance targets of issue 7, measured in one run next to statsmodels on
// the same data. Prints one JSON object. `--smoke` runs every part at toy sizes (for CTest).
//
//   full fit     100,000 trials, L = 5, ours (design + fit) vs statsmodels Logit.fit (fit call only), >= 50x
//                (issue 21; 20x in issue 7)
//   online       one appended trial with 100,000 trials of history: append() to the new fit, < 5 ms
//   crt          1000 surrogates (x 3 tests) on 10,000 trials on all cores, < 10 s on 2 cores; the flavour-label
//                test alone (issue 21), < 10 s
//   group        12 mice x 5,000 trials, K = 1000, every mouse's three tests and the group's, < 60 s (issue 21)
//   q_fit        q-mixed on 10,000 trials, one start, < 1 s; recovery of the learning rates on 5,000 trials
//   simulation   agent + reversal schedule (the test stand-in, not host/task), trials/s
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include "host/analysis/crt.hpp"
#include "host/analysis/group_stats.hpp"
#include "host/analysis/q_fit.hpp"
#include "host/analysis/history_regression.hpp"
#include "host/analysis/online_fitter.hpp"
#include "support/simulated_task.hpp"
#include "support/statsmodels_reference.hpp"

namespace {

namespace analysis = rig::analysis;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<analysis::TrialRecord> mixed_trials(int sessions, int trials_per_session, std::uint64_t seed) {
  return analysis::test_support::simulate_agent(analysis::agent_preset(analysis::AgentPreset::kMixed), sessions,
                                                trials_per_session, seed);
}

// Best of `repeats` runs of statsmodels (about 0.4 s each) against best of 5 x `repeats` of ours (under 10 ms
// each, where one cold run is a large share of five).
nlohmann::json bench_full_fit(int sessions, int repeats) {
  const auto trials = mixed_trials(sessions, 1000, 1);
  double best_s = INFINITY;
  analysis::HistoryFit fit;
  for (int i = 0; i < 5 * repeats; ++i) {
    const auto start = Clock::now();
    fit = analysis::fit_history(trials, analysis::FitOptions{});
    best_s = std::min(best_s, seconds_since(start));
  }
  // statsmodels with its default tolerance (1e-8), as a user would call it.
  const auto reference = analysis::test_support::statsmodels_fit(trials, analysis::kDefaultLags,
                                                                 {.tolerance = 1e-8, .repeat = repeats});
  double max_difference = 0.0;
  for (std::size_t i = 0; i < fit.model.columns.size(); ++i) {
    const auto name = analysis::column_name(fit.model.columns[i], fit.lags);
    max_difference = std::max(
        max_difference, std::abs(fit.model.coefficients[static_cast<Eigen::Index>(i) + 1] - reference.params.at(name)));
  }
  return {{"trials", trials.size()},
          {"rows", fit.n_trials},
          {"lags", fit.lags},
          {"ours_ms", best_s * 1e3},
          {"ours_newton_steps", fit.model.iterations},
          {"statsmodels_ms", reference.fit_seconds * 1e3},
          {"ratio", reference.fit_seconds / best_s},
          {"max_abs_coefficient_difference", max_difference},
          {"ours_repeats", 5 * repeats},
          {"statsmodels_repeats", repeats},
          {"target_ratio", 50}};
}

nlohmann::json bench_online(int sessions, int updates) {
  const auto trials = mixed_trials(sessions, 1000, 2);
  const analysis::FitOptions options{.l2 = 0.1};
  analysis::OnlineFitter fitter(options);
  fitter.submit(std::span(trials).first(trials.size() - static_cast<std::size_t>(updates)));
  fitter.wait_idle();
  std::vector<double> latencies_ms;
  int max_steps = 0;
  for (std::size_t i = trials.size() - static_cast<std::size_t>(updates); i < trials.size(); ++i) {
    const auto start = Clock::now();
    fitter.append(trials[i]);
    fitter.wait_idle();
    latencies_ms.push_back(seconds_since(start) * 1e3);
    max_steps = std::max(max_steps, fitter.latest()->model.iterations);
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  return {{"history_trials", trials.size() - static_cast<std::size_t>(updates)},
          {"updates", updates},
          {"l2", options.l2},
          {"median_ms", latencies_ms[latencies_ms.size() / 2]},
          {"max_ms", latencies_ms.back()},
          {"max_newton_steps", max_steps},
          {"target_ms", 5}};
}

nlohmann::json bench_crt(int trials_per_session, int surrogates) {
  const auto trials = mixed_trials(10, trials_per_session, 3);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  const auto start = Clock::now();
  const auto result = analysis::conditional_randomization_test(
      trials, analysis::CrtOptions{.surrogates = surrogates, .seed = 1, .threads = threads});
  const double elapsed_s = seconds_since(start);
  const auto structure_start = Clock::now();
  const auto structure = analysis::conditional_randomization_test(
      trials, analysis::CrtOptions{.surrogates = surrogates,
                                   .seed = 1,
                                   .threads = threads,
                                   .test_controllable = false,
                                   .test_distractor = false});
  const double structure_s = seconds_since(structure_start);
  return {{"trials", trials.size()},
          {"surrogates_per_test", surrogates},
          {"tests", 3},
          {"threads", threads},
          {"seconds", elapsed_s},
          {"flavour_label_test_seconds", structure_s},
          {"controllable_p", *result.controllable_p},
          {"distractor_p", *result.distractor_p},
          {"structure_p", *structure.structure_p},
          {"target_seconds_on_2_cores", 10}};
}

nlohmann::json bench_group(int mice, int trials_per_mouse, int surrogates) {
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::vector<analysis::TrialRecord>> data;
  for (int m = 0; m < mice; ++m) data.push_back(mixed_trials(5, trials_per_mouse / 5, 100 + static_cast<std::uint64_t>(m)));
  const auto start = Clock::now();
  std::vector<analysis::CrtResult> tests;
  std::vector<analysis::MouseResult> results;
  tests.reserve(data.size());
  for (const auto& trials : data) {
    const auto fit = analysis::fit_history(trials, analysis::FitOptions{});
    tests.push_back(analysis::conditional_randomization_test(
        trials, analysis::CrtOptions{.surrogates = surrogates, .seed = 1, .threads = threads}));
    results.push_back({fit.controllable_index->value, fit.distractor_index->value, &tests.back()});
  }
  const auto group = analysis::group_statistics(results);
  const double elapsed_s = seconds_since(start);
  return {{"mice", mice},
          {"trials_per_mouse", trials_per_mouse},
          {"surrogates", surrogates},
          {"threads", threads},
          {"seconds", elapsed_s},
          {"group_structure_p", *group.crt_structure_p},
          {"ci_minus_di_t_test_p", group.ci_minus_di.t_test_p ? *group.ci_minus_di.t_test_p : NAN},
          {"target_seconds", 60}};
}

nlohmann::json bench_q_fit(int trials, int recovery_trials, int recovery_seeds) {
  const auto data = mixed_trials(10, trials / 10, 7);
  const auto start = Clock::now();
  const auto fit = analysis::fit_q_model(data, analysis::QModelKind::kMixed,
                                         analysis::QFitOptions{.starts = 1, .seed = 1, .cross_validate = false});
  const double one_start_s = seconds_since(start);
  // Recovery: agents with known learning rates, one session each; relative error of each rate.
  double worst = 0.0, sum = 0.0;
  int count = 0;
  for (int seed = 1; seed <= recovery_seeds; ++seed) {
    analysis::AgentParams truth = analysis::agent_preset(analysis::AgentPreset::kMixed);
    truth.learning_rate_controllable = 0.5;
    truth.learning_rate_distractor = 0.25;
    const auto trials_k = analysis::test_support::simulate_agent(truth, 1, recovery_trials, 900 + static_cast<std::uint64_t>(seed));
    const auto recovered = analysis::fit_q_model(trials_k, analysis::QModelKind::kMixed,
                                                 analysis::QFitOptions{.starts = 4, .seed = 1, .cross_validate = false});
    for (const auto& [p, value] : {std::pair{analysis::kLearningRateControllable, truth.learning_rate_controllable},
                                  std::pair{analysis::kLearningRateDistractor, truth.learning_rate_distractor}}) {
      const double error = std::abs(recovered.params[p] - value) / value;
      worst = std::max(worst, error);
      sum += error;
      ++count;
    }
  }
  return {{"trials", data.size()},
          {"one_start_seconds", one_start_s},
          {"converged", fit.converged},
          {"target_seconds_per_start", 1},
          {"recovery_trials", recovery_trials},
          {"recovery_seeds", recovery_seeds},
          {"learning_rate_relative_error_mean", count ? sum / count : NAN},
          {"learning_rate_relative_error_max", worst},
          {"target_relative_error", 0.1}};
}

nlohmann::json bench_simulation(int trials) {
  const auto start = Clock::now();
  const auto simulated = mixed_trials(trials / 1000, 1000, 4);
  const double elapsed_s = seconds_since(start);
  return {{"trials", simulated.size()},
          {"trials_per_second", static_cast<double>(simulated.size()) / elapsed_s},
          {"note", "QLearningAgent on the test stand-in schedule; `rig simulate` (host/task) is measured when the "
                   "task engine lands"}};
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", std::gmtime(&now));
  return buffer;
}

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  if (argc > 1 && !smoke) {
    std::fprintf(stderr, "usage: rig-bench-analysis [--smoke]\n");
    return 2;
  }
  nlohmann::json out{{"date", today()},
                     {"hardware_threads", std::thread::hardware_concurrency()},
                     {"smoke", smoke}};
#ifdef NDEBUG
  out["build"] = "release";
#else
  out["build"] = "debug (numbers not representative)";
#endif
  if (analysis::test_support::statsmodels_available()) {
    out["full_fit"] = bench_full_fit(smoke ? 2 : 100, smoke ? 1 : 5);
  } else {
    out["full_fit"] = "skipped: /usr/bin/python3 with statsmodels and pandas is missing";
  }
  out["online_update"] = bench_online(smoke ? 2 : 100, smoke ? 3 : 50);
  out["crt"] = bench_crt(smoke ? 100 : 1000, smoke ? 10 : 1000);
  out["group"] = bench_group(smoke ? 2 : 12, smoke ? 500 : 5000, smoke ? 5 : 1000);
  out["q_fit"] = bench_q_fit(smoke ? 1000 : 10000, smoke ? 1000 : 5000, smoke ? 1 : 5);
  out["simulation"] = bench_simulation(smoke ? 10'000 : 2'000'000);
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
