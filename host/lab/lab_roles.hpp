// The lab's roles (docs/lab.md, "Roles"): one login role per rig, named after its rig id, in the group
// `lab_rig` (reads every row, writes only its own rig's rows: the row-level security of lab_schema.cpp), and
// reader roles in the group `lab_reader` (the lab page, analysts: read only). The administrator who ran
// `rig lab init` owns the tables and is not bound by either.
#pragma once

#include <optional>
#include <string>

#include "host/lab/pg.hpp"

namespace rig::lab {

inline constexpr const char* kRigGroupRole = "lab_rig";
inline constexpr const char* kReaderGroupRole = "lab_reader";

enum class LabRole { kRig, kReader };

// Grants each group role that exists its privileges on every lab table: SELECT for both; INSERT, UPDATE and
// DELETE on `rigs` and the synced tables for lab_rig (the staging tables of a push are temporary: PostgreSQL's
// default TEMPORARY privilege covers them). migrate_lab() runs it after the migrations, so a table a later
// version adds is granted too. Run as the tables' owner. Throws LabError.
void grant_lab_privileges(PgConnection& lab);

// Creates the login role `name` in the group of `kind` (creating the group when missing; granting it its
// privileges), or puts an existing role in it. Sets the role's password when `password` is given, hashed on this
// side (PgConnection::encrypted_password); an existing role otherwise keeps its own. Run as the tables' owner
// with the CREATEROLE attribute (docs/lab.md: `sudo -u postgres rig lab add-rig ...`). Returns true when the
// role was created. Throws LabInputError for a name that cannot be a rig's or reader's role (empty, a group's,
// PostgreSQL's reserved pg_ prefix), LabError when the server refuses.
bool add_lab_role(PgConnection& lab, LabRole kind, const std::string& name, const std::optional<std::string>& password);

}  // namespace rig::lab
