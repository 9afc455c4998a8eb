#include "host/store/hdf5.hpp"

#include <utility>

namespace rig::store::hdf5 {
namespace {

void check(herr_t status, const std::string& what) {
  if (status < 0) throw Hdf5Error("HDF5: " + what + " failed");
}

// A variable-length UTF-8 string type (as h5py and pynwb write text).
Handle text_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "copying the string type");
  check(H5Tset_size(type.id(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset");
  return type;
}

// The enum h5py reads as numpy's bool: int8 with FALSE = 0 and TRUE = 1.
Handle bool_type() {
  Handle type(H5Tenum_create(H5T_NATIVE_INT8), H5Tclose, "creating the bool type");
  const std::int8_t false_value = 0;
  const std::int8_t true_value = 1;
  check(H5Tenum_insert(type.id(), "FALSE", &false_value), "H5Tenum_insert");
  check(H5Tenum_insert(type.id(), "TRUE", &true_value), "H5Tenum_insert");
  return type;
}

Handle element_type(Element element) {
  switch (element) {
    case Element::kInt8Bool:
      return bool_type();
    case Element::kText:
      return text_type();
    case Element::kInt8:
      return Handle(H5Tcopy(H5T_NATIVE_INT8), H5Tclose, "H5Tcopy");
    case Element::kInt32:
      return Handle(H5Tcopy(H5T_NATIVE_INT32), H5Tclose, "H5Tcopy");
    case Element::kFloat64:
      return Handle(H5Tcopy(H5T_NATIVE_DOUBLE), H5Tclose, "H5Tcopy");
    case Element::kInt64:
    default:
      return Handle(H5Tcopy(H5T_NATIVE_INT64), H5Tclose, "H5Tcopy");
  }
}

// Object creation without modification times, so that the same session exports to the same datasets.
Handle creation_properties(hid_t property_class, const std::string& what) {
  Handle properties(H5Pcreate(property_class), H5Pclose, what);
  check(H5Pset_obj_track_times(properties.id(), false), "H5Pset_obj_track_times for " + what);
  return properties;
}

Handle scalar_space() { return Handle(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate"); }

Handle vector_space(std::size_t rows) {
  const hsize_t dims[1] = {rows};
  return Handle(H5Screate_simple(1, dims, nullptr), H5Sclose, "H5Screate_simple");
}

std::vector<const char*> c_strings(const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& value : values) pointers.push_back(value.c_str());
  return pointers;
}

void write_attribute(hid_t object, const std::string& object_path, const std::string& name, hid_t type, hid_t space,
                     const void* data) {
  const std::string what = "the attribute " + name + " of " + object_path;
  Handle attribute(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                   "creating " + what);
  check(H5Awrite(attribute.id(), type, data), "writing " + what);
}

void string_attribute(hid_t object, const std::string& path, const std::string& name, const std::string& value) {
  const auto type = text_type();
  const char* pointer = value.c_str();
  write_attribute(object, path, name, type.id(), scalar_space().id(), &pointer);
}

void double_attribute(hid_t object, const std::string& path, const std::string& name, double value) {
  write_attribute(object, path, name, H5T_NATIVE_DOUBLE, scalar_space().id(), &value);
}

std::string child_path(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

// Writes a whole dataset `name` (at `path`, for messages) of `type` and `space` under `parent` from `data`.
void write_dataset(hid_t parent, const std::string& name, const std::string& path, hid_t type, hid_t space,
                   const void* data) {
  const auto properties = creation_properties(H5P_DATASET_CREATE, path);
  Handle dataset(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, properties.id(), H5P_DEFAULT), H5Dclose,
                 "creating " + path);
  check(H5Dwrite(dataset.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing " + path);
}

}  // namespace

Handle::Handle(hid_t id, Closer closer, const std::string& what) : id_(id), closer_(closer) {
  if (id < 0) throw Hdf5Error("HDF5: " + what + " failed");
}

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(std::exchange(other.closer_, nullptr)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    closer_ = std::exchange(other.closer_, nullptr);
  }
  return *this;
}

Handle::~Handle() {
  if (id_ >= 0 && closer_) closer_(id_);
}

Group Group::create_group(const std::string& name) const {
  const auto path = child_path(path_, name);
  const auto properties = creation_properties(H5P_GROUP_CREATE, path);
  return Group(Handle(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, properties.id(), H5P_DEFAULT), H5Gclose,
                      "creating the group " + path),
               path);
}

void Group::set_attribute(const std::string& name, const std::string& value) const {
  string_attribute(id(), path_, name, value);
}

void Group::set_attribute(const std::string& name, const std::vector<std::string>& values) const {
  const auto type = text_type();
  const auto pointers = c_strings(values);
  write_attribute(id(), path_, name, type.id(), vector_space(values.size()).id(), pointers.data());
}

void Group::set_attribute(const std::string& name, double value) const { double_attribute(id(), path_, name, value); }

void Group::set_attribute(const std::string& name, std::int64_t value) const {
  write_attribute(id(), path_, name, H5T_NATIVE_INT64, scalar_space().id(), &value);
}

std::string Group::write_scalar(const std::string& name, const std::string& value) const {
  const auto path = child_path(path_, name);
  const auto type = text_type();
  const char* pointer = value.c_str();
  write_dataset(id(), name, path, type.id(), scalar_space().id(), &pointer);
  return path;
}

std::string Group::write_scalar(const std::string& name, double value) const {
  const auto path = child_path(path_, name);
  write_dataset(id(), name, path, H5T_NATIVE_DOUBLE, scalar_space().id(), &value);
  return path;
}

std::string Group::write_strings(const std::string& name, const std::vector<std::string>& values) const {
  const auto path = child_path(path_, name);
  const auto type = text_type();
  const auto pointers = c_strings(values);
  write_dataset(id(), name, path, type.id(), vector_space(values.size()).id(), pointers.data());
  return path;
}

void set_dataset_attribute(hid_t file, const std::string& path, const std::string& name, const std::string& value) {
  Handle dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose, "opening " + path);
  string_attribute(dataset.id(), path, name, value);
}

void set_dataset_attribute(hid_t file, const std::string& path, const std::string& name, double value) {
  Handle dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose, "opening " + path);
  double_attribute(dataset.id(), path, name, value);
}

void set_dataset_attribute(hid_t file, const std::string& path, const std::string& name, std::int32_t value) {
  Handle dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose, "opening " + path);
  write_attribute(dataset.id(), path, name, H5T_NATIVE_INT32, scalar_space().id(), &value);
}

