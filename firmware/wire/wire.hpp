// The rig wire protocol: include this one header from either build.
#ifndef RIG_WIRE_WIRE_HPP
#define RIG_WIRE_WIRE_HPP
#include "cobs.hpp"
#include "crc16.hpp"
#include "frame.hpp"
#include "limits.hpp"
#include "messages.hpp"
#endif
