// A small layer over HDF5's C API (Debian's libhdf5) for the NWB export: handles that close themselves, typed
// attributes and datasets, and 1-D datasets that grow as rows are appended (chunked, optionally gzip with the
// shuffle filter), so that a long session is written with memory bounded by the chunk size, not its length.
//
// Errors: every failing HDF5 call throws Hdf5Error naming the call and the object's path (HDF5's own error
// printing is turned off for the thread that opens a file through H5File). Not thread-safe: one H5File and
// what is opened from it belong to one thread (Debian's libhdf5 is built without thread-safety).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace rig::store::hdf5 {

class Hdf5Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An HDF5 identifier and the function that closes it; moves, never copies.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  // Takes `id` (throws Hdf5Error naming `what` when it is negative, HDF5's failure value).
  Handle(hid_t id, Closer closer, const std::string& what);
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle();

  hid_t id() const { return id_; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// The element types the export writes.
enum class Element { kInt8Bool, kInt8, kInt32, kInt64, kFloat64, kText };

// A group (or the file's root group) with its path, for messages.
class Group {
 public:
  Group(Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  hid_t id() const { return handle_.id(); }

  // A new subgroup `name`. Throws Hdf5Error.
  Group create_group(const std::string& name) const;

  // Attributes on this group: a scalar UTF-8 string, a 1-D array of strings, a float64 or an int64.
  void set_attribute(const std::string& name, const std::string& value) const;
  void set_attribute(const std::string& name, const std::vector<std::string>& values) const;
  void set_attribute(const std::string& name, double value) const;
  void set_attribute(const std::string& name, std::int64_t value) const;

  // Scalar datasets (a UTF-8 string; a float64) and 1-D datasets written at once; returns the dataset's path
  // for attributes (set_dataset_attribute). Throws Hdf5Error.
  std::string write_scalar(const std::string& name, const std::string& value) const;
  std::string write_scalar(const std::string& name, double value) const;
  std::string write_strings(const std::string& name, const std::vector<std::string>& values) const;

 private:
  Handle handle_;
  std::string path_;
};

// An attribute on the dataset at `path` inside `file` (a string, strings, float64 or int64). Throws Hdf5Error.
void set_dataset_attribute(hid_t file, const std::string& path, const std::string& name, const std::string& value);
void set_dataset_attribute(hid_t file, const std::string& path, const std::string& name, double value);
void set_dataset_attribute(hid_t file, const std::string& path, const std::string& name, std::int32_t value);

// How an appended dataset is stored.
struct AppendOptions {
  std::size_t chunk_rows = 16384;  // rows per chunk, and rows buffered in memory before a write
  int gzip_level = 0;              // 0: no compression; 1-9: deflate with the shuffle filter before it
};

// A 1-D dataset that grows as rows are appended: chunked and unlimited, written a chunk of rows at a time.
// Call finish() (or let the destructor do it, ignoring errors) to write what is buffered.
class AppendedDataset {
 public:
  // Creates `name` in `group` with elements of `element`. Throws Hdf5Error.
  AppendedDataset(const Group& group, const std::string& name, Element element, AppendOptions options = {});
  AppendedDataset(AppendedDataset&&) noexcept = default;
  AppendedDataset& operator=(AppendedDataset&&) noexcept = default;
  ~AppendedDataset();

  // Appends one row. The overload must match the element type (kInt8Bool and kInt8 take the integer overload,
  // kFloat64 the double one, kText the string one); a mismatch throws std::logic_error. Throws Hdf5Error when a
  // buffered chunk cannot be written.
  void append(std::int64_t value);
  void append(double value);
  void append(const std::string& value);
  // Writes what is buffered. Throws Hdf5Error.
  void finish();

  const std::string& path() const { return path_; }
  std::int64_t rows() const { return rows_written_ + static_cast<std::int64_t>(buffered()); }

 private:
  std::size_t buffered() const;
  void flush();

  Handle dataset_;
  Handle type_;
  std::string path_;
  Element element_ = Element::kInt64;
  std::size_t chunk_rows_ = 0;
  std::int64_t rows_written_ = 0;
  std::vector<std::int64_t> integers_;
  std::vector<double> reals_;
  std::vector<std::string> texts_;
};

// An HDF5 file created for writing, its root group, and the error reporting described above.
class H5File {
 public:
  // Creates `path`, failing if it exists. Throws Hdf5Error naming the path.
  static H5File create(const std::string& path);

  const Group& root() const { return root_; }
  hid_t id() const { return file_.id(); }
  // Flushes and closes the file. Throws Hdf5Error.
  void close();

 private:
  H5File(Handle file, Group root) : file_(std::move(file)), root_(std::move(root)) {}
  Handle file_;
  Group root_;
};

}  // namespace rig::store::hdf5
