// SPDX-License-Identifier: Apache-2.0
// reel filter --nsfw's network: open_nsfw on reel's backend (the default) against OpenCV DNN on
// the CPU (the baseline), in one process on the same frames (up to 8 a clip, one a second, as
// reel filter samples them, each clip's frames in one pass). Prints frames/s of both, the ratio
// and the largest difference of a probability.
// Usage: bench_nsfw [--model ONNX] [--device cpu|cuda:N] [--dtype fp32|bf16|fp16] [--repeat R] CLIP...
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "reel/core/backend.h"
#include "reel/filter/nsfw.h"
#include "reel/filter/text.h"
#include "reel/media/decoder.h"

using namespace reel;
using clk = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string model = REEL_DEFAULT_NSFW_MODEL, device = "cpu", dtype = "fp32";
  int repeat = 3;
  std::vector<std::string> clips;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
    else if (!std::strcmp(argv[i], "--dtype") && i + 1 < argc) dtype = argv[++i];
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    else clips.push_back(argv[i]);
  }
  try {
    ComputeTarget target{resolve_device(device), dtype == "bf16" ? DType::BF16 : dtype == "fp16" ? DType::F16 : DType::F32};
    NsfwNet ours(model, target, NetPath::Reel), opencv(model, ComputeTarget{}, NetPath::OpenCv);
    std::vector<std::vector<float>> sets;  // per clip: its sampled frames' inputs
    int frames = 0;
    for (const auto& c : clips) {
      DecodeOptions o;
      o.out_width = kTextWidth;  // reel filter's analysis size when a network looks
      auto d = VideoDecoder::open(c, o);
      const int step = std::max(1, static_cast<int>(std::lround(d->info().fps > 0 ? d->info().fps : 25)));
      std::vector<float> in;
      Frame f;
      for (int i = 0, n = 0; n < kNsfwFrames && d->next(&f); ++i)
        if (i % step == 0) {
          const auto x = NsfwNet::preprocess(f.data.data(), f.width, f.height);
          in.insert(in.end(), x.begin(), x.end()), ++n, ++frames;
        }
      if (!in.empty()) sets.push_back(std::move(in));
    }
    auto run = [&](NsfwNet& net, std::vector<double>* all) {
      const auto t0 = clk::now();
      for (const auto& in : sets) {
        const auto p = net.score(in.data(), static_cast<int>(in.size() / NsfwNet::kInputSize));
        if (all) all->insert(all->end(), p.begin(), p.end());
      }
      return std::chrono::duration<double>(clk::now() - t0).count();
    };
    std::vector<double> a, b;
    run(ours, &a), run(opencv, &b);  // warm-up, and the numbers compared
    double diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::fabs(a[i] - b[i]));
    double t_ours = 1e30, t_cv = 1e30;
    for (int r = 0; r < repeat; ++r) t_ours = std::min(t_ours, run(ours, nullptr)), t_cv = std::min(t_cv, run(opencv, nullptr));
    std::printf("open_nsfw on %d frames of %zu clips (best of %d)\n", frames, sets.size(), repeat);
    std::printf("  %-55s %8.1f frames/s\n", ours.path().c_str(), frames / t_ours);
    std::printf("  %-55s %8.1f frames/s\n", opencv.path().c_str(), frames / t_cv);
    std::printf("  ratio %.2fx, largest probability difference %.2e\n", t_cv / t_ours, diff);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_nsfw: %s\n", e.what());
    return 1;
  }
}
