#include "host/model/device.hpp"

#include <nlohmann/json.hpp>
#include <type_traits>

namespace rig::model {
namespace {

template <class T>
nlohmann::json json_value(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return static_cast<int>(value);
  } else {
    return value;
  }
}

}  // namespace

std::string device_info_json(const DeviceInfo& device) {
  nlohmann::json json;  // keys sorted, as sessions already stored spell it
#define RIG_DEVICE_FIELD(name, type, doc) json[#name] = json_value(device.name);
#include "host/model/device.def"
#undef RIG_DEVICE_FIELD
  return json.dump();
}

}  // namespace rig::model
