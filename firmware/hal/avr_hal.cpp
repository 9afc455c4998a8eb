#include "firmware/hal/avr_hal.hpp"

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>

namespace rig {
namespace hal {
namespace {

constexpr uint8_t kValveBits[2] = {_BV(PB5), _BV(PB6)};
constexpr uint8_t kCueBit = _BV(PB7);
// Valve mask (bit per valve) -> PORTB bits, so the interrupt path opens both valves with one write.
constexpr uint8_t kValvePortBits[4] = {0, _BV(PB5), _BV(PB6), _BV(PB5) | _BV(PB6)};
// The compare interrupt is raised this early and then waits for the exact tick, so whatever delays its entry
// (another interrupt running, a short masked section) never lengthens a pulse. 32 ticks = 16 us.
constexpr uint32_t kCloseEarlyTicks = 32;
// Cycles between the valve pin rising and the clock read that timestamps the opening, in ticks; calibrated
// with `rig-simavr-check bench` (pulse_error_us).
constexpr uint32_t kOpenToStampTicks = 6;

constexpr uint16_t kRxSize = 256;
constexpr uint16_t kTxSize = 256;

core::FastPath g_fast;
volatile uint32_t g_overflows = 0;
volatile uint32_t g_close_deadline[2] = {0, 0};
volatile uint8_t g_valve_open = 0;  // valve mask
volatile uint8_t g_close_armed = 0;  // valves whose close is scheduled
volatile uint8_t g_rx[kRxSize];
volatile uint8_t g_rx_head = 0;
volatile uint8_t g_rx_tail = 0;
volatile uint16_t g_rx_overruns = 0;
volatile uint8_t g_tx[kTxSize];
volatile uint8_t g_tx_head = 0;
volatile uint8_t g_tx_tail = 0;

inline void barrier() { __asm__ __volatile__("" ::: "memory"); }

// --- Pulse trains: compare unit A of Timer4 (sync, PH3 / OC4A) and of Timer5 (camera, PL3 / OC5A) ---
// TCCRnA COM modes: disconnected (the pin follows its PORT bit, which stays 0: low) or toggle on match. The level is
// known from the train's phase, so toggling makes each edge; the mode is disconnected only while a rising
// edge is more than a timer lap away. (Not "set"/"clear": simavr 1.6 re-applies those at every overflow and
// every OCR write of the timer, as in PWM mode, which would make edges of their own; toggle it leaves alone.)
constexpr uint8_t kComDisconnected = 0, kComToggle = 1;
constexpr uint8_t kSyncPinBit = _BV(PH3);    // OC4A
constexpr uint8_t kCameraPinBit = _BV(PL3);  // OC5A
// An edge is never scheduled closer than this to now (the compare needs the value written before the match).
constexpr int32_t kMinLeadTicks = 40;
constexpr int32_t kLapTicks = 65536;

enum TrainPhase : uint8_t { kTrainIdle, kTrainRise, kTrainFall };

struct Train {
  uint8_t phase;
  uint8_t armed;  // the compare makes the edge at its next match
  uint8_t pending_start;
  uint8_t interval_head, interval_tail;  // free-running; slot = index % kTrainIntervalSlots
  uint8_t rise_head, rise_tail;
  uint16_t lost;
  uint32_t deadline_ticks;  // the next edge, in Timer1 ticks (TCNT4 == TCNT1)
  uint32_t last_rise_ticks;
  uint32_t width_ticks;
  uint32_t pending_first_ticks, pending_width_ticks;
  uint32_t interval_ticks[kTrainIntervalSlots];
  uint32_t rise_ticks[kTrainRiseSlots];
};
// Touched by the compare interrupts and, with interrupts disabled, by the main loop.
Train g_train[kTrainCount];

// --- Lick inputs: the input capture units of Timer4 (ICP4, PL0, cherry) and Timer5 (ICP5, PL1, grape). The
// timer latches the edge's tick in hardware, so a capture is exact however late its interrupt runs; the
// interrupt flips the edge it waits for (ICES) after each one. ---
struct LickCapture {
  uint32_t ticks;
  uint8_t spout_level;  // bit 0 spout, bit 1 level
};
LickCapture g_licks[kLickEdgeSlots];
uint8_t g_lick_head = 0, g_lick_tail = 0;  // free-running; slot = index % kLickEdgeSlots
uint16_t g_licks_lost = 0;

// Timer1 ticks (0.5 us), 32 bits. Interrupts must be disabled.
inline uint32_t ticks_locked() {
  uint16_t t = TCNT1;
  uint32_t ovf = g_overflows;
  if ((TIFR1 & _BV(TOV1)) && t < 0x8000) ++ovf;  // an overflow is pending but not yet counted
  return (ovf << 16) | t;
}

// Device microseconds from the same reading: 2^15 us per overflow, so the us clock wraps at 2^32.
inline uint32_t us_locked() {
  uint16_t t = TCNT1;
  uint32_t ovf = g_overflows;
  if ((TIFR1 & _BV(TOV1)) && t < 0x8000) ++ovf;
  return (ovf << 15) + (t >> 1);
}

inline void close_valve_locked(uint8_t v) {
  g_close_armed &= static_cast<uint8_t>(~(1u << v));
  PORTB &= static_cast<uint8_t>(~kValveBits[v]);
  g_valve_open &= static_cast<uint8_t>(~(1u << v));
  TIMSK1 &= static_cast<uint8_t>(~(v == 0 ? _BV(OCIE1A) : _BV(OCIE1B)));
}

// Waits for the deadline tick, then closes valve v. Only called within kCloseEarlyTicks of the deadline.
inline void close_at_deadline_locked(uint8_t v) {
  const uint16_t deadline = static_cast<uint16_t>(g_close_deadline[v]);
  while (static_cast<int16_t>(deadline - TCNT1) > 0) {
  }
  close_valve_locked(v);
}

// Arms valve v's compare channel to close it `open_us` after `opened_ticks`. Interrupts disabled.
inline void schedule_close_locked(uint8_t v, uint32_t opened_ticks, uint32_t open_us) {
  const uint32_t deadline = opened_ticks + open_us * 2u - kOpenToStampTicks;
  g_close_deadline[v] = deadline;
  g_close_armed |= static_cast<uint8_t>(1u << v);
  const uint16_t wake = static_cast<uint16_t>(deadline - kCloseEarlyTicks);
  if (v == 0) {
    OCR1A = wake;
    TIFR1 = _BV(OCF1A);
    TIMSK1 |= _BV(OCIE1A);
  } else {
    OCR1B = wake;
    TIFR1 = _BV(OCF1B);
    TIMSK1 |= _BV(OCIE1B);
  }
  // A wake-up the counter already passed would otherwise wait a whole 32.8 ms lap.
  if (static_cast<int32_t>(ticks_locked() - (deadline - kCloseEarlyTicks)) >= 0) close_at_deadline_locked(v);
}

inline void open_locked(uint8_t valve_mask, const uint32_t* open_us) {
  PORTB |= kValvePortBits[valve_mask & 3];
  const uint32_t opened = ticks_locked();
  g_valve_open |= static_cast<uint8_t>(valve_mask & 3);
  for (uint8_t v = 0; v < 2; ++v) {
    if (valve_mask & (1u << v)) schedule_close_locked(v, opened, open_us[v]);
  }
}

inline void compare_match(uint8_t v) {
  // The 16-bit compare matches once per 32.8 ms lap; only the lap of the deadline closes the valve.
  if ((g_close_armed & (1u << v)) == 0) return;
  const int32_t remaining = static_cast<int32_t>(g_close_deadline[v] - ticks_locked());
  if (remaining > static_cast<int32_t>(2 * kCloseEarlyTicks)) return;
  close_at_deadline_locked(v);
}

// One reading of the clock (interrupts disabled), converted after interrupts are enabled again: the 32-bit
// shifts cost more than the reading.
struct ClockReading {
  uint32_t overflows;
  uint16_t tcnt;
};
inline ClockReading read_clock_locked() {
  ClockReading r;
  r.tcnt = TCNT1;
  r.overflows = g_overflows;
  if ((TIFR1 & _BV(TOV1)) && r.tcnt < 0x8000) ++r.overflows;
  return r;
}
inline uint32_t ticks_of(const ClockReading& r) { return (r.overflows << 16) | r.tcnt; }
inline uint32_t us_of(const ClockReading& r) { return (r.overflows << 15) + (r.tcnt >> 1); }

// Device microseconds of a past tick `then`, given a clock reading (within 2^31 ticks).
inline uint32_t us_of_ticks(uint32_t then, const ClockReading& now) {
  return us_of(now) - ((ticks_of(now) - then) >> 1);
}

// The helpers below are atomic: the train handlers run with interrupts enabled (an encoder edge must never
// wait for them), so the lick capture of the same timer may interrupt them, and it shares TIMSKn, the
// timer's 16-bit TEMP register and its flags. (Masking the timer's interrupts in TIMSKn instead would lose
// them in simavr 1.6, which never raises a flag that was set while its enable bit was clear.)
class Atomic {
 public:
  Atomic() : sreg_(SREG) { cli(); }
  ~Atomic() {
    barrier();
    SREG = sreg_;
  }

