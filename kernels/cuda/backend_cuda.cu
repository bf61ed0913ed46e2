// SPDX-License-Identifier: Apache-2.0
// The CUDA compute backend: Tensors in device memory (the context's stream-ordered pool) in
// fp32, fp16 or bf16, accumulation in fp32 everywhere.
//   - 3x3 and strided convolutions: cuDNN (NCHW with the frames as the batch), onto an output
//     prefilled with bias + residual (beta = 1), so the residual add costs no pass of its own;
//     a GroupNorm(+SiLU) prologue and asymmetric padding are one pass into cuDNN's input.
//   - 1x1 and temporal convolutions: one strided-batched cuBLAS GEMM each (the kt input frames
//     of an output frame are contiguous, so the taps are one K = kt*Ci product).
//   - Spatial attention: cuBLAS scores for a block of queries at a time, a softmax kernel,
//     cuBLAS again for the values: the H*W x H*W matrix never exists.
//   - Everything else (GroupNorm statistics, resamplers, Haar, FSQ, causal attention): kernels
//     in this folder on device_math.h's arithmetic.
// Data crosses to the host only in upload/download (and FSQ's token ids).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "ops.cuh"
#include "reel/cuda/cuda_backend.h"

namespace reel::cuda {
namespace {

struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(DType t, int n, int c, int h, int w) {
    REEL_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
    REEL_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, cudnn_type(t), n, c, h, w));
  }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
};
struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDesc(DType t, int k, int c, int h, int w) {
    REEL_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d));
    REEL_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d, cudnn_type(t), CUDNN_TENSOR_NCHW, k, c, h, w));
  }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(d); }
};
struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  ConvDesc(int pad_h, int pad_w, int stride, DType t) {
    REEL_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d));
    REEL_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d, pad_h, pad_w, stride, stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                     CUDNN_DATA_FLOAT));
    // fp32 stays plain fp32 (no TF32); fp16/bf16 use the tensor cores.
    REEL_CUDNN_CHECK(cudnnSetConvolutionMathType(d, t == DType::F32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
  }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(d); }
};

// Hands a pinned block back on every path out (a failed copy included).
struct PinnedGuard {
  PinnedPool& pool;
  PinnedPool::Block* pin;
  ~PinnedGuard() { pool.release(pin, nullptr); }
};

class CudaDownload final : public PendingDownload {
 public:
  CudaDownload(std::shared_ptr<const Context> ctx, PinnedPool::Block* pin, int T, int C, int H, int W)
      : ctx_(std::move(ctx)), pin_(pin), T_(T), C_(C), H_(H), W_(W) {}
  ~CudaDownload() override {
    if (!pin_) return;
    cudaEventSynchronize(pin_->done);  // the copy writes the block: never hand it back before
    ctx_->pinned().release(pin_, nullptr);
  }
  bool ready() const override {
    if (!pin_) return true;
    const cudaError_t e = cudaEventQuery(pin_->done);
    if (e == cudaErrorNotReady) return false;
    return true;  // done, or failed: wait() says which
  }
  Act wait() override {
    if (!pin_) throw Error(Code::Internal, "cuda: a pending download waited for twice");
    ctx_->enter();
    PinnedGuard guard{ctx_->pinned(), pin_};
    pin_ = nullptr;
    REEL_CUDA_CHECK(cudaEventSynchronize(guard.pin->done));
    Act h(T_, C_, H_, W_, Act::Uninit{});
    std::memcpy(h.v.data(), guard.pin->p, h.numel() * sizeof(float));
    return h;
  }

 private:
  std::shared_ptr<const Context> ctx_;
  PinnedPool::Block* pin_;
  int T_, C_, H_, W_;
};

using ConvKey = std::tuple<int, int, int, int, int, int, int, int, int, int>;
struct ConvPlan {
  cudnnConvolutionFwdAlgo_t algo{};
  cudnnMathType_t math{};
  size_t workspace = 0;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(int index, DType dtype) : ctx_(std::make_shared<const Context>(index, dtype)) {}
  ~CudaBackend() override {
    ctx_->enter();
    weights_.clear();
    taps_.clear();
  }

  Device device() const override { return Device{DeviceKind::Cuda, ctx_->device()}; }
  DType dtype() const override { return ctx_->dtype(); }
  std::string describe() const override { return ctx_->description(); }
  size_t memory_available() const override { return ctx_->available(); }
  uint64_t mac_count() const override { return macs_.load(); }

  // From a pinned copy of `h` on the copy stream, so neither the host nor the transfer waits for
  // the pass queued on the network's stream; that stream waits for the copy by event. (A
  // pageable cudaMemcpyAsync would return only once the driver had staged the whole buffer.)
  Tensor upload(const Act& h) const override {
    ctx_->enter();
    if (h.numel() == 0) return make(h.T, h.C, h.H, h.W);
    const size_t bytes = h.numel() * sizeof(float);
    PinnedPool& pool = ctx_->pinned();
    PinnedPool::Block* pin = pool.acquire(bytes);
    if (!pin) return upload_pageable(h);
    PinnedGuard guard{pool, pin};
    std::memcpy(pin->p, h.v.data(), bytes);
    const cudaStream_t cs = ctx_->copy_stream();
    Tensor t = make_on(cs, h.T, h.C, h.H, h.W);
    std::unique_ptr<DeviceStorage> staging;  // fp32 on the device for fp16/bf16, converted there
    if (dtype() != DType::F32) staging = std::make_unique<DeviceStorage>(ctx_, cs, bytes, "an upload's fp32 staging buffer");
    REEL_CUDA_CHECK(cudaMemcpyAsync(staging ? staging->p : ptr(t), pin->p, bytes, cudaMemcpyHostToDevice, cs));
    REEL_CUDA_CHECK(cudaEventRecord(pin->done, cs));
    REEL_CUDA_CHECK(cudaStreamWaitEvent(ctx_->stream(), pin->done, 0));
    if (staging) from_f32(*ctx_, static_cast<const float*>(staging->p), ptr(t), h.numel());
    return t;  // the guard hands the block back; its next user waits for the recorded copy
  }

