// SPDX-License-Identifier: Apache-2.0
// reel filter's scorers against a bare decode of the same clips, in one process, with clips
// spread over W worker threads as `reel filter --workers W` spreads them: (1) decode every
// frame with libavcodec and nothing else, (2) motion (decode with exported motion vectors +
// MotionScorer), (3) technical quality (sampled frames converted + QualityScorer), (4) both
// from one decode, as reel filter runs them by default, (5) text (Tesseract) and (6) safety
// (open_nsfw) on their own. Best of R runs per mode; prints clips/s, wall and CPU seconds, and
// their ratios to the bare decode.
// Usage: bench_filter [--workers W] [--threads T] [--repeat R] [--nsfw-model F] [--only MODE] CLIP...
//   W defaults to the core count and T (decode threads per clip) to 1, reel filter's defaults;
//   --only runs the bare decode and one mode, for profiling it.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "reel/filter/motion.h"
#include "reel/filter/nsfw.h"
#include "reel/filter/quality.h"
#include "reel/filter/text.h"
#include "reel/media/decoder.h"

using clk = std::chrono::steady_clock;
using namespace reel;

namespace {
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Mode {
  const char* name;
  bool motion = false, quality = false, text = false, safety = false;
};

struct Engines {  // one set per worker, as each reel filter worker owns its models
  std::unique_ptr<OcrEngine> ocr;
  std::unique_ptr<NsfwNet> nsfw;
};

void score_clip(const std::string& c, int threads, const Mode& m, Engines& e) {
  DecodeOptions o;
  o.threads = threads;
  o.motion_vectors = m.motion;
  o.convert = m.quality || m.text || m.safety;
  o.out_width = m.text || m.safety ? kTextWidth : kQualityWidth;  // as reel filter chooses
  o.luma_thumb_width = m.quality ? kThumbWidth : 0;
  auto d = VideoDecoder::open(c, o);
  QualityScorer q(d->info().fps);
  d->set_convert_every(static_cast<int>(m.text || m.safety ? 2 * q.sample_step() : q.sample_step()));
  std::unique_ptr<TextScorer> text;
  std::unique_ptr<NsfwScorer> safety;
  if (m.text) text = std::make_unique<TextScorer>(*e.ocr, 2 * q.sample_step());
  if (m.safety) safety = std::make_unique<NsfwScorer>(*e.nsfw, 2 * q.sample_step());
  MotionScorer ms(d->info().fps, d->info().duration_s);
  Frame f;
  while (d->next(&f)) {
    if (m.motion && !ms.done()) {
      ms.push(f);
      if (ms.done()) d->stop_motion_vectors();
    }
    if (m.quality) q.push(f);
    if (text) text->push(f);
    if (safety) safety->push(f);
  }
  (void)ms.finish();
  (void)q.finish();
}

struct Timing {
  double wall, cpu;
};

Timing run(const std::vector<std::string>& clips, int workers, int threads, const Mode& m, std::vector<Engines>& engines) {
  std::atomic<size_t> next{0};
  const auto t0 = clk::now();
  const double c0 = cpu_seconds();
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      for (size_t i; (i = next++) < clips.size();) score_clip(clips[i], threads, m, engines[w]);
    });
  for (auto& t : pool) t.join();
  return {std::chrono::duration<double>(clk::now() - t0).count(), cpu_seconds() - c0};
}
}  // namespace

int main(int argc, char** argv) {
  int workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), threads = 1, repeat = 3;
  std::string nsfw_model, only;
  std::vector<std::string> clips;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--workers") && i + 1 < argc) workers = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--nsfw-model") && i + 1 < argc) nsfw_model = argv[++i];
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else clips.push_back(argv[i]);
  }
  // Longest first, so the last clip to start does not leave the other workers idle.
  std::stable_sort(clips.begin(), clips.end(), [](const std::string& a, const std::string& b) {
    return VideoDecoder::open(a, {})->info().duration_s > VideoDecoder::open(b, {})->info().duration_s;
  });
  std::vector<Mode> modes = {{"bare decode"}, {"motion", true}, {"quality", false, true}, {"motion+quality", true, true},
                             {"text", false, false, true}};
  if (!nsfw_model.empty()) modes.push_back({"safety", false, false, false, true});
  std::vector<Engines> engines(workers);
  Timing base{0, 0};
  for (const Mode& m : modes) {
    if (!only.empty() && base.wall != 0 && only != m.name) continue;
    for (auto& e : engines) {
      if (m.text && !e.ocr) e.ocr = std::make_unique<OcrEngine>();
      if (m.safety && !e.nsfw) e.nsfw = std::make_unique<NsfwNet>(nsfw_model);
    }
    Timing best{1e30, 1e30};
    for (int r = 0; r < repeat; ++r) {
      const Timing t = run(clips, workers, threads, m, engines);
      best.wall = std::min(best.wall, t.wall);
      best.cpu = std::min(best.cpu, t.cpu);
    }
    if (base.wall == 0) base = best;
    std::printf("{\"mode\": \"%s\", \"clips\": %zu, \"workers\": %d, \"threads\": %d, \"seconds\": %.3f, \"clips_per_s\": %.2f, "
                "\"vs_bare_decode\": %.2f, \"cpu_s\": %.3f, \"cpu_vs_bare_decode\": %.2f}\n",
                m.name, clips.size(), workers, threads, best.wall, clips.size() / best.wall, best.wall / base.wall, best.cpu,
                best.cpu / base.cpu);
    std::fflush(stdout);
  }
  return 0;
}
