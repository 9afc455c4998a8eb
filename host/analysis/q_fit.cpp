#include "host/analysis/q_fit.hpp"

#include <nlopt.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "host/analysis/random.hpp"

namespace rig::analysis {
namespace {

// Probabilities are kept this far from 0 and 1 so that a log-likelihood stays finite at a bound.
constexpr double kMinProbability = 1e-12;

// A fitted quantity: the parameters it sets (two for q-naive's shared learning rate).
struct Slot {
  std::vector<QParam> params;
};

// The model's free slots and its fixed values.
struct ModelShape {
  std::vector<Slot> slots;
  QParams fixed{};  // values of the parameters no slot sets
};

ModelShape shape_of(QModelKind kind) {
  ModelShape shape;
  shape.fixed = {0.5, 0.5, 5.0, 0.1, 0.0, 0.02, 1.0};
  switch (kind) {
    case QModelKind::kMixed:
      for (std::size_t p = 0; p < kQParamCount; ++p) shape.slots.push_back({{static_cast<QParam>(p)}});
      break;
    case QModelKind::kNaive:
      shape.slots = {{{kLearningRateControllable, kLearningRateDistractor}},
                     {{kInverseTemperature}},
                     {{kForgettingRate}},
                     {{kPerseveration}},
                     {{kLapseRate}}};
      shape.fixed[kDistractorWeight] = 1.0;
      break;
    case QModelKind::kSavvy:
      shape.slots = {{{kLearningRateControllable}},
                     {{kInverseTemperature}},
                     {{kForgettingRate}},
                     {{kPerseveration}},
                     {{kLapseRate}}};
      shape.fixed[kLearningRateDistractor] = 0.0;
      shape.fixed[kDistractorWeight] = 0.0;
      break;
  }
  return shape;
}

QParams expand(const ModelShape& shape, const std::vector<double>& x) {
  QParams params = shape.fixed;
  for (std::size_t i = 0; i < shape.slots.size(); ++i) {
    for (const QParam p : shape.slots[i].params) params[p] = x[i];
  }
  return params;
}

std::vector<double> slot_gradient(const ModelShape& shape, const QParams& gradient) {
  std::vector<double> out(shape.slots.size(), 0.0);
  for (std::size_t i = 0; i < shape.slots.size(); ++i) {
    for (const QParam p : shape.slots[i].params) out[i] += gradient[p];
  }
  return out;
}

struct Objective {
  std::span<const TrialRecord> trials;
  const ModelShape* shape;
};

double nlopt_objective(unsigned n, const double* x, double* grad, void* data) {
  const auto& objective = *static_cast<const Objective*>(data);
  const std::vector<double> values(x, x + n);
  QParams gradient{};
  const double loglik = q_loglik(objective.trials, expand(*objective.shape, values), grad ? &gradient : nullptr);
  if (grad) {
    const auto g = slot_gradient(*objective.shape, gradient);
    std::copy(g.begin(), g.end(), grad);
  }
  return loglik;
}

struct NloptDeleter {
  void operator()(nlopt_opt opt) const { nlopt_destroy(opt); }
};

// One bounded L-BFGS run from `start`: the optimum and its log-likelihood (a failed run gives -inf).
std::pair<std::vector<double>, double> maximize(const Objective& objective, std::vector<double> start,
                                                bool& converged) {
  const auto n = static_cast<unsigned>(start.size());
  std::unique_ptr<nlopt_opt_s, NloptDeleter> opt(nlopt_create(NLOPT_LD_LBFGS, n));
  std::vector<double> low, high;
  for (const auto& slot : objective.shape->slots) {
    low.push_back(kQParamBounds[slot.params.front()].low);
    high.push_back(kQParamBounds[slot.params.front()].high);
  }
  nlopt_set_lower_bounds(opt.get(), low.data());
  nlopt_set_upper_bounds(opt.get(), high.data());
  nlopt_set_max_objective(opt.get(), nlopt_objective, const_cast<Objective*>(&objective));
  nlopt_set_ftol_rel(opt.get(), 1e-12);
  nlopt_set_xtol_rel(opt.get(), 1e-9);
  nlopt_set_maxeval(opt.get(), 3000);
  double best = -std::numeric_limits<double>::infinity();
  const nlopt_result result = nlopt_optimize(opt.get(), start.data(), &best);
  converged = result > 0;
  if (result < 0) best = -std::numeric_limits<double>::infinity();
  return {start, best};
}

// Starting points: the presets' values first, then draws over the plausible range of each parameter.
std::vector<double> start_point(const ModelShape& shape, int index, Rng& rng) {
  std::vector<double> x;
  for (const auto& slot : shape.slots) {
    const QParam p = slot.params.front();
    if (index == 0) {
      const QParams preset{0.5, 0.3, 5.0, 0.1, 0.2, 0.02, 0.5};
      x.push_back(preset[p]);
      continue;
    }
    constexpr std::array<QBound, kQParamCount> kPlausible{QBound{0.05, 0.95}, QBound{0.05, 0.95}, QBound{0.5, 15.0},
                                                          QBound{0.0, 0.5},   QBound{-1.0, 1.0},  QBound{0.005, 0.2},
                                                          QBound{-1.0, 1.5}};
    x.push_back(kPlausible[p].low + uniform01(rng) * (kPlausible[p].high - kPlausible[p].low));
  }
  return x;
}

// Standard errors from the inverse of the negative Hessian (central differences of the analytic gradient) over the
// slots that are not at a bound.
std::vector<std::optional<double>> standard_errors(const Objective& objective, const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<std::size_t> interior;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& bound = kQParamBounds[objective.shape->slots[i].params.front()];
    const double margin = 1e-4 * (bound.high - bound.low);
    if (x[i] > bound.low + margin && x[i] < bound.high - margin) interior.push_back(i);
  }
  std::vector<std::optional<double>> se(n);
  if (interior.empty()) return se;
  const auto gradient_at = [&](const std::vector<double>& point) {
    QParams g{};
    q_loglik(objective.trials, expand(*objective.shape, point), &g);
    return slot_gradient(*objective.shape, g);
  };
  const std::size_t m = interior.size();
  Eigen::MatrixXd hessian(m, m);
  for (std::size_t a = 0; a < m; ++a) {
    const std::size_t i = interior[a];
    const auto& bound = kQParamBounds[objective.shape->slots[i].params.front()];
    const double h = 1e-5 * (bound.high - bound.low);
    auto up = x, down = x;
    up[i] += h;
    down[i] -= h;
    const auto g_up = gradient_at(up), g_down = gradient_at(down);
    for (std::size_t b = 0; b < m; ++b) hessian(a, b) = (g_up[interior[b]] - g_down[interior[b]]) / (2 * h);
  }
  hessian = 0.5 * (hessian + hessian.transpose()).eval();
  const Eigen::MatrixXd information = -hessian;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(information);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive()) return se;
  const Eigen::MatrixXd covariance =
      ldlt.solve(Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(m)));
  for (std::size_t a = 0; a < m; ++a) {
    const double variance = covariance(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(a));
    if (variance > 0 && std::isfinite(variance)) se[interior[a]] = std::sqrt(variance);
  }
  return se;
}