  Act download(const Tensor& t) const override { return download_async(t)->wait(); }

  // Into pinned memory behind the work queued on the network's stream; the host copies it out
  // at wait(). The window batcher queues the next pass before it waits.
  std::unique_ptr<PendingDownload> download_async(const Tensor& t) const override {
    ctx_->enter();
    check(t);
    if (t.numel() == 0) return std::make_unique<ReadyDownload>(Act(t.T, t.C, t.H, t.W));
    const size_t bytes = t.numel() * sizeof(float);
    PinnedPool& pool = ctx_->pinned();
    PinnedPool::Block* pin = pool.acquire(bytes);
    if (!pin) return std::make_unique<ReadyDownload>(download_pageable(t));
    PinnedGuard guard{pool, pin};
    const void* src = cptr(t);
    std::unique_ptr<DeviceStorage> staging;
    if (dtype() != DType::F32) {
      staging = std::make_unique<DeviceStorage>(ctx_, bytes, "a download's fp32 staging buffer");
      to_f32(*ctx_, cptr(t), static_cast<float*>(staging->p), t.numel());
      src = staging->p;
    }
    REEL_CUDA_CHECK(cudaMemcpyAsync(pin->p, src, bytes, cudaMemcpyDeviceToHost, ctx_->stream()));
    REEL_CUDA_CHECK(cudaEventRecord(pin->done, ctx_->stream()));
    guard.pin = nullptr;  // the pending download owns it now; staging is freed in stream order
    return std::make_unique<CudaDownload>(ctx_, pin, t.T, t.C, t.H, t.W);
  }

  Weight weight(const float* data, size_t n) override {
    ctx_->enter();
    auto w = std::make_unique<DeviceStorage>(ctx_, n * dtype_size(dtype()), "the model's weights");
    if (n) {
      DeviceStorage staging(ctx_, n * sizeof(float), "a weight's fp32 staging buffer");
      REEL_CUDA_CHECK(cudaMemcpyAsync(staging.p, data, n * sizeof(float), cudaMemcpyHostToDevice, ctx_->stream()));
      from_f32(*ctx_, static_cast<const float*>(staging.p), w->p, n);
      ctx_->sync();
    }
    Weight out{w->p, n};
    weights_.push_back(std::move(w));
    return out;
  }

  Tensor conv2d(const Tensor& x, const ConvWeights& w, int stride, int pt, int pl, int pb, int pr, const NormAffine* pre,
                const Tensor* add) const override {
    ctx_->enter();
    check(x);
    if (w.ci != x.C || w.kt != 1) throw Error(Code::Internal, "cuda conv2d: weight shape does not match the input");
    const int Ho = (x.H + pt + pb - w.kh) / stride + 1, Wo = (x.W + pl + pr - w.kw) / stride + 1;
    Tensor y = make(x.T, w.co, Ho, Wo);
    macs_ += static_cast<uint64_t>(x.T) * w.co * w.ci * w.kh * w.kw * static_cast<uint64_t>(Ho) * Wo;
    const bool accumulate = prefill_output(y, w, add);
    // cuDNN pads symmetrically and cannot normalise its input: either needs one pass first.
    const bool symmetric = pt == pb && pl == pr;
    const DeviceAffine* a = pre ? &affine(*pre, x) : nullptr;
    Tensor in = x;
    int ph = pt, pw = pl;
    if (a || !symmetric) {
      const int Hp = symmetric ? x.H : x.H + pt + pb, Wp = symmetric ? x.W : x.W + pl + pr;
      in = make(x.T, x.C, Hp, Wp);
      prologue(*ctx_, cptr(x), x.T, x.C, x.H, x.W, a, symmetric ? 0 : pt, symmetric ? 0 : pl, Hp, Wp, ptr(in));
      if (!symmetric) ph = pw = 0;
    }
    if (w.kh == 1 && w.kw == 1 && stride == 1 && ph == 0 && pw == 0) {
      // Pointwise: out_t (Co x HW) = W (Co x Ci) . x_t (Ci x HW), every frame in one call.
      const long HW = static_cast<long>(Ho) * Wo;
      gemm_frames(cptr(in), HW, static_cast<long>(x.C) * HW, w.w.p, x.C, ptr(y), w.co, x.T, accumulate);
      return y;
    }
    run_cudnn(in, w, stride, ph, pw, y, accumulate);
    return y;
  }

  Tensor conv_temporal(const Tensor& x, const ConvWeights& w, int stride, int pad, const Tensor* add) const override {
    ctx_->enter();
    check(x);
    if (w.ci != x.C || w.kh != 1 || w.kw != 1) throw Error(Code::Internal, "cuda conv_temporal: bad weight shape");
    const int kt = w.kt, To = (x.T + pad - kt) / stride + 1;
    Tensor y = make(To, w.co, x.H, x.W);
    macs_ += static_cast<uint64_t>(To) * w.co * w.ci * kt * static_cast<uint64_t>(x.H) * x.W;
    const bool accumulate = prefill_output(y, w, add);
    const long HW = static_cast<long>(x.H) * x.W, frame_in = static_cast<long>(x.C) * HW, frame_out = static_cast<long>(w.co) * HW;
    const void* wt = taps(w);
    // Output j reads input frames j*stride - pad ... + kt - 1 (frame 0 for the ones before it):
    // from j0 on they are kt consecutive frames of x, a (kt*Ci) x HW matrix in place.
    int j0 = 0, pf = 0;
    dm::causal_conv_split(To, stride, pad, kt, &j0, &pf);
    if (j0 > 0) {
      DeviceStorage head(ctx_, static_cast<size_t>(pf) * frame_in * dtype_size(dtype()), "a causal convolution's first frames");
      for (int i = 0; i < pf; ++i)
        copy_frames(*ctx_, at(cptr(x), dm::causal_head_frame(i, pad, x.T) * frame_in), at(head.p, i * frame_in), 1, frame_in);
      gemm_frames(head.p, HW, stride * frame_in, wt, kt * w.ci, ptr(y), w.co, j0, accumulate);
    }
    if (To > j0)
      gemm_frames(at(cptr(x), (static_cast<long>(j0) * stride - pad) * frame_in), HW, stride * frame_in, wt, kt * w.ci,
                  at(ptr(y), j0 * frame_out), w.co, To - j0, accumulate);
    return y;
  }

