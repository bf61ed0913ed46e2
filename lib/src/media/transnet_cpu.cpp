// SPDX-License-Identifier: Apache-2.0
#include "transnet_cpu.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "reel/core/status.h"
#include "reel/io/h5.h"
#include "reel/model/ops.h"

namespace reel {

namespace {
constexpr int kT = 100, kH = 27, kW = 48, kBand = 101, kSim = 128, kHidden = 1024;

// One DilatedDCNNV2 layer: four (2+1)-D convolutions with temporal dilations 1, 2, 4, 8 over the
// same input, concatenated, then BatchNorm (eval: a scale and shift per channel), then ReLU or not.
struct Layer {
  int ci = 0, f = 0;
  std::vector<float> spatial;         // (8f, ci, 3, 3): the four branches' kernels stacked
  std::vector<float> temporal[4][3];  // branch, tap: (f, 2f)
  std::vector<float> scale, shift;    // (4f)
  bool relu = false;
};

struct Reader {
  const h5::File& f;
  const std::string& path;
  std::vector<float> get(const std::string& name, const std::vector<int64_t>& want) const {
    return h5::read_weight(f, name, want, "TransNetV2 weights " + path);
  }
};

// Zero-padded +-50-frame band of the cosine similarities of x's rows (T x dim, L2-normalised):
// (T, 101), then fc and ReLU: (T, 128).
void similarity_band(const float* x, int dim, const std::vector<float>& fc_w, const std::vector<float>& fc_b, float* out) {
  std::vector<float> sim(static_cast<size_t>(kT) * kT), band(static_cast<size_t>(kT) * kBand, 0.0f);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kT, kT, dim, 1.0f, x, dim, x, dim, 0.0f, sim.data(), kT);
  for (int t = 0; t < kT; ++t)
    for (int j = 0; j < kBand; ++j) {
      const int s = t + j - kBand / 2;
      if (s >= 0 && s < kT) band[static_cast<size_t>(t) * kBand + j] = sim[static_cast<size_t>(t) * kT + s];
    }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kT, kSim, kBand, 1.0f, band.data(), kBand, fc_w.data(), kBand, 0.0f, out,
              kSim);
  for (int t = 0; t < kT; ++t)
    for (int c = 0; c < kSim; ++c) out[t * kSim + c] = std::max(0.0f, out[t * kSim + c] + fc_b[c]);
}

void l2_normalise_rows(float* x, int rows, int dim) {
  for (int r = 0; r < rows; ++r) {
    float* v = x + static_cast<size_t>(r) * dim;
    double ss = 0;
    for (int i = 0; i < dim; ++i) ss += static_cast<double>(v[i]) * v[i];
    const float inv = 1.0f / std::max(static_cast<float>(std::sqrt(ss)), 1e-12f);
    for (int i = 0; i < dim; ++i) v[i] *= inv;
  }
}

Act ddcnn(const Act& x, const Layer& L) {
  const int f = L.f, T = x.T;
  // Three input channels are too few for Winograd's transforms to pay: the GEMM path is twice as fast.
  const ConvW cw{L.spatial.data(), nullptr, 8 * f, L.ci, 1, 3, 3};
  const Act s = L.ci < 8 ? conv2d_im2col(x, cw, 1, 1, 1, 1, 1) : conv2d(x, cw, 1, 1, 1, 1, 1);
  const size_t hw = s.plane();
  // Frame by frame, one thread per frame: out[t] (4f x hw) gets each branch's three taps as
  // small GEMMs straight from the frames they read, in the layout conv2d wrote, and the
  // BatchNorm then runs over the frame while it is in cache.
  Act out(T, 4 * f, s.H, s.W);
#pragma omp parallel for schedule(static)
  for (int t = 0; t < T; ++t) {
    float* y = out.v.data() + static_cast<size_t>(t) * 4 * f * hw;
    for (int j = 0; j < 4; ++j) {
      const int d = 1 << j;
      for (int k = 0; k < 3; ++k) {
        const int src = t + (k - 1) * d;  // zero outside the window
        if (src < 0 || src >= T) continue;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, f, static_cast<int>(hw), 2 * f, 1.0f, L.temporal[j][k].data(),
                    2 * f, s.v.data() + (static_cast<size_t>(src) * 8 * f + 2 * f * j) * hw, static_cast<int>(hw), 1.0f,
                    y + static_cast<size_t>(j) * f * hw, static_cast<int>(hw));
      }
    }
    for (int c = 0; c < 4 * f; ++c) {
      float* v = y + static_cast<size_t>(c) * hw;
      const float a = L.scale[c], b = L.shift[c];
      for (size_t p = 0; p < hw; ++p) {
        const float u = a * v[p] + b;
        v[p] = L.relu ? std::max(0.0f, u) : u;
      }
    }
  }
  return out;
}

