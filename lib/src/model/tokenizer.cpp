// SPDX-License-Identifier: Apache-2.0
// Network graph of the Cosmos-family tokenizers, built from the config. The builder
// walks the architecture once, registering each tensor (name, shape); the same layer
// structs then run the forward pass as ops of a compute Backend (reel/core/backend.h), on
// Tensors it owns, with the weights uploaded to it once.
#include "reel/model/tokenizer.h"

#include <cmath>
#include <map>
#include <random>

#include "reel/core/backend.h"
#include "reel/core/log.h"
#include "reel/core/status.h"
#include "reel/io/h5.h"
#include "reel/io/uuid.h"

namespace reel {
namespace {

struct Registry {
  std::vector<TensorSpec> specs;
  std::vector<std::vector<float>> data;
  bool encoder = true;
  int add(const std::string& name, std::vector<int64_t> shape) {
    specs.push_back({name, std::move(shape), encoder});
    return static_cast<int>(specs.size()) - 1;
  }
};

struct Conv {
  int w = -1, b = -1, co = 0, ci = 0, kt = 1, kh = 1, kw = 1;
  // Against the weights as uploaded to the backend (by registry index).
  ConvWeights get(const std::vector<Weight>& up) const { return {up[w], b < 0 ? Weight{} : up[b], co, ci, kt, kh, kw}; }
};
struct Norm {
  int g = -1, b = -1, groups = 1;
};

// Naming differs between the factorized video modules (".conv3d", ".norm") and the 2-D image ones.
struct Builder {
  Registry& r;
  bool video;
  Conv conv(const std::string& name, int co, int ci, int kt, int kh, int kw) {
    Conv c;
    c.co = co;
    c.ci = ci;
    c.kt = kt;
    c.kh = kh;
    c.kw = kw;
    std::string base = video ? name + ".conv3d" : name;
    if (video) c.w = r.add(base + ".weight", {co, ci, kt, kh, kw});
    else c.w = r.add(base + ".weight", {co, ci, kh, kw});
    c.b = r.add(base + ".bias", {co});
    return c;
  }
  Norm norm(const std::string& name, int c, int groups) {
    std::string base = video ? name + ".norm" : name;
    Norm n;
    n.g = r.add(base + ".weight", {c});
    n.b = r.add(base + ".bias", {c});
    n.groups = groups;
    return n;
  }
};

struct ResBlock {
  std::string name;
  Norm n1, n2;
  Conv c1s, c1t, c2s, c2t, sc;
  bool shortcut = false;
};
struct AttnBlock {
  std::string name;
  Norm n;
  Conv q, k, v, proj;
  bool temporal = false;
};
struct Resample {  // video hybrid down/upsample or image conv down/upsample
  std::string name;
  bool spatial = false, temporal = false;
  Conv c1, c2, c3;
};
struct Level {
  std::vector<ResBlock> blocks;
  Resample resample;
};

}  // namespace

struct Tokenizer::Impl {
  ModelConfig cfg;
  Registry reg;
  std::string checksum, source;
  std::unique_ptr<Backend> be;  // the CPU backend unless use_backend() chose another
  std::vector<Weight> dev;      // reg.data in be's memory, by registry index

  void upload_weights() {
    dev.clear();
    for (const auto& d : reg.data) dev.push_back(be->weight(d.data(), d.size()));
  }
  // encoder
  Conv enc_in_s, enc_in_t;
  std::vector<Level> down;
  ResBlock emid1, emid2;
  std::vector<AttnBlock> eattn;
  Norm enorm;
  Conv enc_out_s, enc_out_t, quant;
  // decoder
  Conv post_quant, dec_in_s, dec_in_t;
  ResBlock dmid1, dmid2;
  std::vector<AttnBlock> dattn;
  std::vector<Level> up;  // index = level i
  Norm dnorm;
  Conv dec_out_s, dec_out_t;

  int groups() const { return cfg.video ? cfg.num_groups : 32; }

