// `rig protocol diff A B`: what two protocols do differently, setting by setting, with every default filled in
// (the effective protocols of `rig check --effective`). Exit 0 when they do the same, 1 when they differ (as
// diff(1)), 2 when a file is invalid (its FILE:LINE:COL diagnostics on stderr).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "command_registry.hpp"
#include "host/config/protocol_file.hpp"

namespace rig::app {
namespace {

struct DiffOptions {
  std::string a, b;
  bool json = false;
};

constexpr const char* kAbsent = "(not set)";

int protocol_diff(const DiffOptions& o) {
  const auto a = config::load_protocol_file(o.a);
  const auto b = config::load_protocol_file(o.b);
  if (!a.ok() || !b.ok()) {
    for (const auto* loaded : {&a, &b}) {
      for (const auto& d : loaded->diagnostics) std::fprintf(stderr, "%s\n", task::format_diagnostic(d).c_str());
    }
    return kExitInvalid;
  }
  const auto differences = config::protocol_differences(*a.value, *b.value);
  if (o.json) {
    nlohmann::json rows = nlohmann::json::array();
    auto value = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    for (const auto& d : differences) rows.push_back({{"setting", d.path}, {"a", value(d.a)}, {"b", value(d.b)}});
    const nlohmann::json out{{"a", o.a}, {"b", o.b}, {"same", differences.empty()}, {"differences", rows}};
    std::printf("%s\n", out.dump(2).c_str());
    return differences.empty() ? kExitOk : kExitFailure;
  }
  if (differences.empty()) {
    std::printf("%s and %s do the same: every effective setting is equal\n", o.a.c_str(), o.b.c_str());
    return kExitOk;
  }
  std::size_t path_width = std::string("setting").size(), a_width = o.a.size();
  for (const auto& d : differences) {
    path_width = std::max(path_width, d.path.size());
    a_width = std::max(a_width, d.a ? d.a->size() : std::string(kAbsent).size());
  }
  const int pw = static_cast<int>(path_width), aw = static_cast<int>(a_width);
  std::printf("%-*s  %-*s  %s\n", pw, "setting", aw, o.a.c_str(), o.b.c_str());
  for (const auto& d : differences) {
    std::printf("%-*s  %-*s  %s\n", pw, d.path.c_str(), aw, d.a ? d.a->c_str() : kAbsent, d.b ? d.b->c_str() : kAbsent);
  }
  std::printf("%zu setting%s differ%s (defaults filled in: rig check --effective FILE shows all of them)\n",
              differences.size(), differences.size() == 1 ? "" : "s", differences.size() == 1 ? "s" : "");
  return kExitFailure;
}

const CommandRegistration kProtocolRegistration{
    "protocol", "Compare protocols (rig protocol diff A B)",
    [](CLI::App& command) {
      auto o = std::make_shared<DiffOptions>();
      command.require_subcommand(1);
      CLI::App* diff = command.add_subcommand(
          "diff", "The effective settings two protocols set differently, side by side (exit 0 same, 1 different, 2 invalid)");
      diff->add_option("A", o->a, "A protocol YAML")->required();
      diff->add_option("B", o->b, "Another protocol YAML")->required();
      diff->add_flag("--json", o->json, "One JSON object: {a, b, same, differences: [{setting, a, b}]} (null: not set)");
      return [o] { return protocol_diff(*o); };
    }};

}  // namespace
}  // namespace rig::app
