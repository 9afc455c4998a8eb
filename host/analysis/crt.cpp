#include "host/analysis/crt.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

#include "host/analysis/random.hpp"

namespace rig::analysis {
namespace {

// The three tests: which deliveries each redraws, and its statistic.
enum class Test { kControllable, kDistractor, kStructure };

// What a surrogate needs of a trial, without the session string (K copies of it per test).
struct CompactTrial {
  bool new_session;
  Choice choice;
  bool free_choice;
  bool controllable;
  bool distractor;
  double p_redraw;  // the logged probability the test redraws from
};

// P(the controllable flavour | exactly one flavour was delivered) on a trial: pc (1 - pd) / (pc (1 - pd) +
// (1 - pc) pd); the observed label where both products are 0 (then the observation had probability 0).
double p_controllable_given_one(double pc, double pd, bool controllable) {
  const double only_controllable = pc * (1.0 - pd);
  const double only_distractor = (1.0 - pc) * pd;
  const double total = only_controllable + only_distractor;
  return total > 0.0 ? only_controllable / total : (controllable ? 1.0 : 0.0);
}

std::vector<CompactTrial> compact(std::span<const TrialRecord> trials, Test test) {
  std::vector<CompactTrial> out;
  out.reserve(trials.size());
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const TrialRecord& t = trials[i];
    if (t.choice == Choice::kMiss) {
      // Misses do not enter the design, but a session change on a miss must still restart the history.
      if (i == 0 || t.session_id != trials[i - 1].session_id) {
        out.push_back(CompactTrial{true, Choice::kMiss, false, false, false, 0.0});
      }
      continue;
    }
    const auto need = [&](double p, const char* what) {
      if (!(p >= 0.0 && p <= 1.0)) {
        throw std::invalid_argument(std::string("trial ") + std::to_string(i + 1) + ": the " + what +
                                    " is not logged or not in [0, 1]; the conditional randomization test needs it");
      }
      return p;
    };
    double p = 0.0;
    if (test == Test::kDistractor) {
      p = need(t.p_distractor, "distractor probability");
    } else if (test == Test::kControllable) {
      p = need(*p_controllable_chosen(t), "controllable probability of the chosen side");
    } else {
      p = p_controllable_given_one(need(*p_controllable_chosen(t), "controllable probability of the chosen side"),
                                   need(t.p_distractor, "distractor probability"), t.controllable_delivered);
    }
    out.push_back(CompactTrial{i == 0 || t.session_id != trials[i - 1].session_id, t.choice, t.free_choice,
                               t.controllable_delivered, t.distractor_delivered, p});
  }
  return out;
}

// The test's statistic on a fit: an index, or the controllable index minus the distractor index; nullopt when an
// index does not exist.
std::optional<double> statistic(const LogisticFit& model, int lags, Test test) {
  if (test == Test::kStructure) {
    const auto ci = history_index(model, lags, IndexKind::kControllable);
    const auto di = history_index(model, lags, IndexKind::kDistractor);
    if (!ci || !di) return std::nullopt;
    return ci->value - di->value;
  }
  const auto index = history_index(model, lags, test == Test::kControllable ? IndexKind::kControllable : IndexKind::kDistractor);
  return index ? std::optional<double>(index->value) : std::nullopt;
}

struct Surrogate {
  double value = std::numeric_limits<double>::quiet_NaN();
  bool separated = false;
};

Surrogate surrogate(std::vector<CompactTrial> trials, Test test, Rng rng, const FitOptions& options,
                    const HistoryFit& observed) {
  DesignBuilder builder(options.lags);
  for (auto& t : trials) {
    if (t.choice != Choice::kMiss) {
      if (test == Test::kDistractor) {
        t.distractor = bernoulli(rng, t.p_redraw);
      } else if (test == Test::kControllable) {
        t.controllable = bernoulli(rng, t.p_redraw);
      } else if (t.controllable != t.distractor) {
        t.controllable = bernoulli(rng, t.p_redraw);
        t.distractor = !t.controllable;
      }
    }
    builder.add(t.new_session, t.choice, t.free_choice, outcome_type(t.controllable, t.distractor));
  }
  const HistoryFit fit = fit_history(builder.design(), options, &observed);
  Surrogate out;
  out.separated = fit.model.separation;
  if (const auto value = statistic(fit.model, fit.lags, test)) out.value = *value;
  return out;
}

// Runs `count` jobs on `threads` threads; job(i) must write only its own slot.
template <typename Job>
void parallel_for(int count, unsigned threads, const Job& job) {
  std::atomic<int> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (int i = next++; i < count && !failed; i = next++) {
      try {
        job(i);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

CrtResult conditional_randomization_test(std::span<const TrialRecord> trials, const CrtOptions& options) {
  if (options.surrogates < 1) throw std::invalid_argument("the test needs at least one surrogate");
  const HistoryFit observed = fit_history(trials, options.fit);
  CrtResult result;
  result.surrogates = options.surrogates;
  const unsigned threads = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());

  for (const Test test : {Test::kControllable, Test::kDistractor, Test::kStructure}) {
    const bool wanted = test == Test::kControllable ? options.test_controllable
                        : test == Test::kDistractor ? options.test_distractor
                                                    : options.test_structure;
    const auto observed_value = statistic(observed.model, observed.lags, test);
    if (!wanted || !observed_value) continue;
    const std::vector<CompactTrial> base = compact(trials, test);
    std::vector<Surrogate> surrogates(static_cast<std::size_t>(options.surrogates));
    const auto stream = static_cast<std::uint64_t>(test) + 1;
    parallel_for(options.surrogates, std::min<unsigned>(threads, static_cast<unsigned>(options.surrogates)),
                 [&](int i) {
                   surrogates[static_cast<std::size_t>(i)] =
                       surrogate(base, test, derive_rng(options.seed, stream, static_cast<std::uint64_t>(i)),
                                 options.fit, observed);
                 });
    int at_least = 0;
    int separated = 0;
    std::vector<double> values;
    values.reserve(surrogates.size());
    for (const Surrogate& s : surrogates) {
      if (std::isnan(s.value) || s.value >= *observed_value) ++at_least;
      separated += s.separated ? 1 : 0;
      values.push_back(s.value);
    }
    const double p = (1.0 + at_least) / (1.0 + options.surrogates);
    if (test == Test::kControllable) {
      result.controllable_observed = observed_value;
      result.controllable_p = p;
      result.controllable_surrogates = std::move(values);
      result.controllable_separated = separated;
    } else if (test == Test::kDistractor) {
      result.distractor_observed = observed_value;
      result.distractor_p = p;
      result.distractor_surrogates = std::move(values);
      result.distractor_separated = separated;
    } else {
      result.structure_observed = observed_value;
      result.structure_p = p;
      result.structure_surrogates = std::move(values);
      result.structure_separated = separated;
    }
  }
  return result;
}

std::string format_p_value(double p, int surrogates) {
  char text[48];
  if (surrogates > 0 && p <= 1.0 / (1.0 + surrogates) * (1.0 + 1e-9)) {
    std::snprintf(text, sizeof text, "p < %.3g", 1.0 / surrogates);
  } else {
    std::snprintf(text, sizeof text, "p = %.3f", p);
  }
  return text;
}

}  // namespace rig::analysis
