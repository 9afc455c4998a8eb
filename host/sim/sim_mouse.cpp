#include "host/sim/sim_mouse.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rig::sim {

namespace {

// Minimum-jerk position profile: 0 at s = 0, 1 at s = 1, zero velocity and acceleration at both ends.
double min_jerk(double s) { return s * s * s * (10.0 + s * (-15.0 + 6.0 * s)); }
// Peak velocity of the profile over a unit distance and unit duration.
constexpr double kMinJerkPeak = 1.875;

// The s in [0, 1] at which min_jerk(s) = fraction.
double min_jerk_inverse(double fraction) {
  double lo = 0.0;
  double hi = 1.0;
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (lo + hi);
    (min_jerk(mid) < fraction ? lo : hi) = mid;
  }
  return hi;
}

void require(bool condition, const char* what) {
  if (!condition) throw std::invalid_argument(std::string("SimMouse: ") + what);
}

// The next event of a Poisson process at `rate_per_s` after `from_us` (never at from_us itself), drawn from
// `rng`; UINT64_MAX when the rate is 0.
uint64_t next_poisson_event_us(double rate_per_s, uint64_t from_us, std::mt19937_64& rng) {
  if (rate_per_s <= 0.0) return UINT64_MAX;
  const double wait_s = std::exponential_distribution<double>(rate_per_s)(rng);
  return from_us + 1 + static_cast<uint64_t>(wait_s * 1e6);
}

}  // namespace

RandomChooser::RandomChooser(uint64_t seed, double p_right, double p_miss)
    : rng_(seed), p_right_(p_right), p_miss_(p_miss) {
  if (!(p_right >= 0.0 && p_right <= 1.0)) throw std::invalid_argument("RandomChooser: p_right must be in [0, 1]");
  if (!(p_miss >= 0.0 && p_miss <= 1.0)) throw std::invalid_argument("RandomChooser: p_miss must be in [0, 1]");
}

// A random chooser does not attend to the offer: its draws stay those of its seed whatever the trials.
Choice RandomChooser::choose(std::optional<Choice> /*offered*/) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  if (u(rng_) < p_miss_) return Choice::kMiss;
  return u(rng_) < p_right_ ? Choice::kRight : Choice::kLeft;
}

SimBoardMouseAdapter::SimBoardMouseAdapter(SimBoard& board) : board_(board) {
  board_.hal().on_cue([this](uint8_t, bool on, uint64_t t_us) { changes_.push_back({MousePin::kCue, on, t_us}); });
  board_.hal().on_valve([this](const hal::SimValvePulse& pulse) {
    const auto pin = pulse.valve == 0 ? MousePin::kCherry : MousePin::kGrape;
    if (pulse.close_us == 0) {
      changes_.push_back({pin, true, pulse.open_us});
    } else {
      changes_.push_back({pin, false, pulse.close_us});
    }
  });
}

SimBoardMouseAdapter::~SimBoardMouseAdapter() {
  board_.hal().on_cue(nullptr);
  board_.hal().on_valve(nullptr);
}

std::optional<Choice> SimBoardMouseAdapter::offered_side() const {
  const auto kind = static_cast<wire::TrialKind>(board_.device().executor().armed_trial_kind());
  if (kind == wire::TrialKind::kInstructedLeft) return Choice::kLeft;
  if (kind == wire::TrialKind::kInstructedRight) return Choice::kRight;
  return std::nullopt;
}

std::vector<PinChange> SimBoardMouseAdapter::take_pin_changes() {
  std::vector<PinChange> out;
  out.swap(changes_);
  return out;
}

SimMouse::SimMouse(MouseBoard& board, std::unique_ptr<Chooser> chooser, const MouseConfig& config, uint64_t seed)
    : board_(board), chooser_(std::move(chooser)), config_(config), rng_(seed), lick_rng_(seed ^ 0x9E3779B97F4A7C15ull) {
  require(chooser_ != nullptr, "a chooser is required");
  require(config.reaction_median_us > 0 && config.reaction_log_sd >= 0.0, "reaction time median must be > 0");
  require(config.reaction_min_us <= config.reaction_max_us, "reaction_min_us > reaction_max_us");
  require(config.amplitude_min_ticks >= 1 && config.amplitude_min_ticks <= config.amplitude_max_ticks,
          "amplitude range must be 1 <= min <= max");
  require(config.peak_velocity_median_ticks_per_s > 0 && config.peak_velocity_max_ticks_per_s > 0 &&
              config.peak_velocity_log_sd >= 0.0 && config.return_peak_velocity_ticks_per_s > 0 &&
              config.fidget_peak_velocity_ticks_per_s > 0,
          "velocities must be > 0");
  require(config.hold_min_us <= config.hold_max_us, "hold_min_us > hold_max_us");
  require(config.return_fraction_min >= 0.0 && config.return_fraction_min <= config.return_fraction_max &&
              config.return_fraction_max <= 1.0,
          "return fractions must be 0 <= min <= max <= 1");
  require(config.fidget_rate_per_s >= 0.0, "fidget rate must be >= 0");
  require(config.fidget_min_ticks >= 1 && config.fidget_min_ticks <= config.fidget_max_ticks,
          "fidget range must be 1 <= min <= max");
  require(config.consume_probability >= 0.0 && config.consume_probability <= 1.0, "consume_probability must be in [0, 1]");
  require(config.lick_rate_hz > 0.0 && config.lick_contact_us > 0 && config.lick_contact_us * config.lick_rate_hz < 0.8e6,
          "lick_contact_us must leave the tongue off between licks at lick_rate_hz");
  require(config.bout_min_us <= config.bout_max_us, "bout range must be min <= max");
  require(config.lick_latency_median_us > 0, "lick latency median must be > 0");
  require(config.spontaneous_lick_rate_per_s >= 0.0, "spontaneous lick rate must be >= 0");
  draw_next_fidget(board_.now_us());
  draw_next_spontaneous_lick(board_.now_us());
}