  ResBlock make_block(Builder& b, const std::string& name, int cin, int cout) {
    ResBlock rb;
    rb.name = name;
    rb.n1 = b.norm(name + ".norm1", cin, groups());
    if (cfg.video) {
      rb.c1s = b.conv(name + ".conv1.0", cout, cin, 1, 3, 3);
      rb.c1t = b.conv(name + ".conv1.1", cout, cout, 3, 1, 1);
    } else {
      rb.c1s = b.conv(name + ".conv1", cout, cin, 1, 3, 3);
    }
    rb.n2 = b.norm(name + ".norm2", cout, groups());
    if (cfg.video) {
      rb.c2s = b.conv(name + ".conv2.0", cout, cout, 1, 3, 3);
      rb.c2t = b.conv(name + ".conv2.1", cout, cout, 3, 1, 1);
    } else {
      rb.c2s = b.conv(name + ".conv2", cout, cout, 1, 3, 3);
    }
    if (cin != cout) {
      rb.shortcut = true;
      rb.sc = b.conv(name + ".nin_shortcut", cout, cin, 1, 1, 1);
    }
    return rb;
  }

  AttnBlock make_attn(Builder& b, const std::string& name, int c, bool temporal) {
    AttnBlock a;
    a.name = name;
    a.temporal = temporal;
    a.n = b.norm(name + ".norm", c, groups());
    a.q = b.conv(name + ".q", c, c, 1, 1, 1);
    a.k = b.conv(name + ".k", c, c, 1, 1, 1);
    a.v = b.conv(name + ".v", c, c, 1, 1, 1);
    a.proj = b.conv(name + ".proj_out", c, c, 1, 1, 1);
    return a;
  }

  void build() {
    const ModelConfig& c = cfg;
    Builder b{reg, c.video};
    const int p = c.patch_size;
    const int pc = c.video ? p * p * p : p * p;
    const int n = static_cast<int>(c.channels_mult.size());
    auto mult = [&](int i) { return i < 0 ? 1 : c.channels_mult[i]; };
    reg.encoder = true;
    enc_in_s = b.conv("encoder.conv_in" + std::string(c.video ? ".0" : ""), c.channels, c.in_channels * pc, 1, 3, 3);
    if (c.video) enc_in_t = b.conv("encoder.conv_in.1", c.channels, c.channels, 3, 1, 1);
    down.resize(n);
    int block_in = c.channels;
    for (int i = 0; i < n; ++i) {
      block_in = c.channels * mult(i - 1);
      const int block_out = c.channels * mult(i);
      for (int j = 0; j < c.num_res_blocks; ++j) {
        down[i].blocks.push_back(make_block(b, "encoder.down." + std::to_string(i) + ".block." + std::to_string(j),
                                            block_in, block_out));
        block_in = block_out;
      }
      if (i == n - 1) continue;
      Resample& rs = down[i].resample;
      rs.name = "encoder.down." + std::to_string(i) + ".downsample";
      if (c.video) {
        rs.spatial = i < c.num_spatial_downs();
        rs.temporal = i < c.num_temporal_downs();
        if (rs.spatial) rs.c1 = b.conv(rs.name + ".conv1", block_in, block_in, 1, 3, 3);
        if (rs.temporal) rs.c2 = b.conv(rs.name + ".conv2", block_in, block_in, 3, 1, 1);
        if (rs.spatial || rs.temporal) rs.c3 = b.conv(rs.name + ".conv3", block_in, block_in, 1, 1, 1);
      } else {
        rs.spatial = i < c.num_spatial_downs();
        if (rs.spatial) rs.c1 = b.conv(rs.name + ".conv", block_in, block_in, 1, 3, 3);
      }
    }
    const int mid = c.channels * mult(n - 1);
    emid1 = make_block(b, "encoder.mid.block_1", mid, mid);
    if (c.video) {
      eattn.push_back(make_attn(b, "encoder.mid.attn_1.0", mid, false));
      eattn.push_back(make_attn(b, "encoder.mid.attn_1.1", mid, true));
    } else {
      eattn.push_back(make_attn(b, "encoder.mid.attn_1", mid, false));
    }
    emid2 = make_block(b, "encoder.mid.block_2", mid, mid);
    enorm = b.norm("encoder.norm_out", mid, groups());
    enc_out_s = b.conv("encoder.conv_out" + std::string(c.video ? ".0" : ""), c.z_channels, mid, 1, 3, 3);
    if (c.video) enc_out_t = b.conv("encoder.conv_out.1", c.z_channels, c.z_channels, 3, 1, 1);
    quant = b.conv("quant_conv", c.latent_dim(), c.z_channels, 1, 1, 1);

    reg.encoder = false;
    post_quant = b.conv("post_quant_conv", c.z_channels, c.latent_dim(), 1, 1, 1);
    dec_in_s = b.conv("decoder.conv_in" + std::string(c.video ? ".0" : ""), mid, c.z_channels, 1, 3, 3);
    if (c.video) dec_in_t = b.conv("decoder.conv_in.1", mid, mid, 3, 1, 1);
    dmid1 = make_block(b, "decoder.mid.block_1", mid, mid);
    if (c.video) {
      dattn.push_back(make_attn(b, "decoder.mid.attn_1.0", mid, false));
      dattn.push_back(make_attn(b, "decoder.mid.attn_1.1", mid, true));
    } else {
      dattn.push_back(make_attn(b, "decoder.mid.attn_1", mid, false));
    }
    dmid2 = make_block(b, "decoder.mid.block_2", mid, mid);
    up.resize(n);
    block_in = mid;
    const int nsu = c.num_spatial_downs(), ntu = c.num_temporal_downs();
    for (int i = n - 1; i >= 0; --i) {
      const int block_out = c.channels * mult(i);
      for (int j = 0; j < c.num_res_blocks + 1; ++j) {
        up[i].blocks.push_back(
            make_block(b, "decoder.up." + std::to_string(i) + ".block." + std::to_string(j), block_in, block_out));
        block_in = block_out;
      }
      if (i == 0) continue;
      Resample& rs = up[i].resample;
      rs.name = "decoder.up." + std::to_string(i) + ".upsample";
      if (c.video) {
        const int r = n - 1 - i;
        rs.temporal = c.legacy_mode ? r < ntu : (0 < r && r < ntu + 1);
        rs.spatial = rs.temporal || (r < nsu && nsu > ntu);
        if (rs.temporal) rs.c1 = b.conv(rs.name + ".conv1", block_in, block_in, 3, 1, 1);
        if (rs.spatial) rs.c2 = b.conv(rs.name + ".conv2", block_in, block_in, 1, 3, 3);
        if (rs.spatial || rs.temporal) rs.c3 = b.conv(rs.name + ".conv3", block_in, block_in, 1, 1, 1);
      } else {
        rs.spatial = i >= n - nsu;
        if (rs.spatial) rs.c1 = b.conv(rs.name + ".conv", block_in, block_in, 1, 3, 3);
      }
    }
    dnorm = b.norm("decoder.norm_out", block_in, groups());
    dec_out_s = b.conv("decoder.conv_out" + std::string(c.video ? ".0" : ""), c.out_channels * pc, block_in, 1, 3, 3);
    if (c.video) dec_out_t = b.conv("decoder.conv_out.1", c.out_channels * pc, c.out_channels * pc, 3, 1, 1);
  }

