// `rig fit --csv FILE` or `rig fit [--db PATH] --subject ID`: the trial-history regression of one subject
// (pooled over its sessions), its indices and, with --crt, their conditional randomization tests.
// `rig fit --subject A --subject B ...` or `--subject all`: each mouse's fit, then the group's statistics
// (host/analysis/group_stats.hpp). `--model q-mixed|q-naive|q-savvy|compare`: the Q-learning models by maximum
// likelihood (host/analysis/q_fit.hpp). `--cv-lags MAX`: the lags chosen on held-out sessions.
// Exit 2 for bad input (arguments, a CSV problem named by line and column, no trials), 1 for runtime failures.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "command_registry.hpp"
#include "group_report.hpp"
#include "host/analysis/crt.hpp"
#include "host/analysis/fit_json.hpp"
#include "host/analysis/group_stats.hpp"
#include "host/analysis/history_regression.hpp"
#include "host/analysis/q_fit.hpp"
#include "host/analysis/trial_csv.hpp"
#include "host/store/store.hpp"
#include "run_support.hpp"

namespace {

namespace analysis = rig::analysis;

struct FitArguments {
  std::string csv_path;
  std::string db_path;
  std::vector<std::string> subjects;
  std::string model = "regression";
  int cv_lags = 0;  // > 0: choose L in 1..cv_lags by leave-one-session-out cross-validation
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
  for (const auto type : analysis::kOutcomeTypes)
    std::printf("%-19s", std::string(analysis::outcome_name(type)).c_str());
  std::printf("   weight (SE), log-odds of repeating\n");
  for (int k = 0; k < fit.lags; ++k) {
    std::printf("%-5d", k + 1);
    for (const auto& by_lag : fit.weights) std::printf("%s", cell(by_lag[static_cast<std::size_t>(k)]).c_str());
    std::printf("\n");
  }
  const analysis::Estimability state = analysis::estimability(fit);
  if (state.estimable) {
    std::printf("\ncontrollable index: %s\ndistractor index:   %s\n", cell(fit.controllable_index).c_str(),
                cell(fit.distractor_index).c_str());
  } else {
    std::printf("\ncontrollable and distractor indices: %s\n", state.reason.c_str());
  }
  if (crt != nullptr) {
    auto p = [&](const std::optional<double>& x, int separated) {
      if (!x) return std::string("-- (no such index)");
      std::string text = analysis::format_p_value(*x, crt->surrogates);
      if (separated > 0) text += " (" + std::to_string(separated) + " surrogate fits separated)";
      return text;
    };
    std::printf("conditional randomization tests, K = %d surrogates each:\n", crt->surrogates);
    std::printf("  controllable index > 0:                %s\n",
                p(crt->controllable_p, crt->controllable_separated).c_str());
    std::printf("  distractor index > 0:                  %s\n",
                p(crt->distractor_p, crt->distractor_separated).c_str());
    std::printf("  controllable index > distractor index: %s (flavour labels redrawn)\n",
                p(crt->structure_p, crt->structure_separated).c_str());
  }
}

// Fits `trials` (from `source`, for messages). Returns nullopt after printing why on stderr (exit code in
// `exit_code`).
std::optional<rig::app::FittedSubject> fit_one_subject(const std::string& subject,
                                                       const std::vector<analysis::TrialRecord>& trials,
                                                       const std::string& source, const FitArguments& args,
                                                       int& exit_code) {
  const analysis::FitOptions options{.lags = args.lags, .l2 = args.l2};
  rig::app::FittedSubject out{subject, analysis::fit_history(trials, options), std::nullopt};
  const auto& fit = out.fit;
  if (fit.n_trials == 0) {
    std::fprintf(stderr,
                 "rig fit: %s: none of the %zu trials can be fitted (the fit needs free-choice trials with a choice "
                 "after the first %d)\n",
                 source.c_str(), trials.size(), options.lags);
    exit_code = rig::app::kExitInvalid;
    return std::nullopt;
  }
  const analysis::Estimability state = analysis::estimability(fit);
  if (args.crt_surrogates > 0 && !state.estimable) {
    std::fprintf(stderr, "rig fit: %s: no randomization test: the fit is %s\n", source.c_str(), state.reason.c_str());
  } else if (args.crt_surrogates > 0) {
    try {
      out.crt = analysis::conditional_randomization_test(
          trials, analysis::CrtOptions{
                      .surrogates = args.crt_surrogates, .seed = args.seed, .threads = args.threads, .fit = options});
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "rig fit: %s: %s\n", source.c_str(), e.what());
      exit_code = rig::app::kExitInvalid;
      return std::nullopt;
    }
  }
  if (fit.model.separation) {
    std::fprintf(stderr,
                 "rig fit: %s: the data are (quasi-)separated: some choices are predicted with certainty and "
                 "the weights diverge; try --l2 or more trials\n",
                 source.c_str());
  } else if (fit.model.singular) {
    std::fprintf(stderr, "rig fit: %s: the design is singular (collinear columns); try fewer --lags or more trials\n",
                 source.c_str());
  }
  return out;
}

