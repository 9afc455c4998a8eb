#include "atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace rig::config {
namespace fs = std::filesystem;

namespace {

std::string errno_text(int error) { return std::strerror(error); }

// Writes all of `text` to `fd`; returns 0 or the errno of the failure.
int write_all(int fd, const std::string& text) {
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    written += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::string& text, fs::perms mode_if_new) {
  static std::atomic<unsigned> counter{0};
  const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const fs::path temporary = path.string() + "." + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".tmp";
  const auto fail = [&](const std::string& step, int error) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw std::runtime_error(path.string() + ": cannot write (" + step + "): " + errno_text(error));
  };

  struct stat existing {};
  const mode_t mode = ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777)
                                                           : static_cast<mode_t>(mode_if_new);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) fail("create " + temporary.string(), errno);
  int error = write_all(fd, text);
  if (error == 0 && ::fchmod(fd, mode) != 0) error = errno;  // the umask must not narrow an existing file's mode
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) fail("write " + temporary.string(), error);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) fail("rename " + temporary.string(), errno);

  // The rename is durable once the directory is on disk.
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) throw std::runtime_error(path.string() + ": written, but cannot open its directory to flush it: " + errno_text(errno));
  error = ::fsync(dir_fd) != 0 ? errno : 0;
  ::close(dir_fd);
  if (error != 0) throw std::runtime_error(path.string() + ": written, but flushing its directory failed: " + errno_text(error));
}

}  // namespace rig::config
