// `rig lab serve`: the lab page's server (cmd_lab_serve.cpp), a subcommand of `rig lab` (cmd_lab.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rig::app {

struct ServeOptions {
  std::string url;
  std::string address = "127.0.0.1";
  std::uint16_t port = 8770;
  std::vector<std::string> host_names;
  std::string subjects;
  std::string url_file;
  std::string web_root;
  int index_sessions = 5;
  int offline_after_s = 60;
  bool quiet = false;
};

// Declares `serve` and its options on `lab` (bound to `o`). Returns the subcommand.
CLI::App* add_lab_serve_command(CLI::App& lab, const std::shared_ptr<ServeOptions>& o, const std::string& url_help);

// Serves the lab page until SIGINT or SIGTERM. Returns the exit code. Throws InputError (a password in the URL, a
// bad subjects file), std::runtime_error (cannot listen).
int lab_serve(const ServeOptions& options);

}  // namespace rig::app