  // ---- forward pieces ----
  // A forward pass carries `n` windows of equal length, their frames one after another. Ops
  // that work frame by frame (every 2-D convolution, the norms, spatial attention, FSQ) take the
  // whole batch at once; the ops along T run on each window alone, so no window ever sees
  // another's frames and a batch computes what its windows would one at a time (to float32
  // rounding: the frame-wise GEMMs are wider).
  template <class Op>
  Tensor per_window(int n, const Tensor& x, Op op) const {
    if (n == 1) return op(x, 0);
    const int T = x.T / n;
    std::vector<Tensor> parts;
    parts.reserve(n);
    for (int i = 0; i < n; ++i) parts.push_back(op(be->slice_frames(x, i * T, T), i));
    return be->concat_frames(parts);
  }
  // Window i's frames of a tensor that holds n windows.
  Tensor window_of(const Tensor& x, int n, int i) const { return n == 1 ? x : be->slice_frames(x, i * (x.T / n), x.T / n); }

  Tensor spatial(const Tensor& x, const Conv& cv, const NormAffine* pre = nullptr, const Tensor* add = nullptr) const {
    const int pad = cv.kh / 2;
    return be->conv2d(x, cv.get(dev), 1, pad, pad, pad, pad, pre, add);
  }
  Tensor temporal(int n, const Tensor& x, const Conv& cv, const Tensor* add = nullptr) const {
    return per_window(n, x, [&](const Tensor& xi, int i) {
      if (!add) return be->conv_temporal(xi, cv.get(dev), 1, cv.kt - 1);
      const Tensor ai = window_of(*add, n, i);
      return be->conv_temporal(xi, cv.get(dev), 1, cv.kt - 1, &ai);
    });
  }
  // A factorized (1,3,3)+(3,1,1) conv pair for video, a single 3x3 conv for images.
  // `pre`: the norm (+SiLU) in front, applied as the spatial conv reads x; `add`: a residual
  // added to the pair's output.
  Tensor conv_pair(int n, const Tensor& x, const Conv& s, const Conv& t, const NormAffine* pre = nullptr,
                   const Tensor* add = nullptr) const {
    if (!cfg.video) return spatial(x, s, pre, add);
    return temporal(n, spatial(x, s, pre), t, add);
  }
  Tensor pointwise(const Tensor& x, const Conv& cv, const Tensor* add = nullptr) const {
    return be->conv2d(x, cv.get(dev), 1, 0, 0, 0, 0, nullptr, add);
  }
  NormAffine norm_affine(const Tensor& x, const Norm& n, bool then_silu) const {
    return be->group_norm(x, dev[n.g], dev[n.b], n.groups, 1e-6f, then_silu);
  }

