// SPDX-License-Identifier: Apache-2.0
#include "reel/io/h5.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace reel::h5 {
namespace {
void quiet() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

struct Id {
  hid_t id;
  herr_t (*close)(hid_t);
  Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~Id() {
    if (id >= 0) close(id);
  }
  operator hid_t() const { return id; }
};

// One string from an attribute: nullptr, or why not. A file may hold an array of strings where
// one is expected (H5Aread would write them all into a buffer for one) or a string of any length.
const char* string_attr(hid_t a, std::string* out) {
  if (a < 0) return "cannot be opened";
  Id t(H5Aget_type(a), H5Tclose);
  Id sp(H5Aget_space(a), H5Sclose);
  if (t < 0 || sp < 0) return "cannot be read";
  if (H5Tget_class(t) != H5T_STRING) return "is not a string";
  if (H5Sget_simple_extent_npoints(sp) != 1) return "is not a single string";
  if (H5Tis_variable_str(t) > 0) {
    char* p = nullptr;
    Id mt(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(t));
    if (H5Aread(a, mt, &p) < 0 || !p) return "cannot be read";
    *out = p;
    H5free_memory(p);
    return nullptr;
  }
  const size_t size = H5Tget_size(t);
  if (size == 0 || size > (size_t{64} << 20)) return "has an impossible length";
  std::vector<char> buf(size + 1, 0);
  if (H5Aread(a, t, buf.data()) < 0) return "cannot be read";
  *out = std::string(buf.data());
  return nullptr;
}

DType classify(hid_t type, hid_t dset) {
  H5T_class_t cls = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) {
    if (size == 4) return DType::F32;
    if (size == 8) return DType::F64;
    if (size == 2) return DType::F16;
  }
  if (cls == H5T_INTEGER) {
    bool sign = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 2 && !sign) {
      if (dset >= 0 && H5Aexists(dset, "dtype") > 0) {
        Id a(H5Aopen(dset, "dtype", H5P_DEFAULT), H5Aclose);
        std::string v;
        (void)string_attr(a, &v);
        if (v == "bfloat16" || v == "bf16") return DType::BF16;
      }
      return DType::U16;
    }
    if (size == 4 && sign) return DType::I32;
    if (size == 8 && sign) return DType::I64;
    if (size == 1 && !sign) return DType::U8;
  }
  return DType::Other;
}
}  // namespace

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    case DType::F64: return "float64";
    case DType::I32: return "int32";
    case DType::U16: return "uint16";
    case DType::I64: return "int64";
    case DType::U8: return "uint8";
    default: return "unsupported";
  }
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while (!(man & 0x400));
      bits = sign | ((127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t man = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (man ? 0x200u : 0));
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    man |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t half = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exp) << 10) | (man >> 13);
  uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;
  return static_cast<uint16_t>(half);
}

File::File(const std::string& path, char mode, Code code_on_fail) : path_(path), code_(code_on_fail) {
  quiet();
  if (mode == 'r') {
    id_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id_ < 0) {
      // The failed call left entries on this thread's HDF5 error stack; left there they keep
      // the library from shutting down cleanly ("infinite loop closing library").
      H5Eclear2(H5E_DEFAULT);
      FILE* f = fopen(path.c_str(), "rb");
      if (!f) throw Error(Code::NotFound, "cannot open " + path + ": no such file or not readable");
      fclose(f);
      throw Error(code_, "cannot open " + path + ": not an HDF5 file, or truncated");
    }
  } else if (mode == 'w') {
    id_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (id_ < 0) {
      H5Eclear2(H5E_DEFAULT);
      throw Error(code_, "cannot create " + path);
    }
  } else {
    id_ = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (id_ < 0) id_ = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
    if (id_ < 0) {
      H5Eclear2(H5E_DEFAULT);
      throw Error(code_, "cannot open " + path + " for writing");
    }
  }
}

File::~File() {
  if (id_ >= 0) H5Fclose(id_);
}

void File::close() {
  if (id_ < 0) return;
  const herr_t r = H5Fclose(id_);
  id_ = -1;
  if (r < 0) throw Error(code_, path_ + ": closing failed (disk full?)");
}