nlohmann::json q_fit_json(const analysis::QFit& fit) {
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json se = nlohmann::json::object();
  for (std::size_t p = 0; p < analysis::kQParamCount; ++p) {
    params[analysis::kQParamNames[p]] = fit.params[p];
    if (fit.free[p]) se[analysis::kQParamNames[p]] = fit.se[p] ? nlohmann::json(*fit.se[p]) : nlohmann::json(nullptr);
  }
  return {{"name", rig::model::name_of(analysis::kQModelNames, fit.kind)},
          {"params", params},
          {"se", se},
          {"loglik", fit.loglik},
          {"n_choices", fit.n_choices},
          {"bic", fit.bic},
          {"cv_loglik", fit.cv_loglik ? nlohmann::json(*fit.cv_loglik) : nlohmann::json(nullptr)},
          {"converged", fit.converged},
          {"starts", fit.starts}};
}

// `--model q-mixed|q-naive|q-savvy|compare`: the Q-learning models of one subject's trials.
int run_model_fit(const std::vector<analysis::TrialRecord>& trials, const FitArguments& args) {
  std::vector<analysis::QModelKind> kinds;
  if (args.model == "compare") {
    for (const auto& named : analysis::kQModelNames) kinds.push_back(named.value);
  } else {
    kinds.push_back(*rig::model::value_of(analysis::kQModelNames, args.model));
  }
  std::vector<analysis::QFit> fits;
  try {
    for (const auto kind : kinds) {
      fits.push_back(analysis::fit_q_model(trials, kind, analysis::QFitOptions{.starts = 6, .seed = args.seed}));
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "rig fit: %s\n", e.what());
    return rig::app::kExitInvalid;
  }
  if (args.json) {
    if (fits.size() == 1) {
      std::printf("%s\n", nlohmann::json{{"model", q_fit_json(fits.front())}}.dump(2).c_str());
    } else {
      nlohmann::json models = nlohmann::json::array();
      for (const auto& fit : fits) models.push_back(q_fit_json(fit));
      std::printf("%s\n", nlohmann::json{{"models", models}}.dump(2).c_str());
    }
    return rig::app::kExitOk;
  }
  for (const auto& fit : fits) {
    std::printf("%s: log-likelihood %.3f on %zu free choices, BIC %.2f, held-out sessions' log-likelihood %s%s\n",
                rig::model::name_of(analysis::kQModelNames, fit.kind), fit.loglik, fit.n_choices, fit.bic,
                fit.cv_loglik ? std::to_string(*fit.cv_loglik).c_str() : "-- (one session)",
                fit.converged ? "" : " (NOT converged)");
    for (std::size_t p = 0; p < analysis::kQParamCount; ++p) {
      if (!fit.free[p]) {
        std::printf("  %-27s %8.4f  (fixed)\n", analysis::kQParamNames[p], fit.params[p]);
      } else if (fit.se[p]) {
        std::printf("  %-27s %8.4f  (SE %.4f)\n", analysis::kQParamNames[p], fit.params[p], *fit.se[p]);
      } else {
        std::printf("  %-27s %8.4f  (at a bound: no SE)\n", analysis::kQParamNames[p], fit.params[p]);
      }
    }
  }
  if (fits.size() > 1) {
    const auto best_bic =
        std::min_element(fits.begin(), fits.end(), [](const auto& a, const auto& b) { return a.bic < b.bic; });
    std::printf("lowest BIC: %s", rig::model::name_of(analysis::kQModelNames, best_bic->kind));
    if (fits.front().cv_loglik) {
      const auto best_cv = std::max_element(fits.begin(), fits.end(),
                                            [](const auto& a, const auto& b) { return *a.cv_loglik < *b.cv_loglik; });
      std::printf("; highest held-out log-likelihood: %s", rig::model::name_of(analysis::kQModelNames, best_cv->kind));
    }
    std::printf("\n");
  }
  return rig::app::kExitOk;
}