  NormAffine group_norm(const Tensor& x, const Weight& gamma, const Weight& beta, int groups, float eps,
                        bool then_silu) const override {
    ctx_->enter();
    check(x);
    if (groups <= 0 || x.C % groups) throw Error(Code::Internal, "group_norm: channels not divisible by groups");
    auto st = std::make_shared<DeviceAffine>(ctx_, static_cast<size_t>(x.T) * x.C, then_silu);
    group_norm_stats(*ctx_, cptr(x), x.T, x.C, static_cast<size_t>(x.H) * x.W, gamma.p, beta.p, groups, eps, *st);
    NormAffine n;
    n.T = x.T, n.C = x.C;
    n.state = std::move(st);
    return n;
  }
  void apply_affine_(Tensor& x, const NormAffine& a) const override {
    ctx_->enter();
    check(x);
    cuda::apply_affine(*ctx_, cptr(x), ptr(x), x.T, x.C, static_cast<size_t>(x.H) * x.W, affine(a, x));
  }
  Tensor apply_affine(const Tensor& x, const NormAffine& a) const override {
    ctx_->enter();
    check(x);
    Tensor y = make(x.T, x.C, x.H, x.W);
    cuda::apply_affine(*ctx_, cptr(x), ptr(y), x.T, x.C, static_cast<size_t>(x.H) * x.W, affine(a, x));
    return y;
  }
  void add_(Tensor& x, const Tensor& y) const override {
    ctx_->enter();
    check(x);
    check(y);
    if (x.numel() != y.numel()) throw Error(Code::Internal, "add: shape mismatch");
    add_inplace(*ctx_, ptr(x), cptr(y), x.numel());
  }
  Tensor avg_pool_spatial_padded(const Tensor& x) const override {
    ctx_->enter();
    check(x);
    Tensor y = make(x.T, x.C, (x.H + 1) / 2, (x.W + 1) / 2);
    cuda::avg_pool_spatial_padded(*ctx_, cptr(x), ptr(y), x.T, x.C, x.H, x.W);
    return y;
  }
  Tensor avg_pool_temporal_causal(const Tensor& x) const override {
    ctx_->enter();
    check(x);
    Tensor y = make((x.T + 1) / 2, x.C, x.H, x.W);
    cuda::avg_pool_temporal_causal(*ctx_, cptr(x), ptr(y), x.T, frame(x));
    return y;
  }
  Tensor upsample_spatial(const Tensor& x) const override {
    ctx_->enter();
    check(x);
    Tensor y = make(x.T, x.C, 2 * x.H, 2 * x.W);
    cuda::upsample_spatial(*ctx_, cptr(x), ptr(y), x.T, x.C, x.H, x.W);
    return y;
  }
  Tensor upsample_temporal(const Tensor& x) const override {
    ctx_->enter();
    check(x);
    Tensor y = make(2 * x.T - 1, x.C, x.H, x.W);
    cuda::upsample_temporal(*ctx_, cptr(x), ptr(y), y.T, frame(x));
    return y;
  }
  Tensor prepend_first_frame(const Tensor& x) const override {
    ctx_->enter();
    check(x);
    Tensor y = make(x.T + 1, x.C, x.H, x.W);
    copy_frames(*ctx_, cptr(x), ptr(y), 1, frame(x));
    copy_frames(*ctx_, cptr(x), at(ptr(y), static_cast<long>(frame(x))), x.T, frame(x));
    return y;
  }

  Tensor slice_frames(const Tensor& x, int t0, int n) const override {
    ctx_->enter();
    check(x);
    if (t0 < 0 || n < 0 || t0 + n > x.T) throw Error(Code::Internal, "cuda backend: frames out of range");
    Tensor y = make(n, x.C, x.H, x.W);
    copy_frames(*ctx_, at(cptr(x), static_cast<long>(t0 * frame(x))), ptr(y), n, frame(x));
    return y;
  }