void File::create_external_link(const std::string& name, const std::string& target_file, const std::string& target_obj) {
  const size_t slash = name.rfind('/');
  if (slash != std::string::npos) create_group(name.substr(0, slash));
  if (H5Lcreate_external(target_file.c_str(), target_obj.c_str(), id_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
    fail("cannot create external link " + name + " -> " + target_file + ":" + target_obj);
}

void File::copy_from(const File& src, const std::string& src_name, const std::string& dst_name) {
  const size_t slash = dst_name.rfind('/');
  if (slash != std::string::npos) create_group(dst_name.substr(0, slash));
  Id ocpl(H5Pcreate(H5P_OBJECT_COPY), H5Pclose);
  H5Pset_copy_object(ocpl, H5O_COPY_EXPAND_EXT_LINK_FLAG);
  if (H5Ocopy(src.id_, src_name.c_str(), id_, dst_name.c_str(), ocpl, H5P_DEFAULT) < 0)
    fail("cannot copy " + src.path() + ":" + src_name + " to " + dst_name);
}

void File::fail(const std::string& what) const {
  H5Eclear2(H5E_DEFAULT);
  throw Error(code_, path_ + ": " + what);
}

bool File::exists(const std::string& name) const {
  // Check every path component so a missing parent is not an HDF5 error.
  size_t pos = 0;
  while (true) {
    size_t next = name.find('/', pos);
    std::string part = name.substr(0, next);
    if (H5Lexists(id_, part.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

std::vector<std::string> File::list(const std::string& group) const {
  std::vector<std::string> out;
  if (!exists(group)) return out;
  Id g(H5Gopen2(id_, group.c_str(), H5P_DEFAULT), H5Gclose);
  if (g < 0) fail("cannot open group " + group);
  H5G_info_t info;
  H5Gget_info(g, &info);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string s(static_cast<size_t>(n), '\0');
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size() + 1, H5P_DEFAULT);
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void File::create_group(const std::string& name) {
  size_t pos = 0;
  while (true) {
    size_t next = name.find('/', pos);
    std::string part = name.substr(0, next);
    if (!part.empty() && H5Lexists(id_, part.c_str(), H5P_DEFAULT) <= 0) {
      Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
      H5Pset_obj_track_times(gcpl, 0);  // no timestamps: the same content gives the same bytes
      Id g(H5Gcreate2(id_, part.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose);
      if (g < 0) fail("cannot create group " + part);
    }
    if (next == std::string::npos) return;
    pos = next + 1;
  }
}

void File::remove(const std::string& name) {
  if (exists(name)) H5Ldelete(id_, name.c_str(), H5P_DEFAULT);
}

bool File::has_attr(const std::string& obj, const std::string& name) const {
  return H5Aexists_by_name(id_, obj.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

std::string File::read_attr_string(const std::string& obj, const std::string& name) const {
  if (!has_attr(obj, name)) fail("missing attribute " + obj + "@" + name);
  // Open the object first and keep it open while reading: through an external link the
  // target file is otherwise closed under the attribute (weak close degree).
  Id o(H5Oopen(id_, obj.c_str(), H5P_DEFAULT), H5Oclose);
  if (o < 0) fail("cannot open " + obj);
  Id a(H5Aopen(o, name.c_str(), H5P_DEFAULT), H5Aclose);
  std::string v;
  if (const char* why = string_attr(a, &v)) fail("attribute " + name + " " + why);
  return v;
}

void File::write_attr_string(const std::string& obj, const std::string& name, const std::string& value) {
  if (has_attr(obj, name)) H5Adelete_by_name(id_, obj.c_str(), name.c_str(), H5P_DEFAULT);
  Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  Id sp(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(H5Acreate_by_name(id_, obj.c_str(), name.c_str(), t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* p = value.c_str();
  if (a < 0 || H5Awrite(a, t, &p) < 0) fail("cannot write attribute " + name);
}

void File::write_attr_double(const std::string& obj, const std::string& name, double value) {
  if (has_attr(obj, name)) H5Adelete_by_name(id_, obj.c_str(), name.c_str(), H5P_DEFAULT);
  Id sp(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(H5Acreate_by_name(id_, obj.c_str(), name.c_str(), H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
       H5Aclose);
  if (a < 0 || H5Awrite(a, H5T_NATIVE_DOUBLE, &value) < 0) fail("cannot write attribute " + name);
}

void File::write_attr_int(const std::string& obj, const std::string& name, int64_t value) {
  if (has_attr(obj, name)) H5Adelete_by_name(id_, obj.c_str(), name.c_str(), H5P_DEFAULT);
  Id sp(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(H5Acreate_by_name(id_, obj.c_str(), name.c_str(), H5T_NATIVE_INT64, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
       H5Aclose);
  if (a < 0 || H5Awrite(a, H5T_NATIVE_INT64, &value) < 0) fail("cannot write attribute " + name);
}

std::vector<int64_t> File::shape(const std::string& dset) const {
  Id d(H5Dopen2(id_, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("no dataset " + dset);
  Id sp(H5Dget_space(d), H5Sclose);
  int nd = H5Sget_simple_extent_ndims(sp);
  if (nd < 0) fail("bad dataspace of " + dset);
  std::vector<hsize_t> dims(static_cast<size_t>(nd));
  H5Sget_simple_extent_dims(sp, dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

DType File::dtype(const std::string& dset) const {
  Id d(H5Dopen2(id_, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("no dataset " + dset);
  Id t(H5Dget_type(d), H5Tclose);
  return classify(t, d);
}

std::vector<float> File::read_float(const std::string& dset) const {
  Id d(H5Dopen2(id_, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("no dataset " + dset);
  Id t(H5Dget_type(d), H5Tclose);
  DType dt = classify(t, d);
  size_t n = 1;
  for (auto s : shape(dset)) n *= static_cast<size_t>(s);
  std::vector<float> out(n);
  if (dt == DType::F32 || dt == DType::F64) {
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) fail("cannot read " + dset + " (truncated?)");
  } else if (dt == DType::F16 || dt == DType::BF16) {
    std::vector<uint16_t> raw(n);
    hid_t mt = dt == DType::F16 ? t.id : H5T_NATIVE_UINT16;
    if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0) fail("cannot read " + dset + " (truncated?)");
    for (size_t i = 0; i < n; ++i) {
      if (dt == DType::F16) {
        out[i] = half_to_float(raw[i]);
      } else {
        uint32_t bits = static_cast<uint32_t>(raw[i]) << 16;
        std::memcpy(&out[i], &bits, 4);
      }
    }
  } else {
    fail(dset + ": dtype " + dtype_name(dt) + ", expected a float tensor");
  }
  return out;
}

std::vector<int32_t> File::read_int32(const std::string& dset) const {
  Id d(H5Dopen2(id_, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("no dataset " + dset);
  size_t n = 1;
  for (auto s : shape(dset)) n *= static_cast<size_t>(s);
  std::vector<int32_t> out(n);
  if (H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) fail("cannot read " + dset);
  return out;
}

namespace {
void write_any(int64_t file, const std::string& dset, const std::vector<int64_t>& shape, hid_t file_type,
               hid_t mem_type, const void* data, const std::string& path, Code code) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Id sp(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl, 1);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(dcpl, 0);  // no timestamps: a re-run writes byte-identical files
  size_t total = 1;
  for (auto s : dims) total *= s;
  if (total > 4096 && !dims.empty()) {  // chunk + compress larger arrays (latents compress well)
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    size_t csz = 1;
    for (auto c : chunk) csz *= c;
    if (csz > (1u << 20)) chunk = dims, chunk[0] = 1, chunk.size() > 1 ? chunk[1] = 1 : 0;
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(dcpl, 1);
  }
  Id d(H5Dcreate2(file, dset.c_str(), file_type, sp, lcpl, dcpl, H5P_DEFAULT), H5Dclose);
  if (d < 0 || H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    throw Error(code, path + ": cannot write dataset " + dset);
}
}  // namespace

void File::write_float(const std::string& dset, const std::vector<int64_t>& shape, const float* data, bool as_f16) {
  remove(dset);
  if (!as_f16) {
    write_any(id_, dset, shape, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, path_, code_);
    return;
  }
  size_t n = 1;
  for (auto s : shape) n *= static_cast<size_t>(s);
  std::vector<uint16_t> h(n);
  for (size_t i = 0; i < n; ++i) h[i] = float_to_half(data[i]);
  // IEEE half as an HDF5 float type (what h5py/numpy write for float16).
  Id t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  write_any(id_, dset, shape, t, t, h.data(), path_, code_);
}

void File::write_int32(const std::string& dset, const std::vector<int64_t>& shape, const int32_t* data) {
  remove(dset);
  write_any(id_, dset, shape, H5T_STD_I32LE, H5T_NATIVE_INT32, data, path_, code_);
}

void File::write_uint16(const std::string& dset, const std::vector<int64_t>& shape, const uint16_t* data) {
  remove(dset);
  write_any(id_, dset, shape, H5T_STD_U16LE, H5T_NATIVE_UINT16, data, path_, code_);
}

namespace {
// IEEE half as an HDF5 float type (what h5py/numpy write for float16).
hid_t half_type() {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return t;
}

hid_t utf8_string_type() {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}
}  // namespace

void File::create_matrix(const std::string& dset, int64_t rows, int64_t cols, bool as_f16) {
  remove(dset);
  const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)};
  Id sp(H5Screate_simple(2, dims, nullptr), H5Sclose);
  Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl, 1);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(dcpl, 0);
  if (rows > 0 && cols > 0) {
    // About 256 KiB per chunk, whole rows, so reading a block of rows touches few chunks.
    const hsize_t chunk[2] = {std::clamp<hsize_t>((256u << 10) / (4 * static_cast<hsize_t>(cols)), 1, dims[0]), dims[1]};
    H5Pset_chunk(dcpl, 2, chunk);
  }
  Id t(as_f16 ? half_type() : H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  Id d(H5Dcreate2(id_, dset.c_str(), t, sp, lcpl, dcpl, H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("cannot create dataset " + dset);
}

void File::write_rows(const std::string& dset, int64_t row0, int64_t nrows, const float* data) {
  if (nrows <= 0) return;
  Id d(H5Dopen2(id_, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("no dataset " + dset);
  Id fs(H5Dget_space(d), H5Sclose);
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(fs) != 2) fail(dset + " is not a matrix");
  H5Sget_simple_extent_dims(fs, dims, nullptr);
  const hsize_t start[2] = {static_cast<hsize_t>(row0), 0}, count[2] = {static_cast<hsize_t>(nrows), dims[1]};
  if (start[0] + count[0] > dims[0]) fail("rows past the end of " + dset);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, count, nullptr);
  Id ms(H5Screate_simple(2, count, nullptr), H5Sclose);
  // HDF5 converts float32 to the dataset's float16 itself (round to nearest even).
  if (H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, data) < 0) fail("cannot write rows of " + dset);
}

void File::read_rows(const std::string& dset, int64_t row0, int64_t nrows, float* out) const {
  if (nrows <= 0) return;
  Id d(H5Dopen2(id_, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("no dataset " + dset);
  Id t(H5Dget_type(d), H5Tclose);
  if (H5Tget_class(t) != H5T_FLOAT) fail(dset + ": not a float matrix");
  Id fs(H5Dget_space(d), H5Sclose);
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(fs) != 2) fail(dset + " is not a matrix");
  H5Sget_simple_extent_dims(fs, dims, nullptr);
  const hsize_t start[2] = {static_cast<hsize_t>(row0), 0}, count[2] = {static_cast<hsize_t>(nrows), dims[1]};
  if (row0 < 0 || start[0] + count[0] > dims[0]) fail("rows past the end of " + dset);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, count, nullptr);
  Id ms(H5Screate_simple(2, count, nullptr), H5Sclose);
  if (H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, out) < 0) fail("cannot read rows of " + dset + " (truncated?)");
}

void File::write_strings(const std::string& dset, const std::vector<std::string>& values) {
  remove(dset);
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  const hsize_t n = values.size();
  Id sp(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl, 1);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(dcpl, 0);
  Id t(utf8_string_type(), H5Tclose);
  Id d(H5Dcreate2(id_, dset.c_str(), t, sp, lcpl, dcpl, H5P_DEFAULT), H5Dclose);
  if (d < 0 || (n > 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0))
    fail("cannot write dataset " + dset);
}

std::vector<std::string> File::read_strings(const std::string& dset) const {
  Id d(H5Dopen2(id_, dset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) fail("no dataset " + dset);
  Id ft(H5Dget_type(d), H5Tclose);
  if (H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) <= 0) fail(dset + ": not an array of variable-length strings");
  Id sp(H5Dget_space(d), H5Sclose);
  if (H5Sget_simple_extent_ndims(sp) != 1) fail(dset + ": not 1-D");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp, &n, nullptr);
  std::vector<char*> raw(n, nullptr);
  Id t(utf8_string_type(), H5Tclose);
  if (n > 0 && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0) fail("cannot read " + dset + " (truncated?)");
  std::vector<std::string> out(n);
  for (hsize_t i = 0; i < n; ++i) out[i] = raw[i] ? raw[i] : "";
  if (n > 0) H5Dvlen_reclaim(t, sp, H5P_DEFAULT, raw.data());
  return out;
}

void File::flush() { H5Fflush(id_, H5F_SCOPE_GLOBAL); }

std::string shape_str(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}

std::vector<float> read_weight(const File& f, const std::string& name, const std::vector<int64_t>& want,
                               const std::string& context) {
  if (!f.exists(name))
    throw Error(Code::ModelError, context + ": missing tensor " + name + " (expected shape " + shape_str(want) + ")");
  const auto got = f.shape(name);
  if (got != want)
    throw Error(Code::ModelError, context + ": " + name + ": wrong shape: got " + shape_str(got) + ", expected " + shape_str(want));
  return f.read_float(name);
}

}  // namespace reel::h5