  // The norm -> SiLU -> conv steps run as statistics + a conv that normalizes while it reads;
  // the residual joins the last convolution's output as it is written.
  Tensor block(int n, const Tensor& x, const ResBlock& rb) const {
    const NormAffine n1 = norm_affine(x, rb.n1, true);
    Tensor h = conv_pair(n, x, rb.c1s, rb.c1t, &n1);
    const NormAffine n2 = norm_affine(h, rb.n2, true);
    const Tensor res = rb.shortcut ? pointwise(x, rb.sc) : x;
    return conv_pair(n, h, rb.c2s, rb.c2t, &n2, &res);
  }

  Tensor attn(int n, const Tensor& x, const AttnBlock& a) const {
    const Tensor h = be->apply_affine(x, norm_affine(x, a.n, false));  // x itself stays for the residual
    const Tensor q = pointwise(h, a.q), k = pointwise(h, a.k), v = pointwise(h, a.v);
    const Tensor o = !a.temporal ? be->attention(q, k, v, false) : per_window(n, q, [&](const Tensor& qi, int i) {
      return be->attention(qi, window_of(k, n, i), window_of(v, n, i), true);
    });
    return pointwise(o, a.proj, &x);
  }

  Tensor downsample(int n, const Tensor& x, const Resample& rs) const {
    if (!rs.spatial && !rs.temporal) return x;
    Tensor cur = x;
    if (cfg.video) {
      if (rs.spatial) {
        const Tensor pool = be->avg_pool_spatial_padded(cur);
        cur = be->conv2d(cur, rs.c1.get(dev), 2, 0, 0, 1, 1, nullptr, &pool);
      }
      if (rs.temporal) {
        // Prepend one copy of frame 0; the strided conv repeats it once more itself.
        cur = per_window(n, cur, [&](const Tensor& xi, int) {
          const Tensor pool = be->avg_pool_temporal_causal(xi);
          return be->conv_temporal(be->prepend_first_frame(xi), rs.c2.get(dev), 2, 1, &pool);
        });
      }
      return pointwise(cur, rs.c3);
    }
    return be->conv2d(cur, rs.c1.get(dev), 2, 0, 0, 1, 1);
  }

  Tensor upsample(int n, const Tensor& x, const Resample& rs) const {
    if (!rs.spatial && !rs.temporal) return x;
    if (!cfg.video) return spatial(be->upsample_spatial(x), rs.c1);
    Tensor cur = x;
    if (rs.temporal) {
      cur = per_window(n, cur, [&](const Tensor& xi, int) {
        const Tensor u = be->upsample_temporal(xi);
        return temporal(1, u, rs.c1, &u);
      });
    }
    if (rs.spatial) {
      const Tensor u = be->upsample_spatial(cur);
      cur = spatial(u, rs.c2, nullptr, &u);
    }
    return pointwise(cur, rs.c3);
  }

