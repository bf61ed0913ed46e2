// SPDX-License-Identifier: Apache-2.0
// reel filter's scorers against a bare decode of the same clips, in one process: (1) decode
// every frame with libavcodec and nothing else, (2) motion (decode with exported motion
// vectors + MotionScorer), (3) technical quality (decode scaled to the analysis width +
// QualityScorer), (4) both from one decode, as reel filter runs them. Best of R runs per clip
// set; prints clips/s and the ratio to the bare decode.
// Usage: bench_filter [--threads N] [--repeat R] CLIP...
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "reel/filter/motion.h"
#include "reel/filter/quality.h"
#include "reel/media/decoder.h"

using clk = std::chrono::steady_clock;
using namespace reel;

namespace {
double run(const std::vector<std::string>& clips, int threads, bool motion, bool quality) {
  const auto t0 = clk::now();
  for (const auto& c : clips) {
    DecodeOptions o;
    o.threads = threads;
    o.motion_vectors = motion;
    o.convert = quality;
    o.out_width = kQualityWidth;
    o.luma_thumb_width = quality ? kThumbWidth : 0;
    auto d = VideoDecoder::open(c, o);
    QualityScorer q(d->info().fps);
    d->set_convert_every(static_cast<int>(q.sample_step()));
    MotionScorer m(d->info().fps, d->info().duration_s);
    Frame f;
    while (d->next(&f)) {
      if (motion && !m.done()) {
        m.push(f);
        if (m.done()) d->stop_motion_vectors();
      }
      if (quality) q.push(f);
    }
    (void)m.finish();
    (void)q.finish();
  }
  return std::chrono::duration<double>(clk::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  int threads = 0, repeat = 3;
  std::vector<std::string> clips;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
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
  return 0;
}