int run_fit(const FitArguments& args) {
  const analysis::FitOptions options{.lags = args.lags, .l2 = args.l2};
  std::vector<std::pair<std::string, std::vector<analysis::TrialRecord>>> inputs;  // subject, trials
  const std::string source = args.csv_path.empty() ? args.db_path : args.csv_path;
  try {
    analysis::validated(options);
    if (!args.csv_path.empty()) {
      auto trials = analysis::parse_trials_csv(rig::app::read_file(args.csv_path, rig::app::kMaxDataFileBytes));
      if (trials.empty()) throw std::invalid_argument("no trials: the file has a header and no rows");
      inputs.emplace_back("", std::move(trials));
    } else {
      const auto db =
          rig::store::Store::open(args.db_path, rig::store::OpenOptions{.read_only = true, .clock_unix_us = {}});
      std::vector<std::string> subjects = args.subjects;
      if (subjects.size() == 1 && subjects.front() == "all") {
        subjects.clear();
        for (const auto& session : db.sessions()) {
          if (std::find(subjects.begin(), subjects.end(), session.subject_id) == subjects.end()) {
            subjects.push_back(session.subject_id);
          }
        }
        if (subjects.empty()) throw std::invalid_argument("no sessions, so no subjects");
      }
      for (const auto& subject : subjects) {
        auto trials = rig::app::subject_history(db, subject);
        if (trials.empty()) throw std::invalid_argument("no trials of subject '" + subject + "'");
        inputs.emplace_back(subject, std::move(trials));
      }
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
  const bool group = args.subjects.size() > 1 || (args.subjects.size() == 1 && args.subjects.front() == "all");
  // --cv-lags: the regression's L chosen on held-out sessions, then the fit with it.
  std::optional<analysis::LagChoice> lag_choice;
  FitArguments chosen = args;
  if (args.cv_lags > 0) {
    if (inputs.size() != 1 || group || args.model != "regression") {
      std::fprintf(stderr,
                   "rig fit: --cv-lags chooses the lags of one subject's regression (one --subject or --csv)\n");
      return rig::app::kExitInvalid;
    }
    try {
      lag_choice = analysis::choose_lags(inputs.front().second, args.cv_lags, options);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "rig fit: %s: %s\n", source.c_str(), e.what());
      return rig::app::kExitInvalid;
    }
    chosen.lags = lag_choice->best_lags;
  }
  if (args.model != "regression") {
    if (inputs.size() != 1 || group) {
      std::fprintf(stderr, "rig fit: --model %s fits one subject at a time (one --subject or --csv)\n",
                   args.model.c_str());
      return rig::app::kExitInvalid;
    }
    return run_model_fit(inputs.front().second, args);
  }
  std::vector<rig::app::FittedSubject> fits;
  for (const auto& [subject, trials] : inputs) {
    int exit_code = rig::app::kExitOk;
    const std::string where = subject.empty() ? source : source + " (subject " + subject + ")";
    auto one = fit_one_subject(subject, trials, where, chosen, exit_code);
    if (!one) {
      if (!group) return exit_code;
      // A mouse without a single fittable trial is listed as such; the others still make a group.
      one = rig::app::FittedSubject{subject, analysis::fit_history(trials, options), std::nullopt};
    }
    fits.push_back(std::move(*one));
  }
  if (group) return rig::app::report_group(fits, args.json, args.seed);
  const auto& only = fits.front();
  if (args.json) {
    auto json = analysis::fit_to_json(only.fit, only.crt ? &*only.crt : nullptr, args.seed);
    if (lag_choice) {
      nlohmann::json held_out = nlohmann::json::object();
      for (const auto& [lags, loglik] : lag_choice->held_out_loglik) held_out[std::to_string(lags)] = loglik;
      json["cv_lags"] = {{"best", lag_choice->best_lags}, {"held_out_loglik", held_out}};
    }
    std::printf("%s\n", json.dump(2).c_str());
  } else {
    if (lag_choice) {
      std::printf("lags by leave-one-session-out cross-validation (held-out log-likelihood):\n");
      for (const auto& [lags, loglik] : lag_choice->held_out_loglik) {
        std::printf("  L = %-3d %12.3f%s\n", lags, loglik, lags == lag_choice->best_lags ? "  <- best" : "");
      }
      std::printf("\n");
    }
    print_table(only.fit, only.crt ? &*only.crt : nullptr);
  }
  return rig::app::kExitOk;
}

const rig::app::CommandRegistration kFitRegistration{
    "fit",
    "Fit the trial-history regression of a subject (weights, indices, randomization tests), or of several with "
    "the group's statistics",
    [](CLI::App& command) {
      auto args = std::make_shared<FitArguments>();
      auto* csv = command.add_option("--csv", args->csv_path, "Trial CSV (columns in docs/analysis.md)")
                      ->check(CLI::ExistingFile);
      auto* subject = command.add_option(
          "--subject", args->subjects,
          "Subject id: fit its trials from the session database; several (--subject A --subject B) or `all` add "
          "the group's statistics");
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
      command
          .add_option("--crt", args->crt_surrogates,
                      "Run the conditional randomization test with K surrogates (e.g. 1000)")
          ->check(CLI::PositiveNumber);
      command.add_option("--seed", args->seed, "Seed of the randomization test")->capture_default_str();
      command.add_option("--threads", args->threads, "Threads for the test (0: all cores)")->capture_default_str();
      command.add_flag("--json", args->json, "Print JSON (schema in docs/analysis.md)");
      command
          .add_option("--cv-lags", args->cv_lags,
                      "Choose the lags (1..MAX) by leave-one-session-out cross-validation, then fit with the best")
          ->check(CLI::Range(1, analysis::kMaxLags));
      command
          .add_option("--model", args->model,
                      "regression (the trial-history regression), a Q-learning model fitted by maximum likelihood "
                      "(q-mixed, q-naive, q-savvy), or compare (the three Q models side by side)")
          ->check(CLI::IsMember({"regression", "q-mixed", "q-naive", "q-savvy", "compare"}))
          ->capture_default_str();
      return [args] { return run_fit(*args); };
    }};

}  // namespace