AppendedDataset::AppendedDataset(const Group& group, const std::string& name, Element element, AppendOptions options)
    : type_(element_type(element)),
      path_(child_path(group.path(), name)),
      element_(element),
      chunk_rows_(options.chunk_rows == 0 ? 1 : options.chunk_rows) {
  const hsize_t initial[1] = {0};
  const hsize_t unlimited[1] = {H5S_UNLIMITED};
  Handle space(H5Screate_simple(1, initial, unlimited), H5Sclose, "H5Screate_simple for " + path_);
  const auto properties = creation_properties(H5P_DATASET_CREATE, path_);
  const hsize_t chunk[1] = {chunk_rows_};
  check(H5Pset_chunk(properties.id(), 1, chunk), "H5Pset_chunk for " + path_);
  if (options.gzip_level > 0) {
    check(H5Pset_shuffle(properties.id()), "H5Pset_shuffle for " + path_);
    check(H5Pset_deflate(properties.id(), static_cast<unsigned>(options.gzip_level)), "H5Pset_deflate for " + path_);
  }
  dataset_ =
      Handle(H5Dcreate2(group.id(), name.c_str(), type_.id(), space.id(), H5P_DEFAULT, properties.id(), H5P_DEFAULT),
             H5Dclose, "creating " + path_);
}

AppendedDataset::~AppendedDataset() {
  try {
    if (dataset_.id() >= 0) finish();
  } catch (const std::exception&) {
    // A destructor cannot report; the caller that wanted the data called finish() and saw the error.
  }
}