void SimMouse::draw_next_spontaneous_lick(uint64_t from_us) {
  next_spontaneous_us_ = next_poisson_event_us(config_.spontaneous_lick_rate_per_s, from_us, lick_rng_);
}

void SimMouse::plan_lick(uint8_t spout, uint64_t on_us) {
  on_us = std::max(on_us, lick_free_at_us_[spout] + 1);
  const uint64_t off_us = on_us + config_.lick_contact_us;
  licks_.emplace(on_us, LickStep{spout, true});
  licks_.emplace(off_us, LickStep{spout, false});
  lick_free_at_us_[spout] = off_us;
}

void SimMouse::plan_bout(uint8_t spout, uint64_t start_us) {
  const double period_us = 1e6 / config_.lick_rate_hz;
  const uint64_t duration = std::uniform_int_distribution<uint32_t>(config_.bout_min_us, config_.bout_max_us)(lick_rng_);
  std::uniform_real_distribution<double> jitter(0.85, 1.15);
  // A bout continues from where a running one on this spout ends.
  uint64_t t = std::max(start_us, lick_free_at_us_[spout] + static_cast<uint64_t>(period_us) - config_.lick_contact_us);
  const uint64_t end = t + duration;
  while (t < end) {
    plan_lick(spout, t);
    t += static_cast<uint64_t>(period_us * jitter(lick_rng_));
  }
}

void SimMouse::maybe_lick_spontaneously(uint64_t now_us) {
  if (now_us < next_spontaneous_us_) return;
  const uint8_t spout = std::bernoulli_distribution(0.5)(lick_rng_) ? 1 : 0;
  if (lick_free_at_us_[spout] < now_us) plan_lick(spout, now_us);
  draw_next_spontaneous_lick(now_us);
}

double SimMouse::uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }

uint32_t SimMouse::uniform_ticks(uint32_t lo, uint32_t hi) {
  return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_);
}

int SimMouse::coin_direction() { return std::bernoulli_distribution(0.5)(rng_) ? 1 : -1; }

void SimMouse::run_until(uint64_t t_us) {
  for (;;) {
    for (const PinChange& change : board_.take_pin_changes()) on_pin(change);
    const uint64_t now = board_.now_us();
    while (!plan_.empty() && plan_.front().t_us <= now) {
      board_.step_wheel(plan_.front().direction);
      stats_.position_ticks += plan_.front().direction;
      ++stats_.steps;
      plan_.pop_front();
    }
    while (!licks_.empty() && licks_.begin()->first <= now) {
      const LickStep step = licks_.begin()->second;
      board_.set_lick(step.spout, step.high);
      if (step.high) ++stats_.licks;
      licks_.erase(licks_.begin());
    }
    if (pending_ && now >= pending_->observe_at_us && !valve_open_[0] && !valve_open_[1]) finish_observation();
    maybe_fidget(now);
    maybe_lick_spontaneously(now);
    if (now >= t_us) return;
    board_.run_until(next_wake_us(now, t_us));
  }
}

uint64_t SimMouse::next_wake_us(uint64_t now_us, uint64_t limit_us) const {
  uint64_t wake = std::min(limit_us, now_us + kPerceptionUs);
  if (!plan_.empty()) wake = std::min(wake, plan_.front().t_us);
  if (next_fidget_us_ > now_us) wake = std::min(wake, next_fidget_us_);
  if (pending_ && pending_->observe_at_us > now_us) wake = std::min(wake, pending_->observe_at_us);
  if (!licks_.empty()) wake = std::min(wake, std::max(now_us + 1, licks_.begin()->first));
  if (next_spontaneous_us_ > now_us) wake = std::min(wake, next_spontaneous_us_);
  return wake;
}

