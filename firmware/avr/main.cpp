// Firmware entry point for the Arduino Mega 2560: wiring only.
#include <avr/interrupt.h>
#include <avr/io.h>
#include <stdint.h>
#include <string.h>

#include "firmware/wire/wire.hpp"

namespace {

constexpr uint32_t kBaud = 250000;
constexpr uint8_t kRxSize = 128;  // power of two

volatile uint8_t g_rx[kRxSize];
volatile uint8_t g_rx_head = 0;
volatile uint8_t g_rx_tail = 0;

void uart_init() {
  // U2X and frame format before UBRR: simavr recomputes the bit time only when UBRR is written.
  UCSR0A = _BV(U2X0);
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  const uint16_t ubrr = static_cast<uint16_t>(F_CPU / (8UL * kBaud) - 1);
  UBRR0H = static_cast<uint8_t>(ubrr >> 8);
  UBRR0L = static_cast<uint8_t>(ubrr & 0xFF);
  UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

void uart_write(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    while (!(UCSR0A & _BV(UDRE0))) {
    }
    UDR0 = data[i];
  }
}

}  // namespace

ISR(USART0_RX_vect) {
  const uint8_t byte = UDR0;
  const uint8_t next = static_cast<uint8_t>((g_rx_head + 1) & (kRxSize - 1));
  if (next != g_rx_tail) {
    g_rx[g_rx_head] = byte;
    g_rx_head = next;
  }
}

int main() {
  uart_init();
  sei();
  rig::wire::FrameDecoder decoder;
  uint8_t out[rig::wire::kMaxEncodedFrame];
  for (;;) {
    while (g_rx_tail != g_rx_head) {
      const uint8_t byte = g_rx[g_rx_tail];
      g_rx_tail = static_cast<uint8_t>((g_rx_tail + 1) & (kRxSize - 1));
      rig::wire::FrameView frame;
      if (decoder.push(byte, frame) != rig::wire::FrameDecoder::Status::kFrame) continue;
      rig::wire::Hello hello;
      if (rig::wire::decode_message(frame, hello)) {
        rig::wire::HelloReply reply;
        memset(&reply, 0, sizeof(reply));
        reply.protocol_version = rig::wire::kProtocolVersion;
        reply.host_nonce = hello.host_nonce;
        strncpy(reply.firmware_build_id, "rig-" RIG_FIRMWARE_VERSION, sizeof(reply.firmware_build_id));
        reply.clock_hz = F_CPU;
        const size_t n = rig::wire::encode_message(reply, 0, out, sizeof(out));
        uart_write(out, n);
      }
    }
  }
}
