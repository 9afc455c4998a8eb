// A simulated head-fixed mouse that turns the wheel of a simulated board. At each go cue onset it asks a
// Chooser for left, right or miss, then turns the wheel like a mouse: a reaction time, a smooth movement well
// past any plausible threshold (one encoder tick at a time, spaced in time), a pause while it drinks, and a
// slow return drift. Between trials it fidgets a little, which makes the firmware restart its quiescence wait.
// It learns only what a mouse could learn: which flavours flowed after its choice (Chooser::observe).
// Host-only C++20. Deterministic in simulated time: all randomness comes from the seed, no wall clock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "host/sim/sim_board.hpp"

namespace rig::sim {

// What the mouse does at a go cue.
enum class Choice : uint8_t { kLeft = 0, kRight = 1, kMiss = 2 };

// The mouse's decision model, asked at each go cue with what the rig shows (the one side an instructed trial
// offers). Called on the thread that runs the mouse.
class Chooser {
 public:
  virtual ~Chooser() = default;
  // Decides at a go cue onset. `offered` is the only side the rig offers on an instructed trial (nullopt: a
  // free choice), as a mouse sees it on a real rig; a mouse that attends takes it.
  virtual Choice choose(std::optional<Choice> offered) = 0;
  // What followed `choice`: whether cherry and grape were delivered. Called once per choose(), in order,
  // after the valves opened by that trial have closed (a miss is observed at the next cue at the latest).
  virtual void observe(Choice choice, bool cherry, bool grape) = 0;
};

// Chooses at random, learns nothing, ignores what the rig offers: right with probability p_right among the
// responses, and no response with probability p_miss.
class RandomChooser final : public Chooser {
 public:
  // Throws std::invalid_argument unless 0 <= p_right <= 1 and 0 <= p_miss <= 1.
  RandomChooser(uint64_t seed, double p_right, double p_miss);
  Choice choose(std::optional<Choice> offered) override;
  void observe(Choice, bool, bool) override {}

 private:
  std::mt19937_64 rng_;
  double p_right_;
  double p_miss_;
};

// A change of an output pin the mouse perceives: the go cue (sound/light) and the two spouts.
enum class MousePin : uint8_t { kCherry = 0, kGrape = 1, kCue = 2 };
struct PinChange {
  MousePin pin;
  bool high;
  uint64_t t_us;  // simulated time of the change
};

// The mouse's view of a board: its simulated clock, running its firmware, the wheel, and the output pins.
// Adapters exist for the simulated HAL (SimBoardMouseAdapter) and for simavr (host/sim/simavr).
class MouseBoard {
 public:
  virtual ~MouseBoard() = default;
  // Simulated time now, in microseconds.
  virtual uint64_t now_us() const = 0;
  // Runs the firmware until simulated time `t_us` (no-op if not in the future).
  virtual void run_until(uint64_t t_us) = 0;
  // Turns the wheel by one encoder tick now: `direction` +1 is rightward, -1 leftward.
  virtual void step_wheel(int direction) = 0;
  // Cue and valve pin changes since the last call, oldest first.
  virtual std::vector<PinChange> take_pin_changes() = 0;
  // The tongue touches (high) or leaves (low) spout 0 (cherry) or 1 (grape) now: the lick sensor's output.
  virtual void set_lick(uint8_t spout, bool high) = 0;
  // The only side the armed trial offers (an instructed trial), or nullopt (a free choice, or a board that
  // cannot tell).
  virtual std::optional<Choice> offered_side() const { return std::nullopt; }
};

// The mouse on a sim::SimBoard: installs the simulated HAL's cue and valve callbacks (replacing any others).
// Not thread-safe, like the board.
class SimBoardMouseAdapter final : public MouseBoard {
 public:
  explicit SimBoardMouseAdapter(SimBoard& board);
  ~SimBoardMouseAdapter() override;
  SimBoardMouseAdapter(const SimBoardMouseAdapter&) = delete;
  SimBoardMouseAdapter& operator=(const SimBoardMouseAdapter&) = delete;

  uint64_t now_us() const override { return board_.now_us(); }
  void run_until(uint64_t t_us) override { board_.run_until(t_us); }
  void step_wheel(int direction) override { board_.hal().move_wheel(direction > 0 ? 1 : -1); }
  void set_lick(uint8_t spout, bool high) override { board_.hal().set_lick(spout, high); }
  std::vector<PinChange> take_pin_changes() override;
  std::optional<Choice> offered_side() const override;

