// How the read-only commands (`rig sessions`, `rig export`, `rig align`) open the store: the same messages and
// exit codes for each.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "command_registry.hpp"
#include "host/store/store.hpp"

namespace rig::app {

// The store at `db` (the default path when empty), opened read-only. On failure prints "rig COMMAND: why" to
// stderr, sets `exit_code` (kExitInvalid when the file cannot be opened, kExitFailure otherwise) and returns
// nullopt. With `session_id`, a store without that session is refused the same way (kExitInvalid). Not
// thread-safe (prints).
inline std::optional<store::Store> open_store_reading(const char* command, const std::string& db, int& exit_code,
                                                      std::optional<std::int64_t> session_id = std::nullopt) {
  const auto path = db.empty() ? store::Store::default_path() : db;
  std::optional<store::Store> store;
  try {
    store.emplace(store::Store::open(path, store::OpenOptions::reading()));
  } catch (const store::StoreError& e) {
    std::fprintf(stderr, "rig %s: %s\n", command, e.what());
    exit_code = e.cannot_open() ? kExitInvalid : kExitFailure;
    return std::nullopt;
  }
  if (session_id && !store->session(*session_id)) {
    std::fprintf(stderr, "rig %s: no session %lld in %s (`rig sessions` lists them)\n", command,
                 static_cast<long long>(*session_id), path.c_str());
    exit_code = kExitInvalid;
    return std::nullopt;
  }
  return store;
}

}  // namespace rig::app