void SimMouse::on_pin(const PinChange& change) {
  if (change.pin == MousePin::kCue) {
    if (change.high) on_cue(change.t_us);
    return;
  }
  const bool cherry = change.pin == MousePin::kCherry;
  valve_open_[cherry ? 0 : 1] = change.high;
  if (change.high && pending_) (cherry ? pending_->cherry : pending_->grape) = true;
  if (change.high && std::bernoulli_distribution(config_.consume_probability)(lick_rng_)) {
    const double latency = std::lognormal_distribution<double>(std::log(config_.lick_latency_median_us),
                                                                config_.lick_latency_log_sd)(lick_rng_);
    plan_bout(cherry ? 0 : 1, change.t_us + static_cast<uint64_t>(std::clamp(latency, 60000.0, 800000.0)));
  }
}

void SimMouse::on_cue(uint64_t t_us) {
  ++stats_.cues;
  if (pending_) finish_observation();
  // A mouse that attends to the cue stops whatever twitch or drift it was in.
  plan_.clear();
  const Choice choice = chooser_->choose(board_.offered_side());
  if (choice == Choice::kMiss) {
    ++stats_.misses;
    pending_ = Pending{choice, t_us + config_.observe_after_miss_us};
    busy_until_us_ = t_us + config_.reaction_max_us;
    draw_next_fidget(busy_until_us_);
    return;
  }
  ++(choice == Choice::kRight ? stats_.rights : stats_.lefts);
  const int direction = choice == Choice::kRight ? 1 : -1;

  std::lognormal_distribution<double> reaction(std::log(static_cast<double>(config_.reaction_median_us)),
                                               config_.reaction_log_sd);
  const double reaction_us = std::clamp(reaction(rng_), static_cast<double>(config_.reaction_min_us),
                                        static_cast<double>(config_.reaction_max_us));
  const uint32_t amplitude = uniform_ticks(config_.amplitude_min_ticks, config_.amplitude_max_ticks);
  std::lognormal_distribution<double> velocity(std::log(config_.peak_velocity_median_ticks_per_s),
                                               config_.peak_velocity_log_sd);
  const double peak = std::min(velocity(rng_), config_.peak_velocity_max_ticks_per_s);
  const uint64_t moved_us =
      plan_movement(t_us + static_cast<uint64_t>(reaction_us), direction * static_cast<int32_t>(amplitude), peak);

  const uint64_t hold_us = static_cast<uint64_t>(uniform(config_.hold_min_us, config_.hold_max_us));
  const auto back = static_cast<int32_t>(
      std::lround(amplitude * uniform(config_.return_fraction_min, config_.return_fraction_max)));
  busy_until_us_ = plan_movement(moved_us + hold_us, -direction * back, config_.return_peak_velocity_ticks_per_s);
  pending_ = Pending{choice, moved_us + config_.observe_after_move_us};
  draw_next_fidget(busy_until_us_);
}

void SimMouse::finish_observation() {
  chooser_->observe(pending_->choice, pending_->cherry, pending_->grape);
  ++stats_.observations;
  pending_.reset();
}

uint64_t SimMouse::plan_movement(uint64_t t0_us, int32_t ticks, double peak_ticks_per_s) {
  const uint32_t n = static_cast<uint32_t>(std::abs(ticks));
  if (n == 0) return t0_us;
  const double duration_us = kMinJerkPeak * n / peak_ticks_per_s * 1e6;
  const int8_t direction = ticks > 0 ? 1 : -1;
  uint64_t t_us = t0_us;
  for (uint32_t k = 1; k <= n; ++k) {
    // Never earlier than the previous step: rounding must not reorder the plan.
    t_us = std::max(t_us, t0_us + static_cast<uint64_t>(std::llround(duration_us * min_jerk_inverse(double(k) / n))));
    plan_.push_back(Step{t_us, direction});
  }
  return t_us;
}

void SimMouse::maybe_fidget(uint64_t now_us) {
  if (now_us < next_fidget_us_) return;
  if (now_us < busy_until_us_ || !plan_.empty()) {
    draw_next_fidget(std::max(busy_until_us_, now_us));
    return;
  }
  const int32_t ticks = coin_direction() * static_cast<int32_t>(uniform_ticks(config_.fidget_min_ticks, config_.fidget_max_ticks));
  const uint64_t out_us = plan_movement(now_us, ticks, config_.fidget_peak_velocity_ticks_per_s);
  busy_until_us_ = plan_movement(out_us, -ticks, config_.fidget_peak_velocity_ticks_per_s);
  ++stats_.fidgets;
  draw_next_fidget(busy_until_us_);
}

void SimMouse::draw_next_fidget(uint64_t from_us) {
  next_fidget_us_ = next_poisson_event_us(config_.fidget_rate_per_s, from_us, rng_);
}

}  // namespace rig::sim
