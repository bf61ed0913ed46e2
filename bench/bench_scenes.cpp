// SPDX-License-Identifier: Apache-2.0
// Throughput of `reel scenes` against a bare FFmpeg decode of the same files, in one
// process: (1) decode every frame with libavcodec and nothing else, (2) the full scene
// detection (decode + downscale + scoring). Prints one JSON line per file and the ratio.
// Usage: bench_scenes [--threads N] [--repeat R] [--detector NAME] VIDEO...
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "reel/media/decoder.h"
#include "reel/media/scene_detect.h"

using clk = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int threads = 0, repeat = 3;
  std::string detector = "structure";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--detector") && i + 1 < argc) detector = argv[++i];
    else files.push_back(argv[i]);
  }
  double total_decode = 0, total_scenes = 0;
  int64_t total_frames = 0;
  for (const auto& f : files) {
    double best_dec = 1e30, best_sc = 1e30;
    int64_t frames = 0;
    for (int r = 0; r < repeat; ++r) {
      reel::DecodeOptions o;
      o.threads = threads;
      o.convert = false;
      auto t0 = clk::now();
      auto d = reel::VideoDecoder::open(f, o);
      reel::Frame fr;
      frames = 0;
      while (d->next(&fr)) ++frames;
      best_dec = std::min(best_dec, std::chrono::duration<double>(clk::now() - t0).count());
      reel::SceneOptions so;
      so.threads = threads;
      so.detector = detector;
      auto t1 = clk::now();
      auto res = reel::detect_scenes(f, so);
      best_sc = std::min(best_sc, std::chrono::duration<double>(clk::now() - t1).count());
    }
    total_decode += best_dec;
    total_scenes += best_sc;
    total_frames += frames;
    printf("{\"detector\": \"%s\", \"file\": \"%s\", \"frames\": %lld, \"decode_fps\": %.1f, \"scenes_fps\": %.1f, \"ratio\": %.3f}\n",
           detector.c_str(), f.c_str(), (long long)frames, frames / best_dec, frames / best_sc, best_dec / best_sc);
  }
  printf("{\"detector\": \"%s\", \"total_frames\": %lld, \"decode_fps\": %.1f, \"scenes_fps\": %.1f, \"ratio\": %.3f}\n",
         detector.c_str(), (long long)total_frames, total_frames / total_decode, total_frames / total_scenes, total_decode / total_scenes);
}
