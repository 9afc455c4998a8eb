// Reading a file the rig was told to read (a protocol, a rig config, a subjects file, a CSV) without trusting
// what the path names: only a regular file, opened without blocking (a FIFO or a device never stalls the
// caller), and never more than a size cap (/dev/zero or a huge file never exhausts memory).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace rig::config {

// Files the rig reads as configuration (YAML) are at most this large unless the rig config says otherwise
// (`max_file_bytes`): the largest shipped file is under 4 KiB.
inline constexpr std::size_t kDefaultMaxConfigBytes = std::size_t{1} << 20;

// What read_bounded_file() found: the text, or why not (in words that name no content of the file).
struct BoundedRead {
  std::optional<std::string> text;
  std::string error;  // "no such file", "not a regular file (a FIFO)", "larger than 1048576 bytes", ...
};

// Reads the whole of `path` when it is a regular file of at most `max_bytes` bytes. Opens with O_NONBLOCK
// (so opening a FIFO with no writer returns at once) and checks the type with fstat on the open descriptor
// (no race with a rename between check and read). Thread-safe; blocks only for the read of a regular file.
// No exceptions: failures come back in `error`.
BoundedRead read_bounded_file(const std::string& path, std::size_t max_bytes = kDefaultMaxConfigBytes);

}  // namespace rig::config
