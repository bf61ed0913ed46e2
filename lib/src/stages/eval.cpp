// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/eval.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "reel/core/cancel.h"
#include "reel/core/log.h"
#include "reel/io/atomic_file.h"
#include "reel/media/clip_metrics.h"
#include "reel/media/decoder.h"
#include "reel/media/metrics.h"
#include "reel/media/preview.h"
#include "reel/model/ops.h"
#include "reel/stages/tokenize.h"
#include "reel/stats/frechet.h"

namespace fs = std::filesystem;

namespace reel {

std::string eval_pair_record(const std::string& ref, const std::string& dist) {
  Json j = {{"source", normalise_media(ref)}, {"path", normalise_media(ref)}, {"reconstruction", {{"path", normalise_media(dist)}}}};
  return j.dump() + "\n";
}

namespace {

// Everything a clip evaluation produces besides the metrics: feature vectors of both sides
// for the Fréchet distance and JPEG previews of the worst frame (known only at the end, so
// that frame pair is kept while the clip streams past).
class ClipExtras {
 public:
  ClipExtras(FeatureNet* net, int stride, const std::string& previews, std::string key)
      : net_(net), previews_(previews), key_(std::move(key)) {
    if (net) ref_.emplace(net, stride), dist_.emplace(net, stride);
  }
  void frame(int64_t index, double psnr_y, const uint8_t* ref, const uint8_t* dist, int w, int h) {
    if (net_) ref_->push(ref, w, h), dist_->push(dist, w, h);
    if (previews_.empty() || psnr_y >= worst_psnr_) return;
    const size_t n = static_cast<size_t>(w) * h * 3;
    worst_psnr_ = psnr_y;
    worst_ = index, w_ = w, h_ = h;
    worst_ref_.assign(ref, ref + n);
    worst_dist_.assign(dist, dist + n);
  }
  // Adds "preview" to the result; returns the features as a payload.
  Json finish(Json& result) {
    Json payload;
    if (net_) payload = {{"ref", ref_->finish()}, {"dist", dist_->finish()}};
    if (worst_ >= 0) result["preview"] = write_previews();
    return payload;
  }

