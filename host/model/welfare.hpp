// The welfare records (field table welfare.def): a subject's weighings and the water it was given. Plain
// values; every column-wise use (SQL, export, docs) goes through RecordingTable<Record>, as for the recording
// tables, so a field is written once, in welfare.def.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "host/model/enums.hpp"
#include "host/model/recording.hpp"

namespace rig::model {

#define RIG_ROW_TABLE_DEF "host/model/welfare.def"
#include "host/model/row_tables.inc"
#undef RIG_ROW_TABLE_DEF

}  // namespace rig::model
