// SPDX-License-Identifier: Apache-2.0
// reel filter's scorers against a bare decode of the same clips, in one process: (1) decode
// every frame with libavcodec and nothing else, (2) motion (decode with exported motion
// vectors + MotionScorer), (3) technical quality (sampled frames converted + QualityScorer),
// (4) both from one decode, as reel filter runs them by default, (5) text (Tesseract) and
// (6) safety (open_nsfw) on their own. Best of R runs per clip set; prints clips/s and the
// ratio to the bare decode.
// Usage: bench_filter [--threads N] [--repeat R] [--nsfw-model F] CLIP...
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "reel/filter/motion.h"
#include "reel/filter/nsfw.h"
#include "reel/filter/text.h"
#include "reel/filter/quality.h"
#include "reel/media/decoder.h"

using clk = std::chrono::steady_clock;
using namespace reel;

namespace {
struct Extra {
  OcrEngine* ocr = nullptr;
  NsfwNet* nsfw = nullptr;
};

double run(const std::vector<std::string>& clips, int threads, bool motion, bool quality, Extra x = {}) {
  const auto t0 = clk::now();
  for (const auto& c : clips) {
    DecodeOptions o;
    o.threads = threads;
    o.motion_vectors = motion;
    o.convert = quality || x.ocr || x.nsfw;
    o.out_width = x.ocr || x.nsfw ? kTextWidth : kQualityWidth;  // as reel filter chooses
    o.luma_thumb_width = quality ? kThumbWidth : 0;
    auto d = VideoDecoder::open(c, o);
    QualityScorer q(d->info().fps);
    d->set_convert_every(static_cast<int>(x.ocr || x.nsfw ? 2 * q.sample_step() : q.sample_step()));
    std::unique_ptr<TextScorer> text;
    std::unique_ptr<NsfwScorer> safety;
    if (x.ocr) text = std::make_unique<TextScorer>(*x.ocr, 2 * q.sample_step());
    if (x.nsfw) safety = std::make_unique<NsfwScorer>(*x.nsfw, 2 * q.sample_step());
    MotionScorer m(d->info().fps, d->info().duration_s);
    Frame f;
    while (d->next(&f)) {
      if (motion && !m.done()) {
        m.push(f);
        if (m.done()) d->stop_motion_vectors();
      }
      if (quality) q.push(f);
      if (text) text->push(f);
      if (safety) safety->push(f);
    }
    (void)m.finish();
    (void)q.finish();
  }
  return std::chrono::duration<double>(clk::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  int threads = 0, repeat = 3;
  std::string nsfw_model;
  std::vector<std::string> clips;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--nsfw-model") && i + 1 < argc) nsfw_model = argv[++i];
    else clips.push_back(argv[i]);
  }
  struct Mode {
    const char* name;
    bool motion, quality;
  };
  double base = 0;
  for (const Mode& m : {Mode{"bare decode", false, false}, Mode{"motion", true, false}, Mode{"quality", false, true},
                        Mode{"motion+quality", true, true}}) {
    double best = 1e30;
    for (int r = 0; r < repeat; ++r) best = std::min(best, run(clips, threads, m.motion, m.quality));
    if (base == 0) base = best;
    std::printf("{\"mode\": \"%s\", \"clips\": %zu, \"seconds\": %.3f, \"clips_per_s\": %.1f, \"vs_bare_decode\": %.2f}\n", m.name,
                clips.size(), best, clips.size() / best, best / base);
  }
  OcrEngine ocr;
  for (int k = 0; k < 2; ++k) {
    if (k == 1 && nsfw_model.empty()) break;
    std::unique_ptr<NsfwNet> net;
    if (k == 1) net = std::make_unique<NsfwNet>(nsfw_model);
    Extra x;
    if (k == 0) x.ocr = &ocr;
    else x.nsfw = net.get();
    double best = 1e30;
    for (int r = 0; r < repeat; ++r) best = std::min(best, run(clips, threads, false, false, x));
    std::printf("{\"mode\": \"%s\", \"clips\": %zu, \"seconds\": %.3f, \"clips_per_s\": %.1f, \"vs_bare_decode\": %.2f}\n",
                k == 0 ? "text" : "safety", clips.size(), best, clips.size() / best, best / base);
  }
  return 0;
}
