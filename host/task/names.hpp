// The name tables of the task's files: the templates live in the model (host/model/names.hpp).
#pragma once

#include "host/model/names.hpp"

namespace rig::task {

using model::name_of;
using model::Named;
using model::value_of;

}  // namespace rig::task
