// SPDX-License-Identifier: Apache-2.0
// The CPU backend: Tensors are host Acts in shared buffers, weights are the caller's float32
// arrays (no copy), and every op is the reference operator of reel/model/ops.h. The other
// backends are tested against this one.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "reel/core/backend.h"
#include "reel/core/status.h"
#include "reel/model/ops.h"

namespace reel {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "fp32";
    case DType::F16: return "fp16";
    case DType::BF16: return "bf16";
  }
  return "?";
}

namespace {

struct CpuStorage : Storage {
  Act a;
  explicit CpuStorage(Act&& x) : a(std::move(x)) {}
};
struct CpuAffine : Storage {
  ChannelAffine a;
  explicit CpuAffine(ChannelAffine&& x) : a(std::move(x)) {}
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : threads_(threads) {}

  Device device() const override { return Device{}; }
  DType dtype() const override { return DType::F32; }
  std::string describe() const override {
    return "cpu (" + std::to_string(threads_ > 0 ? threads_ : omp_get_max_threads()) + " threads, fp32)";
  }

  Tensor upload(const Act& host) const override { return wrap(Act(host)); }
  Act download(const Tensor& t) const override { return act(t); }
  Weight weight(const float* data, size_t n) override { return Weight{data, n}; }

  Tensor conv2d(const Tensor& x, const ConvWeights& w, int stride, int pt, int pl, int pb, int pr, const NormAffine* pre,
                const Tensor* add) const override {
    threads();
    // Three input channels are too few for Winograd's transforms to pay: the GEMM path is
    // twice as fast there (TransNetV2's first layer; no tokenizer convolution has so few).
    if (w.ci < 8 && !pre) return with_add(reel::conv2d_im2col(act(x), host(w), stride, pt, pl, pb, pr), add);
    return with_add(reel::conv2d(act(x), host(w), stride, pt, pl, pb, pr, pre ? &affine(*pre) : nullptr), add);
  }
  Tensor conv_temporal(const Tensor& x, const ConvWeights& w, int stride, int pad, const Tensor* add) const override {
    threads();
    return with_add(reel::conv_temporal(act(x), host(w), stride, pad), add);
  }
  NormAffine group_norm(const Tensor& x, const Weight& gamma, const Weight& beta, int groups, float eps,
                        bool then_silu) const override {
    threads();
    ChannelAffine a = group_norm_affine(act(x), f(gamma), f(beta), groups, eps, then_silu);
    NormAffine n;
    n.T = a.T, n.C = a.C;
    n.state = std::make_shared<CpuAffine>(std::move(a));
    return n;
  }
  void apply_affine_(Tensor& x, const NormAffine& a) const override {
    threads();
    reel::apply_affine_(mut(x), affine(a));
  }
  Tensor apply_affine(const Tensor& x, const NormAffine& a) const override {
    threads();
    return wrap(reel::apply_affine(act(x), affine(a)));
  }
  void add_(Tensor& x, const Tensor& y) const override {
    threads();
    reel::add_(mut(x), act(y));
  }
  Tensor avg_pool_spatial_padded(const Tensor& x) const override { return wrap(reel::avg_pool_spatial_padded(act(x))); }
  Tensor avg_pool_temporal_causal(const Tensor& x) const override { return wrap(reel::avg_pool_temporal_causal(act(x))); }
  Tensor upsample_spatial(const Tensor& x) const override { return wrap(reel::upsample_spatial(act(x))); }
  Tensor upsample_temporal(const Tensor& x) const override { return wrap(reel::upsample_temporal(act(x))); }
  Tensor prepend_first_frame(const Tensor& x) const override {
    const Act& a = act(x);
    Act ext(a.T + 1, a.C, a.H, a.W, Act::Uninit{});
    std::copy(a.v.begin(), a.v.begin() + static_cast<std::ptrdiff_t>(a.frame_size()), ext.v.begin());
    std::copy(a.v.begin(), a.v.end(), ext.v.begin() + static_cast<std::ptrdiff_t>(a.frame_size()));
    return wrap(std::move(ext));
  }
  Tensor slice_frames(const Tensor& x, int t0, int n) const override {
    const Act& a = act(x);
    if (t0 < 0 || n < 0 || t0 + n > a.T) throw Error(Code::Internal, "cpu backend: frames out of range");
    Act s(n, a.C, a.H, a.W, Act::Uninit{});
    std::copy_n(a.frame(t0), static_cast<size_t>(n) * a.frame_size(), s.v.begin());
    return wrap(std::move(s));
  }
  Tensor concat_frames(const std::vector<Tensor>& parts) const override {
    if (parts.empty()) throw Error(Code::Internal, "cpu backend: nothing to concatenate");
    const Act& p0 = act(parts[0]);
    int T = 0;
    for (const Tensor& p : parts) {
      const Act& a = act(p);
      if (a.C != p0.C || a.H != p0.H || a.W != p0.W) throw Error(Code::Internal, "cpu backend: frames of different shapes");
      T += a.T;
    }
    Act out(T, p0.C, p0.H, p0.W, Act::Uninit{});
    auto dst = out.v.begin();
    for (const Tensor& p : parts) dst = std::copy(act(p).v.begin(), act(p).v.end(), dst);
    return wrap(std::move(out));
  }
  Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, bool temporal) const override {
    threads();
    Act o;
    if (temporal) attention_temporal_causal(act(q), act(k), act(v), o);
    else attention_spatial(act(q), act(k), act(v), o);
    return wrap(std::move(o));
  }
  Tensor haar_patch(const Tensor& x, int patch, bool video) const override {
    threads();
    return wrap(video ? haar_patch3d(act(x), patch) : haar_patch2d(act(x), patch));
  }
  Tensor haar_unpatch(const Tensor& x, int patch, bool video) const override {
    threads();
    return wrap(video ? haar_unpatch3d(act(x), patch) : haar_unpatch2d(act(x), patch));
  }
  Tensor fsq_quantize(const Tensor& z, const std::vector<int>& levels, std::vector<int32_t>* indices) const override {
    Act codes;
    std::vector<int32_t> idx;
    reel::fsq_quantize(act(z), levels, &codes, indices ? indices : &idx);
    return wrap(std::move(codes));
  }
  Tensor fsq_dequantize(const std::vector<int32_t>& indices, int T, int H, int W, const std::vector<int>& levels) const override {
    return wrap(reel::fsq_dequantize(indices, T, H, W, levels));
  }
  Tensor yuv420_frame(const Yuv420& picture, int H, int W, int pad_top, int pad_left) const override {
    Act a(1, 3, H, W, Act::Uninit{});
    yuv420_to_frame(picture, a, 0, pad_top, pad_left);
    return wrap(std::move(a));
  }
  Tensor alloc(int T, int C, int H, int W) const override { return wrap(Act(T, C, H, W, Act::Uninit{})); }
  void conv_time_into(const Tensor& x, int in_c0, const ConvWeights& w, int dilation, const ChannelPost& post, Tensor& out,
                      int out_c0) const override {
    if (w.kh != 1 || w.kw != 1) throw Error(Code::Internal, "cpu conv_time_into: not a temporal kernel");
    threads();
    if (w.w.n != static_cast<size_t>(w.co) * w.ci * w.kt) throw Error(Code::Internal, "cpu conv_time_into: weight size does not match");
    reel::conv_time_into(act(x), in_c0, taps(w).data(), w.co, w.ci, w.kt, dilation, post.scale ? f(post.scale) : nullptr,
                         post.scale ? f(post.shift) : nullptr, post.relu, mut(out), out_c0);
  }
  void relu_add_(Tensor& x, const Tensor& y) const override {
    threads();
    reel::relu_add_(mut(x), act(y));
  }
  void relu_(Tensor& x) const override {
    threads();
    reel::relu_(mut(x));
  }
  Tensor avg_pool2(const Tensor& x) const override {
    threads();
    return wrap(reel::avg_pool2(act(x)));
  }
  Tensor spatial_mean(const Tensor& x) const override { return wrap(reel::spatial_mean(act(x))); }
  Tensor pool2d(const Tensor& x, bool max, int k, int stride, int pt, int pl, int pb, int pr) const override {
    threads();
    return wrap(reel::pool2d(act(x), max, k, stride, pt, pl, pb, pr));
  }
  Tensor conv2d_depthwise(const Tensor& x, const ConvWeights& w, int stride, int pad) const override {
    if (w.co != x.C || w.ci != 1 || w.kh != w.kw || w.kt != 1) throw Error(Code::Internal, "cpu conv2d_depthwise: bad weight shape");
    threads();
    return wrap(reel::conv2d_depthwise(act(x), f(w.w), w.b ? f(w.b) : nullptr, w.kh, stride, pad));
  }
  void clamp_(Tensor& x, float lo, float hi) const override {
    threads();
    reel::clamp_(mut(x), lo, hi);
  }
  Tensor dense(const Tensor& x, const Weight& w, const Weight& b, int co, const Tensor* add, bool relu) const override {
    threads();
    if (w.n != static_cast<size_t>(co) * x.C * x.H * x.W) throw Error(Code::Internal, "cpu dense: weight size does not match");
    return wrap(reel::dense(act(x), f(w), b ? f(b) : nullptr, co, add ? &act(*add) : nullptr, relu));
  }

