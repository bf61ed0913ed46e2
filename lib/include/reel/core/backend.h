// SPDX-License-Identifier: Apache-2.0
// Compute backends and devices. The CPU backend is always present; the CUDA backend is
// compiled when nvcc was found at configure time and is usable only when a device and a
// driver exist at run time. Device requests are "auto" (first GPU, else CPU), "cpu",
// "cuda" or "cuda:N"; an explicit CUDA request without a usable device is an error
// (Code::DeviceUnavailable, exit 5), never a silent fallback.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "reel/core/picture.h"
#include "reel/core/tensor.h"

namespace reel {

struct DeviceInfo {
  std::string name;        // "cpu", "cuda:0", ...
  std::string description; // model name and memory
};

bool cuda_compiled();
// Number of usable CUDA devices (0 when not compiled, no driver or no device).
int cuda_device_count(std::string* why_none = nullptr);
std::vector<DeviceInfo> list_devices();

enum class DeviceKind { Cpu, Cuda };
struct Device {
  DeviceKind kind = DeviceKind::Cpu;
  int index = 0;
  std::string name() const { return kind == DeviceKind::Cpu ? "cpu" : "cuda:" + std::to_string(index); }
};
// Resolves a request string; throws Error(DeviceUnavailable) or Error(InvalidArgument).
Device resolve_device(const std::string& request);

// ---- The compute backend: the op set the tokenizer network is built from ----
//
// One virtual per op (ncnn's Layer, not a graph engine): the tokenizer walks its network and
// calls these on Tensors the backend owns. A backend instance holds all of its state (threads,
// weights in its own memory and dtype); nothing is process-wide. The CPU backend
// (lib/src/backend/cpu) is the reference every other backend is tested against.

// A weight tensor in the backend's memory, uploaded once (Backend::weight) and valid while the
// backend lives.
struct Weight {
  const void* p = nullptr;
  size_t n = 0;
  explicit operator bool() const { return p != nullptr; }
};

// One convolution: weights in PyTorch order (Co, Ci, kt, kh, kw); bias may be empty.
struct ConvWeights {
  Weight w, b;
  int co = 0, ci = 0, kt = 1, kh = 1, kw = 1;
};

// A GroupNorm's effect once its statistics are known, per frame and channel: v -> scale * v +
// shift, then SiLU if asked. Kept in the backend's memory, so a convolution can apply it while
// it reads its input and the normalized tensor is never written out.
struct NormAffine {
  int T = 0, C = 0;
  std::shared_ptr<Storage> state;
};

// A download on its way to the host: queued behind the work that makes its tensor, so the
// caller can queue the next pass before it waits. wait() once; dropping it unwaited is allowed.
class PendingDownload {
 public:
  virtual ~PendingDownload() = default;
  // Whether wait() would return at once (always so on the CPU backend, whose ops run as called).
  virtual bool ready() const = 0;
  virtual Act wait() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual DType dtype() const = 0;  // of activations and weights in this backend's memory
  virtual std::string describe() const = 0;

  // Host <-> backend: the only copies between the two.
  virtual Tensor upload(const Act& host) const = 0;
  virtual Act download(const Tensor& t) const = 0;
  // download() without waiting: the CUDA backend copies into pinned host memory behind the
  // work queued on its stream; the CPU backend has the result at once. upload() never waits
  // for queued work either (on CUDA the copy runs on a stream of its own, from pinned memory,
  // and the network's stream waits for it), so the host Act may go as soon as it returns.
  // (Defined inline: the CUDA module is loaded as a plugin and links nothing of reel's library.)
  virtual std::unique_ptr<PendingDownload> download_async(const Tensor& t) const;
  // A float32 host tensor into the backend's memory, in its dtype. The CPU backend keeps a
  // pointer: the caller keeps `data` alive while the backend uses it.
  virtual Weight weight(const float* data, size_t n) = 0;