// The best of options.starts maximizations (no cross-validation, no standard errors).
std::pair<std::vector<double>, double> best_fit(std::span<const TrialRecord> trials, const ModelShape& shape,
                                                const QFitOptions& options, bool& converged) {
  const Objective objective{trials, &shape};
  Rng rng = derive_rng(options.seed, 21, 0);
  std::vector<double> best_x;
  double best = -std::numeric_limits<double>::infinity();
  converged = false;
  for (int start = 0; start < std::max(1, options.starts); ++start) {
    bool ok = false;
    auto [x, loglik] = maximize(objective, start_point(shape, start, rng), ok);
    if (loglik > best) {
      best = loglik;
      best_x = std::move(x);
      converged = ok;
    }
  }
  if (best_x.empty()) best_x = start_point(shape, 0, rng);
  return {best_x, best};
}

}  // namespace

AgentParams agent_params_of(const QParams& p) {
  AgentParams agent;
  agent.learning_rate_controllable = p[kLearningRateControllable];
  agent.learning_rate_distractor = p[kLearningRateDistractor];
  agent.inverse_temperature = p[kInverseTemperature];
  agent.forgetting_rate = p[kForgettingRate];
  agent.perseveration = p[kPerseveration];
  agent.lapse_rate = p[kLapseRate];
  agent.miss_rate = 0.0;
  agent.controllable_weight = 1.0;
  agent.distractor_weight = p[kDistractorWeight];
  return agent;
}

