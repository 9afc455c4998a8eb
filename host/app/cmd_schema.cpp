// `rig schema protocol|rig|subjects`: the JSON Schema of a kind of file the rig reads, written from the field
// tables its loader reads through, for editors (a `# yaml-language-server: $schema=...` line at the top of a
// YAML file points an editor at it). The package installs them under /usr/share/rig/schema/; the repository
// keeps a copy in config/schema/, which `--check` compares (docs/protocols.md, "Editor support").
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "command_registry.hpp"
#include "host/config/atomic_file.hpp"
#include "host/config/json_schema.hpp"

namespace rig::app {
namespace {

struct SchemaOptions {
  std::string kind;
  std::string out;
  std::string check;
};

int schema(const SchemaOptions& o) {
  const auto kind = config::schema_kind_of(o.kind);
  if (!kind) {
    std::fprintf(stderr, "rig schema: unknown kind '%s': expected protocol, rig or subjects\n", o.kind.c_str());
    return kExitInvalid;
  }
  const std::string text = config::file_schema(*kind).dump(2) + "\n";
  if (!o.check.empty()) {
    std::ifstream in(o.check);
    if (!in) {
      std::fprintf(stderr, "rig schema: cannot read %s\n", o.check.c_str());
      return kExitInvalid;
    }
    std::ostringstream stored;
    stored << in.rdbuf();
    if (stored.str() != text) {
      std::fprintf(stderr, "rig schema: %s is not the %s schema this rig writes: run `rig schema %s --out %s`\n",
                   o.check.c_str(), o.kind.c_str(), o.kind.c_str(), o.check.c_str());
      return kExitFailure;
    }
    std::printf("%s is up to date\n", o.check.c_str());
    return kExitOk;
  }
  if (o.out.empty()) {
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  try {
    config::write_file_atomically(o.out, text);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "rig schema: %s\n", e.what());
    return kExitFailure;
  }
  std::fprintf(stderr, "wrote %s\n", o.out.c_str());
  return kExitOk;
}

const CommandRegistration kSchemaRegistration{
    "schema", "Write the JSON Schema of protocols, rig configs or subjects files, for editors",
    [](CLI::App& command) {
      auto o = std::make_shared<SchemaOptions>();
      command.add_option("KIND", o->kind, "protocol, rig or subjects")
          ->required()
          ->check(CLI::IsMember({"protocol", "rig", "subjects"}));
      auto* out = command.add_option("--out", o->out, "Write the schema to FILE (atomically) instead of stdout");
      command.add_option("--check", o->check, "Exit 1 if FILE is not the schema this rig writes (exit 0 if it is)")
          ->excludes(out);
      command.footer(
          "Point an editor at it with a first line `# yaml-language-server: $schema=PATH` (VS Code's YAML\n"
          "extension, Neovim and Emacs with yaml-language-server). Installed: /usr/share/rig/schema/KIND.schema.json.");
      return [o] { return schema(*o); };
    }};

}  // namespace
}  // namespace rig::app
