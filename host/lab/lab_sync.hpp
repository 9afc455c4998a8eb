// Pushing a rig's outbox (host/store/outbox.hpp) to the lab database: the rig side of DESIGN.md decision 12.
//
// Each batch is one PostgreSQL transaction of idempotent upserts and deletes keyed by (rig_id, the store's key);
// the store's outbox entries are removed only after that transaction committed. A push cut anywhere (the
// network, the server restarting, the rig killed) leaves the batch in the outbox, and the next push re-sends it:
// nothing is lost and, being keyed, nothing is duplicated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "host/lab/pg.hpp"
#include "host/store/store.hpp"

namespace rig::lab {

struct PushOptions {
  std::size_t batch_entries = 5000;  // outbox entries per lab transaction
  // Called after each batch (rows pushed so far, the backlog left); e.g. progress on a terminal.
  std::function<void(const struct PushResult&)> on_batch;
  // Test hook: called between the lab's commit of a batch and the outbox's acknowledgement (a fault injected
  // here is an acknowledgement lost).
  std::function<void()> after_lab_commit;
};

struct PushResult {
  std::size_t batches = 0;
  std::size_t rows = 0;     // rows upserted or deleted in the lab
  std::size_t entries = 0;  // outbox entries acknowledged
  std::map<std::string, std::size_t> rows_by_table;
  store::OutboxBacklog backlog;  // what still waits (nothing, after a push that returned)
};

// Pushes the whole outbox of `store` to `lab` as rig `rig_id`, batch after batch, until it is empty. The first
// push records `rig_id` in the store and the store's uuid in the lab's `rigs`; a store pushed before as another
// rig, or a rig id the lab knows with another store (two rigs configured with one id), is refused with a
// LabInputError and nothing is pushed. Throws LabError when the lab is unreachable, older than the store's schema
// (run `rig lab init`) or fails mid-push (what was acknowledged stays pushed; the rest is re-sent next time), and
// StoreError for the store. Not thread-safe (uses `store` and `lab` from the calling thread).
PushResult push_outbox(store::Store& store, PgConnection& lab, const std::string& rig_id, const PushOptions& options = {});

// The value as a libpq parameter: integers and reals as text (reals with 17 significant digits, so a
// round trip is exact), text as is, blobs as binary. Pure; thread-safe.
PgParam lab_param(const store::SqlValue& value);

}  // namespace rig::lab
