// Model-based fits (docs/analysis.md, "Q-learning models"): the simulated mice's model (agents.hpp) fitted to a
// subject's choices by maximum likelihood, so that simulation and fitting share one model.
//
//   Qc(chosen) += learning_rate_controllable * ([controllable delivered] - Qc(chosen))
//   Qd(chosen) += learning_rate_distractor * (distractor_weight * [distractor delivered] - Qd(chosen))
//   Qc(unchosen), Qd(unchosen) *= 1 - forgetting_rate
//   P(right) = lapse_rate / 2 + (1 - lapse_rate) * sigmoid(inverse_temperature * (Q(right) - Q(left))
//                                                             + perseveration * s(previous choice))
//
// with Q = Qc + Qd (controllable_weight is 1: the inverse temperature sets the scale). Values start at 0 at
// every session; free choices are the likelihood's data; instructed trials teach (as the agents learn from
// them) but their forced choice is not data; misses teach nothing and are skipped.
//
// Pure computation; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/analysis/agents.hpp"
#include "host/analysis/trial_record.hpp"
#include "host/model/names.hpp"

namespace rig::analysis {

// q-mixed: every parameter free; q-naive: one learning rate for both flavours and the distractor worth a
// controllable reward (structure-naive); q-savvy: the distractor teaches nothing (learning_rate_distractor 0).
enum class QModelKind { kMixed, kNaive, kSavvy };
inline constexpr model::Named<QModelKind> kQModelNames[] = {
    {"q-mixed", QModelKind::kMixed}, {"q-naive", QModelKind::kNaive}, {"q-savvy", QModelKind::kSavvy}};

// The model's parameters, by index; names as the agent YAML keys them.
enum QParam : std::size_t {
  kLearningRateControllable,
  kLearningRateDistractor,
  kInverseTemperature,
  kForgettingRate,
  kPerseveration,
  kLapseRate,
  kDistractorWeight,
  kQParamCount
};
inline constexpr std::array<const char*, kQParamCount> kQParamNames{"learning_rate_controllable",
                                                                    "learning_rate_distractor",
                                                                    "inverse_temperature",
                                                                    "forgetting_rate",
                                                                    "perseveration",
                                                                    "lapse_rate",
                                                                    "distractor_weight"};
using QParams = std::array<double, kQParamCount>;

// The agent with these parameters (controllable_weight 1, no misses). Pure.
AgentParams agent_params_of(const QParams& params);

// The log-likelihood of `trials`' free choices under `params` (natural log), and its gradient with respect to
// every parameter when `gradient` is given (analytic: values and their derivatives carried trial by trial).
// Pure; thread-safe. Throws std::invalid_argument for a parameter outside its range (kQParamBounds).
double q_loglik(std::span<const TrialRecord> trials, const QParams& params, QParams* gradient = nullptr);

// The range each parameter is fitted within.
struct QBound {
  double low, high;
};
inline constexpr std::array<QBound, kQParamCount> kQParamBounds{QBound{0.0, 1.0}, QBound{0.0, 1.0},  QBound{0.0, 50.0},
                                                                QBound{0.0, 1.0}, QBound{-5.0, 5.0}, QBound{0.0, 0.5},
                                                                QBound{-3.0, 3.0}};

struct QFitOptions {
  int starts = 6;  // multi-start: the first from the presets' values, the rest drawn from the seed
  std::uint64_t seed = 1;
  bool cross_validate = true;  // leave-one-session-out (needs two sessions)
};

struct QFit {
  QModelKind kind = QModelKind::kMixed;
  QParams params{};                                      // every parameter (the fixed ones at their model's values)
  std::array<bool, kQParamCount> free{};                 // which were fitted
  std::array<std::optional<double>, kQParamCount> se{};  // free ones, from the inverse Hessian; nullopt at a bound
  double loglik = 0.0;
  std::size_t n_choices = 0;        // free choices in the likelihood
  double bic = 0.0;                 // k ln(n) - 2 loglik
  std::optional<double> cv_loglik;  // the held-out sessions' log-likelihood, summed
  int starts = 0;
  bool converged = false;
};

// Fits `kind` to `trials` by maximum likelihood (NLopt's bounded L-BFGS from options.starts starting points, the
// best kept). Pure; thread-safe. Throws std::invalid_argument when there is no free choice to fit.
QFit fit_q_model(std::span<const TrialRecord> trials, QModelKind kind, const QFitOptions& options = {});

}  // namespace rig::analysis
