#include "host/analysis/group_stats.hpp"

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace rig::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The summed-over-mice p of one randomization test: `observed(mouse)` and `surrogates(mouse)` give a mouse's
// observed statistic and its K surrogates (NaN: the surrogate's statistic did not exist, counted as >=).
template <class Observed, class Surrogates>
std::optional<double> summed_p(std::span<const MouseResult> mice, int k, Observed observed, Surrogates surrogates) {
  double observed_sum = 0.0;
  std::vector<double> sums(static_cast<std::size_t>(k), 0.0);
  for (const auto& mouse : mice) {
    const auto value = observed(*mouse.crt);
    const auto& values = surrogates(*mouse.crt);
    if (!value || values.size() != sums.size()) return std::nullopt;
    observed_sum += *value;
    for (std::size_t i = 0; i < sums.size(); ++i) sums[i] += values[i];
  }
  int at_least = 0;
  for (const double s : sums) at_least += std::isnan(s) || s >= observed_sum ? 1 : 0;
  return (1.0 + at_least) / (1.0 + k);
}

}  // namespace

SampleTest one_sided_test(std::span<const double> values) {
  if (values.empty()) throw std::invalid_argument("a test needs at least one value");
  SampleTest t;
  t.n = values.size();
  double sum = 0.0;
  for (const double v : values) {
    if (!std::isfinite(v)) throw std::invalid_argument("a test's values must be finite");
    sum += v;
  }
  t.mean = sum / static_cast<double>(t.n);
  t.se = kNaN;
  if (t.n >= 2) {
    double squares = 0.0;
    for (const double v : values) squares += (v - t.mean) * (v - t.mean);
    const double sd = std::sqrt(squares / static_cast<double>(t.n - 1));
    t.se = sd / std::sqrt(static_cast<double>(t.n));
    if (sd > 0.0) {
      const boost::math::students_t distribution(static_cast<double>(t.n - 1));
      t.t_test_p = boost::math::cdf(boost::math::complement(distribution, t.mean / t.se));
    }
  }
  // Sign test: zeros carry no sign and are dropped.
  std::size_t positive = 0, nonzero = 0;
  for (const double v : values) {
    positive += v > 0.0 ? 1 : 0;
    nonzero += v != 0.0 ? 1 : 0;
  }
  if (nonzero > 0) {
    // P(X >= positive) for X ~ Binomial(nonzero, 1/2).
    double p = 0.0;
    for (std::size_t k = positive; k <= nonzero; ++k) {
      p += boost::math::pdf(boost::math::binomial(static_cast<double>(nonzero), 0.5), static_cast<double>(k));
    }
    t.sign_test_p = std::min(1.0, p);
  }
  return t;
}

GroupResult group_statistics(std::span<const MouseResult> mice) {
  if (mice.empty()) throw std::invalid_argument("a group needs at least one mouse");
  GroupResult g;
  g.n_subjects = mice.size();
  std::vector<double> difference, distractor, controllable;
  for (const auto& mouse : mice) {
    difference.push_back(mouse.controllable_index - mouse.distractor_index);
    distractor.push_back(mouse.distractor_index);
    controllable.push_back(mouse.controllable_index);
  }
  g.ci_minus_di = one_sided_test(difference);
  g.di = one_sided_test(distractor);
  g.ci = one_sided_test(controllable);
  bool every_test = true;
  for (const auto& mouse : mice) every_test = every_test && mouse.crt != nullptr;
  if (!every_test) return g;
  const int k = mice.front().crt->surrogates;
  for (const auto& mouse : mice) {
    if (mouse.crt->surrogates != k) throw std::invalid_argument("the mice's randomization tests differ in K");
  }
  g.crt_surrogates = k;
  g.crt_controllable_p = summed_p(
      mice, k, [](const CrtResult& c) { return c.controllable_observed; },
      [](const CrtResult& c) -> const std::vector<double>& { return c.controllable_surrogates; });
  g.crt_distractor_p = summed_p(
      mice, k, [](const CrtResult& c) { return c.distractor_observed; },
      [](const CrtResult& c) -> const std::vector<double>& { return c.distractor_surrogates; });
  g.crt_structure_p = summed_p(
      mice, k, [](const CrtResult& c) { return c.structure_observed; },
      [](const CrtResult& c) -> const std::vector<double>& { return c.structure_surrogates; });
  return g;
}

}  // namespace rig::analysis
