// The group report of `rig fit` and `rig report` with several subjects: one line per mouse, then the group's
// statistics (host/analysis/group_stats.hpp), as text or JSON (docs/analysis.md, "Group statistics").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "command_registry.hpp"
#include "host/analysis/crt.hpp"
#include "host/analysis/fit_json.hpp"
#include "host/analysis/group_stats.hpp"
#include "host/analysis/history_regression.hpp"

namespace rig::app {

// One subject's fit and, when asked for and readable, its randomization tests.
struct FittedSubject {
  std::string subject;
  rig::analysis::HistoryFit fit;
  std::optional<rig::analysis::CrtResult> crt;
};

// One test of the group as JSON: mean, se, t_test_p (and sign_test_p). Pure.
inline nlohmann::json sample_json(const rig::analysis::SampleTest& t, bool sign_test) {
  auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  auto p = [](const std::optional<double>& x) { return x ? nlohmann::json(*x) : nlohmann::json(nullptr); };
  nlohmann::json out{{"mean", number(t.mean)}, {"se", number(t.se)}, {"t_test_p", p(t.t_test_p)}};
  if (sign_test) out["sign_test_p"] = p(t.sign_test_p);
  return out;
}

// Prints the mice and their group (the estimable fits; the others are listed with their reasons) to stdout:
// text, or with `json` the object of docs/analysis.md. Returns kExitOk. Not thread-safe (prints).
inline int report_group(const std::vector<FittedSubject>& fits, bool json, std::uint64_t crt_seed) {
  std::vector<rig::analysis::MouseResult> mice;
  for (const auto& f : fits) {
    if (!rig::analysis::estimability(f.fit).estimable || !f.fit.controllable_index || !f.fit.distractor_index) continue;
    mice.push_back({f.fit.controllable_index->value, f.fit.distractor_index->value, f.crt ? &*f.crt : nullptr});
  }
  std::optional<rig::analysis::GroupResult> group;
  if (!mice.empty()) group = rig::analysis::group_statistics(mice);
  if (json) {
    nlohmann::json subjects = nlohmann::json::array();
    for (const auto& f : fits) {
      auto one = rig::analysis::fit_to_json(f.fit, f.crt ? &*f.crt : nullptr, crt_seed);
      one["subject"] = f.subject;
      subjects.push_back(std::move(one));
    }
    nlohmann::json group_json = nullptr;
    if (group) {
      auto p = [](const std::optional<double>& x) { return x ? nlohmann::json(*x) : nlohmann::json(nullptr); };
      group_json = {{"n_subjects", group->n_subjects},
                    {"ci_minus_di", sample_json(group->ci_minus_di, true)},
                    {"di", sample_json(group->di, false)},
                    {"ci", sample_json(group->ci, false)},
                    {"crt", group->crt_surrogates > 0 ? nlohmann::json{{"surrogates", group->crt_surrogates},
                                                                       {"controllable_p", p(group->crt_controllable_p)},
                                                                       {"distractor_p", p(group->crt_distractor_p)},
                                                                       {"structure_p", p(group->crt_structure_p)}}
                                                      : nlohmann::json(nullptr)}};
    }
    std::printf("%s\n", nlohmann::json{{"subjects", subjects}, {"group", group_json}}.dump(2).c_str());
    return kExitOk;
  }
  const bool any_crt = std::any_of(fits.begin(), fits.end(), [](const FittedSubject& f) { return f.crt.has_value(); });
  std::printf("%-14s %8s  %-18s %-18s %-12s %s\n", "subject", "choices", "controllable (SE)", "distractor (SE)",
              "ci - di", any_crt ? "randomization tests: ci > 0, di > 0, ci > di" : "");
  for (const auto& f : fits) {
    const auto state = rig::analysis::estimability(f.fit);
    std::printf("%-14s %8zu  ", f.subject.c_str(), f.fit.n_trials);
    if (!state.estimable || !f.fit.controllable_index || !f.fit.distractor_index) {
      std::printf("%s\n",
                  state.estimable ? "an index does not exist (an outcome never occurred)" : state.reason.c_str());
      continue;
    }
    const auto& ci = *f.fit.controllable_index;
    const auto& di = *f.fit.distractor_index;
    std::printf("%+8.3f (%6.3f)  %+8.3f (%6.3f)  %+8.3f     ", ci.value, ci.se, di.value, di.se, ci.value - di.value);
    if (f.crt) {
      auto p = [&](const std::optional<double>& x) {
        return x ? rig::analysis::format_p_value(*x, f.crt->surrogates) : std::string("--");
      };
      std::printf("%s, %s, %s", p(f.crt->controllable_p).c_str(), p(f.crt->distractor_p).c_str(),
                  p(f.crt->structure_p).c_str());
    }
    std::printf("\n");
  }
  if (!group) {
    std::printf("\nno group statistics: no subject's fit can be read yet\n");
    return kExitOk;
  }
  auto tp = [](const std::optional<double>& x) {
    char text[32];
    if (!x) return std::string("--");
    std::snprintf(text, sizeof text, "%.4f", *x);
    return std::string(text);
  };
  std::printf("\ngroup of %zu mice (one value per mouse; one-sided tests against 0):\n", group->n_subjects);
  std::printf("  ci - di   mean %+.3f (SE %.3f)   t test p = %s   sign test p = %s   (controllable credited more)\n",
              group->ci_minus_di.mean, group->ci_minus_di.se, tp(group->ci_minus_di.t_test_p).c_str(),
              tp(group->ci_minus_di.sign_test_p).c_str());
  std::printf("  di        mean %+.3f (SE %.3f)   t test p = %s   (the distractor is still credited)\n", group->di.mean,
              group->di.se, tp(group->di.t_test_p).c_str());
  std::printf("  ci        mean %+.3f (SE %.3f)   t test p = %s\n", group->ci.mean, group->ci.se,
              tp(group->ci.t_test_p).c_str());
  if (group->crt_surrogates > 0) {
    auto p = [&](const std::optional<double>& x) {
      return x ? rig::analysis::format_p_value(*x, group->crt_surrogates) : std::string("--");
    };
    std::printf("  group randomization tests (statistic summed over mice, K = %d): ci > 0 %s, di > 0 %s, ci > di %s\n",
                group->crt_surrogates, p(group->crt_controllable_p).c_str(), p(group->crt_distractor_p).c_str(),
                p(group->crt_structure_p).c_str());
  }
  return kExitOk;
}

}  // namespace rig::app