  // 2-D convolution of every frame: zero padding (top, left, bottom, right), stride; with
  // `pre`, of pre(x) (the padding stays zero). With `add` (the output's shape), the result is
  // conv + bias + add: a residual joins the convolution's output as it is written (the CUDA
  // backend prefills the output and accumulates onto it) instead of in a pass of its own.
  virtual Tensor conv2d(const Tensor& x, const ConvWeights& w, int stride, int pad_t, int pad_l, int pad_b, int pad_r,
                        const NormAffine* pre = nullptr, const Tensor* add = nullptr) const = 0;
  // Causal temporal convolution: frame 0 repeated `time_pad` times in front; `add` as conv2d's.
  virtual Tensor conv_temporal(const Tensor& x, const ConvWeights& w, int time_stride, int time_pad,
                               const Tensor* add = nullptr) const = 0;
  // GroupNorm statistics of each frame (eps, optional SiLU after) as an affine map.
  virtual NormAffine group_norm(const Tensor& x, const Weight& gamma, const Weight& beta, int groups, float eps,
                                bool then_silu) const = 0;
  virtual void apply_affine_(Tensor& x, const NormAffine& a) const = 0;
  virtual Tensor apply_affine(const Tensor& x, const NormAffine& a) const = 0;
  virtual void add_(Tensor& x, const Tensor& y) const = 0;
  virtual Tensor avg_pool_spatial_padded(const Tensor& x) const = 0;
  virtual Tensor avg_pool_temporal_causal(const Tensor& x) const = 0;
  virtual Tensor upsample_spatial(const Tensor& x) const = 0;
  virtual Tensor upsample_temporal(const Tensor& x) const = 0;
  // x with its first frame once more in front: (T + 1, C, H, W).
  virtual Tensor prepend_first_frame(const Tensor& x) const = 0;
  // Frames [t0, t0 + n) of x as a tensor of their own, and tensors of one frame shape joined
  // along T: how a batch of windows (their frames one after another) is cut into its windows
  // for the ops that run along T, and put back together.
  virtual Tensor slice_frames(const Tensor& x, int t0, int n) const = 0;
  virtual Tensor concat_frames(const std::vector<Tensor>& parts) const = 0;
  // Single-head attention within each frame, or causal along T at every pixel.
  virtual Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, bool temporal) const = 0;
  virtual Tensor haar_patch(const Tensor& x, int patch, bool video) const = 0;
  virtual Tensor haar_unpatch(const Tensor& x, int patch, bool video) const = 0;
  // Finite scalar quantisation of z (T, levels.size(), H, W): codes in [-1, 1] and token ids.
  virtual Tensor fsq_quantize(const Tensor& z, const std::vector<int>& levels, std::vector<int32_t>* indices) const = 0;
  virtual Tensor fsq_dequantize(const std::vector<int32_t>& indices, int T, int H, int W, const std::vector<int>& levels) const = 0;

  // ---- Ops of the curation networks (TransNetV2's dilated (2+1)-D blocks and head) ----

  // An uninitialised (T, C, H, W) tensor for ops that write into part of it (conv_time_into).
  virtual Tensor alloc(int T, int C, int H, int W) const = 0;
  // Temporal convolution centred on every frame, zeros outside [0, T): out[t] = sum over taps k
  // of W_k . x[t + (k - kt/2) * dilation], with w (Co, Ci, kt, 1, 1) in PyTorch order (kt odd,
  // no bias). Reads channels [in_c0, in_c0 + Ci) of x and overwrites channels [out_c0, out_c0 +
  // Co) of out (same T, H, W), then v -> scale[c] * v + shift[c] and ReLU when `post` has them
  // (BatchNorm in eval mode): the branches of a block write one output, never concatenated.
  struct ChannelPost {
    Weight scale, shift;  // Co values each, or both empty
    bool relu = false;
  };
  virtual void conv_time_into(const Tensor& x, int in_c0, const ConvWeights& w, int dilation, const ChannelPost& post,
                              Tensor& out, int out_c0) const = 0;
  // x <- max(x, 0) + y; x <- max(x, 0).
  virtual void relu_add_(Tensor& x, const Tensor& y) const = 0;
  virtual void relu_(Tensor& x) const = 0;
  // Mean of each 2x2 block, an odd last row or column dropped (PyTorch's AvgPool, floor).
  virtual Tensor avg_pool2(const Tensor& x) const = 0;
  // Mean of each frame's channel planes: (T, C, 1, 1).
  virtual Tensor spatial_mean(const Tensor& x) const = 0;
  // k x k pooling of every frame at `stride` with padding (top, left, bottom, right): the
  // maximum (padding never wins) or the mean of the window's in-frame values (ONNX's
  // count_include_pad = 0). Output (H + pt + pb - k) / stride + 1, floor (ResNet's stem).
  virtual Tensor pool2d(const Tensor& x, bool max, int k, int stride, int pt, int pl, int pb, int pr) const = 0;
  // Depthwise k x k convolution of every frame (weights (C, 1, k, k), bias (C) or empty), zero
  // padding `pad` on every side, stride 1 or more (EfficientNet's).
  virtual Tensor conv2d_depthwise(const Tensor& x, const ConvWeights& w, int stride, int pad) const = 0;
  // x <- min(max(x, lo), hi): ReLU6 is clamp_(x, 0, 6).
  virtual void clamp_(Tensor& x, float lo, float hi) const = 0;
  // A dense layer over each frame's C*H*W values in (C, H, W) order, every frame in one GEMM:
  // (T, co, 1, 1) = x . w^T + b with w (co, C*H*W) and b (co) or empty, plus `add` (T, co, 1, 1)
  // when given, then ReLU when asked.
  virtual Tensor dense(const Tensor& x, const Weight& w, const Weight& b, int co, const Tensor* add, bool relu) const = 0;

