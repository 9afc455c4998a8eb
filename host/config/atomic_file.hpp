// Replacing a file so that a reader, a crash or a power cut sees either the old content or the new, never a
// part: write a temporary file beside it, flush it to disk, rename it over the target, flush the directory.
// Every rig file written while something may read it goes through here (a calibrated rig config, a pty path
// published for a test or a script, rigd's dashboard URL).
#pragma once

#include <filesystem>
#include <string>

namespace rig::config {

// Replaces `path` with `text` atomically. The new file keeps the permissions of the file it replaces (or gets
// `mode_if_new`, less the umask, when there was none). Every step is checked: on failure it throws
// std::runtime_error naming the path and the reason, removes its temporary file and leaves `path` as it was.
// Thread-safe for different paths; two writers of the same path each leave a whole file (the last rename wins).
void write_file_atomically(const std::filesystem::path& path, const std::string& text,
                           std::filesystem::perms mode_if_new = std::filesystem::perms::owner_read |
                                                                std::filesystem::perms::owner_write |
                                                                std::filesystem::perms::group_read |
                                                                std::filesystem::perms::others_read);

}  // namespace rig::config
