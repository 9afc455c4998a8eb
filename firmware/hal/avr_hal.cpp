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

  // Timer1: normal mode, clk/8 = 2 MHz.
  TCCR1A = 0;
  TCCR1B = _BV(CS11);
  TCNT1 = 0;
  TIFR1 = _BV(TOV1) | _BV(OCF1A) | _BV(OCF1B);
  TIMSK1 = _BV(TOIE1);

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
