// SPDX-License-Identifier: Apache-2.0
// Small RAII layer over the HDF5 C API for what reel stores: string attributes, float
// tensors (read from float32/float16/bfloat16, written as float32 or float16) and integer
// arrays. Every failure becomes Error(code_on_fail) with the file and object name, and
// HDF5's own error stack printing is switched off.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "reel/core/status.h"

namespace reel::h5 {

enum class DType { F32, F16, BF16, F64, I32, U16, I64, U8, Other };
const char* dtype_name(DType d);

class File {
 public:
  // mode: 'r' read, 'w' create/truncate, 'a' read-write (creates if missing).
  File(const std::string& path, char mode, Code code_on_fail = Code::IoError);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  bool exists(const std::string& name) const;                   // any object path, e.g. "weights/x"
  std::vector<std::string> list(const std::string& group) const; // names in a group, sorted
  void create_group(const std::string& name);                    // creates missing parents too
  void remove(const std::string& name);

  bool has_attr(const std::string& obj, const std::string& name) const;
  std::string read_attr_string(const std::string& obj, const std::string& name) const;
  void write_attr_string(const std::string& obj, const std::string& name, const std::string& value);
  void write_attr_double(const std::string& obj, const std::string& name, double value);
  void write_attr_int(const std::string& obj, const std::string& name, int64_t value);

  std::vector<int64_t> shape(const std::string& dset) const;
  DType dtype(const std::string& dset) const;
  // Reads any float dataset (f32, f16, f64, or u16 tagged dtype="bfloat16") as float32.
  std::vector<float> read_float(const std::string& dset) const;
  std::vector<int32_t> read_int32(const std::string& dset) const;
  void write_float(const std::string& dset, const std::vector<int64_t>& shape, const float* data, bool as_f16 = false);
  void write_int32(const std::string& dset, const std::vector<int64_t>& shape, const int32_t* data);
  void write_uint16(const std::string& dset, const std::vector<int64_t>& shape, const uint16_t* data);
  // A rows x cols float matrix written and read a block of rows at a time (chunked by rows,
  // so neither side holds the whole matrix): float32, or IEEE float16 when as_f16.
  void create_matrix(const std::string& dset, int64_t rows, int64_t cols, bool as_f16);
  void write_rows(const std::string& dset, int64_t row0, int64_t nrows, const float* data);
  // Rows [row0, row0 + nrows) of a 2-D float dataset (any float dtype) into out (nrows x cols).
  void read_rows(const std::string& dset, int64_t row0, int64_t nrows, float* out) const;
  // 1-D arrays of variable-length UTF-8 strings.
  void write_strings(const std::string& dset, const std::vector<std::string>& values);
  std::vector<std::string> read_strings(const std::string& dset) const;
  void flush();
  // A link `name` (parents created) to object `target_obj` of file `target_file`, which HDF5
  // resolves relative to this file's directory when it is a relative path.
  void create_external_link(const std::string& name, const std::string& target_file, const std::string& target_obj);
  // Copies object `src_name` of `src` (a group with everything below it, external links
  // expanded into real objects) to `dst_name` here.
  void copy_from(const File& src, const std::string& src_name, const std::string& dst_name);
  // Closes the file now (writes everything); later calls fail.
  void close();

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::string path_;
  int64_t id_ = -1;
  Code code_;
};

// "[a, b, c]", the form weight-shape messages use.
std::string shape_str(const std::vector<int64_t>& s);
// A float tensor of a weights file, checked by name and shape before it is read (ggml style):
// Error(ModelError) "<context>: missing tensor <name> (expected shape [..])" or
// "<context>: <name>: wrong shape: got [..], expected [..]".
std::vector<float> read_weight(const File& f, const std::string& name, const std::vector<int64_t>& want,
                               const std::string& context);

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

}  // namespace reel::h5