Act avg_pool_2x2(const Act& x) {  // floor, as AvgPool3d((1, 2, 2))
  Act o(x.T, x.C, x.H / 2, x.W / 2, Act::Uninit{});
  for (int t = 0; t < x.T; ++t)
    for (int c = 0; c < x.C; ++c) {
      const float* s = x.v.data() + (static_cast<size_t>(t) * x.C + c) * x.plane();
      float* d = o.v.data() + (static_cast<size_t>(t) * o.C + c) * o.plane();
      for (int h = 0; h < o.H; ++h)
        for (int w = 0; w < o.W; ++w) {
          const float* p = s + static_cast<size_t>(2 * h) * x.W + 2 * w;
          d[h * o.W + w] = 0.25f * (p[0] + p[1] + p[x.W] + p[x.W + 1]);
        }
    }
  return o;
}
}  // namespace

struct TransNetCpu::Weights {
  Layer layers[3][2];
  std::vector<float> proj_w, proj_b, sim_w, sim_b, hist_w, hist_b, fc1_w, fc1_b, cls1_w, cls1_b, cls2_w, cls2_b;
};

TransNetCpu::TransNetCpu(const std::string& path) : w_(std::make_unique<Weights>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(Code::ModelError, "TransNetV2 weights " + path + ": not found (weights/transnetv2.py --h5 writes them)");
  const h5::File file(path, 'r', Code::ModelError);
  const Reader r{file, path};
  for (int i = 0; i < 3; ++i) {
    const int f = 16 << i;
    for (int l = 0; l < 2; ++l) {
      Layer& L = w_->layers[i][l];
      L.f = f;
      L.ci = l == 1 ? 4 * f : (i == 0 ? 3 : 4 * (f / 2));
      L.relu = l == 0;  // the package's last layer of a block has no activation of its own
      const std::string p = "SDDCNN." + std::to_string(i) + ".DDCNN." + std::to_string(l) + ".";
      L.spatial.reserve(static_cast<size_t>(8) * f * L.ci * 9);
      for (int j = 0; j < 4; ++j) {
        const std::string b = p + "Conv3D_" + std::to_string(1 << j) + ".layers.";
        const auto sw = r.get(b + "0.weight", {2 * f, L.ci, 1, 3, 3});
        L.spatial.insert(L.spatial.end(), sw.begin(), sw.end());
        const auto tw = r.get(b + "1.weight", {f, 2 * f, 3, 1, 1});
        for (int k = 0; k < 3; ++k) {
          L.temporal[j][k].resize(static_cast<size_t>(f) * 2 * f);
          for (int o = 0; o < f; ++o)
            for (int c = 0; c < 2 * f; ++c) L.temporal[j][k][o * 2 * f + c] = tw[(static_cast<size_t>(o) * 2 * f + c) * 3 + k];
        }
      }
      const auto g = r.get(p + "bn.weight", {4 * f}), be = r.get(p + "bn.bias", {4 * f});
      const auto m = r.get(p + "bn.running_mean", {4 * f}), v = r.get(p + "bn.running_var", {4 * f});
      L.scale.resize(4 * f);
      L.shift.resize(4 * f);
      for (int c = 0; c < 4 * f; ++c) {
        L.scale[c] = g[c] / std::sqrt(v[c] + 1e-3f);
        L.shift[c] = be[c] - m[c] * L.scale[c];
      }
    }
  }
  Weights& w = *w_;
  w.proj_w = r.get("frame_sim_layer.projection.weight", {kSim, 448});
  w.proj_b = r.get("frame_sim_layer.projection.bias", {kSim});
  w.sim_w = r.get("frame_sim_layer.fc.weight", {kSim, kBand});
  w.sim_b = r.get("frame_sim_layer.fc.bias", {kSim});
  w.hist_w = r.get("color_hist_layer.fc.weight", {kSim, kBand});
  w.hist_b = r.get("color_hist_layer.fc.bias", {kSim});
  w.fc1_w = r.get("fc1.weight", {kHidden, 2 * kSim + 256 * 3 * 6});
  w.fc1_b = r.get("fc1.bias", {kHidden});
  w.cls1_w = r.get("cls_layer1.weight", {1, kHidden});
  w.cls1_b = r.get("cls_layer1.bias", {1});
  w.cls2_w = r.get("cls_layer2.weight", {1, kHidden});
  w.cls2_b = r.get("cls_layer2.bias", {1});
}