  // norm_out -> SiLU -> conv_out; the normalized tensor is only materialized for a tap.
  Tensor norm_out_conv(int nw, const Tensor& h, const Norm& n, const Conv& s, const Conv& t, const char* name,
                       const TapFn& tap) const {
    if (tap) tap(name, be->download(be->apply_affine(h, norm_affine(h, n, false))));
    const NormAffine a = norm_affine(h, n, true);
    return conv_pair(nw, h, s, t, &a);
  }

  // n windows of equal length, their frames one after another.
  Tensor encode(int n, const Tensor& x, const TapFn& tap) const {
    auto t = [&](const std::string& name, const Tensor& a) {
      if (tap) tap(name, be->download(a));
    };
    Tensor h = !cfg.video ? be->haar_patch(x, cfg.patch_size, false)
                          : per_window(n, x, [&](const Tensor& xi, int) { return be->haar_patch(xi, cfg.patch_size, true); });
    t(cfg.video ? "encoder.patcher3d" : "encoder.patcher", h);
    h = conv_pair(n, h, enc_in_s, enc_in_t);
    t("encoder.conv_in", h);
    for (size_t i = 0; i < down.size(); ++i) {
      for (auto& rb : down[i].blocks) {
        h = block(n, h, rb);
        t(rb.name, h);
      }
      if (i + 1 < down.size()) {
        h = downsample(n, h, down[i].resample);
        t(down[i].resample.name, h);
      }
    }
    h = block(n, h, emid1);
    t("encoder.mid.block_1", h);
    for (auto& a : eattn) h = attn(n, h, a);
    t("encoder.mid.attn_1", h);
    h = block(n, h, emid2);
    t("encoder.mid.block_2", h);
    h = norm_out_conv(n, h, enorm, enc_out_s, enc_out_t, "encoder.norm_out", tap);
    t("encoder.conv_out", h);
    h = pointwise(h, quant);
    t("quant_conv", h);
    return h;
  }

  Tensor decode(int n, const Tensor& z, const TapFn& tap) const {
    auto t = [&](const std::string& name, const Tensor& a) {
      if (tap) tap(name, be->download(a));
    };
    Tensor h = pointwise(z, post_quant);
    t("post_quant_conv", h);
    h = conv_pair(n, h, dec_in_s, dec_in_t);
    t("decoder.conv_in", h);
    h = block(n, h, dmid1);
    t("decoder.mid.block_1", h);
    for (auto& a : dattn) h = attn(n, h, a);
    t("decoder.mid.attn_1", h);
    h = block(n, h, dmid2);
    t("decoder.mid.block_2", h);
    for (int i = static_cast<int>(up.size()) - 1; i >= 0; --i) {
      for (auto& rb : up[i].blocks) {
        h = block(n, h, rb);
        t(rb.name, h);
      }
      if (i != 0) {
        h = upsample(n, h, up[i].resample);
        t(up[i].resample.name, h);
      }
    }
    h = norm_out_conv(n, h, dnorm, dec_out_s, dec_out_t, "decoder.norm_out", tap);
    t("decoder.conv_out", h);
    h = !cfg.video ? be->haar_unpatch(h, cfg.patch_size, false)
                   : per_window(n, h, [&](const Tensor& hi, int) { return be->haar_unpatch(hi, cfg.patch_size, true); });
    t(cfg.video ? "decoder.unpatcher3d" : "decoder.unpatcher", h);
    return h;
  }

