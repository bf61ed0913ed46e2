// SPDX-License-Identifier: Apache-2.0
#include "reel/io/npy.h"

#include <cstring>

namespace reel {

namespace {
int64_t count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string header(const std::vector<int64_t>& shape, const char* descr) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";  // Python's one-tuple: (3,)
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + length (2) + dict + padding + '\n', a multiple of 64.
  const size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string h("\x93NUMPY\x01\x00", 8);
  h.push_back(static_cast<char>(dict.size() & 0xff));
  h.push_back(static_cast<char>(dict.size() >> 8));
  return h + dict;
}

template <class T>
std::string build(const std::vector<int64_t>& shape, const T* data, const char* descr) {
  std::string out = header(shape, descr);
  const size_t n = static_cast<size_t>(count(shape)) * sizeof(T);
  const size_t at = out.size();
  out.resize(at + n);
  if (n) std::memcpy(out.data() + at, data, n);  // x86-64 and aarch64 are little-endian, as the descr says
  return out;
}
}  // namespace

std::string npy_bytes(const std::vector<int64_t>& shape, const float* data) { return build(shape, data, "<f4"); }
std::string npy_bytes(const std::vector<int64_t>& shape, const uint16_t* data) { return build(shape, data, "<u2"); }
std::string npy_bytes(const std::vector<int64_t>& shape, const int32_t* data) { return build(shape, data, "<i4"); }

uint64_t npy_size(const std::vector<int64_t>& shape, size_t elem_size) {
  return header(shape, "<f4").size() + static_cast<uint64_t>(count(shape)) * elem_size;
}

}  // namespace reel
