// Firmware entry point for the Arduino Mega 2560: wiring only. The main loop's priority order is
// documented on core::Device; the interrupt handlers live in hal/avr_hal.cpp.
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>

#include "firmware/core/device.hpp"
#include "firmware/hal/avr_hal.hpp"

// No C++ runtime on the AVR: a pure virtual call can only be a bug; stop and let the hardware watchdog reset.
extern "C" void __cxa_pure_virtual() {
  for (;;) {
  }
}

namespace {

// A watchdog reset leaves the watchdog running with its shortest timeout: turn it off first thing.
uint8_t g_reset_cause __attribute__((section(".noinit")));
void early_init() __attribute__((naked, used, section(".init3")));
void early_init() {
  g_reset_cause = MCUSR;
  MCUSR = 0;
  wdt_disable();
}

rig::hal::AvrHal g_hal;

rig::core::BoardInfo board_info() {
  rig::core::BoardInfo info;
  info.build_id = "rig-" RIG_FIRMWARE_VERSION;
  info.boot_id = rig::hal::AvrHal::next_boot_id();
  info.clock_hz = F_CPU;
  info.encoder_ticks_per_rev = RIG_ENCODER_TICKS_PER_REV;
  info.pin_encoder_a = rig::hal::kPinEncoderA;
  info.pin_encoder_b = rig::hal::kPinEncoderB;
  info.pin_valve_cherry = rig::hal::kPinValveCherry;
  info.pin_valve_grape = rig::hal::kPinValveGrape;
  info.pin_cue = rig::hal::kPinCue;
  info.pin_sync = rig::hal::kPinSync;
  info.pin_camera = rig::hal::kPinCamera;
  info.pin_lick_cherry = rig::hal::kPinLickCherry;
  info.pin_lick_grape = rig::hal::kPinLickGrape;
  info.hal_kind = RIG_HAL_KIND;
  return info;
}

}  // namespace

int main() {
  cli();
  g_hal.init();
  static rig::core::Device device(g_hal, board_info());
  sei();
  device.begin(g_hal.now_us());
  if (g_reset_cause & (_BV(WDRF) | _BV(BORF))) device.report_fault(rig::wire::kFaultReset, g_hal.now_us(), g_reset_cause);
  // A main loop stuck for 120 ms resets the MCU; the valve pins then float low (closed).
  wdt_enable(WDTO_120MS);
  for (;;) {
    wdt_reset();
    device.poll(g_hal.now_us());
  }
}
