// The one exception type of the store.
#pragma once

#include <stdexcept>
#include <string>

namespace rig::store {

// Every failure of the store: the message names the database file, what was being done and SQLite's reason
// ("store /data/rig.sqlite: commit trial 12 of session 3: database or disk is full"). sqlite_code() is the
// extended SQLite result code (SQLITE_FULL, SQLITE_READONLY, ...; 0 when the failure is not SQLite's).
class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& message, int sqlite_code) : std::runtime_error(message), sqlite_code_(sqlite_code) {}
  int sqlite_code() const { return sqlite_code_; }
  // The database file does not exist (or cannot be opened): the caller named a wrong path.
  bool cannot_open() const;

 private:
  int sqlite_code_;
};

}  // namespace rig::store
