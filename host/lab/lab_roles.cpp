#include "host/lab/lab_roles.hpp"

#include "host/store/outbox.hpp"

namespace rig::lab {
namespace {

bool role_exists(PgConnection& lab, const std::string& name) {
  return lab.exec("SELECT 1 FROM pg_roles WHERE rolname = $1", {PgParam{name}}, "look up role " + name).rows() > 0;
}

}  // namespace

void grant_lab_privileges(PgConnection& lab) {
  const std::string what = "grant the lab's roles their privileges";
  PgTransaction transaction(lab, what);
  const std::string schema = lab.identifier(lab.exec("SELECT current_schema()", what).text(0, 0));
  if (role_exists(lab, kRigGroupRole)) {
    std::string writable = "rigs";
    for (const auto& table : store::synced_tables(store::kSchemaVersion)) writable += ", " + table.name;
    lab.exec(std::string("GRANT USAGE ON SCHEMA ") + schema + " TO " + kRigGroupRole + ";\n" +
                 "GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + kRigGroupRole + ";\n" +
                 "GRANT INSERT, UPDATE, DELETE ON " + writable + " TO " + kRigGroupRole + ";\n",
             what);
  }
  if (role_exists(lab, kReaderGroupRole)) {
    lab.exec(std::string("GRANT USAGE ON SCHEMA ") + schema + " TO " + kReaderGroupRole + ";\n" +
                 "GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + kReaderGroupRole + ";\n",
             what);
  }
  transaction.commit();
}

bool add_lab_role(PgConnection& lab, LabRole kind, const std::string& name, const std::optional<std::string>& password) {
  const std::string group = kind == LabRole::kRig ? kRigGroupRole : kReaderGroupRole;
  if (name.empty()) throw LabInputError("a role needs a name");
  if (name == kRigGroupRole || name == kReaderGroupRole || name.starts_with("pg_")) {
    throw LabInputError("\"" + name + "\" cannot be a rig's or a reader's role (lab_rig and lab_reader are the groups; pg_ is PostgreSQL's)");
  }
  const std::string what = "add role " + name + " to " + group;
  // Roles belong to the whole server: two administrators adding at once would race on CREATE ROLE.
  PgTransaction transaction(lab, what);
  lab.exec("SELECT pg_advisory_xact_lock(7318002)", what);
  if (!role_exists(lab, group)) lab.exec("CREATE ROLE " + group + " NOLOGIN", what);
  const std::string role = lab.identifier(name);
  const bool created = !role_exists(lab, name);
  if (created) {
    lab.exec("CREATE ROLE " + role + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT", what);
  } else if (lab.exec("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = $1", {PgParam{name}}, what).text(0, 0) == "t") {
    throw LabInputError("role \"" + name + "\" is a superuser or bypasses row-level security: a rig or reader must not be");
  }
  lab.exec("GRANT " + group + " TO " + role, what);
  if (password) lab.exec("ALTER ROLE " + role + " PASSWORD " + lab.literal(lab.encrypted_password(*password, name)), what);
  transaction.commit();
  grant_lab_privileges(lab);
  return created;
}

}  // namespace rig::lab
