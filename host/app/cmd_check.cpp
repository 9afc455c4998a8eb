// `rig check FILE...`: validates protocol, rig config and subjects files; `rig check --effective FILE` prints a
// protocol with every default filled in. Exit 0 when valid, 2 with FILE:LINE:COL: message lines when not.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/analysis/agent_yaml.hpp"
#include "host/config/protocol_file.hpp"
#include "command_registry.hpp"
#include "host/config/check.hpp"
#include "host/task/compatibility.hpp"
#include "host/task/protocol.hpp"

namespace {

struct CheckOptions {
  std::vector<std::string> files;
  std::string rig_config;
  bool effective = false;
};

void print_diagnostics(const std::vector<rig::task::Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) std::fprintf(stderr, "%s\n", rig::task::format_diagnostic(d).c_str());
}

int run_effective(const CheckOptions& options) {
  if (options.files.size() != 1) {
    std::fprintf(stderr, "rig check --effective takes exactly one protocol file\n");
    return rig::app::kExitInvalid;
  }
  const auto loaded = rig::config::load_protocol_file(options.files.front());
  if (!loaded.ok()) {
    print_diagnostics(loaded.diagnostics);
    return rig::app::kExitInvalid;
  }
  std::fputs(rig::config::effective_protocol_yaml(*loaded.value).c_str(), stdout);
  return rig::app::kExitOk;
}

// A subject's simulated agent as `rig run` will build it: a preset it knows, a file or an inline mapping with
// only the agent keys of docs/analysis.md, each value in range.
std::vector<std::string> check_agent(const rig::task::AgentSpec& agent, const std::string& subjects_file) {
  std::vector<std::string> problems;
  switch (agent.kind) {
    case rig::task::AgentSpec::Kind::kPreset:
      if (!rig::analysis::parse_agent_preset(agent.text)) {
        problems.push_back("unknown agent preset '" + agent.text + "' (naive, savvy, mixed)");
      }
      break;
    case rig::task::AgentSpec::Kind::kFile: {
      const auto loaded = rig::analysis::load_agent_config_file(rig::task::resolve_relative(subjects_file, agent.text));
      for (const auto& d : loaded.diagnostics) problems.push_back(rig::task::format_diagnostic(d));
      break;
    }
    case rig::task::AgentSpec::Kind::kInline: {
      // The mapping is re-emitted text: its own line numbers mean nothing in the subjects file, so only the
      // field and the reason are given (at the subject's simulated_agent).
      const auto loaded = rig::analysis::parse_agent_config(agent.text, subjects_file);
      for (const auto& d : loaded.diagnostics) problems.push_back(d.message);
      break;
    }
  }
  return problems;
}

int run_check(const CheckOptions& options) {
  std::optional<std::string> rig_config;
  if (!options.rig_config.empty()) rig_config = options.rig_config;
  const auto report = rig::config::check_files(options.files, rig_config, check_agent);
  print_diagnostics(report.diagnostics);
  for (const auto& file : report.files) {
    if (file.ok) std::printf("%s: ok (%s)\n", file.path.c_str(), rig::task::name_of(rig::config::kFileKindNames, file.kind));
  }
  return report.ok() ? rig::app::kExitOk : rig::app::kExitInvalid;
}

const rig::app::CommandRegistration kCheckRegistration{
    "check", "Validate protocol, rig config and subjects files (exit 2 with FILE:LINE:COL: messages)",
    [](CLI::App& command) {
      auto options = std::make_shared<CheckOptions>();
      command.add_option("files", options->files, "Protocol, rig config or subjects YAML files")->required();
      command.add_option("--rig", options->rig_config,
                         "Rig config to check protocols against (default: any rig config among FILES)");
      command.add_flag("--effective", options->effective,
                       "Print the protocol FILE with every default filled in instead of checking");
      return [options] { return options->effective ? run_effective(*options) : run_check(*options); };
    }};

}  // namespace