std::size_t AppendedDataset::buffered() const {
  switch (element_) {
    case Element::kFloat64:
      return reals_.size();
    case Element::kText:
      return texts_.size();
    default:
      return integers_.size();
  }
}

void AppendedDataset::append(std::int64_t value) {
  if (element_ == Element::kFloat64 || element_ == Element::kText) {
    throw std::logic_error("an integer appended to the non-integer dataset " + path_);
  }
  integers_.push_back(value);
  if (integers_.size() >= chunk_rows_) flush();
}

void AppendedDataset::append(double value) {
  if (element_ != Element::kFloat64) throw std::logic_error("a real appended to the non-real dataset " + path_);
  reals_.push_back(value);
  if (reals_.size() >= chunk_rows_) flush();
}

void AppendedDataset::append(const std::string& value) {
  if (element_ != Element::kText) throw std::logic_error("text appended to the non-text dataset " + path_);
  texts_.push_back(value);
  if (texts_.size() >= chunk_rows_) flush();
}

void AppendedDataset::finish() { flush(); }

void AppendedDataset::flush() {
  const std::size_t rows = buffered();
  if (rows == 0) return;
  const hsize_t new_size[1] = {static_cast<hsize_t>(rows_written_) + rows};
  check(H5Dset_extent(dataset_.id(), new_size), "extending " + path_);
  Handle file_space(H5Dget_space(dataset_.id()), H5Sclose, "H5Dget_space for " + path_);
  const hsize_t start[1] = {static_cast<hsize_t>(rows_written_)};
  const hsize_t count[1] = {rows};
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr),
        "selecting rows of " + path_);
  const auto memory_space = vector_space(rows);
  herr_t status = 0;
  switch (element_) {
    case Element::kFloat64:
      status =
          H5Dwrite(dataset_.id(), H5T_NATIVE_DOUBLE, memory_space.id(), file_space.id(), H5P_DEFAULT, reals_.data());
      reals_.clear();
      break;
    case Element::kText: {
      const auto pointers = c_strings(texts_);
      status = H5Dwrite(dataset_.id(), type_.id(), memory_space.id(), file_space.id(), H5P_DEFAULT, pointers.data());
      texts_.clear();
      break;
    }
    case Element::kInt8Bool:
    case Element::kInt8: {
      std::vector<std::int8_t> narrow(integers_.begin(), integers_.end());
      status = H5Dwrite(dataset_.id(), type_.id(), memory_space.id(), file_space.id(), H5P_DEFAULT, narrow.data());
      integers_.clear();
      break;
    }
    case Element::kInt32: {
      std::vector<std::int32_t> narrow(integers_.begin(), integers_.end());
      status =
          H5Dwrite(dataset_.id(), H5T_NATIVE_INT32, memory_space.id(), file_space.id(), H5P_DEFAULT, narrow.data());
      integers_.clear();
      break;
    }
    case Element::kInt64:
    default:
      status =
          H5Dwrite(dataset_.id(), H5T_NATIVE_INT64, memory_space.id(), file_space.id(), H5P_DEFAULT, integers_.data());
      integers_.clear();
      break;
  }
  check(status, "writing rows of " + path_);
  rows_written_ += static_cast<std::int64_t>(rows);
}

H5File H5File::create(const std::string& path) {
  // HDF5 prints its error stack to stderr by default; the errors are reported as exceptions instead.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate");
  // Closing the file closes whatever is still open in it, so that it is complete on disk when close() returns.
  check(H5Pset_fclose_degree(access.id(), H5F_CLOSE_STRONG), "H5Pset_fclose_degree");
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, access.id()), H5Fclose, "creating " + path);
  Handle root(H5Gopen2(file.id(), "/", H5P_DEFAULT), H5Gclose, "opening / of " + path);
  return H5File(std::move(file), Group(std::move(root), "/"));
}

void H5File::close() {
  root_ = Group(Handle(), "/");
  const hid_t id = file_.id();
  check(H5Fflush(id, H5F_SCOPE_LOCAL), "flushing the file");
  file_ = Handle();
}

}  // namespace rig::store::hdf5