TransNetCpu::~TransNetCpu() = default;

void TransNetCpu::window(const uint8_t* frames, const float* hist, float* single, float* many) {
  const Weights& w = *w_;
  constexpr size_t kPix = static_cast<size_t>(kH) * kW;
  Act x(kT, 3, kH, kW, Act::Uninit{});
  for (int t = 0; t < kT; ++t)
    for (size_t p = 0; p < kPix; ++p)
      for (int c = 0; c < 3; ++c) x.v[(static_cast<size_t>(t) * 3 + c) * kPix + p] = frames[(t * kPix + p) * 3 + c] / 255.0f;
  // Each block's output averaged over the picture, for the frame-similarity branch: 64 + 128 + 256.
  std::vector<float> means(static_cast<size_t>(kT) * 448);
  int offset = 0;
  for (int i = 0; i < 3; ++i) {
    const Act a = ddcnn(x, w.layers[i][0]);
    Act b = ddcnn(a, w.layers[i][1]);
    for (size_t k = 0; k < b.v.size(); ++k) b.v[k] = std::max(0.0f, b.v[k]) + a.v[k];
    x = avg_pool_2x2(b);
    for (int t = 0; t < kT; ++t)
      for (int c = 0; c < x.C; ++c) {
        const float* p = x.v.data() + (static_cast<size_t>(t) * x.C + c) * x.plane();
        double s = 0;
        for (size_t q = 0; q < x.plane(); ++q) s += p[q];
        means[static_cast<size_t>(t) * 448 + offset + c] = static_cast<float>(s / x.plane());
      }
    offset += x.C;
  }
  // The head's input per frame: colour-histogram similarities (128), frame similarities (128),
  // the last block's features in (H, W, C) order (3 x 6 x 256).
  constexpr int kIn = 2 * kSim + 256 * 18;
  std::vector<float> feat(static_cast<size_t>(kT) * kIn);
  std::vector<float> sim_in(static_cast<size_t>(kT) * kSim), head(static_cast<size_t>(kSim) * kT);
  similarity_band(hist, 512, w.hist_w, w.hist_b, head.data());
  for (int t = 0; t < kT; ++t) std::copy_n(head.data() + t * kSim, kSim, feat.data() + static_cast<size_t>(t) * kIn);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kT, kSim, 448, 1.0f, means.data(), 448, w.proj_w.data(), 448, 0.0f,
              sim_in.data(), kSim);
  for (int t = 0; t < kT; ++t)
    for (int c = 0; c < kSim; ++c) sim_in[t * kSim + c] += w.proj_b[c];
  l2_normalise_rows(sim_in.data(), kT, kSim);
  similarity_band(sim_in.data(), kSim, w.sim_w, w.sim_b, head.data());
  for (int t = 0; t < kT; ++t) std::copy_n(head.data() + t * kSim, kSim, feat.data() + static_cast<size_t>(t) * kIn + kSim);
  for (int t = 0; t < kT; ++t)
    for (int c = 0; c < 256; ++c)
      for (int q = 0; q < 18; ++q) feat[static_cast<size_t>(t) * kIn + 2 * kSim + q * 256 + c] = x.v[(static_cast<size_t>(t) * 256 + c) * 18 + q];
  std::vector<float> hid(static_cast<size_t>(kT) * kHidden);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kT, kHidden, kIn, 1.0f, feat.data(), kIn, w.fc1_w.data(), kIn, 0.0f,
              hid.data(), kHidden);
  for (int t = 0; t < kT; ++t) {
    const float* v = hid.data() + static_cast<size_t>(t) * kHidden;
    double s1 = w.cls1_b[0], s2 = w.cls2_b[0];
    for (int k = 0; k < kHidden; ++k) {
      const float a = std::max(0.0f, v[k] + w.fc1_b[k]);
      s1 += static_cast<double>(w.cls1_w[k]) * a;
      s2 += static_cast<double>(w.cls2_w[k]) * a;
    }
    single[t] = static_cast<float>(1.0 / (1.0 + std::exp(-s1)));
    many[t] = static_cast<float>(1.0 / (1.0 + std::exp(-s2)));
  }
}

}  // namespace reel