 private:
  Json write_previews() const {
    const fs::path dir = previews_;
    auto put = [&](const char* suffix, const std::vector<uint8_t>& jpg) {
      const fs::path p = dir / (key_ + suffix);
      write_file_atomic(p, std::string(jpg.begin(), jpg.end()));
      return p.string();
    };
    const int side = 480;
    Json j{{"frame", worst_}};
    j["original"] = put(".orig.jpg", encode_jpeg(worst_ref_.data(), w_, h_, side));
    j["reconstruction"] = put(".recon.jpg", encode_jpeg(worst_dist_.data(), w_, h_, side));
    j["error"] = put(".error.jpg", encode_jpeg(error_heatmap(worst_ref_.data(), worst_dist_.data(), w_, h_).data(), w_, h_, side));
    return j;
  }
  FeatureNet* net_;
  std::string previews_, key_;
  std::optional<FeatureSampler> ref_, dist_;
  std::vector<uint8_t> worst_ref_, worst_dist_;
  int64_t worst_ = -1;
  int w_ = 0, h_ = 0;
  double worst_psnr_ = 1e300;
};

// Two video files, frame by frame. Luma is the decoded Y plane expanded to full range by
// swscale (what FFmpeg's format=gray and scikit-video's as_grey compare, so published
// reference numbers reproduce); RGB through swscale as well, from the same decode.
Json eval_files(const std::string& ref, const std::string& dist, const EvalConfig& c, ClipExtras& extras) {
  ClipMetrics m(c.ssim, c.ms_ssim);
  DecodeOptions o;
  o.with_gray = true;
  o.autorotate = false;  // both sides alike; the metrics do not depend on display rotation
  o.threads = c.decode_threads;
  auto rd = VideoDecoder::open(ref, o), dd = VideoDecoder::open(dist, o);
  Frame a, b;
  int64_t n = 0;
  while (rd->next(&a) && dd->next(&b)) {
    throw_if_cancelled();
    if (a.width != b.width || a.height != b.height)
      throw Error(Code::InvalidArgument, "frame sizes differ: " + std::to_string(a.width) + "x" + std::to_string(a.height) +
                                             " vs " + std::to_string(b.width) + "x" + std::to_string(b.height));
    m.add_luma(a.gray.data(), b.gray.data(), a.width, a.height);
    m.add_rgb(a.data.data(), b.data.data(), a.width, a.height);
    extras.frame(n++, m.last_psnr_y(), a.data.data(), b.data.data(), a.width, a.height);
  }
  if (n == 0) throw Error(Code::InvalidData, "no frame pairs to compare");
  Json j = m.result(c.per_frame);
  j["reference"] = ref;
  j["distorted"] = dist;
  return j;
}

// Tokenizer round trip, one causal window at a time: windows are encoded independently, so
// encoding window by window gives the same latents as the whole clip at once.
Json eval_roundtrip(const TokenizerUse& use, const std::string& src, const EvalConfig& c, ClipExtras& extras) {
  const Tokenizer& tok = *use.tok;
  ClipMetrics m(c.ssim, c.ms_ssim);
  DecodeOptions o;
  o.threads = c.decode_threads;
  auto dec = VideoDecoder::open(src, o);
  const int w = dec->info().display_width, h = dec->info().display_height;
  std::vector<std::vector<uint8_t>> orig;
  std::vector<uint8_t> ya(static_cast<size_t>(w) * h), yb(ya.size());
  int64_t frames = 0, latent_t = 0;
  double values = 0;
  int channels = 0, lat_h = 0, lat_w = 0;
  // Windows go through `batch` at a time; the originals of one batch are kept for the metrics.
  const int win = tok.config().video ? c.window : 1;
  // Through a batcher, windows go over one by one as they fill and it makes the passes;
  // otherwise as many windows as one pass takes are held.
  const PassOptions passes = win > 0 && !use.batcher ? resolve_passes(tok, true, win, padded_extent(tok.config(), h),
                                                                      padded_extent(tok.config(), w), PassOptions{0, 0, c.batch})
                                                     : PassOptions{};
  const size_t held = win > 0 ? static_cast<size_t>(win) * passes.batch : 0;
  auto run_window = [&] {
    ClipEncoder enc(use, w, h, c.window, passes);
    for (const auto& f : orig) enc.push(f.data());
    const ClipLatents lat = enc.finish();
    values += lat.indices.empty() ? double(lat.latent.size()) : double(lat.indices.size());
    latent_t += lat.latent_t();
    channels = lat.channels, lat_h = lat.lat_h, lat_w = lat.lat_w;
    size_t i = 0;
    decode_clip(use, lat, [&](const uint8_t* rgb) {
      const uint8_t* r = orig[i++].data();
      for (size_t p = 0; p < ya.size(); ++p) ya[p] = luma601(r + 3 * p), yb[p] = luma601(rgb + 3 * p);
      m.add_luma(ya.data(), yb.data(), w, h);
      m.add_rgb(r, rgb, w, h);
      extras.frame(frames++, m.last_psnr_y(), r, rgb, w, h);
    }, passes);
    orig.clear();
  };
  Frame f;
  while (dec->next(&f)) {
    throw_if_cancelled();
    orig.push_back(std::move(f.data));
    if (held > 0 && orig.size() == held) run_window();
  }
  if (!orig.empty()) run_window();
  if (frames == 0) throw Error(Code::InvalidData, "no decodable video frame in " + src);
  Json j = m.result(c.per_frame);
  const double pixels = 3.0 * frames * w * h;
  // Stored bits: float16 latents (16 bits a value) or token ids (log2 of the codebook size).
  double bits_per_value = 16.0;
  if (tok.config().discrete) {
    double codes = 1;
    for (int l : tok.config().levels) codes *= l;
    bits_per_value = std::log2(codes);
  }
  j["compression"] = {{"pixel_values_per_latent_value", pixels / values},
                      {"bits_ratio", pixels * 8 / (values * bits_per_value)},
                      {"latent_shape", {channels, latent_t, lat_h, lat_w}},
                      {"model", tok.config().arch_name()},
                      {"model_sha256", tok.checksum()}};
  j["reference"] = src;
  j["luma"] = "BT.601 from decoded RGB";
  return j;
}

class EvalProcessor : public Processor {
 public:
  EvalProcessor(const EvalConfig& c, TokenizerUse use, std::unique_ptr<Tokenizer> own, std::unique_ptr<FeatureNet> net)
      : c_(c), use_(use), own_(std::move(own)), net_(std::move(net)) {}
  StageOutput process(const InputItem& item) override {
    ops_set_threads(c_.compute_threads);  // a per-thread setting in OpenMP
    Json rec = item.record;
    std::string dist;
    if (!use_.tok) {
      dist = rec.value("/reconstruction/path"_json_pointer, std::string());
      if (dist.empty())
        throw Error(Code::InvalidArgument, "record has no reconstruction.path to compare with (or give --model)");
    }
    const std::string key = clip_key(rec, item.media + (dist.empty() ? "" : "\n" + dist));
    ClipExtras extras(net_.get(), c_.feature_stride, c_.previews, key);
    Json q = use_.tok ? eval_roundtrip(use_, item.media, c_, extras) : eval_files(item.media, dist, c_, extras);
    Json payload = extras.finish(q);
    rec["eval"] = q;
    return {{rec}, payload};
  }

