#include "host/analysis/crt.hpp"

#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

#include "host/analysis/random.hpp"

namespace rig::analysis {
namespace {

// What a surrogate needs of a trial, without the session string (K copies of it per test).
struct CompactTrial {
  bool new_session;
  Choice choice;
  bool free_choice;
  bool controllable;
  bool distractor;
  double p_redraw;  // the logged probability the test redraws from
};

std::vector<CompactTrial> compact(std::span<const TrialRecord> trials, IndexKind kind) {
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
    const double p = kind == IndexKind::kDistractor ? t.p_distractor : *p_controllable_chosen(t);
    if (!(p >= 0.0 && p <= 1.0)) {
      throw std::invalid_argument(
          std::string("trial ") + std::to_string(i + 1) + ": the " +
          (kind == IndexKind::kDistractor ? "distractor probability" : "controllable probability of the chosen side") +
          " is not logged or not in [0, 1]; the conditional randomization test needs it");
    }
    out.push_back(CompactTrial{i == 0 || t.session_id != trials[i - 1].session_id, t.choice, t.free_choice,
                               t.controllable_delivered, t.distractor_delivered, p});
  }
  return out;
}

double surrogate_index(std::vector<CompactTrial> trials, IndexKind kind, Rng rng, const FitOptions& options,
                       const HistoryFit& observed) {
  DesignBuilder builder(options.lags);
  for (auto& t : trials) {
    if (t.choice != Choice::kMiss) {
      (kind == IndexKind::kDistractor ? t.distractor : t.controllable) = bernoulli(rng, t.p_redraw);
    }
    builder.add(t.new_session, t.choice, t.free_choice, outcome_type(t.controllable, t.distractor));
  }
  const HistoryFit fit = fit_history(builder.design(), options, &observed);
  const auto index = history_index(fit.model, fit.lags, kind);
  return index ? index->value : std::numeric_limits<double>::quiet_NaN();
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

  const IndexKind kinds[] = {IndexKind::kControllable, IndexKind::kDistractor};
  for (const IndexKind kind : kinds) {
    const auto& observed_index =
        kind == IndexKind::kControllable ? observed.controllable_index : observed.distractor_index;
    if (!observed_index || !(kind == IndexKind::kControllable ? options.test_controllable : options.test_distractor)) {
      continue;
    }
    const std::vector<CompactTrial> base = compact(trials, kind);
    std::vector<double> surrogates(static_cast<std::size_t>(options.surrogates));
    const auto stream = static_cast<std::uint64_t>(kind == IndexKind::kControllable ? 1 : 2);
    parallel_for(options.surrogates, std::min<unsigned>(threads, static_cast<unsigned>(options.surrogates)),
                 [&](int i) {
                   surrogates[static_cast<std::size_t>(i)] = surrogate_index(
                       base, kind, derive_rng(options.seed, stream, static_cast<std::uint64_t>(i)), options.fit,
                       observed);
                 });
    int at_least = 0;
    for (const double s : surrogates) {
      if (std::isnan(s) || s >= observed_index->value) ++at_least;
    }
    const double p = (1.0 + at_least) / (1.0 + options.surrogates);
    if (kind == IndexKind::kControllable) {
      result.controllable_observed = observed_index->value;
      result.controllable_p = p;
      result.controllable_surrogates = std::move(surrogates);
    } else {
      result.distractor_observed = observed_index->value;
      result.distractor_p = p;
      result.distractor_surrogates = std::move(surrogates);
    }
  }
  return result;
}

}  // namespace rig::analysis