  // ---- Network input straight from the decoder ----

  // A (1, 3, H, W) frame of network input: the picture as RGB in [-1, 1] at (pad_top, pad_left),
  // zeros around it. Each sample is the 8-bit level RGB24 would hold (dm::yuv420_rgb: the
  // picture's matrix and range, bilinear chroma at MPEG-2 siting, rounded), mapped as
  // rgb_to_act_frame maps it, so the network sees what the host route would give it save
  // swscale's chroma filter. The CUDA backend reads device pictures of its own device (NVDEC's)
  // in place and copies host ones over; the CPU backend reads host pictures only. May be called
  // from a decoding thread while another thread runs the network on this backend: it shares no
  // scratch, and on CUDA it runs on a stream of its own, so it never waits behind a pass. It has
  // finished reading the picture when it returns (the decoder may then reuse the surface).
  virtual Tensor yuv420_frame(const Yuv420& picture, int H, int W, int pad_top, int pad_left) const = 0;

  // Bytes the backend could still allocate for activations (device memory free plus what its
  // own pool holds unused); the CPU backend answers SIZE_MAX (the OS decides).
  virtual size_t memory_available() const = 0;
  // Multiply-accumulates of the convolutions run so far (for GFLOP/s reports). The CUDA
  // backend counts per instance; the CPU operators count process-wide (ops_mac_count).
  virtual uint64_t mac_count() const = 0;
};

// A download that has already happened: what a backend whose ops run as they are called hands back.
class ReadyDownload final : public PendingDownload {
 public:
  explicit ReadyDownload(Act a) : a_(std::move(a)) {}
  bool ready() const override { return true; }
  Act wait() override { return std::move(a_); }

 private:
  Act a_;
};

inline std::unique_ptr<PendingDownload> Backend::download_async(const Tensor& t) const {
  return std::make_unique<ReadyDownload>(download(t));
}

// The backend for a resolved device. CPU: `threads` operator threads (0: whatever the calling
// thread is set to, ops_set_threads), float32 only. CUDA: activations and weights in `dtype`,
// accumulation in float32 throughout. Throws Error(DeviceUnavailable) for a device without a
// backend, Error(InvalidArgument) for a dtype the device's backend does not have.
std::unique_ptr<Backend> make_backend(const Device& d, int threads = 0, DType dtype = DType::F32);

// Where a network computes: --device and --dtype resolved.
struct ComputeTarget {
  Device device;
  DType dtype = DType::F32;
  std::string describe() const { return device.name() + " " + dtype_name(dtype); }
};

// "fp32" | "bf16" | "fp16" (InvalidArgument otherwise); "auto": bf16 on CUDA, fp32 on the CPU.
DType parse_dtype(const std::string& name, const Device& d);

}  // namespace reel