 private:
  SimBoard& board_;
  std::vector<PinChange> changes_;
};

// How the mouse moves. Durations in microseconds, distances in encoder ticks (4096 per revolution on the
// reference wheel), velocities in ticks per second.
struct MouseConfig {
  // Reaction time from the go cue to movement onset: lognormal with this median and log-standard deviation,
  // clipped to [reaction_min_us, reaction_max_us].
  uint32_t reaction_median_us = 250000;
  double reaction_log_sd = 0.3;
  uint32_t reaction_min_us = 120000;
  uint32_t reaction_max_us = 1200000;
  // Movement amplitude, uniform in [min, max]: the mouse does not know the threshold, it turns far enough
  // (1.5-3x a typical 30 degree threshold of ~340 ticks).
  uint32_t amplitude_min_ticks = 520;
  uint32_t amplitude_max_ticks = 1000;
  // Peak velocity of the (minimum-jerk) movement: lognormal with this median and log-sd, at most the max.
  double peak_velocity_median_ticks_per_s = 8192;  // 2 rev/s
  double peak_velocity_log_sd = 0.25;
  double peak_velocity_max_ticks_per_s = 16384;  // 4 rev/s
  // After the movement the mouse holds still (drinking) for a time uniform in [hold_min_us, hold_max_us],
  // then drifts back by a fraction of the movement, uniform in [return_fraction_min, return_fraction_max]
  // (at most 1: it never drifts past where it started).
  uint32_t hold_min_us = 300000;
  uint32_t hold_max_us = 700000;
  double return_fraction_min = 0.6;
  double return_fraction_max = 1.0;
  double return_peak_velocity_ticks_per_s = 2048;
  // Fidgets: a small twitch out and back (net zero), as a Poisson process at this rate while the mouse is
  // not responding; amplitude uniform in [min, max] ticks, far below any threshold. 0 turns them off.
  double fidget_rate_per_s = 0.5;
  uint32_t fidget_min_ticks = 3;
  uint32_t fidget_max_ticks = 30;
  double fidget_peak_velocity_ticks_per_s = 1500;
  // The mouse observes what flowed once this long has passed after its movement ended (and every valve is
  // closed again), or after a miss this long after the cue; at the next cue at the latest.
  uint32_t observe_after_move_us = 600000;
  uint32_t observe_after_miss_us = 2500000;
  // Licking. After a delivery the mouse licks that spout (with probability consume_probability): the first
  // contact after a lognormal latency (median, log-sd), then a bout at lick_rate_hz (each interval jittered
  // by +-15%) for a time uniform in [bout_min_us, bout_max_us], each contact lick_contact_us long.
  // Otherwise it licks a random spout now and then (a Poisson process at spontaneous_lick_rate_per_s).
  double consume_probability = 0.97;
  uint32_t lick_latency_median_us = 200000;
  double lick_latency_log_sd = 0.35;
  double lick_rate_hz = 7.0;
  uint32_t bout_min_us = 800000;
  uint32_t bout_max_us = 2000000;
  uint32_t lick_contact_us = 40000;
  double spontaneous_lick_rate_per_s = 0.1;
};

// What the mouse has done so far.
struct MouseStats {
  uint64_t cues = 0;          // go cue onsets seen
  uint64_t lefts = 0;         // choices, by the chooser's answer
  uint64_t rights = 0;
  uint64_t misses = 0;
  uint64_t observations = 0;  // Chooser::observe calls
  uint64_t fidgets = 0;
  uint64_t steps = 0;         // wheel ticks turned
  uint64_t licks = 0;         // tongue contacts (onsets), both spouts
  int64_t position_ticks = 0; // net wheel position since the start
};

// The seed for a mouse's movements when its chooser is seeded with `seed`: a different random stream, so one
// user-given seed can drive both.
constexpr uint64_t movement_seed(uint64_t seed) { return seed ^ 0x27D4EB2F165667C5ull; }

// Not thread-safe: call from the one thread that owns the board.
class SimMouse {
 public:
  // Throws std::invalid_argument for a config whose ranges are empty or inverted, or a null chooser.
  SimMouse(MouseBoard& board, std::unique_ptr<Chooser> chooser, const MouseConfig& config, uint64_t seed);

  // Runs the board until simulated time `t_us`, turning the wheel as planned and reacting to go cues and
  // deliveries as the board reports them (within kPerceptionUs of when they happen).
  void run_until(uint64_t t_us);

  const MouseStats& stats() const { return stats_; }
  Chooser& chooser() { return *chooser_; }
  const MouseConfig& config() const { return config_; }

  // The board is run in chunks no longer than this, so the mouse perceives pins this late at most.
  static constexpr uint64_t kPerceptionUs = 1000;

 private:
  struct Step {
    uint64_t t_us;
    int8_t direction;
  };
  // The trial whose outcome the mouse is waiting to see.
  struct Pending {
    Choice choice;
    uint64_t observe_at_us;  // when the outcome counts as known, once no valve is open
    bool cherry = false;
    bool grape = false;
  };

  void on_pin(const PinChange& change);
  void on_cue(uint64_t t_us);
  void finish_observation();
  // Appends a minimum-jerk movement of `ticks` (sign = direction) single-tick steps starting at t0_us with
  // the given peak velocity; returns its end time.
  uint64_t plan_movement(uint64_t t0_us, int32_t ticks, double peak_ticks_per_s);
  void maybe_fidget(uint64_t now_us);
  // Plans a bout of licks on `spout` from `start_us`, after any contact already planned there.
  void plan_bout(uint8_t spout, uint64_t start_us);
  void plan_lick(uint8_t spout, uint64_t on_us);
  void maybe_lick_spontaneously(uint64_t now_us);
  void draw_next_spontaneous_lick(uint64_t from_us);
  void draw_next_fidget(uint64_t from_us);
  uint64_t next_wake_us(uint64_t now_us, uint64_t limit_us) const;
  double uniform(double lo, double hi);
  uint32_t uniform_ticks(uint32_t lo, uint32_t hi);
  int coin_direction();

  MouseBoard& board_;
  std::unique_ptr<Chooser> chooser_;
  MouseConfig config_;
  std::mt19937_64 rng_;
  std::deque<Step> plan_;            // future wheel steps, in time order
  struct LickStep {
    uint8_t spout;
    bool high;
  };
  std::multimap<uint64_t, LickStep> licks_;  // future tongue contacts and releases, by time
  uint64_t lick_free_at_us_[2] = {0, 0};     // the last release planned on each spout
  uint64_t next_spontaneous_us_ = UINT64_MAX;
  std::mt19937_64 lick_rng_;                 // its own stream: licking leaves the wheel's draws as they were
  uint64_t busy_until_us_ = 0;       // no fidget before this (responding, drinking, drifting back)
  uint64_t next_fidget_us_ = UINT64_MAX;
  std::optional<Pending> pending_;
  bool valve_open_[2] = {false, false};
  MouseStats stats_;
};

}  // namespace rig::sim
