// SPDX-License-Identifier: Apache-2.0
// reel embed's model path (frame preprocessing + the card's network: reel's own kernels for the
// default card's .h5 weights, OpenCV DNN for an ONNX file; batched per clip, as reel embed runs it) on the frames it samples from the given clips. Writes those frames
// (raw RGB24) and reel's vectors to DIR, so bench/bench_embed.py can run PyTorch eager on the
// same frames in the same session and compare speed and numbers.
// Usage: bench_embed [--card CARD] [--repeat R] DIR CLIP...
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "reel/embed/embedder.h"
#include "reel/embed/frame_plan.h"
#include "reel/filter/text.h"
#include "reel/media/decoder.h"

using namespace reel;
using clk = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string card_path = default_embed_card_path(), dir;
  int repeat = 3;
  std::vector<std::string> clips;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--card") && i + 1 < argc) card_path = argv[++i];
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    else if (dir.empty()) dir = argv[i];
    else clips.push_back(argv[i]);
  }
  Embedder emb(load_model_card(card_path));
  struct Clip {
    std::vector<std::vector<uint8_t>> frames;
    int w = 0, h = 0;
  };
  std::vector<Clip> sets;
  for (const auto& c : clips) {
    DecodeOptions o;
    o.format = PixelFormat::RGB24;
    o.out_width = kTextWidth;
    auto d = VideoDecoder::open(c, o);
    const auto plan = plan_frames(emb.card(), expected_frames(d->info()), d->info().fps);
    Clip clip;
    for (Frame& f : decode_indices(*d, plan).frames) clip.frames.push_back(std::move(f.data)), clip.w = f.width, clip.h = f.height;
    if (!clip.frames.empty()) sets.push_back(std::move(clip));
  }
  int64_t frames = 0;
  std::ofstream index(dir + "/frames.json");
  index << "[";
  for (size_t s = 0; s < sets.size(); ++s) {
    std::ofstream raw(dir + "/clip" + std::to_string(s) + ".rgb", std::ios::binary);
    for (const auto& fr : sets[s].frames) raw.write(reinterpret_cast<const char*>(fr.data()), static_cast<std::streamsize>(fr.size()));
    index << (s ? "," : "") << "{\"w\":" << sets[s].w << ",\"h\":" << sets[s].h << ",\"n\":" << sets[s].frames.size() << "}";
    frames += static_cast<int64_t>(sets[s].frames.size());
  }
  index << "]";
  double best = 1e30;
  std::vector<std::vector<float>> vecs;
  for (int r = 0; r < repeat; ++r) {
    vecs.clear();
    const auto t0 = clk::now();
    for (const auto& c : sets) {
      std::vector<const uint8_t*> p;
      for (const auto& fr : c.frames) p.push_back(fr.data());
      vecs.push_back(emb.embed(p, c.w, c.h));
    }
    best = std::min(best, std::chrono::duration<double>(clk::now() - t0).count());
  }
  std::ofstream out(dir + "/reel_vectors.f32", std::ios::binary);
  for (const auto& v : vecs) out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  std::printf("{\"clips\": %zu, \"frames\": %lld, \"seconds\": %.3f, \"frames_per_s\": %.1f}\n", sets.size(),
              static_cast<long long>(frames), best, frames / best);
  return 0;
}
