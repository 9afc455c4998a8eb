// `rig lab init --url URL`: creates or migrates the lab's PostgreSQL schema (docs/lab.md).
// `rig lab add-rig ID --url URL`, `rig lab add-reader NAME --url URL`: the lab's roles (docs/lab.md, "Roles").
// `rig lab serve --url URL [--port P]`: the lab page (cmd_lab_serve.cpp).
// `rig sync [--db DB] --lab URL [--config FILE]`: pushes the rig's outbox to the lab once (rigd pushes in the
// background; this is for a rig that was offline, or an old database).
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cmd_lab_serve.hpp"
#include "command_registry.hpp"
#include "host/lab/lab_roles.hpp"
#include "host/lab/lab_schema.hpp"
#include "host/lab/lab_sync.hpp"
#include "run_support.hpp"

namespace rig::app {
namespace {

constexpr const char* kUrlHelp =
    "The lab database: a libpq URL or connection string (postgresql://rig@lab.example.org/lab?sslmode=verify-full, "
    "service=lab); its password comes from ~/.pgpass or a service file, never the command line (docs/lab.md)";

// Runs `body` with the lab's refusals of bad input as InputError (exit 2).
template <class Body>
int with_lab_input(Body&& body) {
  try {
    return body();
  } catch (const lab::LabInputError& e) {
    throw InputError(e.what());
  }
}

int lab_init(const std::string& url) {
  return with_lab_input([&] {
    // A migration may rewrite or index a large table: no limit on how long the server takes to answer.
    lab::PgConnection lab(url, lab::PgTimeouts{10, std::chrono::milliseconds(0)});
    const int before = lab::migrate_lab(lab);
    const int after = lab::lab_schema_version(lab);
    if (before == after) {
      std::printf("lab database %s is at schema version %d: nothing to do\n", lab.server().c_str(), after);
    } else if (before == 0) {
      std::printf("lab database %s created at schema version %d\n", lab.server().c_str(), after);
    } else {
      std::printf("lab database %s migrated from schema version %d to %d\n", lab.server().c_str(), before, after);
    }
    return kExitOk;
  });
}

struct RoleOptions {
  std::string url;
  std::string name;
  std::string password_file;
  bool set_password = false;
};

// Reads a line from the terminal without echo ("" when the input ended first). Throws InputError when there is
// no terminal.
std::string ask_password(const std::string& prompt) {
  const int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) throw InputError("--set-password needs a terminal; use --password-file FILE (mode 0600) instead");
  termios before{};
  const bool is_terminal = ::tcgetattr(tty, &before) == 0;
  if (is_terminal) {
    termios quiet = before;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  (void)!::write(tty, prompt.data(), prompt.size());
  std::string password;
  char c = 0;
  while (::read(tty, &c, 1) == 1 && c != '\n') password += c;
  if (is_terminal) ::tcsetattr(tty, TCSAFLUSH, &before);
  (void)!::write(tty, "\n", 1);
  ::close(tty);
  return password;
}

// The new role's password: from --password-file (its first line; the file must not be readable by others), or
// asked twice at the terminal (--set-password), or none.
std::optional<std::string> role_password(const RoleOptions& o) {
  if (!o.password_file.empty()) {
    struct stat info {};
    if (::stat(o.password_file.c_str(), &info) != 0) throw InputError("--password-file " + o.password_file + ": no such file");
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      throw InputError("--password-file " + o.password_file + ": readable by others (chmod 600 it)");
    }
    std::ifstream in(o.password_file);
    std::string password;
    std::getline(in, password);
    if (password.empty()) throw InputError("--password-file " + o.password_file + ": the first line is empty");
    return password;
  }
  if (!o.set_password) return std::nullopt;
  const std::string password = ask_password("Password for role " + o.name + ": ");
  if (password.empty()) throw InputError("an empty password; nothing changed");
  if (ask_password("Again: ") != password) throw InputError("the two passwords differ; nothing changed");
  return password;
}

int add_role(const RoleOptions& o, lab::LabRole kind) {
  return with_lab_input([&] {
    const auto password = role_password(o);
    lab::PgConnection lab(o.url);
    const bool created = lab::add_lab_role(lab, kind, o.name, password);
    const char* group = kind == lab::LabRole::kRig ? lab::kRigGroupRole : lab::kReaderGroupRole;
    std::printf("role %s %s in %s at %s%s\n", o.name.c_str(), created ? "created" : "already there, now", group,
                lab.server().c_str(), password ? ", with the password given" : "");
    if (kind == lab::LabRole::kRig) {
      std::printf("it reads every rig's rows and writes only rig %s's: give that rig's config lab.url with user=%s "
                  "(docs/lab.md, \"Roles\")\n", o.name.c_str(), o.name.c_str());
    } else {
      std::printf("it reads every row and writes none (the lab page, analysts)\n");
    }
    if (!password && created) {
      std::printf("it has no password yet: run again with --set-password, or use certificate or peer authentication\n");
    }
    return kExitOk;
  });
}

void add_role_command(CLI::App& command, const char* name, const char* help, const char* name_help,
                      const std::shared_ptr<RoleOptions>& o, const std::shared_ptr<lab::LabRole>& chosen, lab::LabRole kind) {
  CLI::App* sub = command.add_subcommand(name, help);
  sub->add_option("name", o->name, name_help)->required();
  sub->add_option("--url", o->url, std::string(kUrlHelp) + "; connect as the lab's administrator (e.g. sudo -u postgres)")
      ->required();
  auto* file = sub->add_option("--password-file", o->password_file,
                               "Set the role's password from this file's first line (mode 0600; it is hashed before it is sent)");
  sub->add_flag("--set-password", o->set_password, "Ask for the role's password at the terminal")->excludes(file);
  sub->callback([chosen, kind] { *chosen = kind; });
}

struct SyncOptions {
  std::string db;
  std::string url;
  std::string config;
  std::size_t batch = 5000;
  bool all = false;
  bool quiet = false;
};

int sync(const SyncOptions& o) {
  return with_lab_input([&] {
    const auto rig = load_rig_config_checked(o.config.empty() ? default_rig_config_path() : o.config);
    const std::string path = o.db.empty() ? store::Store::default_path() : o.db;
    if (!std::filesystem::exists(path)) throw InputError("store " + path + ": no such database file");
    auto store = store::Store::open(path);
    lab::PgConnection lab(o.url, lab::PgTimeouts{10, rig.value.lab.timeout()});
    if (o.all) std::fprintf(stderr, "rig sync: %lld rows queued again\n", static_cast<long long>(store.outbox_enqueue_all()));
    const auto start = std::chrono::steady_clock::now();
    lab::PushOptions options;
    options.batch_entries = o.batch;
    if (!o.quiet) {
      options.on_batch = [](const lab::PushResult& progress) {
        std::fprintf(stderr, "rig sync: %zu rows pushed, %lld outbox entries left\n", progress.rows,
                     static_cast<long long>(progress.backlog.entries));
      };
    }
    const auto result = lab::push_outbox(store, lab, rig.value.id, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string tables;
    for (const auto& [table, rows] : result.rows_by_table) tables += (tables.empty() ? "" : ", ") + table + " " + std::to_string(rows);
    std::printf("pushed %zu rows of %s as rig %s to %s in %.1f s%s%s%s\n", result.rows, path.c_str(), rig.value.id.c_str(),
                lab.server().c_str(), seconds, tables.empty() ? "" : " (", tables.c_str(), tables.empty() ? "" : ")");
    return kExitOk;
  });
}

const CommandRegistration kLab{
    "lab",
    "The lab database: `rig lab init` creates or migrates its schema; `rig lab add-rig` and `rig lab add-reader` "
    "create its roles; `rig lab serve` serves the lab page (docs/lab.md)",
    [](CLI::App& command) {
      auto url = std::make_shared<std::string>();
      auto role = std::make_shared<RoleOptions>();
      auto chosen = std::make_shared<lab::LabRole>(lab::LabRole::kRig);
      command.require_subcommand(1);
      CLI::App* init = command.add_subcommand("init", "Create or migrate the lab's PostgreSQL schema");
      init->add_option("--url", *url, kUrlHelp)->required();
      add_role_command(command, "add-rig",
                       "Create a rig's PostgreSQL role: it reads every row and writes only its own rig's (row-level security)",
                       "The rig's id (rig.id in its config): the role's name", role, chosen, lab::LabRole::kRig);
      add_role_command(command, "add-reader", "Create a read-only PostgreSQL role (the lab page, analysts)",
                       "The role's name", role, chosen, lab::LabRole::kReader);
      auto serve_options = std::make_shared<ServeOptions>();
      CLI::App* serve = add_lab_serve_command(command, serve_options, kUrlHelp);
      return [url, role, init, chosen, serve, serve_options] {
        return run_with_errors("lab", [&] {
          if (serve->parsed()) return with_lab_input([&] { return lab_serve(*serve_options); });
          return init->parsed() ? lab_init(*url) : add_role(*role, *chosen);
        });
      };
    }};

const CommandRegistration kSync{
    "sync", "Push this rig's stored sessions, trials and records to the lab database once (docs/lab.md)",
    [](CLI::App& command) {
      auto o = std::make_shared<SyncOptions>();
      command.add_option("--db", o->db, "Session database (default: $XDG_DATA_HOME/rig/rig.sqlite)");
      command.add_option("--lab", o->url, kUrlHelp)->required();
      command.add_option("--config", o->config,
                         "Rig config YAML, for rig.id (default: $RIG_CONFIG, ~/.config/rig/rig.yaml, installed: /etc/rig/rig.yaml, else the simulated rig's example)");
      command.add_option("--batch", o->batch, "Outbox entries per lab transaction")->check(CLI::Range(1, 1000000));
      command.add_flag("--all", o->all,
                       "Send every row again, not only what the lab has not received (a lab restored from an older backup)");
      command.add_flag("--quiet", o->quiet, "No progress lines");
      return [o] { return run_with_errors("sync", [&] { return sync(*o); }); };
    }};

}  // namespace
}  // namespace rig::app
