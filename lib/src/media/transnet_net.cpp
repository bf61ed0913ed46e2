// SPDX-License-Identifier: Apache-2.0
#include "transnet_net.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "reel/core/status.h"
#include "reel/io/h5.h"

namespace reel {

namespace {
constexpr int kT = 100, kH = 27, kW = 48, kBand = 101, kSim = 128, kHidden = 1024;

// One DilatedDCNNV2 layer: four (2+1)-D convolutions with temporal dilations 1, 2, 4, 8 over the
// same input, concatenated, then BatchNorm (eval: a scale and shift per channel), then ReLU or not.
struct Layer {
  int ci = 0, f = 0;
  bool relu = false;
  std::vector<float> spatial;  // (8f, ci, 1, 3, 3): the four branches' kernels stacked
  std::vector<float> temporal[4];      // branch: (f, 2f, 3, 1, 1)
  std::vector<float> scale[4], shift[4];  // branch: its f channels of the BatchNorm
  ConvWeights sp, tm[4];
  Backend::ChannelPost post[4];
};

struct Reader {
  const h5::File& f;
  const std::string& path;
  std::vector<float> get(const std::string& name, const std::vector<int64_t>& want) const {
    return h5::read_weight(f, name, want, "TransNetV2 weights " + path);
  }
};

// Zero-padded +-50-frame band of the cosine similarities of x's rows (T x dim, L2-normalised):
// (T, 101), then fc and ReLU, into out's rows (stride ld).
void similarity_band(const float* x, int dim, const std::vector<float>& fc_w, const std::vector<float>& fc_b, float* out,
                     int ld) {
  std::vector<float> sim(static_cast<size_t>(kT) * kT), band(static_cast<size_t>(kT) * kBand, 0.0f);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kT, kT, dim, 1.0f, x, dim, x, dim, 0.0f, sim.data(), kT);
  for (int t = 0; t < kT; ++t)
    for (int j = 0; j < kBand; ++j) {
      const int s = t + j - kBand / 2;
      if (s >= 0 && s < kT) band[static_cast<size_t>(t) * kBand + j] = sim[static_cast<size_t>(t) * kT + s];
    }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kT, kSim, kBand, 1.0f, band.data(), kBand, fc_w.data(), kBand, 0.0f, out,
              ld);
  for (int t = 0; t < kT; ++t)
    for (int c = 0; c < kSim; ++c) out[t * ld + c] = std::max(0.0f, out[t * ld + c] + fc_b[c]);
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
}  // namespace

struct TransNetNet::Weights {
  Layer layers[3][2];
  // Host: the similarity branches. Backend: the head's dense layers.
  std::vector<float> proj_w, proj_b, sim_w, sim_b, hist_w, hist_b;
  std::vector<float> fc1_sim, fc1_x, fc1_b, cls_w, cls_b;
  Weight d_fc1_sim, d_fc1_x, d_fc1_b, d_cls_w, d_cls_b;
};

TransNetNet::TransNetNet(const std::string& path, const Device& device, DType dtype, int threads)
    : w_(std::make_unique<Weights>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(Code::ModelError, "TransNetV2 weights " + path + ": not found (weights/transnetv2.py --h5 writes them)");
  backend_ = make_backend(device, threads, dtype);
  Backend& be = *backend_;
  const h5::File file(path, 'r', Code::ModelError);
  const Reader r{file, path};
  auto up = [&](const std::vector<float>& v) { return be.weight(v.data(), v.size()); };
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
        L.temporal[j] = r.get(b + "1.weight", {f, 2 * f, 3, 1, 1});
      }
      const auto g = r.get(p + "bn.weight", {4 * f}), be_ = r.get(p + "bn.bias", {4 * f});
      const auto m = r.get(p + "bn.running_mean", {4 * f}), v = r.get(p + "bn.running_var", {4 * f});
      L.sp = ConvWeights{up(L.spatial), {}, 8 * f, L.ci, 1, 3, 3};
      for (int j = 0; j < 4; ++j) {
        for (int c = j * f; c < (j + 1) * f; ++c) {
          const float s = g[c] / std::sqrt(v[c] + 1e-3f);
          L.scale[j].push_back(s);
          L.shift[j].push_back(be_[c] - m[c] * s);
        }
        L.tm[j] = ConvWeights{up(L.temporal[j]), {}, f, 2 * f, 3, 1, 1};
        L.post[j] = Backend::ChannelPost{up(L.scale[j]), up(L.shift[j]), L.relu};
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
  // fc1 reads (colour similarities 128, frame similarities 128, the last block in (H, W, C)
  // order): its columns split into the similarities' and the block's, the latter reordered to
  // the (C, H, W) order the backend's dense layer reads.
  constexpr int kIn = 2 * kSim + 256 * 18;
  const auto fc1 = r.get("fc1.weight", {kHidden, kIn});
  w.fc1_b = r.get("fc1.bias", {kHidden});
  w.fc1_sim.resize(static_cast<size_t>(kHidden) * 2 * kSim);
  w.fc1_x.resize(static_cast<size_t>(kHidden) * 256 * 18);
  for (int o = 0; o < kHidden; ++o) {
    const float* row = fc1.data() + static_cast<size_t>(o) * kIn;
    std::copy_n(row, 2 * kSim, w.fc1_sim.data() + static_cast<size_t>(o) * 2 * kSim);
    for (int c = 0; c < 256; ++c)
      for (int q = 0; q < 18; ++q) w.fc1_x[(static_cast<size_t>(o) * 256 + c) * 18 + q] = row[2 * kSim + q * 256 + c];
  }
  const auto c1w = r.get("cls_layer1.weight", {1, kHidden}), c1b = r.get("cls_layer1.bias", {1});
  const auto c2w = r.get("cls_layer2.weight", {1, kHidden}), c2b = r.get("cls_layer2.bias", {1});
  w.cls_w = c1w;
  w.cls_w.insert(w.cls_w.end(), c2w.begin(), c2w.end());
  w.cls_b = {c1b[0], c2b[0]};
  w.d_fc1_sim = up(w.fc1_sim);
  w.d_fc1_x = up(w.fc1_x);
  w.d_fc1_b = up(w.fc1_b);
  w.d_cls_w = up(w.cls_w);
  w.d_cls_b = up(w.cls_b);
}