  size_t memory_available() const override { return SIZE_MAX; }
  uint64_t mac_count() const override { return ops_mac_count(); }

 private:
  // OpenMP's thread count is a setting of the calling thread: an instance made with a count
  // sets it for its ops; one made with 0 runs with what the calling thread has.
  void threads() const {
    if (threads_ > 0 && omp_get_max_threads() != threads_) ops_set_threads(threads_);
  }
  // The residual after the convolution, as the operators always did it (speed and bits unchanged).
  Tensor with_add(Act&& y, const Tensor* add) const {
    if (add) reel::add_(y, act(*add));
    return wrap(std::move(y));
  }
  Tensor wrap(Act&& a) const {
    Tensor t;
    t.T = a.T, t.C = a.C, t.H = a.H, t.W = a.W;
    t.backend = this;
    t.storage = std::make_shared<CpuStorage>(std::move(a));
    return t;
  }
  const Act& act(const Tensor& t) const {
    if (t.backend != this || !t.storage) throw Error(Code::Internal, "cpu backend: a tensor of another backend (" +
                                                                       std::string(t.backend ? t.backend->describe() : "none") + ")");
    return static_cast<const CpuStorage&>(*t.storage).a;
  }
  Act& mut(Tensor& t) const { return const_cast<Act&>(act(t)); }
  static const float* f(const Weight& w) { return static_cast<const float*>(w.p); }
  static ConvW host(const ConvWeights& w) { return {f(w.w), w.b ? f(w.b) : nullptr, w.co, w.ci, w.kt, w.kh, w.kw}; }
  static const ChannelAffine& affine(const NormAffine& a) { return static_cast<const CpuAffine&>(*a.state).a; }
  // A temporal kernel's taps as (kt, Co, Ci), each tap one GEMM's matrix. Made per call (a few
  // thousand floats, against the convolution's millions of products): the weights are the
  // caller's memory, which a cache by address could outlive.
  static std::vector<float> taps(const ConvWeights& w) {
    const float* src = f(w.w);
    std::vector<float> t(static_cast<size_t>(w.kt) * w.co * w.ci);
    for (int o = 0; o < w.co; ++o)
      for (int c = 0; c < w.ci; ++c)
        for (int k = 0; k < w.kt; ++k)
          t[(static_cast<size_t>(k) * w.co + o) * w.ci + c] = src[(static_cast<size_t>(o) * w.ci + c) * w.kt + k];
    return t;
  }

  int threads_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

}  // namespace reel
