#include <gtest/gtest.h>

#include "firmware/core/quadrature.hpp"

using rig::core::QuadratureDecoder;

namespace {
constexpr uint8_t kForward[4] = {0b00, 0b10, 0b11, 0b01};
}

TEST(QuadratureDecoder, CountsFourTicksPerCycleForward) {
  QuadratureDecoder d;
  d.reset(0b00);
  for (int cycle = 0; cycle < 3; ++cycle) {
    for (int i = 1; i <= 4; ++i) EXPECT_EQ(d.update(kForward[i % 4]), 1);
  }
  EXPECT_EQ(d.position_ticks(), 12);
  EXPECT_EQ(d.invalid_transitions(), 0);
}

TEST(QuadratureDecoder, CountsBackwardNegative) {
  QuadratureDecoder d;
  d.reset(0b00);
  for (int i = 3; i >= 0; --i) EXPECT_EQ(d.update(kForward[i]), -1);
  EXPECT_EQ(d.position_ticks(), -4);
}

TEST(QuadratureDecoder, DirectionReversalIsExact) {
  QuadratureDecoder d;
  d.reset(0b00);
  d.update(0b10);
  d.update(0b11);
  d.update(0b10);  // back
  d.update(0b00);  // back
  d.update(0b01);  // back past zero
  EXPECT_EQ(d.position_ticks(), -1);
}

TEST(QuadratureDecoder, BothLinesChangingIsCountedInvalidAndIgnored) {
  QuadratureDecoder d;
  d.reset(0b00);
  d.update(0b10);
  EXPECT_EQ(d.update(0b01), 0);  // 10 -> 01: both changed
  EXPECT_EQ(d.update(0b10), 0);
  EXPECT_EQ(d.invalid_transitions(), 2);
  EXPECT_EQ(d.position_ticks(), 1);
}

TEST(QuadratureDecoder, RepeatedLevelsAreNoMovement) {
  QuadratureDecoder d;
  d.reset(0b11);
  EXPECT_EQ(d.update(0b11), 0);
  EXPECT_EQ(d.position_ticks(), 0);
  EXPECT_EQ(d.invalid_transitions(), 0);
}

TEST(QuadratureDecoder, EveryTransitionOfTheTableIsConsistent) {
  // Forward then backward over every state returns to zero.
  for (uint8_t start = 0; start < 4; ++start) {
    QuadratureDecoder d;
    d.reset(kForward[start]);
    for (int i = 1; i <= 9; ++i) d.update(kForward[(start + i) % 4]);
    for (int i = 8; i >= 0; --i) d.update(kForward[(start + i) % 4]);
    EXPECT_EQ(d.position_ticks(), 0) << "start " << int(start);
    EXPECT_EQ(d.invalid_transitions(), 0);
  }
}

TEST(QuadratureStep, DrivesTheDecoderExactlyOneTickPerStep) {
  QuadratureDecoder d;
  uint8_t ab = 0b11;
  d.reset(ab);
  for (int i = 0; i < 10; ++i) d.update(ab = rig::core::quadrature_step(ab, 1));
  for (int i = 0; i < 3; ++i) d.update(ab = rig::core::quadrature_step(ab, -1));
  EXPECT_EQ(d.position_ticks(), 7);
  d.update(rig::core::quadrature_step(ab, 2));
  EXPECT_EQ(d.invalid_transitions(), 1);
}
