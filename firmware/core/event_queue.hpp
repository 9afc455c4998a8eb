// Reliable device events: numbered, kept until the host acknowledges them, sent again after a reconnect.
#ifndef RIG_CORE_EVENT_QUEUE_HPP
#define RIG_CORE_EVENT_QUEUE_HPP

#include <stdint.h>
#include <string.h>

#include "firmware/wire/messages.hpp"

namespace rig {
namespace core {

constexpr uint8_t kEventQueueCapacity = 32;
constexpr uint8_t kMaxEventPayload = 40;
static_assert(sizeof(wire::TrialResult) <= kMaxEventPayload, "largest reliable event must fit a slot");
static_assert(sizeof(wire::TrialEvent) <= kMaxEventPayload, "event slot size");
static_assert(sizeof(wire::Fault) <= kMaxEventPayload, "event slot size");
static_assert(sizeof(wire::PulseDone) <= kMaxEventPayload, "event slot size");

struct QueuedEvent {
  uint8_t type;
  uint8_t size;
  uint16_t seq;
  uint8_t payload[kMaxEventPayload];
};

// A fixed ring of events awaiting acknowledgement. Sequence numbers start at 1 and increase by one per event
// (mod 2^16). The last free slot is kept for the overflow fault, so overflow itself is always reported.
// Not thread-safe; main loop only.
class EventQueue {
 public:
  // Appends an event. Returns false (nothing queued) when full; `use_reserve` lets the overflow fault take
  // the last slot.
  bool push(uint8_t type, const void* payload, uint8_t size, bool use_reserve = false) {
    const uint8_t limit = use_reserve ? kEventQueueCapacity : static_cast<uint8_t>(kEventQueueCapacity - 1);
    if (count_ >= limit || size > kMaxEventPayload) return false;
    QueuedEvent& e = slots_[(first_ + count_) % kEventQueueCapacity];
    e.type = type;
    e.size = size;
    e.seq = next_seq_++;
    memcpy(e.payload, payload, size);
    ++count_;
    return true;
  }

  template <typename Message>
  bool push_message(const Message& msg, bool use_reserve = false) {
    return push(Message::kId, &msg, static_cast<uint8_t>(sizeof(Message)), use_reserve);
  }

  // Cumulative acknowledgement: frees every queued event with seq <= acked_seq (mod 2^16). Returns how many.
  uint8_t ack(uint16_t acked_seq) {
    uint8_t freed = 0;
    while (count_ > 0 && static_cast<int16_t>(acked_seq - slots_[first_].seq) >= 0) {
      first_ = static_cast<uint8_t>((first_ + 1) % kEventQueueCapacity);
      --count_;
      if (sent_ > 0) --sent_;
      ++freed;
    }
    return freed;
  }

  // The oldest event not yet sent since the last rewind, or nullptr.
  const QueuedEvent* next_to_send() const {
    if (sent_ >= count_) return nullptr;
    return &slots_[(first_ + sent_) % kEventQueueCapacity];
  }
  void mark_sent() {
    if (sent_ < count_) ++sent_;
  }
  // Sends everything unacknowledged again, oldest first (after a reconnect or an acknowledgement timeout).
  void rewind() { sent_ = 0; }

  uint8_t depth() const { return count_; }
  bool all_sent() const { return sent_ >= count_; }
  uint16_t next_seq() const { return next_seq_; }
  static constexpr uint8_t capacity() { return kEventQueueCapacity; }

 private:
  QueuedEvent slots_[kEventQueueCapacity];
  uint8_t first_ = 0;
  uint8_t count_ = 0;
  uint8_t sent_ = 0;
  uint16_t next_seq_ = 1;
};

}  // namespace core
}  // namespace rig

#endif
