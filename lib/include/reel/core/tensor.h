// SPDX-License-Identifier: Apache-2.0
// Tensors of the compute backends. Act is a host activation, T frames of C x H x W floats,
// frame-major ([T][C][H][W]) so every per-frame operation reads one contiguous block; it is what
// callers hand in and get back. Tensor is the same shape in a buffer a Backend owns (host memory
// for the CPU backend, device memory for CUDA); data crosses between the two only through
// Backend::upload and Backend::download.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace reel {

// std::allocator whose value-less construct() leaves floats uninitialised: operators that write
// every output element skip the zero fill (and its pass over memory) std::vector would do first.
template <class T>
struct UninitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
};
using Floats = std::vector<float, UninitAllocator<float>>;

struct Act {
  int T = 0, C = 0, H = 0, W = 0;
  Floats v;  // (T, C, H, W)
  // Tag for outputs that the operator overwrites completely: the memory is left as it comes.
  struct Uninit {};
  Act() = default;
  Act(int t, int c, int h, int w) : T(t), C(c), H(h), W(w), v(static_cast<size_t>(t) * c * h * w, 0.0f) {}
  Act(int t, int c, int h, int w, Uninit) : T(t), C(c), H(h), W(w), v(static_cast<size_t>(t) * c * h * w) {}
  size_t frame_size() const { return static_cast<size_t>(C) * H * W; }
  size_t plane() const { return static_cast<size_t>(H) * W; }
  float* frame(int t) { return v.data() + t * frame_size(); }
  const float* frame(int t) const { return v.data() + t * frame_size(); }
  size_t numel() const { return v.size(); }
};

enum class DType { F32, F16, BF16 };
const char* dtype_name(DType d);

class Backend;

// A backend's buffer: the CPU backend's holds an Act, a device backend's device memory.
struct Storage {
  virtual ~Storage() = default;
};

// A (T, C, H, W) activation owned by a backend. Copies share the buffer (ops never write into
// their inputs, except the in-place ones named with a trailing underscore).
struct Tensor {
  int T = 0, C = 0, H = 0, W = 0;
  DType dtype = DType::F32;
  const Backend* backend = nullptr;
  std::shared_ptr<Storage> storage;
  size_t numel() const { return static_cast<size_t>(T) * C * H * W; }
  bool empty() const { return !storage; }
};

}  // namespace reel
