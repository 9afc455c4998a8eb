// `rig fit --csv FILE` or `rig fit [--db PATH] --subject ID`: the trial-history regression of one subject
// (pooled over its sessions), its indices and, with --crt, their conditional randomization tests.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "command_registry.hpp"
#include "host/analysis/crt.hpp"
#include "host/analysis/fit_json.hpp"
#include "host/analysis/history_regression.hpp"
#include "host/analysis/trial_csv.hpp"
#include "host/store/store.hpp"
#include "run_support.hpp"

namespace {

namespace analysis = rig::analysis;

struct FitArguments {
  std::string csv_path;
  std::string db_path;
  std::string subject;
  int lags = analysis::kDefaultLags;
  double l2 = 0.0;
  int crt_surrogates = 0;
  std::uint64_t seed = 0;
  unsigned threads = 0;
  bool json = false;
};

std::string cell(const std::optional<analysis::Estimate>& e) {
  if (!e) return "      --           ";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%+8.3f (%6.3f)  ", e->value, e->se);
  return buffer;
}

void print_table(const analysis::HistoryFit& fit, const analysis::CrtResult* crt) {
  std::printf("trials fitted: %zu   lags: %d   log-likelihood: %.6f   %s after %d Newton steps\n", fit.n_trials,
              fit.lags, fit.model.loglik, fit.model.converged ? "converged" : "NOT converged", fit.model.iterations);
  std::printf("bias: %+.3f (%.3f)\n\n%-5s", fit.bias.value, fit.bias.se, "lag");
  for (const auto type : analysis::kOutcomeTypes) std::printf("%-19s", std::string(analysis::outcome_name(type)).c_str());
  std::printf("   weight (SE), log-odds of repeating\n");
  for (int k = 0; k < fit.lags; ++k) {
    std::printf("%-5d", k + 1);
    for (const auto& by_lag : fit.weights) std::printf("%s", cell(by_lag[static_cast<std::size_t>(k)]).c_str());
    std::printf("\n");
  }
  std::printf("\ncontrollable index: %s\ndistractor index:   %s\n", cell(fit.controllable_index).c_str(),
              cell(fit.distractor_index).c_str());
  if (crt != nullptr) {
    auto p = [](const std::optional<double>& x) { return x ? std::to_string(*x) : std::string("-- (no such index)"); };
    std::printf("conditional randomization test, %d surrogates: controllable p = %s, distractor p = %s\n",
                crt->surrogates, p(crt->controllable_p).c_str(), p(crt->distractor_p).c_str());
  }
}

int run_fit(const FitArguments& args) {
  std::vector<analysis::TrialRecord> trials;
  const analysis::FitOptions options{.lags = args.lags, .l2 = args.l2};
  const std::string source = args.csv_path.empty() ? args.db_path : args.csv_path;
  try {
    analysis::validated(options);
    if (!args.csv_path.empty()) {
      trials = analysis::parse_trials_csv(rig::app::read_file(args.csv_path, rig::app::kMaxDataFileBytes));
      if (trials.empty()) throw std::invalid_argument("no trials: the file has a header and no rows");
    } else {
      const auto db = rig::store::Store::open(args.db_path, rig::store::OpenOptions{.read_only = true, .clock_unix_us = {}});
      trials = rig::app::subject_history(db, args.subject);
      if (trials.empty()) throw std::invalid_argument("no trials of subject '" + args.subject + "'");
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "rig fit: %s: %s\n", source.c_str(), e.what());
    return rig::app::kExitInvalid;
  } catch (const rig::app::InputError& e) {
    std::fprintf(stderr, "rig fit: %s\n", e.what());
    return rig::app::kExitInvalid;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig fit: %s\n", e.what());
    return rig::app::kExitFailure;
  }
  const analysis::HistoryFit fit = analysis::fit_history(trials, options);
  if (fit.n_trials == 0) {
    std::fprintf(stderr,
                 "rig fit: %s: none of the %zu trials can be fitted (the fit needs free-choice trials with a choice "
                 "after the first %d)\n",
                 source.c_str(), trials.size(), options.lags);
    return rig::app::kExitInvalid;
  }
  std::optional<analysis::CrtResult> crt;
  if (args.crt_surrogates > 0) {
    try {
      crt = analysis::conditional_randomization_test(
          trials, analysis::CrtOptions{
                      .surrogates = args.crt_surrogates, .seed = args.seed, .threads = args.threads, .fit = options});
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "rig fit: %s: %s\n", args.csv_path.c_str(), e.what());
      return rig::app::kExitInvalid;
    }
  }
  if (fit.model.separation) {
    std::fprintf(stderr, "rig fit: the data are (quasi-)separated: some choices are predicted with certainty and "
                         "the weights diverge; try --l2 or more trials\n");
  } else if (fit.model.singular) {
    std::fprintf(stderr, "rig fit: the design is singular (collinear columns); try fewer --lags or more trials\n");
  }
  if (args.json) {
    std::printf("%s\n", analysis::fit_to_json(fit, crt ? &*crt : nullptr, args.seed).dump(2).c_str());
  } else {
    print_table(fit, crt ? &*crt : nullptr);
  }
  return rig::app::kExitOk;
}

const rig::app::CommandRegistration kFitRegistration{
    "fit", "Fit the trial-history regression of one subject (weights, indices, randomization test)",
    [](CLI::App& command) {
      auto args = std::make_shared<FitArguments>();
      auto* csv = command.add_option("--csv", args->csv_path, "Trial CSV (columns in docs/analysis.md)")
                      ->check(CLI::ExistingFile);
      auto* subject = command.add_option("--subject", args->subject, "Subject id: fit its trials from the session database");
      args->db_path = rig::store::Store::default_path();
      command.add_option("--db", args->db_path, "Session database (with --subject)")->capture_default_str();
      csv->excludes(subject);
      subject->excludes(csv);
      command.callback([csv, subject] {
        if (csv->count() == 0 && subject->count() == 0) throw CLI::ValidationError("give --csv FILE or --subject ID");
      });
      command.add_option("--lags", args->lags, "Trials of history per outcome type")
          ->check(CLI::Range(1, analysis::kMaxLags))
          ->capture_default_str();
      command.add_option("--l2", args->l2, "Ridge penalty on the weights (not the bias); 0 = maximum likelihood")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      command.add_option("--crt", args->crt_surrogates,
                         "Run the conditional randomization test with K surrogates (e.g. 1000)")
          ->check(CLI::PositiveNumber);
      command.add_option("--seed", args->seed, "Seed of the randomization test")->capture_default_str();
      command.add_option("--threads", args->threads, "Threads for the test (0: all cores)")->capture_default_str();
      command.add_flag("--json", args->json, "Print JSON (schema in docs/analysis.md)");
      return [args] { return run_fit(*args); };
    }};

}  // namespace
