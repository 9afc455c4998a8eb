// `rig alerts test [--config FILE]`: posts a test alert to the rig config's alerts.webhook_url and says whether it
// arrived (exit 0), why not (exit 1, after one try of 10 s), or that no webhook is configured (exit 2).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>

#include "alerts.hpp"
#include "command_registry.hpp"
#include "run_support.hpp"

namespace rig::app {
namespace {

int alerts_test(const std::string& config) {
  const auto rig = load_rig_config_checked(config.empty() ? default_rig_config_path() : config);
  if (rig.value.alerts.webhook_url.empty()) {
    throw InputError(rig.path + ": no alerts.webhook_url: alerts are logged, stored and shown on the dashboard only "
                                "(docs/config.md, `alerts`)");
  }
  WebhookOptions once;
  once.max_attempts = 1;
  once.timeout = std::chrono::seconds(10);
  AlertSink sink(rig.value.id, rig.value.alerts, {}, once);
  std::promise<std::pair<bool, std::string>> result;
  sink.send_test([&result](bool delivered, const std::string& detail) { result.set_value({delivered, detail}); });
  const auto [delivered, detail] = result.get_future().get();
  const std::string host = WebhookUrl::parse(rig.value.alerts.webhook_url).host;
  if (!delivered) {
    std::fprintf(stderr, "rig alerts: the test alert did not reach %s: %s\n", host.c_str(), detail.c_str());
    return kExitFailure;
  }
  std::printf("the test alert reached %s\n", host.c_str());
  return kExitOk;
}

const CommandRegistration kAlerts{
    "alerts", "Alerts: `rig alerts test` posts a test alert to the rig config's webhook",
    [](CLI::App& command) {
      auto config = std::make_shared<std::string>();
      command.require_subcommand(1);
      CLI::App* test = command.add_subcommand("test", "Post a test alert to alerts.webhook_url and say whether it arrived");
      test->add_option("--config", *config,
                       "Rig config YAML (default: $RIG_CONFIG, ~/.config/rig/rig.yaml, installed: /etc/rig/rig.yaml, else the simulated rig's example)");
      return [config] { return run_with_errors("alerts", [&] { return alerts_test(*config); }); };
    }};

}  // namespace
}  // namespace rig::app
