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

// Who gives way when the ring is nearly full, first to last. Data batches (licks, sync edges) stop at
// kDataHeadroom free slots; trial events, pulse reports and faults may use every slot but the ones reserved
// for the results of armed trials and the overflow fault's; a TrialResult may use its reservation; the
// overflow fault takes the very last slot.
enum class EventClass : uint8_t { kData = 0, kControl = 1, kResult = 2, kOverflow = 3 };
constexpr uint8_t kDataHeadroom = 8;

struct QueuedEvent {
  uint8_t type;
  uint8_t size;
  uint16_t seq;
  uint8_t payload[kMaxEventPayload];
};

// A fixed ring of events awaiting acknowledgement. Sequence numbers start at 1 and increase by one per event
// (mod 2^16). Room is shared by EventClass: the last slot is kept for the overflow fault, so overflow itself is
// always reported, and a trial armed with reserve_result() always has a slot for its TrialResult.
// Not thread-safe; main loop only.
class EventQueue {
 public:
  // Appends an event of class `cls`. Returns false (nothing queued) when that class has no room left.
  bool push(uint8_t type, const void* payload, uint8_t size, EventClass cls) {
    if (count_ >= limit(cls) || size > kMaxEventPayload) return false;
    if (cls == EventClass::kResult && reserved_results_ > 0) --reserved_results_;
    QueuedEvent& e = slots_[(first_ + count_) % kEventQueueCapacity];
    e.type = type;
    e.size = size;
    e.seq = next_seq_++;
    memcpy(e.payload, payload, size);
    ++count_;
    return true;
  }

  template <typename Message>
  bool push_message(const Message& msg, EventClass cls = EventClass::kControl) {
    return push(Message::kId, &msg, static_cast<uint8_t>(sizeof(Message)), cls);
  }

  // Sets a slot aside for the TrialResult of a trial about to be armed; the next kResult push uses it.
  // Returns false (nothing reserved) when the ring has no free slot for it.
  bool reserve_result() {
    if (count_ + reserved_results_ >= kEventQueueCapacity - 1) return false;
    ++reserved_results_;
    return true;
  }
  // Gives back a reservation whose trial was not armed after all.
  void release_result() {
    if (reserved_results_ > 0) --reserved_results_;
  }
  uint8_t reserved_results() const { return reserved_results_; }

  // Cumulative acknowledgement: frees every queued event with seq <= acked_seq (mod 2^16). Returns how many.
  // An acknowledgement of a number not yet given out frees nothing: only a confused host (or a corrupt frame
  // that passed the CRC) sends one, and freeing on it would drop events the host never received.
  uint8_t ack(uint16_t acked_seq) {
    if (static_cast<int16_t>(acked_seq - static_cast<uint16_t>(next_seq_ - 1)) > 0) return 0;
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
  uint8_t limit(EventClass cls) const {
    switch (cls) {
      case EventClass::kData:
        return static_cast<uint8_t>(kEventQueueCapacity - kDataHeadroom);
      case EventClass::kControl:
        return static_cast<uint8_t>(kEventQueueCapacity - 1 - reserved_results_);
      case EventClass::kResult:
        // A reserved result's slot was kept free by every other class (the overflow fault's included).
        return static_cast<uint8_t>(reserved_results_ > 0 ? kEventQueueCapacity
                                                           : kEventQueueCapacity - 1);
      case EventClass::kOverflow:
      default:
        // The last slot, after the reservations: the fault never takes a reserved result's slot.
        return static_cast<uint8_t>(kEventQueueCapacity - reserved_results_);
    }
  }

  QueuedEvent slots_[kEventQueueCapacity];
  uint8_t first_ = 0;
  uint8_t count_ = 0;
  uint8_t sent_ = 0;
  uint16_t next_seq_ = 1;
  uint8_t reserved_results_ = 0;
};

}  // namespace core
}  // namespace rig

#endif