  Tensor concat_frames(const std::vector<Tensor>& parts) const override {
    ctx_->enter();
    if (parts.empty()) throw Error(Code::Internal, "cuda backend: nothing to concatenate");
    int T = 0;
    for (const Tensor& p : parts) {
      check(p);
      if (p.C != parts[0].C || p.H != parts[0].H || p.W != parts[0].W)
        throw Error(Code::Internal, "cuda backend: frames of different shapes");
      T += p.T;
    }
    Tensor y = make(T, parts[0].C, parts[0].H, parts[0].W);
    long off = 0;
    for (const Tensor& p : parts) {
      copy_frames(*ctx_, cptr(p), at(ptr(y), off), p.T, frame(p));
      off += static_cast<long>(p.T * frame(p));
    }
    return y;
  }

  Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, bool temporal) const override {
    ctx_->enter();
    check(q), check(k), check(v);
    Tensor o = make(q.T, q.C, q.H, q.W);
    const size_t HW = static_cast<size_t>(q.H) * q.W;
    if (temporal) {
      causal_attention(*ctx_, cptr(q), cptr(k), cptr(v), ptr(o), q.T, q.C, HW);
      return o;
    }
    spatial_attention(q, k, v, o);
    return o;
  }

  Tensor haar_patch(const Tensor& x, int patch, bool video) const override {
    ctx_->enter();
    check(x);
    Tensor cur = x;
    if (video) {  // frame 0 repeated patch - 1 more times in front
      cur = make(x.T + patch - 1, x.C, x.H, x.W);
      for (int i = 0; i < patch; ++i) copy_frames(*ctx_, cptr(x), at(ptr(cur), static_cast<long>(i * frame(x))), 1, frame(x));
      if (x.T > 1) copy_frames(*ctx_, at(cptr(x), static_cast<long>(frame(x))), at(ptr(cur), static_cast<long>(patch * frame(x))), x.T - 1, frame(x));
    }
    for (int l = 0; (1 << l) < patch; ++l) {
      Tensor next = make(video ? (cur.T + 1) / 2 : cur.T, cur.C * (video ? 8 : 4), (cur.H + 1) / 2, (cur.W + 1) / 2);
      haar_level(*ctx_, cptr(cur), ptr(next), cur.T, cur.C, cur.H, cur.W, video);
      cur = std::move(next);
    }
    return cur;
  }

  Tensor haar_unpatch(const Tensor& x, int patch, bool video) const override {
    ctx_->enter();
    check(x);
    Tensor cur = x;
    for (int l = 0; (1 << l) < patch; ++l) {
      Tensor next = make(video ? 2 * cur.T : cur.T, cur.C / (video ? 8 : 4), 2 * cur.H, 2 * cur.W);
      haar_ilevel(*ctx_, cptr(cur), ptr(next), cur.T, cur.C, cur.H, cur.W, video);
      cur = std::move(next);
    }
    if (!video || patch <= 1) return cur;
    const int drop = patch - 1;
    Tensor y = make(cur.T - drop, cur.C, cur.H, cur.W);
    copy_frames(*ctx_, at(cptr(cur), static_cast<long>(drop * frame(cur))), ptr(y), y.T, frame(cur));
    return y;
  }

  Tensor fsq_quantize(const Tensor& z, const std::vector<int>& levels, std::vector<int32_t>* indices) const override {
    ctx_->enter();
    check(z);
    const dm::FsqCodebook cb = codebook(levels, z.C);
    Tensor codes = make(z.T, z.C, z.H, z.W);
    const size_t HW = static_cast<size_t>(z.H) * z.W, n = static_cast<size_t>(z.T) * HW;
    DeviceStorage idx(ctx_, n * sizeof(int32_t), "FSQ token ids");
    fsq_encode(*ctx_, cptr(z), ptr(codes), static_cast<int32_t*>(idx.p), z.T, HW, cb);
    if (indices) {
      indices->resize(n);
      REEL_CUDA_CHECK(cudaMemcpyAsync(indices->data(), idx.p, n * sizeof(int32_t), cudaMemcpyDeviceToHost, ctx_->stream()));
      ctx_->sync();
    }
    return codes;
  }

  Tensor fsq_dequantize(const std::vector<int32_t>& indices, int T, int H, int W, const std::vector<int>& levels) const override {
    ctx_->enter();
    const dm::FsqCodebook cb = codebook(levels, static_cast<int>(levels.size()));
    const size_t HW = static_cast<size_t>(H) * W, n = static_cast<size_t>(T) * HW;
    if (indices.size() != n) throw Error(Code::Internal, "fsq: index count mismatch");
    int64_t total = 1;
    for (int l : levels) total *= l;
    for (int32_t i : indices)  // checked on the host, as the CPU backend does: a bad id is bad data
      if (i < 0 || i >= total)
        throw Error(Code::InvalidData, "token id " + std::to_string(i) + " outside [0, " + std::to_string(total) + ")");
    Tensor codes = make(T, static_cast<int>(levels.size()), H, W);
    DeviceStorage idx(ctx_, n * sizeof(int32_t), "FSQ token ids");
    REEL_CUDA_CHECK(cudaMemcpyAsync(idx.p, indices.data(), n * sizeof(int32_t), cudaMemcpyHostToDevice, ctx_->stream()));
    fsq_decode(*ctx_, static_cast<const int32_t*>(idx.p), ptr(codes), T, HW, cb);
    ctx_->sync();  // the staging ids are freed (stream-ordered) and `indices` may go
    return codes;
  }

  // On the side stream, so a decoding thread never waits behind the pass another thread runs.
  // NVDEC's pictures were copied out on the legacy default stream (FFmpeg's, holding no stream
  // of its own): the side stream waits for that, and the call returns only once the picture is
  // read, as the decoder recycles its surface with the next frame.
  Tensor yuv420_frame(const Yuv420& p, int H, int W, int pt, int pl) const override {
    ctx_->enter();
    if (!p || !p.u || !p.v || p.width <= 0 || p.height <= 0) throw Error(Code::Internal, "cuda yuv420_frame: a picture without planes");
    if (pt < 0 || pl < 0 || pt + p.height > H || pl + p.width > W)
      throw Error(Code::Internal, "cuda yuv420_frame: the picture does not fit the frame");
    if (p.on_device && p.device != ctx_->device())
      throw Error(Code::Internal, "cuda yuv420_frame: a picture of cuda:" + std::to_string(p.device) + " on " + describe());
    const cudaStream_t s = ctx_->side_stream();
    Yuv420 q = p;
    std::unique_ptr<DeviceStorage> staged;  // a host picture's planes, copied over
    PinnedPool::Block* pinned = nullptr;
    PinnedGuard guard{ctx_->pinned(), nullptr};
    if (p.on_device) {
      cudaEvent_t decoded;
      REEL_CUDA_CHECK(cudaEventCreateWithFlags(&decoded, cudaEventDisableTiming));
      REEL_CUDA_CHECK(cudaEventRecord(decoded, cudaStreamLegacy));
      REEL_CUDA_CHECK(cudaStreamWaitEvent(s, decoded, 0));
      REEL_CUDA_CHECK(cudaEventDestroy(decoded));
    } else {
      const int cw = (p.width + 1) / 2, ch = (p.height + 1) / 2;
      const bool nv12 = p.uv_step == 2 && p.v == p.u + 1;
      if (p.uv_step != 1 && !nv12) throw Error(Code::Internal, "cuda yuv420_frame: chroma neither planar nor NV12");
      const size_t ybytes = static_cast<size_t>(p.width) * p.height, cbytes = static_cast<size_t>(cw) * ch;
      const size_t bytes = ybytes + 2 * cbytes;
      staged = std::make_unique<DeviceStorage>(ctx_, s, bytes, "a picture's planes");
      auto* d = static_cast<uint8_t*>(staged->p);
      // The planes packed into one pinned block by the host (the decoder's picture is read once
      // this returns), then one DMA; from pageable memory, plane by plane if none is to be had.
      pinned = guard.pin = ctx_->pinned().acquire(bytes);
      if (pinned) {
        auto* h = static_cast<uint8_t*>(pinned->p);
        for (int r = 0; r < p.height; ++r) std::memcpy(h + static_cast<size_t>(r) * p.width, p.y + static_cast<ptrdiff_t>(r) * p.y_pitch, p.width);
        if (nv12) {
          for (int r = 0; r < ch; ++r)
            std::memcpy(h + ybytes + static_cast<size_t>(r) * 2 * cw, p.u + static_cast<ptrdiff_t>(r) * p.uv_pitch, 2 * static_cast<size_t>(cw));
        } else {
          for (int r = 0; r < ch; ++r) {
            std::memcpy(h + ybytes + static_cast<size_t>(r) * cw, p.u + static_cast<ptrdiff_t>(r) * p.uv_pitch, cw);
            std::memcpy(h + ybytes + cbytes + static_cast<size_t>(r) * cw, p.v + static_cast<ptrdiff_t>(r) * p.uv_pitch, cw);
          }
        }
        REEL_CUDA_CHECK(cudaMemcpyAsync(d, h, bytes, cudaMemcpyHostToDevice, s));
        REEL_CUDA_CHECK(cudaEventRecord(pinned->done, s));  // the block's next user waits for the copy
      } else {
        REEL_CUDA_CHECK(cudaMemcpy2DAsync(d, p.width, p.y, p.y_pitch, p.width, p.height, cudaMemcpyHostToDevice, s));
        if (nv12) {
          REEL_CUDA_CHECK(cudaMemcpy2DAsync(d + ybytes, 2 * cw, p.u, p.uv_pitch, 2 * cw, ch, cudaMemcpyHostToDevice, s));
        } else {
          REEL_CUDA_CHECK(cudaMemcpy2DAsync(d + ybytes, cw, p.u, p.uv_pitch, cw, ch, cudaMemcpyHostToDevice, s));
          REEL_CUDA_CHECK(cudaMemcpy2DAsync(d + ybytes + cbytes, cw, p.v, p.uv_pitch, cw, ch, cudaMemcpyHostToDevice, s));
        }
      }
      q.y = d;
      q.y_pitch = p.width;
      q.u = d + ybytes;
      if (nv12) {  // the interleaved rows as they are
        q.v = q.u + 1;
        q.uv_pitch = 2 * cw;
      } else {
        q.v = d + ybytes + cbytes;
        q.uv_pitch = cw;
      }
      q.on_device = true;
    }
    Tensor t;
    t.T = 1, t.C = 3, t.H = H, t.W = W;
    t.dtype = dtype();
    t.backend = this;
    t.storage = std::make_shared<DeviceStorage>(ctx_, s, t.numel() * dtype_size(dtype()), "a frame of network input");
    cuda::yuv420_frame(*ctx_, s, q, ptr(t), H, W, pt, pl);
    REEL_CUDA_CHECK(cudaStreamSynchronize(s));
    return t;
  }

  Tensor alloc(int T, int C, int H, int W) const override {
    ctx_->enter();
    return make(T, C, H, W);
  }

  // One strided-batched GEMM per tap over the frames it reaches: the centre tap first (every
  // frame has it), overwriting the output's channel range, the others accumulating onto it.
  void conv_time_into(const Tensor& x, int in_c0, const ConvWeights& w, int dilation, const ChannelPost& post, Tensor& out,
                      int out_c0) const override {
    ctx_->enter();
    check(x);
    check(out);
    if (w.kh != 1 || w.kw != 1 || w.kt % 2 == 0 || x.T != out.T || x.H != out.H || x.W != out.W || in_c0 < 0 ||
        in_c0 + w.ci > x.C || out_c0 < 0 || out_c0 + w.co > out.C)
      throw Error(Code::Internal, "cuda conv_time_into: channels or shapes out of range");
    const long HW = static_cast<long>(x.H) * x.W;
    const int kt = w.kt, half = kt / 2;
    macs_ += static_cast<uint64_t>(x.T) * w.co * w.ci * kt * static_cast<uint64_t>(HW);
    const void* wt = taps(w);  // (Co, kt, Ci): tap k is a Ci x Co column-major matrix with ld kt * Ci
    const cudaDataType_t t = cuda_type(dtype());
    const float alpha = 1.0f;
    for (int i = 0; i < kt; ++i) {
      const int k = i == 0 ? half : (i <= half ? i - 1 : i);
      const int off = (k - half) * dilation;
      const int t0 = std::max(0, -off), t1 = std::min(x.T, x.T - off);
      if (t1 <= t0) continue;
      const float beta = i == 0 ? 0.0f : 1.0f;
      REEL_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
          ctx_->cublas(), CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(HW), w.co, w.ci, &alpha,
          at(cptr(x), ((static_cast<long>(t0) + off) * x.C + in_c0) * HW), t, static_cast<int>(HW), static_cast<long long>(x.C) * HW,
          at(wt, static_cast<long>(k) * w.ci), t, kt * w.ci, 0, &beta, at(ptr(out), (static_cast<long>(t0) * out.C + out_c0) * HW),
          t, static_cast<int>(HW), static_cast<long long>(out.C) * HW, t1 - t0, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
    if (post.scale || post.relu)
      channel_post(*ctx_, ptr(out), out.T, out.C, out_c0, w.co, static_cast<size_t>(HW), post.scale ? post.scale.p : nullptr,
                   post.scale ? post.shift.p : nullptr, post.relu);
  }
  void relu_add_(Tensor& x, const Tensor& y) const override {
    ctx_->enter();
    check(x);
    check(y);
    if (x.numel() != y.numel()) throw Error(Code::Internal, "relu_add: shape mismatch");
    relu_add(*ctx_, ptr(x), cptr(y), x.numel());
  }
  void relu_(Tensor& x) const override {
    ctx_->enter();
    check(x);
    relu_add(*ctx_, ptr(x), nullptr, x.numel());
  }
  Tensor avg_pool2(const Tensor& x) const override {
    ctx_->enter();
    check(x);
    Tensor y = make(x.T, x.C, x.H / 2, x.W / 2);
    cuda::avg_pool2(*ctx_, cptr(x), ptr(y), x.T, x.C, x.H, x.W);
    return y;
  }
  Tensor spatial_mean(const Tensor& x) const override {
    ctx_->enter();
    check(x);
    Tensor y = make(x.T, x.C, 1, 1);
    cuda::spatial_mean(*ctx_, cptr(x), ptr(y), static_cast<long>(x.T) * x.C, static_cast<size_t>(x.H) * x.W);
    return y;
  }
  Tensor pool2d(const Tensor& x, bool max, int k, int stride, int pt, int pl, int pb, int pr) const override {
    ctx_->enter();
    check(x);
    const int Ho = (x.H + pt + pb - k) / stride + 1, Wo = (x.W + pl + pr - k) / stride + 1;
    if (k < 1 || stride < 1 || Ho < 1 || Wo < 1 || pt >= k || pl >= k || pb >= k || pr >= k)
      throw Error(Code::Internal, "cuda pool2d: the window or its padding does not fit the frame");
    Tensor y = make(x.T, x.C, Ho, Wo);
    cuda::pool2d(*ctx_, cptr(x), ptr(y), x.T, x.C, x.H, x.W, Ho, Wo, max, k, stride, pt, pl);
    return y;
  }
  Tensor conv2d_depthwise(const Tensor& x, const ConvWeights& w, int stride, int pad) const override {
    ctx_->enter();
    check(x);
    if (w.co != x.C || w.ci != 1 || w.kh != w.kw || w.kt != 1) throw Error(Code::Internal, "cuda conv2d_depthwise: bad weight shape");
    const int k = w.kh, Ho = (x.H + 2 * pad - k) / stride + 1, Wo = (x.W + 2 * pad - k) / stride + 1;
    if (Ho < 1 || Wo < 1) throw Error(Code::Internal, "cuda conv2d_depthwise: the kernel is larger than the padded frame");
    Tensor y = make(x.T, x.C, Ho, Wo);
    macs_ += static_cast<uint64_t>(x.T) * x.C * k * k * static_cast<uint64_t>(Ho) * Wo;
    depthwise(*ctx_, cptr(x), w.w.p, w.b ? w.b.p : nullptr, ptr(y), x.T, x.C, x.H, x.W, Ho, Wo, k, stride, pad);
    return y;
  }
  void clamp_(Tensor& x, float lo, float hi) const override {
    ctx_->enter();
    check(x);
    clamp(*ctx_, ptr(x), lo, hi, x.numel());
  }
  // Y (T x co, row-major) = X (T x K) . W^T: column-major Y^T (co x T) = W^T' (K x co)^T . X^T (K x T).
  Tensor dense(const Tensor& x, const Weight& w, const Weight& b, int co, const Tensor* add, bool relu) const override {
    ctx_->enter();
    check(x);
    const long K = static_cast<long>(x.C) * x.H * x.W;
    if (w.n != static_cast<size_t>(co) * K) throw Error(Code::Internal, "cuda dense: weight size does not match");
    Tensor y = make(x.T, co, 1, 1);
    if (add) {
      check(*add);
      if (add->T != x.T || static_cast<long>(add->C) * add->H * add->W != co)
        throw Error(Code::Internal, "cuda dense: the added tensor's shape differs from the output's");
    }
    macs_ += static_cast<uint64_t>(x.T) * co * K;
    const bool accumulate = prefill(*ctx_, ptr(y), x.T, co, 1, b ? b.p : nullptr, add ? cptr(*add) : nullptr);
    const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    const cudaDataType_t t = cuda_type(dtype());
    REEL_CUBLAS_CHECK(cublasGemmEx(ctx_->cublas(), CUBLAS_OP_T, CUBLAS_OP_N, co, x.T, static_cast<int>(K), &alpha, w.p, t,
                                   static_cast<int>(K), cptr(x), t, static_cast<int>(K), &beta, ptr(y), t, co,
                                   CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    if (relu) relu_add(*ctx_, ptr(y), nullptr, y.numel());
    return y;
  }

 private:
  Tensor make(int T, int C, int H, int W) const { return make_on(ctx_->stream(), T, C, H, W); }
  // Allocated in the order of stream `s`, freed on the network's stream.
  Tensor make_on(cudaStream_t s, int T, int C, int H, int W) const {
    Tensor t;
    t.T = T, t.C = C, t.H = H, t.W = W;
    t.dtype = dtype();
    t.backend = this;
    t.storage = std::make_shared<DeviceStorage>(ctx_, s, t.numel() * dtype_size(dtype()), "an activation");
    return t;
  }
  // When no pinned memory is to be had: the driver stages the copies, and the host waits.
  Act download_pageable(const Tensor& t) const {
    Act h(t.T, t.C, t.H, t.W, Act::Uninit{});
    if (dtype() == DType::F32) {
      REEL_CUDA_CHECK(cudaMemcpyAsync(h.v.data(), cptr(t), h.numel() * sizeof(float), cudaMemcpyDeviceToHost, ctx_->stream()));
    } else {
      DeviceStorage staging(ctx_, h.numel() * sizeof(float), "a download's fp32 staging buffer");
      to_f32(*ctx_, cptr(t), static_cast<float*>(staging.p), h.numel());
      REEL_CUDA_CHECK(cudaMemcpyAsync(h.v.data(), staging.p, h.numel() * sizeof(float), cudaMemcpyDeviceToHost, ctx_->stream()));
    }
    ctx_->sync();
    return h;
  }
  Tensor upload_pageable(const Act& h) const {
    Tensor t = make(h.T, h.C, h.H, h.W);
    if (dtype() == DType::F32) {
      REEL_CUDA_CHECK(cudaMemcpyAsync(ptr(t), h.v.data(), h.numel() * sizeof(float), cudaMemcpyHostToDevice, ctx_->stream()));
    } else {
      DeviceStorage staging(ctx_, h.numel() * sizeof(float), "an upload's fp32 staging buffer");
      REEL_CUDA_CHECK(cudaMemcpyAsync(staging.p, h.v.data(), h.numel() * sizeof(float), cudaMemcpyHostToDevice, ctx_->stream()));
      from_f32(*ctx_, static_cast<const float*>(staging.p), ptr(t), h.numel());
    }
    ctx_->sync();  // the host buffer may go as soon as this returns
    return t;
  }
  void check(const Tensor& t) const {
    if (t.backend != this || !t.storage)
      throw Error(Code::Internal, "cuda backend: a tensor of another backend (" +
                                      std::string(t.backend ? t.backend->describe() : "none") + ")");
  }
  static void* ptr(const Tensor& t) { return static_cast<DeviceStorage&>(*t.storage).p; }
  static const void* cptr(const Tensor& t) { return ptr(t); }
  void* at(void* p, long elems) const { return static_cast<char*>(p) + elems * static_cast<long>(dtype_size(dtype())); }
  const void* at(const void* p, long elems) const {
    return static_cast<const char*>(p) + elems * static_cast<long>(dtype_size(dtype()));
  }
  static size_t frame(const Tensor& t) { return static_cast<size_t>(t.C) * t.H * t.W; }
  const DeviceAffine& affine(const NormAffine& a, const Tensor& x) const {
    if (!a.state || a.T != x.T || a.C != x.C) throw Error(Code::Internal, "cuda backend: a norm of another shape or backend");
    return static_cast<const DeviceAffine&>(*a.state);
  }
  static dm::FsqCodebook codebook(const std::vector<int>& levels, int channels) {
    dm::FsqCodebook cb;
    if (static_cast<int>(levels.size()) != channels || !dm::fsq_codebook(levels.data(), channels, &cb))
      throw Error(Code::Internal, "fsq: " + std::to_string(levels.size()) + " levels for " + std::to_string(channels) +
                                      " channels (at most 16)");
    return cb;
  }

  // y <- bias + add, when there is either; the convolution then accumulates onto it.
  bool prefill_output(const Tensor& y, const ConvWeights& w, const Tensor* add) const {
    if (add) {
      check(*add);
      if (add->T != y.T || add->C != y.C || add->H != y.H || add->W != y.W)
        throw Error(Code::Internal, "cuda conv: the residual's shape differs from the output's");
    }
    return prefill(*ctx_, ptr(y), y.T, y.C, static_cast<size_t>(y.H) * y.W, w.b ? w.b.p : nullptr, add ? cptr(*add) : nullptr);
  }

  // For each of `batch` frames b: C_b (Co x HW) (+)= W (Co x K) . B_b (K x HW), row-major, where
  // B_b starts `stride_b` elements after B_{b-1} and C_b one output frame after C_{b-1}.
  // cuBLAS is column-major: C^T (HW x Co) = B^T (HW x K) . W^T (K x Co).
  void gemm_frames(const void* B, long HW, long stride_b, const void* Wt, int K, void* Cm, int Co, int batch,
                   bool accumulate) const {
    if (batch <= 0) return;
    const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    const cudaDataType_t t = cuda_type(dtype());
    REEL_CUBLAS_CHECK(cublasGemmStridedBatchedEx(ctx_->cublas(), CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(HW), Co, K, &alpha,
                                                 B, t, static_cast<int>(HW), stride_b, Wt, t, K, 0, &beta, Cm, t,
                                                 static_cast<int>(HW), static_cast<long long>(Co) * HW, batch,
                                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }

  // The temporal convolution's weights as (Co, kt, Ci), made once per weight on first use.
  const void* taps(const ConvWeights& w) const {
    if (w.kt == 1) return w.w.p;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = taps_.find(w.w.p);
    if (it != taps_.end()) return it->second->p;
    auto buf = std::make_unique<DeviceStorage>(ctx_, w.w.n * dtype_size(dtype()), "a temporal convolution's taps");
    reorder_taps(*ctx_, w.w.p, buf->p, w.co, w.ci, w.kt);
    const void* p = buf->p;
    taps_.emplace(w.w.p, std::move(buf));
    return p;
  }

  void run_cudnn(const Tensor& in, const ConvWeights& w, int stride, int ph, int pw, const Tensor& y, bool accumulate) const {
    TensorDesc xd(dtype(), in.T, in.C, in.H, in.W), yd(dtype(), y.T, y.C, y.H, y.W);
    FilterDesc wd(dtype(), w.co, w.ci, w.kh, w.kw);
    ConvDesc cd(ph, pw, stride, dtype());
    const ConvKey key{in.T, in.C, in.H, in.W, w.co, w.kh, w.kw, stride, ph, pw};
    ConvPlan plan;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = plans_.find(key);
      if (it != plans_.end()) {
        plan = it->second;
      } else {
        plan = choose(xd.d, wd.d, cd.d, yd.d);
        plans_.emplace(key, plan);
      }
    }
    REEL_CUDNN_CHECK(cudnnSetConvolutionMathType(cd.d, plan.math));
    void* ws = plan.workspace ? ctx_->workspace(plan.workspace) : nullptr;
    const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    REEL_CUDNN_CHECK(cudnnConvolutionForward(ctx_->cudnn(), &alpha, xd.d, cptr(in), wd.d, w.w.p, cd.d, plan.algo, ws,
                                             plan.workspace, &beta, yd.d, ptr(y)));
  }

  // cuDNN's heuristics, first answer that works within the workspace budget; fp32 keeps to
  // FMA math (no TF32) so it stays within 1e-5 of the CPU.
  ConvPlan choose(cudnnTensorDescriptor_t xd, cudnnFilterDescriptor_t wd, cudnnConvolutionDescriptor_t cd,
                  cudnnTensorDescriptor_t yd) const {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    REEL_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(ctx_->cudnn(), xd, wd, cd, yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    const size_t budget = std::min<size_t>(size_t(1) << 30, ctx_->available() / 4);
    for (int i = 0; i < n; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > budget) continue;
      if (dtype() == DType::F32 && perf[i].mathType != CUDNN_FMA_MATH && perf[i].mathType != CUDNN_DEFAULT_MATH) continue;
      ConvPlan p;
      p.algo = perf[i].algo;
      p.math = dtype() == DType::F32 ? CUDNN_FMA_MATH : perf[i].mathType;
      p.workspace = perf[i].memory;
      return p;
    }
    throw Error(Code::OutOfMemory, "cuDNN: no convolution algorithm fits the workspace budget (" + std::to_string(budget >> 20) +
                                       " MiB) on " + describe());
  }

  // Per frame: S = scale * Q_blk^T K (block x HW, float32), P = softmax(S) rows, O_blk = V P^T.
  // Column-major views: Q, K, V, O are (HW x C) with leading dimension HW.
  void spatial_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o) const {
    const int L = q.H * q.W, C = q.C, T = q.T;
    const long frame = static_cast<long>(C) * L;
    const size_t psize = dtype() == DType::F32 ? 0 : dtype_size(dtype());
    // Scores (fp32) and probabilities (storage dtype) of a block of queries, every frame at once:
    // blocks sized to at most ~1/8 of free memory (and 1 GiB).
    const size_t per_query = static_cast<size_t>(T) * L * (sizeof(float) + psize);
    const size_t budget = std::min<size_t>(size_t(1) << 30, ctx_->available() / 8);
    const int block = static_cast<int>(std::max<size_t>(1, std::min<size_t>(L, budget / per_query)));
    const size_t s_bytes = static_cast<size_t>(T) * block * L * sizeof(float);
    char* ws = static_cast<char*>(ctx_->workspace(s_bytes + static_cast<size_t>(T) * block * L * psize));
    float* S = reinterpret_cast<float*>(ws);
    void* P = psize ? static_cast<void*>(ws + s_bytes) : static_cast<void*>(S);
    const cudaDataType_t t = cuda_type(dtype());
    const float scale = 1.0f / std::sqrt(static_cast<float>(C)), one = 1.0f, zero = 0.0f;
    for (int i0 = 0; i0 < L; i0 += block) {
      const int nb = std::min(block, L - i0);
      // S^cm (L x nb) = K (L x C) . Qblk^T (C x nb); row i of S (query i0+i) is contiguous.
      REEL_CUBLAS_CHECK(cublasGemmStridedBatchedEx(ctx_->cublas(), CUBLAS_OP_N, CUBLAS_OP_T, L, nb, C, &scale, cptr(k), t, L,
                                                   frame, at(cptr(q), i0), t, L, frame, &zero, S, CUDA_R_32F, L,
                                                   static_cast<long long>(block) * L, T, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      for (int f = 0; f < T; ++f)
        softmax_rows(*ctx_, S + static_cast<long>(f) * block * L, at(P, static_cast<long>(f) * block * L), nb, L);
      // O^cm block (nb x C) = P^T (nb x L) . V (L x C).
      REEL_CUBLAS_CHECK(cublasGemmStridedBatchedEx(ctx_->cublas(), CUBLAS_OP_T, CUBLAS_OP_N, nb, C, L, &one, P, t, L,
                                                   static_cast<long long>(block) * L, cptr(v), t, L, frame, &zero,
                                                   at(ptr(o), i0), t, L, frame, T, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
  }

  std::shared_ptr<const Context> ctx_;
  std::vector<std::unique_ptr<DeviceStorage>> weights_;
  mutable std::mutex mu_;
  mutable std::unordered_map<const void*, std::unique_ptr<DeviceStorage>> taps_;
  mutable std::map<ConvKey, ConvPlan> plans_;
  mutable std::atomic<uint64_t> macs_{0};
};

}  // namespace

Backend* make_backend(int index, DType dtype) { return new CudaBackend(index, dtype); }

}  // namespace reel::cuda