 private:
  uint8_t sreg_;
};

// Each train has a timer of its own (compare unit A of Timer4 for the sync line, of Timer5 for the camera):
// in simavr, writing one timer's OCR re-schedules all of that timer's compares, which made the other train's
// edges late or double when both shared Timer4.
inline volatile uint8_t& train_tccra(uint8_t line) { return line == kTrainSync ? TCCR4A : TCCR5A; }
inline volatile uint8_t& train_timsk(uint8_t line) { return line == kTrainSync ? TIMSK4 : TIMSK5; }

inline void set_com(uint8_t line, uint8_t mode) {
  Atomic atomic;
  volatile uint8_t& tccra = train_tccra(line);
  tccra = static_cast<uint8_t>((tccra & ~(3u << COM4A0)) | (mode << COM4A0));  // COM5A0 is the same bit
}

inline void enable_compare(uint8_t line, bool on) {
  Atomic atomic;
  if (on) {
    train_timsk(line) |= _BV(OCIE4A);  // OCIE5A is the same bit
  } else {
    train_timsk(line) &= static_cast<uint8_t>(~_BV(OCIE4A));
  }
}

// Timer1 ticks now, from any context.
inline uint32_t ticks_now() {
  Atomic atomic;
  return ticks_locked();
}

// Programs the compare for g_train[line]'s next edge, given the clock `now_ticks`. From the main loop with
// interrupts disabled (`clear_flag`: a match of an earlier OCR value may have raised the flag while the
// interrupt was off), or from that train's own handler (whose entry cleared the flag; and simavr 1.6 clears
// every flag of the timer, the lick capture's too, at any write to its TIFR).
inline void program_train(uint8_t line, uint32_t now_ticks, bool clear_flag) {
  Train& t = g_train[line];
  int32_t lead = static_cast<int32_t>(t.deadline_ticks - now_ticks);
  if (lead < kMinLeadTicks) {
    t.deadline_ticks = now_ticks + kMinLeadTicks;
    lead = kMinLeadTicks;
  }
  const uint8_t mode = t.phase == kTrainFall || lead < kLapTicks ? kComToggle : kComDisconnected;
  t.armed = mode != kComDisconnected;
  set_com(line, mode);
  // The pin changes as TCNTn moves past OCRnA: one tick before the edge. A stale match flag goes first, so a
  // match of the new value (even one a few ticks away) is never lost.
  const uint16_t ocr = static_cast<uint16_t>(t.deadline_ticks - 1);
  {
    Atomic atomic;
    if (line == kTrainSync) {
      if (clear_flag) TIFR4 = _BV(OCF4A);
      OCR4A = ocr;
    } else {
      if (clear_flag) TIFR5 = _BV(OCF5A);
      OCR5A = ocr;
    }
  }
  enable_compare(line, true);
}

inline void idle_train(uint8_t line) {
  Train& t = g_train[line];
  set_com(line, kComDisconnected);
  enable_compare(line, false);
  t.phase = kTrainIdle;
  t.armed = 0;
}

// Compare interrupt of `line`'s timer: an intermediate lap, or the edge the compare has just made. Runs with
// interrupts enabled: an encoder edge must never wait for this handler. (The same line's next match is at
// least a pulse width away, so the handler never nests in itself.)
inline void train_match(uint8_t line) {
  sei();
  Train& t = g_train[line];
  if (t.phase == kTrainIdle) {
  } else if (!t.armed) {
    if (static_cast<int32_t>(t.deadline_ticks - ticks_now()) < kLapTicks) {
      set_com(line, kComToggle);  // OCR already holds the deadline's low bits: the next match is the edge
      t.armed = 1;
    }
  } else if (t.phase == kTrainRise) {
    if (static_cast<uint8_t>(t.rise_head - t.rise_tail) >= kTrainRiseSlots) {
      ++t.lost;
    } else {
      t.rise_ticks[t.rise_head % kTrainRiseSlots] = t.deadline_ticks;
      ++t.rise_head;
    }
    t.last_rise_ticks = t.deadline_ticks;
    t.phase = kTrainFall;
    t.deadline_ticks += t.width_ticks;
    program_train(line, ticks_now(), false);
  } else {
    // The pulse has ended.
    bool next = true;
    if (t.pending_start) {
      t.pending_start = 0;
      t.width_ticks = t.pending_width_ticks;
      t.deadline_ticks = t.pending_first_ticks;
    } else if (t.interval_head != t.interval_tail) {
      t.deadline_ticks = t.last_rise_ticks + t.interval_ticks[t.interval_tail % kTrainIntervalSlots];
      ++t.interval_tail;
    } else {
      idle_train(line);
      next = false;
    }
    if (next) {
      t.phase = kTrainRise;
      program_train(line, ticks_now(), false);
    }
  }
}

inline void push_lick(uint32_t ticks, uint8_t spout, uint8_t level) {
  const uint8_t head = g_lick_head;
  if (static_cast<uint8_t>(head - g_lick_tail) >= kLickEdgeSlots) {
    ++g_licks_lost;
    return;
  }
  LickCapture& c = g_licks[head % kLickEdgeSlots];
  c.ticks = ticks;
  c.spout_level = static_cast<uint8_t>(spout | (level << 1));
  g_lick_head = static_cast<uint8_t>(head + 1);
}

inline uint8_t lick_level(uint8_t spout) { return (PINL & (spout == 0 ? _BV(PL0) : _BV(PL1))) ? 1 : 0; }

// Waits for the edge away from the input's present level.
// Waits for the edge away from the input's present level. Returns that level.
inline uint8_t wait_for_change(uint8_t spout) {
  volatile uint8_t& tccrb = spout == 0 ? TCCR4B : TCCR5B;
  const uint8_t ices = spout == 0 ? _BV(ICES4) : _BV(ICES5);
  const uint8_t level = lick_level(spout);
  if (level) {
    tccrb &= static_cast<uint8_t>(~ices);
  } else {
    tccrb |= ices;
  }
  return level;
}

// From the main loop, interrupts disabled: arms the capture and clears a flag the edge change may raise.
// (simavr 1.6 clears every flag of a timer at any write to its TIFR, so the handler below never writes it.)
inline void arm_lick_capture(uint8_t spout) {
  wait_for_change(spout);
  if (spout == 0) {
    TIFR4 = _BV(ICF4);
  } else {
    TIFR5 = _BV(ICF5);
  }
}

// Input capture interrupt of `spout`. A capture whose direction disagrees with the line's level now is the
// flag an edge-select change raised, or a glitch shorter than this handler: either way no lick edge, and the
// capture waits for the edge away from the level again.
__attribute__((always_inline)) inline void lick_capture(uint8_t spout) {
  const uint16_t icr = spout == 0 ? ICR4 : ICR5;
  const uint32_t now = ticks_locked();
  const uint8_t ices = spout == 0 ? _BV(ICES4) : _BV(ICES5);
  const uint8_t rising = ((spout == 0 ? TCCR4B : TCCR5B) & ices) ? 1 : 0;  // a rising capture is an onset
  if (lick_level(spout) != rising) {
    wait_for_change(spout);
    return;
  }
  push_lick(now - static_cast<uint16_t>(static_cast<uint16_t>(now) - icr), spout, rising);
  // The line may go back before the edge select has changed: then record the return now, so the levels stay
  // in step (the debounce counts the pair as a glitch).
  if (wait_for_change(spout) != rising) push_lick(ticks_locked(), spout, static_cast<uint8_t>(rising ^ 1u));
}

// Encoder levels as ab = (A << 1) | B from PINE, with bit tests rather than shifts.
inline uint8_t encoder_levels(uint8_t pins) {
  uint8_t ab = 0;
  if (pins & _BV(PE4)) ab |= 0x02;
  if (pins & _BV(PE5)) ab |= 0x01;
  return ab;
}

__attribute__((always_inline)) inline void encoder_edge() {
  const uint8_t ab = encoder_levels(PINE);
  const uint8_t fired = g_fast.on_edge(ab);
  if (fired == 0) return;
  const uint8_t mask = static_cast<uint8_t>(fired & core::kAllValves);
  PORTB |= kValvePortBits[mask];
  const uint32_t opened = ticks_locked();
  g_valve_open |= mask;
  for (uint8_t v = 0; v < 2; ++v) {
    if (mask & (1u << v)) schedule_close_locked(v, opened, g_fast.open_us_for(v));
  }
  g_fast.on_fired_at(us_locked());
}

}  // namespace

void AvrHal::init() {
  // Valves and cue: outputs, low (closed). Encoder: inputs with pull-ups, any-edge INT4/INT5.
  PORTB &= static_cast<uint8_t>(~(kValveBits[0] | kValveBits[1] | kCueBit));
  DDRB |= kValveBits[0] | kValveBits[1] | kCueBit;
  DDRE &= static_cast<uint8_t>(~(_BV(PE4) | _BV(PE5)));
  PORTE |= _BV(PE4) | _BV(PE5);
  EICRB = static_cast<uint8_t>((EICRB & ~(_BV(ISC41) | _BV(ISC51))) | _BV(ISC40) | _BV(ISC50));
  EIFR = _BV(INTF4) | _BV(INTF5);
  EIMSK |= _BV(INT4) | _BV(INT5);
  g_fast.reset(encoder_levels(PINE));

  // Sync and camera outputs low; lick inputs without pull-ups (the sensor board drives them), their capture
  // interrupts masked until SetLicks.
  PORTH &= static_cast<uint8_t>(~kSyncPinBit);
  DDRH |= kSyncPinBit;
  PORTL &= static_cast<uint8_t>(~kCameraPinBit);
  DDRL |= kCameraPinBit;
  DDRL &= static_cast<uint8_t>(~(_BV(PL0) | _BV(PL1)));
  PORTL &= static_cast<uint8_t>(~(_BV(PL0) | _BV(PL1)));

  // Timer1 (the clock, the valves), Timer4 (the trains, the cherry lick capture) and Timer5 (the grape lick
  // capture): normal mode, clk/8 = 2 MHz, every counter from 0 with the shared prescaler held in reset until
  // all are set up, so TCNT4 == TCNT5 == TCNT1 from then on.
  GTCCR = _BV(TSM) | _BV(PSRSYNC);
  TCCR1A = 0;
  TCCR4A = 0;
  TCCR5A = 0;
  TCNT1 = 0;
  TCNT4 = 0;
  TCNT5 = 0;
  TCCR1B = _BV(CS11);
  TCCR4B = _BV(CS41);
  TCCR5B = _BV(CS51);
  TIFR1 = _BV(TOV1) | _BV(OCF1A) | _BV(OCF1B);
  TIMSK1 = _BV(TOIE1);
  TIFR4 = _BV(OCF4A) | _BV(OCF4B) | _BV(ICF4);
  TIMSK4 = 0;
  TIFR5 = _BV(OCF5A) | _BV(ICF5);
  TIMSK5 = 0;
  GTCCR = 0;

  // UART0: U2X and frame format before UBRR (simavr recomputes the bit time only when UBRR is written).
  UCSR0A = _BV(U2X0);
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  const uint16_t ubrr = static_cast<uint16_t>(F_CPU / (8UL * kUartBaud) - 1);
  UBRR0H = static_cast<uint8_t>(ubrr >> 8);
  UBRR0L = static_cast<uint8_t>(ubrr & 0xFF);
  UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

uint32_t AvrHal::now_us() {
  const uint8_t sreg = SREG;
  cli();
  const uint32_t t = us_locked();
  barrier();
  SREG = sreg;
  return t;
}

void AvrHal::lock() {
  saved_sreg_ = SREG;
  cli();
}

void AvrHal::unlock() {
  barrier();
  SREG = saved_sreg_;
}

core::FastPath& AvrHal::fast_path() { return g_fast; }

void AvrHal::read_encoder(int32_t* position_ticks, uint16_t* invalid_transitions) {
  const uint8_t sreg = SREG;
  cli();
  const int32_t position = g_fast.position_ticks();
  const uint16_t invalid = g_fast.invalid_transitions();
  barrier();
  SREG = sreg;
  *position_ticks = position;
  *invalid_transitions = invalid;
}

uint32_t AvrHal::open_valves(uint8_t valve_mask, const uint32_t open_us[wire::kValveCount]) {
  const uint8_t sreg = SREG;
  cli();
  const uint8_t closed = static_cast<uint8_t>(valve_mask & ~g_valve_open);
  open_locked(closed, open_us);
  const uint32_t t = us_locked();
  barrier();
  SREG = sreg;
  return t;
}

void AvrHal::close_all_valves() {
  const uint8_t sreg = SREG;
  cli();
  close_valve_locked(0);
  close_valve_locked(1);
  barrier();
  SREG = sreg;
}

uint8_t AvrHal::open_valve_mask() { return g_valve_open; }

void AvrHal::set_cue(uint8_t cue_id, bool on) {
  if (cue_id != 0) return;
  const uint8_t sreg = SREG;
  cli();  // PORTB is shared with the valve interrupts: read-modify-write must not be interleaved
  if (on) {
    PORTB |= kCueBit;
  } else {
    PORTB &= static_cast<uint8_t>(~kCueBit);
  }
  SREG = sreg;
}

size_t AvrHal::uart_read(uint8_t* out, size_t capacity) {
  size_t n = 0;
  while (n < capacity && g_rx_tail != g_rx_head) {
    out[n++] = g_rx[g_rx_tail];
    g_rx_tail = static_cast<uint8_t>(g_rx_tail + 1);
  }
  return n;
}

size_t AvrHal::uart_write_space() {
  return static_cast<uint8_t>(g_tx_tail - g_tx_head - 1);
}

void AvrHal::uart_write(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    const uint8_t next = static_cast<uint8_t>(g_tx_head + 1);
    if (next == g_tx_tail) break;  // callers check uart_write_space() first
    g_tx[g_tx_head] = data[i];
    g_tx_head = next;
  }
  UCSR0B |= _BV(UDRIE0);
}

uint16_t AvrHal::uart_rx_overruns() {
  const uint8_t sreg = SREG;
  cli();
  const uint16_t n = g_rx_overruns;
  SREG = sreg;
  return n;
}

void AvrHal::train_start(uint8_t line, uint32_t first_rise_us, uint32_t width_us) {
  if (line >= kTrainCount) return;
  const uint8_t sreg = SREG;
  cli();
  const ClockReading now = read_clock_locked();
  const uint32_t now_ticks = ticks_of(now);
  const uint32_t now_us = us_of(now);
  Train& t = g_train[line];
  t.interval_head = t.interval_tail = 0;
  t.rise_head = t.rise_tail = 0;
  t.lost = 0;
  const uint32_t first_ticks = now_ticks + static_cast<uint32_t>(static_cast<int32_t>(first_rise_us - now_us) * 2);
  const uint32_t width_ticks = width_us * 2u;
  if (t.phase == kTrainFall) {
    // A pulse is high: it ends first (brought forward by train_stop's rule), then the new train begins.
    t.pending_start = 1;
    t.pending_first_ticks = first_ticks;
    t.pending_width_ticks = width_ticks;
    if (static_cast<int32_t>(t.deadline_ticks - now_ticks) > 2 * kMinLeadTicks) {
      t.deadline_ticks = now_ticks + 2 * kMinLeadTicks;
      program_train(line, now_ticks, true);
    }
  } else {
    t.pending_start = 0;
    t.width_ticks = width_ticks;
    t.deadline_ticks = first_ticks;
    t.phase = kTrainRise;
    program_train(line, now_ticks, true);
  }
  barrier();
  SREG = sreg;
}

void AvrHal::train_stop(uint8_t line) {
  if (line >= kTrainCount) return;
  const uint8_t sreg = SREG;
  cli();
  Train& t = g_train[line];
  t.interval_tail = t.interval_head;
  t.pending_start = 0;
  if (t.phase == kTrainRise) {
    idle_train(line);
  } else if (t.phase == kTrainFall) {
    // Only the compare may lower the pin (it toggles): end the pulse a few ticks from now.
    const uint32_t now = ticks_locked();
    if (static_cast<int32_t>(t.deadline_ticks - now) > 2 * kMinLeadTicks) {
      t.deadline_ticks = now + 2 * kMinLeadTicks;
      program_train(line, now, true);
    }
  }
  barrier();
  SREG = sreg;
}

// A one-byte read, without masking the encoder: the main loop calls this every iteration.
uint8_t AvrHal::train_interval_room(uint8_t line) {
  if (line >= kTrainCount) return 0;
  const Train& t = g_train[line];
  const uint8_t queued = static_cast<uint8_t>(t.interval_head - *static_cast<const volatile uint8_t*>(&t.interval_tail));
  return queued >= kTrainIntervalSlots ? 0 : static_cast<uint8_t>(kTrainIntervalSlots - queued);
}

void AvrHal::train_push_interval(uint8_t line, uint32_t interval_us) {
  if (line >= kTrainCount) return;
  const uint8_t sreg = SREG;
  cli();
  Train& t = g_train[line];
  if (static_cast<uint8_t>(t.interval_head - t.interval_tail) < kTrainIntervalSlots) {
    t.interval_ticks[t.interval_head % kTrainIntervalSlots] = interval_us * 2u;
    ++t.interval_head;
  }
  barrier();
  SREG = sreg;
}

uint8_t AvrHal::train_take_rises(uint8_t line, uint32_t* rise_us, uint8_t capacity, uint16_t* lost) {
  *lost = 0;
  if (line >= kTrainCount) return 0;
  Train& t = g_train[line];
  // Single-byte reads: nothing captured means nothing to lock for (the main loop polls this every iteration).
  if (*static_cast<volatile uint8_t*>(&t.rise_head) == t.rise_tail && *static_cast<volatile uint16_t*>(&t.lost) == 0) {
    return 0;
  }
  const uint8_t sreg = SREG;
  cli();
  const ClockReading now = read_clock_locked();
  uint8_t n = 0;
  while (n < capacity && t.rise_tail != t.rise_head) {
    rise_us[n++] = t.rise_ticks[t.rise_tail % kTrainRiseSlots];
    ++t.rise_tail;
  }
  *lost = t.lost;
  t.lost = 0;
  barrier();
  SREG = sreg;
  for (uint8_t i = 0; i < n; ++i) rise_us[i] = us_of_ticks(rise_us[i], now);
  return n;
}

void AvrHal::licks_enable(bool on) {
  const uint8_t sreg = SREG;
  cli();
  TIMSK4 &= static_cast<uint8_t>(~_BV(ICIE4));
  TIMSK5 &= static_cast<uint8_t>(~_BV(ICIE5));
  g_lick_tail = g_lick_head;
  g_licks_lost = 0;
  if (on) {
    arm_lick_capture(0);
    arm_lick_capture(1);
    TIMSK4 |= _BV(ICIE4);
    TIMSK5 |= _BV(ICIE5);
  }
  barrier();
  SREG = sreg;
}

uint8_t AvrHal::take_lick_edges(LickInputEdge* out, uint8_t capacity, uint16_t* lost) {
  *lost = 0;
  if (*static_cast<volatile uint8_t*>(&g_lick_head) == g_lick_tail && *static_cast<volatile uint16_t*>(&g_licks_lost) == 0) {
    return 0;
  }
  const uint8_t sreg = SREG;
  cli();
  const ClockReading now = read_clock_locked();
  uint8_t n = 0;
  while (n < capacity && g_lick_tail != g_lick_head) {
    const LickCapture& c = g_licks[g_lick_tail % kLickEdgeSlots];
    out[n].t_us = c.ticks;
    out[n].spout = static_cast<uint8_t>(c.spout_level & 1u);
    out[n].high = static_cast<uint8_t>((c.spout_level >> 1) & 1u);
    ++n;
    g_lick_tail = static_cast<uint8_t>(g_lick_tail + 1);
  }
  *lost = g_licks_lost;
  g_licks_lost = 0;
  barrier();
  SREG = sreg;
  for (uint8_t i = 0; i < n; ++i) out[i].t_us = us_of_ticks(out[i].t_us, now);
  return n;
}

uint8_t AvrHal::lick_levels() { return static_cast<uint8_t>(lick_level(0) | (lick_level(1) << 1)); }

uint32_t AvrHal::next_boot_id() {
  uint32_t* const kAddress = reinterpret_cast<uint32_t*>(0);
  const uint32_t id = eeprom_read_dword(kAddress) + 1;
  eeprom_update_dword(kAddress, id);
  return id;
}

}  // namespace hal
}  // namespace rig