 private:
  const EvalConfig& c_;
  TokenizerUse use_;
  std::unique_ptr<Tokenizer> own_;
  std::unique_ptr<FeatureNet> net_;
};

class EvalStage : public Stage {
 public:
  explicit EvalStage(EvalConfig c) : c_(std::move(c)) {}
  std::string name() const override { return "eval"; }
  void open(const Shard& shard) override {
    if (!c_.previews.empty()) prepare_output_dir(c_.previews, "previews folder", "eval");
    ledger_ = !c_.ledger.empty() ? shard.name(c_.ledger)
              : c_.previews.empty() ? ""
                                    : (fs::path(c_.previews) / ".ledger" / ("eval" + shard.suffix() + ".jsonl")).string();
    if (!c_.model.empty()) {
      pool_ = std::make_unique<DevicePool>(c_.model, c_.target, c_.devices, PassOptions{0, 0, c_.batch}, c_.compute_threads);
      sha_ = pool_->first().checksum();
    }
  }
  std::unique_ptr<Processor> processor(int index) override {
    std::unique_ptr<Tokenizer> own;
    TokenizerUse use;
    if (pool_) use = pool_->worker(index, &own);
    std::unique_ptr<FeatureNet> net;
    if (!c_.features.path.empty()) {
      net = FeatureNet::open(c_.features);
      if (net_sha_.empty()) net_sha_ = net->sha256();
    }
    return std::make_unique<EvalProcessor>(c_, use, std::move(own), std::move(net));
  }
  std::string ledger_path() const override { return ledger_; }
  bool still_there(const StageOutput& done) const override {
    std::error_code ec;
    for (const auto& r : done.records) {
      const Json* p = r.contains("eval") && r["eval"].contains("preview") ? &r["eval"]["preview"] : nullptr;
      if (!p) continue;
      for (const char* k : {"original", "reconstruction", "error"})
        if (!fs::exists(p->value(k, std::string()), ec)) return false;
    }
    return true;
  }
  Json fingerprint() const override {
    return {{"model_sha256", sha_}, {"window", c_.window}, {"ssim", c_.ssim}, {"ms_ssim", c_.ms_ssim},
            {"per_frame", c_.per_frame}, {"features", c_.features.path}, {"feature_shape", c_.features.shape},
            {"feature_stride", c_.feature_stride}};
  }
  void collect(const InputItem&, StageOutput& out) override {
    for (const auto& rec : out.records) {
      if (rec.contains("eval") && rec["eval"].is_object()) {
        ++clips_;
        for (auto& [k, v] : rec["eval"].items())
          if (v.is_number() && k != "frames") agg_[k].push_back(v.get<double>());
      } else if (has_open_errors(rec) && rec["errors"].back().value("stage", "") == "eval") {
        ++failed_;
      } else {
        ++passed_;
      }
    }
    if (out.payload.is_object()) {
      for (const auto& f : out.payload.value("ref", Json::array())) add_feature(ref_, f);
      for (const auto& f : out.payload.value("dist", Json::array())) add_feature(dist_, f);
    }
  }
  std::vector<Json> finish(bool complete) override {
    if (!complete) return {};
    Json a = Json::object();
    for (auto& [k, v] : agg_) {
      Stats s = summarize(v);
      a[k] = {{"mean", s.mean}, {"median", s.median}, {"p5", s.p5}, {"p95", s.p95}, {"min", s.min}, {"max", s.max}};
    }
    Json summary{{"aggregate", a}, {"clips", clips_}, {"failed", failed_}, {"passed", passed_}};
    if (!c_.features.path.empty()) summary["frechet"] = frechet_summary();
    return {summary};
  }

 private:
  static void add_feature(FeatureAccumulator& acc, const Json& f) {
    const std::vector<float> v = f.get<std::vector<float>>();
    acc.add(v.data(), static_cast<int>(v.size()));
  }
  Json frechet_summary() const {
    Json j{{"network", fs::path(c_.features.path).filename().string()},
           {"network_sha256", net_sha_},
           {"samples_reference", ref_.count()},
           {"samples_distorted", dist_.count()},
           {"dim", ref_.dim()}};
    if (ref_.count() < 2 || dist_.count() < 2) {
      j["error"] = "needs at least 2 feature samples on each side";
      return j;
    }
    if (ref_.count() <= ref_.dim())
      REEL_WARN("eval", "only %lld samples for %d-dimensional features: the covariance is rank deficient and the distance biased",
                static_cast<long long>(ref_.count()), ref_.dim());
    j["distance"] = frechet_distance(ref_.finish(), dist_.finish());
    return j;
  }

  EvalConfig c_;
  std::unique_ptr<DevicePool> pool_;
  std::string ledger_, sha_, net_sha_;
  std::map<std::string, std::vector<double>> agg_;
  int64_t clips_ = 0, failed_ = 0, passed_ = 0;
  FeatureAccumulator ref_, dist_;
};

}  // namespace

std::unique_ptr<Stage> make_eval_stage(const EvalConfig& config) { return std::make_unique<EvalStage>(config); }

}  // namespace reel