double q_loglik(std::span<const TrialRecord> trials, const QParams& params, QParams* gradient) {
  for (std::size_t p = 0; p < kQParamCount; ++p) {
    if (!(params[p] >= kQParamBounds[p].low && params[p] <= kQParamBounds[p].high)) {
      throw std::invalid_argument(std::string("Q model parameter ") + kQParamNames[p] + " = " +
                                  std::to_string(params[p]) + " is outside its range");
    }
  }
  const double alpha_c = params[kLearningRateControllable], alpha_d = params[kLearningRateDistractor];
  const double beta = params[kInverseTemperature], forget = params[kForgettingRate];
  const double perseveration = params[kPerseveration], lapse = params[kLapseRate];
  const double weight_d = params[kDistractorWeight];
  // Values of each flavour for [left, right], and their derivatives with respect to every parameter.
  std::array<double, 2> qc{}, qd{};
  std::array<QParams, 2> dqc{}, dqd{};
  int previous_sign = 0;
  double loglik = 0.0;
  QParams total{};
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const TrialRecord& t = trials[i];
    if (i == 0 || t.session_id != trials[i - 1].session_id) {
      qc = qd = {0.0, 0.0};
      dqc = dqd = {};
      previous_sign = 0;
    }
    const auto sign = choice_sign(t.choice);
    if (!sign) continue;  // a miss teaches nothing
    const std::size_t chosen = *sign > 0 ? 1 : 0;
    if (t.free_choice) {
      const double difference = (qc[1] + qd[1]) - (qc[0] + qd[0]);
      const double z = beta * difference + perseveration * previous_sign;
      const double sigma = 1.0 / (1.0 + std::exp(-z));
      const double p_right = std::clamp(0.5 * lapse + (1.0 - lapse) * sigma, kMinProbability, 1.0 - kMinProbability);
      const double p_choice = chosen == 1 ? p_right : 1.0 - p_right;
      loglik += std::log(p_choice);
      if (gradient) {
        // d log P(choice) = (+-1 / P(choice)) dP(right).
        const double outer = (chosen == 1 ? 1.0 : -1.0) / p_choice;
        const double dp_dz = (1.0 - lapse) * sigma * (1.0 - sigma);
        for (std::size_t p = 0; p < kQParamCount; ++p) {
          double dz = beta * ((dqc[1][p] + dqd[1][p]) - (dqc[0][p] + dqd[0][p]));
          if (p == kInverseTemperature) dz += difference;
          if (p == kPerseveration) dz += previous_sign;
          double dp = dp_dz * dz;
          if (p == kLapseRate) dp += 0.5 - sigma;
          total[p] += outer * dp;
        }
      }
    }
    const double reward_c = t.controllable_delivered ? 1.0 : 0.0;
    const double reward_d = t.distractor_delivered ? weight_d : 0.0;
    const std::size_t other = 1 - chosen;
    if (gradient) {
      for (std::size_t p = 0; p < kQParamCount; ++p) {
        dqc[chosen][p] *= 1.0 - alpha_c;
        dqd[chosen][p] *= 1.0 - alpha_d;
        dqc[other][p] *= 1.0 - forget;
        dqd[other][p] *= 1.0 - forget;
      }
      dqc[chosen][kLearningRateControllable] += reward_c - qc[chosen];
      dqd[chosen][kLearningRateDistractor] += reward_d - qd[chosen];
      if (t.distractor_delivered) dqd[chosen][kDistractorWeight] += alpha_d;
      dqc[other][kForgettingRate] -= qc[other];
      dqd[other][kForgettingRate] -= qd[other];
    }
    qc[chosen] += alpha_c * (reward_c - qc[chosen]);
    qd[chosen] += alpha_d * (reward_d - qd[chosen]);
    qc[other] *= 1.0 - forget;
    qd[other] *= 1.0 - forget;
    previous_sign = *sign;
  }
  if (gradient) *gradient = total;
  return loglik;
}

QFit fit_q_model(std::span<const TrialRecord> trials, QModelKind kind, const QFitOptions& options) {
  QFit fit;
  fit.kind = kind;
  for (const auto& t : trials) fit.n_choices += t.free_choice && t.choice != Choice::kMiss ? 1 : 0;
  if (fit.n_choices == 0) throw std::invalid_argument("no free choice to fit the Q model to");
  const ModelShape shape = shape_of(kind);
  const auto [x, loglik] = best_fit(trials, shape, options, fit.converged);
  fit.params = expand(shape, x);
  fit.loglik = loglik;
  fit.starts = std::max(1, options.starts);
  const auto se = standard_errors(Objective{trials, &shape}, x);
  for (std::size_t i = 0; i < shape.slots.size(); ++i) {
    for (const QParam p : shape.slots[i].params) {
      fit.free[p] = true;
      fit.se[p] = se[i];
    }
  }
  const double k = static_cast<double>(shape.slots.size());
  fit.bic = k * std::log(static_cast<double>(fit.n_choices)) - 2.0 * loglik;

  // Leave one session out: fit the others, score the held-out one from fresh values.
  std::vector<std::pair<std::size_t, std::size_t>> sessions;  // [begin, end)
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (i == 0 || trials[i].session_id != trials[i - 1].session_id) sessions.push_back({i, i});
    sessions.back().second = i + 1;
  }
  if (options.cross_validate && sessions.size() >= 2) {
    double held_out = 0.0;
    for (const auto& [begin, end] : sessions) {
      std::vector<TrialRecord> rest(trials.begin(), trials.begin() + static_cast<std::ptrdiff_t>(begin));
      rest.insert(rest.end(), trials.begin() + static_cast<std::ptrdiff_t>(end), trials.end());
      bool ok = false;
      QFitOptions inner = options;
      inner.starts = std::min(options.starts, 2);
      const auto [x_rest, unused] = best_fit(rest, shape, inner, ok);
      (void)unused;
      held_out += q_loglik(trials.subspan(begin, end - begin), expand(shape, x_rest));
    }
    fit.cv_loglik = held_out;
  }
  return fit;
}

}  // namespace rig::analysis