TransNetNet::~TransNetNet() = default;

void TransNetNet::window(const uint8_t* frames, const float* hist, float* single, float* many) {
  const Weights& w = *w_;
  const Backend& be = *backend_;
  constexpr size_t kPix = static_cast<size_t>(kH) * kW;
  Act in(kT, 3, kH, kW, Act::Uninit{});
  for (int t = 0; t < kT; ++t)
    for (size_t p = 0; p < kPix; ++p)
      for (int c = 0; c < 3; ++c) in.v[(static_cast<size_t>(t) * 3 + c) * kPix + p] = frames[(t * kPix + p) * 3 + c] / 255.0f;
  auto ddcnn = [&](const Tensor& x, const Layer& L) {
    const Tensor s = be.conv2d(x, L.sp, 1, 1, 1, 1, 1);
    Tensor out = be.alloc(x.T, 4 * L.f, x.H, x.W);
    for (int j = 0; j < 4; ++j) be.conv_time_into(s, 2 * L.f * j, L.tm[j], 1 << j, L.post[j], out, L.f * j);
    return out;
  };
  // Each block's output averaged over the picture, for the frame-similarity branch: 64 + 128 + 256.
  std::vector<float> means(static_cast<size_t>(kT) * 448);
  Tensor x = be.upload(in);
  // The means come over after the last block: on a GPU the blocks run without the host waiting.
  std::unique_ptr<PendingDownload> block_means[3];
  for (int i = 0; i < 3; ++i) {
    const Tensor a = ddcnn(x, w.layers[i][0]);
    Tensor b = ddcnn(a, w.layers[i][1]);
    be.relu_add_(b, a);
    x = be.avg_pool2(b);
    block_means[i] = be.download_async(be.spatial_mean(x));
  }
  int offset = 0;
  for (auto& pending : block_means) {
    const Act m = pending->wait();
    for (int t = 0; t < kT; ++t) std::copy_n(m.v.data() + static_cast<size_t>(t) * m.C, m.C, means.data() + t * 448 + offset);
    offset += m.C;
  }
  // The similarity branches on the host: colour histograms (128), frame similarities (128).
  Act sims(kT, 2 * kSim, 1, 1, Act::Uninit{});
  similarity_band(hist, 512, w.hist_w, w.hist_b, sims.v.data(), 2 * kSim);
  std::vector<float> sim_in(static_cast<size_t>(kT) * kSim);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kT, kSim, 448, 1.0f, means.data(), 448, w.proj_w.data(), 448, 0.0f,
              sim_in.data(), kSim);
  for (int t = 0; t < kT; ++t)
    for (int c = 0; c < kSim; ++c) sim_in[t * kSim + c] += w.proj_b[c];
  l2_normalise_rows(sim_in.data(), kT, kSim);
  similarity_band(sim_in.data(), kSim, w.sim_w, w.sim_b, sims.v.data() + kSim, 2 * kSim);
  // The head: fc1 over both similarities and the last block (3 x 6 x 256), ReLU, the two logits.
  const Tensor h0 = be.dense(be.upload(sims), w.d_fc1_sim, w.d_fc1_b, kHidden, nullptr, false);
  const Tensor h = be.dense(x, w.d_fc1_x, Weight{}, kHidden, &h0, true);
  const Act logits = be.download(be.dense(h, w.d_cls_w, w.d_cls_b, 2, nullptr, false));
  for (int t = 0; t < kT; ++t) {
    single[t] = 1.0f / (1.0f + std::exp(-logits.v[2 * t]));
    many[t] = 1.0f / (1.0f + std::exp(-logits.v[2 * t + 1]));
  }
}

}  // namespace reel
