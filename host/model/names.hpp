// Names of enum values as files spell them: one table per enum serves both reading and writing, so the two
// can never disagree. The tables of the task's enums (side, flavour, outcome, fault bits) are in enums.hpp.
#pragma once

#include <cstddef>
#include <string_view>

namespace rig::model {

template <class E>
struct Named {
  const char* name;
  E value;
};

// The name of `value` in `table`, or "" if the table lacks it. Pure; thread-safe.
template <class E, std::size_t N>
constexpr const char* name_of(const Named<E> (&table)[N], E value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "";
}

// The value named `name` in `table`, or nullptr. Pure; thread-safe.
template <class E, std::size_t N>
constexpr const E* value_of(const Named<E> (&table)[N], std::string_view name) {
  for (const auto& entry : table) {
    if (name == entry.name) return &entry.value;
  }
  return nullptr;
}

}  // namespace rig::model
