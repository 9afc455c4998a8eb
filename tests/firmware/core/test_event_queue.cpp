#include <gtest/gtest.h>

#include "firmware/core/event_queue.hpp"

using rig::core::EventClass;
using rig::core::EventQueue;

namespace {
rig::wire::Fault fault(uint32_t detail) {
  rig::wire::Fault f{};
  f.detail = detail;
  return f;
}
}  // namespace

TEST(EventQueue, NumbersEventsFromOneAndSendsInOrder) {
  EventQueue q;
  ASSERT_TRUE(q.push_message(fault(1)));
  ASSERT_TRUE(q.push_message(fault(2)));
  EXPECT_EQ(q.next_to_send()->seq, 1);
  q.mark_sent();
  EXPECT_EQ(q.next_to_send()->seq, 2);
  q.mark_sent();
  EXPECT_EQ(q.next_to_send(), nullptr);
}

TEST(EventQueue, KeepsEventsUntilAcknowledgedAndReplaysAfterRewind) {
  EventQueue q;
  for (uint32_t i = 0; i < 5; ++i) q.push_message(fault(i));
  for (int i = 0; i < 5; ++i) q.mark_sent();
  EXPECT_EQ(q.ack(2), 2);
  EXPECT_EQ(q.depth(), 3);
  q.rewind();
  EXPECT_EQ(q.next_to_send()->seq, 3);
}

TEST(EventQueue, AckIsCumulativeAndIdempotent) {
  EventQueue q;
  for (uint32_t i = 0; i < 4; ++i) q.push_message(fault(i));
  EXPECT_EQ(q.ack(3), 3);
  EXPECT_EQ(q.ack(3), 0);
  EXPECT_EQ(q.ack(1), 0);  // stale ack
  EXPECT_EQ(q.depth(), 1);
}

TEST(EventQueue, KeepsTheLastSlotForTheOverflowFault) {
  EventQueue q;
  int accepted = 0;
  while (q.push_message(fault(0))) ++accepted;
  EXPECT_EQ(accepted, EventQueue::capacity() - 1);
  EXPECT_TRUE(q.push_message(fault(99), EventClass::kOverflow));
  EXPECT_FALSE(q.push_message(fault(100), EventClass::kOverflow));
}

TEST(EventQueue, DataBatchesLeaveHeadroomForTrialEventsResultsAndFaults) {
  EventQueue q;
  rig::wire::SyncEdges batch{};
  int data = 0;
  while (q.push_message(batch, EventClass::kData)) ++data;
  EXPECT_EQ(data, EventQueue::capacity() - rig::core::kDataHeadroom);
  int control = 0;
  while (q.push_message(fault(0))) ++control;
  EXPECT_EQ(control, rig::core::kDataHeadroom - 1);
}

TEST(EventQueue, AReservedResultAlwaysFindsItsSlot) {
  EventQueue q;
  ASSERT_TRUE(q.reserve_result());
  EXPECT_EQ(q.reserved_results(), 1);
  // Trial events and faults fill everything they may: the result's slot and the overflow slot stay free.
  int control = 0;
  while (q.push_message(fault(0))) ++control;
  EXPECT_EQ(control, EventQueue::capacity() - 2);
  rig::wire::TrialResult result{};
  EXPECT_TRUE(q.push_message(result, EventClass::kResult));
  EXPECT_EQ(q.reserved_results(), 0);
  EXPECT_TRUE(q.push_message(fault(1), EventClass::kOverflow));
  EXPECT_EQ(q.depth(), EventQueue::capacity());
}

// The overflow can come before the armed trial ends: trial events fill every slot they may, the next one
// raises the overflow fault, and the trial's result still finds its reserved slot (before the fix the fault
// took it and the result was lost without a word, leaving the host waiting for it).
TEST(EventQueue, TheOverflowFaultLeavesAReservedResultItsSlot) {
  EventQueue q;
  ASSERT_TRUE(q.reserve_result());
  while (q.push_message(fault(0))) {
  }
  EXPECT_TRUE(q.push_message(fault(99), EventClass::kOverflow));
  rig::wire::TrialResult result{};
  EXPECT_TRUE(q.push_message(result, EventClass::kResult));
  EXPECT_EQ(q.depth(), EventQueue::capacity());
  EXPECT_FALSE(q.push_message(fault(100), EventClass::kOverflow));
}

TEST(EventQueue, AnAckOfANumberNotYetGivenOutFreesNothing) {
  EventQueue q;
  for (uint32_t i = 0; i < 3; ++i) q.push_message(fault(i));
  EXPECT_EQ(q.ack(4), 0);
  EXPECT_EQ(q.ack(0xFFF0), 0);
  EXPECT_EQ(q.depth(), 3);
  EXPECT_EQ(q.ack(3), 3);
}

TEST(EventQueue, RefusesAReservationWithNoSlotForIt) {
  EventQueue q;
  while (q.push_message(fault(0))) {
  }
  EXPECT_FALSE(q.reserve_result());
  EXPECT_EQ(q.reserved_results(), 0);
  q.mark_sent();
  EXPECT_EQ(q.ack(1), 1);
  EXPECT_TRUE(q.reserve_result());
  q.release_result();
  EXPECT_EQ(q.reserved_results(), 0);
}

TEST(EventQueue, SequenceNumbersWrapAndAcksStillWork) {
  EventQueue q;
  for (int i = 0; i < 70000; ++i) {
    ASSERT_TRUE(q.push_message(fault(0)));
    const uint16_t seq = static_cast<uint16_t>(q.next_seq() - 1);
    ASSERT_EQ(q.ack(seq), 1);
  }
  EXPECT_EQ(q.depth(), 0);
}