ISR(TIMER1_OVF_vect) { ++rig::hal::g_overflows; }
ISR(TIMER1_COMPA_vect) { rig::hal::compare_match(0); }
ISR(TIMER1_COMPB_vect) { rig::hal::compare_match(1); }
ISR(INT4_vect) { rig::hal::encoder_edge(); }
ISR(INT5_vect, ISR_ALIASOF(INT4_vect));
ISR(TIMER4_COMPA_vect) { rig::hal::train_match(rig::hal::kTrainSync); }
ISR(TIMER5_COMPA_vect) { rig::hal::train_match(rig::hal::kTrainCamera); }
ISR(TIMER4_CAPT_vect) { rig::hal::lick_capture(0); }
ISR(TIMER5_CAPT_vect) { rig::hal::lick_capture(1); }

ISR(USART0_RX_vect) {
  const uint8_t status = UCSR0A;
  const uint8_t byte = UDR0;
  // Reading UDR0 cleared the request: let an encoder edge interrupt the rest of this handler. Only this
  // handler touches the receive head, and the next byte is 40 us away, so it cannot nest in itself.
  sei();
  const uint8_t next = static_cast<uint8_t>(rig::hal::g_rx_head + 1);
  if ((status & _BV(DOR0)) || next == rig::hal::g_rx_tail) {
    ++rig::hal::g_rx_overruns;
    if (next == rig::hal::g_rx_tail) return;
  }
  rig::hal::g_rx[rig::hal::g_rx_head] = byte;
  rig::hal::g_rx_head = next;
}

ISR(USART0_UDRE_vect) {
  if (rig::hal::g_tx_tail == rig::hal::g_tx_head) {
    UCSR0B &= static_cast<uint8_t>(~_BV(UDRIE0));
    return;
  }
  UDR0 = rig::hal::g_tx[rig::hal::g_tx_tail];
  rig::hal::g_tx_tail = static_cast<uint8_t>(rig::hal::g_tx_tail + 1);
}