  void compute_checksum() {
    std::string all;
    for (size_t i = 0; i < reg.specs.size(); ++i) {
      all += reg.specs[i].name;
      all.append(reinterpret_cast<const char*>(reg.data[i].data()), reg.data[i].size() * sizeof(float));
    }
    checksum = sha256_hex(all.data(), all.size());
  }
};

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;

const ModelConfig& Tokenizer::config() const { return impl_->cfg; }
const std::string& Tokenizer::checksum() const { return impl_->checksum; }
const std::string& Tokenizer::source() const { return impl_->source; }

std::vector<TensorSpec> Tokenizer::expected_tensors(const ModelConfig& config) {
  Impl impl;
  impl.cfg = config;
  impl.build();
  return impl.reg.specs;
}

int64_t Tokenizer::parameter_count(bool encoder) const {
  int64_t n = 0;
  for (auto& s : impl_->reg.specs) {
    if (s.encoder != encoder) continue;
    int64_t k = 1;
    for (auto d : s.shape) k *= d;
    n += k;
  }
  return n;
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  h5::File f(path, 'r', Code::ModelError);
  if (!f.has_attr("/", "config")) throw Error(Code::ModelError, path + ": no `config` attribute (not a reel/Cosmos model file)");
  nlohmann::json cj;
  try {
    cj = nlohmann::json::parse(f.read_attr_string("/", "config"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(Code::ModelError, path + ": config attribute is not valid JSON: " + e.what());
  }
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->impl_->cfg = config_from_json(cj);
  t->impl_->source = path;
  t->impl_->build();
  Registry& reg = t->impl_->reg;
  if (!f.exists("weights")) throw Error(Code::ModelError, path + ": no `weights` group");
  reg.data.resize(reg.specs.size());
  std::map<std::string, bool> used;
  for (size_t i = 0; i < reg.specs.size(); ++i) {
    const TensorSpec& s = reg.specs[i];
    const std::string ds = "weights/" + s.name;
    if (f.exists(ds)) {
      const h5::DType dt = f.dtype(ds);
      if (dt != h5::DType::F32 && dt != h5::DType::F16 && dt != h5::DType::BF16)
        throw Error(Code::ModelError, path + ": " + ds + ": dtype " + h5::dtype_name(dt) + ", expected float32, float16 or bfloat16");
    }
    reg.data[i] = h5::read_weight(f, ds, s.shape, path);
    used[s.name] = true;
  }
  int extra = 0;
  for (auto& name : f.list("weights"))
    if (!used.count(name)) ++extra;
  if (extra) REEL_VERBOSE("model", "%s: %d tensors not used by this config (ignored)", path.c_str(), extra);
  t->impl_->compute_checksum();
  t->use_backend(make_backend(Device{}));
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::random(const ModelConfig& config, uint64_t seed) {
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->impl_->cfg = config;
  t->impl_->build();
  Registry& reg = t->impl_->reg;
  std::mt19937_64 rng(seed);
  reg.data.resize(reg.specs.size());
  for (size_t i = 0; i < reg.specs.size(); ++i) {
    const auto& s = reg.specs[i];
    int64_t n = 1, fan_in = 1;
    for (auto d : s.shape) n *= d;
    for (size_t k = 1; k < s.shape.size(); ++k) fan_in *= s.shape[k];
    reg.data[i].resize(static_cast<size_t>(n));
    const bool is_norm_w = s.name.find("norm") != std::string::npos && s.name.ends_with(".weight");
    const bool is_bias = s.name.ends_with(".bias");
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const float scale = s.shape.size() > 1 ? 1.0f / std::sqrt(static_cast<float>(fan_in)) : 0.1f;
    for (auto& v : reg.data[i]) v = is_norm_w ? 1.0f + 0.1f * u(rng) : (is_bias ? 0.1f * u(rng) : scale * u(rng));
  }
  t->impl_->source = "random:" + std::to_string(seed);
  t->impl_->compute_checksum();
  t->use_backend(make_backend(Device{}));
  return t;
}

void Tokenizer::use_backend(std::unique_ptr<Backend> be) {
  if (!be) throw Error(Code::InvalidArgument, "tokenizer: no backend");
  impl_->be = std::move(be);
  impl_->upload_weights();
}

const Backend& Tokenizer::backend() const { return *impl_->be; }

void Tokenizer::save(const std::string& path) const {
  h5::File f(path, 'w', Code::IoError);
  f.write_attr_string("/", "config", impl_->cfg.to_json().dump());
  f.write_attr_string("/", "format", "reel-tokenizer");
  f.write_attr_int("/", "format_version", 1);
  f.write_attr_string("/", "model", impl_->cfg.arch_name());
  f.create_group("weights");
  for (size_t i = 0; i < impl_->reg.specs.size(); ++i)
    f.write_float("weights/" + impl_->reg.specs[i].name, impl_->reg.specs[i].shape, impl_->reg.data[i].data());
}

int Tokenizer::latent_frames(int frames_in) const {
  if (!impl_->cfg.video) return frames_in;
  return (frames_in - 1) / impl_->cfg.temporal_compression + 1;
}
int Tokenizer::output_frames(int lat) const {
  if (!impl_->cfg.video) return lat;
  return (lat - 1) * impl_->cfg.temporal_compression + 1;
}

Act Tokenizer::encode(const Act& x, std::vector<int32_t>* indices, const TapFn& tap) const {
  return encode_batch(x, 1, indices, tap);
}

namespace {
void check_encode_input(const ModelConfig& c, int frames, int channels, int h, int w, int windows) {
  if (windows < 1 || frames % windows)
    throw Error(Code::InvalidArgument, "encode: " + std::to_string(frames) + " frames are not " + std::to_string(windows) +
                                           " windows of equal length");
  const int T = frames / windows;
  if (channels != c.in_channels) throw Error(Code::InvalidArgument, "encode: expected " + std::to_string(c.in_channels) + " channels");
  if (h % c.spatial_compression || w % c.spatial_compression)
    throw Error(Code::InvalidArgument, "encode: H and W must be multiples of " + std::to_string(c.spatial_compression));
  if (c.video && (T - 1) % c.temporal_compression)
    throw Error(Code::InvalidArgument, "encode: frames must be 1 + k*" + std::to_string(c.temporal_compression));
}
}  // namespace

Act Tokenizer::encode_batch(const Act& x, int windows, std::vector<int32_t>* indices, const TapFn& tap) const {
  check_encode_input(impl_->cfg, x.T, x.C, x.H, x.W, windows);
  return encode_batch(impl_->be->upload(x), windows, indices, tap);
}

Act Tokenizer::encode_batch(const Tensor& x, int windows, std::vector<int32_t>* indices, const TapFn& tap) const {
  return encode_batch_async(x, windows, indices, tap)->wait();
}

std::unique_ptr<PendingDownload> Tokenizer::encode_batch_async(const Tensor& x, int windows, std::vector<int32_t>* indices,
                                                               const TapFn& tap) const {
  const ModelConfig& c = impl_->cfg;
  const Backend& be = *impl_->be;
  if (x.backend != &be) throw Error(Code::Internal, "encode: the input lives on another backend than " + be.describe());
  check_encode_input(c, x.T, x.C, x.H, x.W, windows);
  const Tensor z = impl_->encode(c.video ? windows : 1, x, tap);
  if (!c.discrete) return be.download_async(z);
  std::vector<int32_t> idx;
  Act codes = be.download(be.fsq_quantize(z, c.levels, &idx));
  if (tap) tap("quantizer#1", codes);
  if (indices) *indices = std::move(idx);
  return std::make_unique<ReadyDownload>(std::move(codes));
}

Act Tokenizer::decode(const Act& latent, const TapFn& tap) const { return decode_batch(latent, 1, tap); }

namespace {
void check_windows(const char* what, int frames, int windows) {
  if (windows < 1 || frames % windows)
    throw Error(Code::InvalidArgument, std::string(what) + ": " + std::to_string(frames) + " latent frames are not " +
                                           std::to_string(windows) + " windows of equal length");
}
}  // namespace

Act Tokenizer::decode_batch(const Act& latent, int windows, const TapFn& tap) const {
  if (latent.C != impl_->cfg.latent_dim())
    throw Error(Code::InvalidArgument, "decode: expected " + std::to_string(impl_->cfg.latent_dim()) + " latent channels, got " +
                                           std::to_string(latent.C));
  check_windows("decode", latent.T, windows);
  const Backend& be = *impl_->be;
  return be.download(impl_->decode(impl_->cfg.video ? windows : 1, be.upload(latent), tap));
}

Act Tokenizer::decode_indices(const std::vector<int32_t>& indices, int t, int h, int w, const TapFn& tap) const {
  return decode_indices_batch(indices, 1, t, h, w, tap);
}

Act Tokenizer::decode_indices_batch(const std::vector<int32_t>& indices, int windows, int t, int h, int w,
                                    const TapFn& tap) const {
  if (!impl_->cfg.discrete) throw Error(Code::InvalidArgument, "decode_indices: model is continuous");
  check_windows("decode_indices", t, windows);
  const Backend& be = *impl_->be;
  return be.download(
      impl_->decode(impl_->cfg.video ? windows : 1, be.fsq_dequantize(indices, t, h, w, impl_->cfg.levels), tap));
}

}  // namespace reel
