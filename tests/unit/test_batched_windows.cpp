// SPDX-License-Identifier: Apache-2.0
// Batched windows (--batch): n windows in one forward pass compute what each window computes
// alone. The ops along T (causal temporal convolutions, the temporal down- and upsamplers,
// causal temporal attention, the 3-D Haar patcher) run per window; the frame-wise ops take the
// whole batch. Error model: the frame-wise results differ from a lone window's only by float32
// rounding, because the Winograd convolutions share GEMMs between the tiles of all frames, and
// OpenBLAS's kernels (the AVX-512 ones at least) round differently for other GEMM widths. That
// is a reordered float32 sum: about sqrt(K) * 2^-24 relative per layer, ~1e-6 through this
// model (seen: 2e-6), so the bar is 1e-4 of the output's range. A window that saw another
// window's frames is off by the size of the signal itself.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>

#include "../batcher_util.h"
#include "../test_util.h"
#include "reel/core/status.h"
#include "reel/model/memory_plan.h"
#include "reel/model/pipeline.h"
#include "reel/model/window_batcher.h"

using namespace reel;

namespace {

constexpr double kRel = 1e-4;

template <class V>
void expect_close(const V& got, const V& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double range = 0, worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < want.size(); ++i) range = std::max(range, std::fabs(double(want[i])));
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(double(got[i]) - double(want[i]));
    if (d > worst) worst = d, at = i;
  }
  EXPECT_LE(worst, kRel * range) << what << ": element " << at << " is " << got[at] << ", alone " << want[at];
}

void expect_close(const Act& a, const Act& b, const std::string& what) {
  ASSERT_EQ(a.T, b.T) << what;
  ASSERT_EQ(a.C, b.C) << what;
  expect_close(a.v, b.v, what);
}

TEST(BatchedWindows, EncodeAndDecodeEqualOneWindowAtATime) {
  // Temporal compression 4: 9-frame windows go down to 3 latent frames, through every op along T.
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 11);
  const int n = 3, T = 9, H = 32, W = 48;
  const Act x = test::random_act(n * T, 3, H, W, 5);
  const Act zb = tok->encode_batch(x, n);
  ASSERT_EQ(zb.T, n * 3);
  for (int i = 0; i < n; ++i) expect_close(frames_of(zb, 3 * i, 3), tok->encode(frames_of(x, i * T, T)), "encode, window " + std::to_string(i));
  const Act yb = tok->decode_batch(zb, n);
  ASSERT_EQ(yb.T, n * T);
  for (int i = 0; i < n; ++i) expect_close(frames_of(yb, T * i, T), tok->decode(frames_of(zb, 3 * i, 3)), "decode, window " + std::to_string(i));
}

TEST(BatchedWindows, TokenIdsEqualOneWindowAtATime) {
  auto tok = Tokenizer::random(config_for_arch("DV4x8x8", 8, 1), 12);
  const int n = 2, T = 9, H = 32, W = 32;
  const Act x = test::random_act(n * T, 3, H, W, 6);
  std::vector<int32_t> ids;
  const Act codes = tok->encode_batch(x, n, &ids);
  const size_t per = ids.size() / n;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> one;
    tok->encode(frames_of(x, i * T, T), &one);
    ASSERT_EQ(one.size(), per);
    // An id flips only where a code sits within rounding of an FSQ level boundary.
    size_t differ = 0;
    for (size_t j = 0; j < per; ++j) differ += one[j] != ids[i * per + j];
    EXPECT_LE(differ, per / 1000) << "window " << i << ": " << differ << " of " << per << " token ids differ";
  }
  const Act yb = tok->decode_indices_batch(ids, n, codes.T, codes.H, codes.W);
  for (int i = 0; i < n; ++i) {
    const std::vector<int32_t> one(ids.begin() + static_cast<std::ptrdiff_t>(i * per), ids.begin() + static_cast<std::ptrdiff_t>((i + 1) * per));
    expect_close(frames_of(yb, i * T, T), tok->decode_indices(one, codes.T / n, codes.H, codes.W), "decode ids, window " + std::to_string(i));
  }
}

TEST(BatchedWindows, UnequalWindowsAreRefused) {
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 13);
  EXPECT_THROW(tok->encode_batch(test::random_act(17, 3, 16, 16, 1), 2), Error);
  EXPECT_THROW(tok->decode_batch(Act(5, tok->config().latent_dim(), 2, 2), 2), Error);
}

// A clip of 7 windows (six of 9 frames and a short last one of 4, padded to 5) through
// ClipEncoder and decode_clip with batches of 1, 4 and 16: the same latents and frames, in order.
TEST(BatchedWindows, ClipLatentsAndFramesDoNotDependOnTheBatch) {
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 14);
  const int w = 40, h = 24, frames = 58, window = 9;
  const auto clip = test::random_clip(frames, w, h, 9);
  auto run = [&](int batch, std::vector<uint8_t>* out) {
    ClipEncoder enc(*tok, w, h, window, PassOptions{0, 0, batch});
    for (const auto& f : clip) enc.push(f.data());
    ClipLatents lat = enc.finish();
    out->clear();
    decode_clip(*tok, lat, [&](const uint8_t* rgb) { out->insert(out->end(), rgb, rgb + w * h * 3); }, PassOptions{0, 0, batch});
    return lat;
  };
  std::vector<uint8_t> f1, f4, f16;
  const ClipLatents one = run(1, &f1);
  ASSERT_EQ(one.window_frames, (std::vector<int>{9, 9, 9, 9, 9, 9, 4}));
  for (auto [batch, out] : {std::pair{4, &f4}, std::pair{16, &f16}}) {
    const ClipLatents b = run(batch, out);
    EXPECT_EQ(b.window_frames, one.window_frames);
    EXPECT_EQ(b.window_latent_frames, one.window_latent_frames);
    EXPECT_EQ(b.window_pad_front, one.window_pad_front);
    expect_close(b.latent, one.latent, "latents with --batch " + std::to_string(batch));
    ASSERT_EQ(out->size(), f1.size());
    // Pixels: a rounding flip is one level, on a few of them.
    size_t differ = 0;
    for (size_t i = 0; i < f1.size(); ++i) {
      ASSERT_LE(std::abs(int((*out)[i]) - int(f1[i])), 1) << "--batch " << batch << ", byte " << i;
      differ += (*out)[i] != f1[i];
    }
    EXPECT_LE(differ, f1.size() / 200) << "--batch " << batch;
  }
}

TEST(BatchedWindows, AutoBatchFollowsFreeMemory) {
  const ModelConfig c = config_for_arch("CV8x8x8");
  // The CPU (no limit) gains nothing from a batch: one window a pass.
  EXPECT_EQ(plan_batch(c, true, 17, 720, 1280, 4, SIZE_MAX, kMaxBatch), 1);
  const MemoryPlan one = plan_window(c, true, 17, 720, 1280, 2, size_t(80) << 30);
  // Room for exactly k windows by the plan's own accounting (a tenth kept free).
  for (int k : {1, 2, 5}) {
    const size_t need = k == 1 ? one.total() : k * one.activations / 5 * 6 + one.workspace;
    const size_t avail = need + need / 9 + 1;
    const int got = plan_batch(c, true, 17, 720, 1280, 2, avail, kMaxBatch);
    EXPECT_EQ(got, k) << "with " << (avail >> 20) << " MiB";
  }
  EXPECT_EQ(plan_batch(c, true, 17, 720, 1280, 2, size_t(1) << 50, kMaxBatch), kMaxBatch);
  EXPECT_EQ(plan_batch(c, true, 17, 720, 1280, 2, 1, kMaxBatch), 1);  // never below one window
}

}  // namespace

namespace {

// Windows of several clips through one WindowBatcher, from three threads at once: each gets
// what its window gives alone, and passes do hold windows of more than one submission.
TEST(WindowBatcher, PassesGatherWindowsOfSeveralClips) {
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 15);
  const int T = 9, H = 32, W = 32, per_thread = 4, threads = 3;
  std::vector<std::vector<Act>> xs(threads);
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < per_thread; ++i) xs[t].push_back(test::random_act(T, 3, H, W, 100 + 10 * t + i));
  std::vector<std::vector<Act>> got(threads);
  {
    WindowBatcher b(*tok, PassOptions{0, 0, 4}, 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        std::vector<std::future<EncodedWindow>> f;
        for (const Act& x : xs[t]) f.push_back(b.encode(Act(x)));
        for (auto& e : f) got[t].push_back(e.get().z);
      });
    for (auto& th : pool) th.join();
    EXPECT_EQ(b.windows(), static_cast<uint64_t>(threads * per_thread));
    EXPECT_LT(b.passes(), b.windows()) << "no pass held more than one window";
    // Decode through it too: a window's frames come back as its own decode gives them.
    const Act y = b.decode(Act(got[1][2])).get();
    expect_close(y, tok->decode(got[1][2]), "decode through the batcher");
  }
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < per_thread; ++i)
      expect_close(got[t][i], tok->encode(xs[t][i]), "thread " + std::to_string(t) + ", window " + std::to_string(i));
}

// A clip through ClipEncoder and decode_clip on a batcher equals the direct path.
TEST(WindowBatcher, ClipsThroughTheBatcherEqualTheDirectPath) {
  auto tok = Tokenizer::random(config_for_arch("DV4x8x8", 8, 1), 16);
  const int w = 40, h = 24, frames = 30, window = 9;  // windows 9, 9, 9 and 3 (padded to 5)
  const auto clip = test::random_clip(frames, w, h, 4);
  ClipEncoder direct(*tok, w, h, window);
  for (const auto& f : clip) direct.push(f.data());
  const ClipLatents a = direct.finish();
  WindowBatcher b(*tok, PassOptions{0, 0, 8}, 0);
  ClipEncoder via(b, w, h, window);
  for (const auto& f : clip) via.push(f.data());
  const ClipLatents c = via.finish();
  EXPECT_EQ(c.window_frames, a.window_frames);
  EXPECT_EQ(c.window_latent_frames, a.window_latent_frames);
  ASSERT_EQ(c.indices.size(), a.indices.size());
  size_t differ = 0;
  for (size_t i = 0; i < a.indices.size(); ++i) differ += a.indices[i] != c.indices[i];
  EXPECT_LE(differ, a.indices.size() / 1000);
  std::vector<uint8_t> fa, fc;
  decode_clip(*tok, a, [&](const uint8_t* p) { fa.insert(fa.end(), p, p + w * h * 3); });
  decode_clip(b, a, [&](const uint8_t* p) { fc.insert(fc.end(), p, p + w * h * 3); });
  ASSERT_EQ(fc.size(), fa.size());
  size_t px = 0;
  for (size_t i = 0; i < fa.size(); ++i) {
    ASSERT_LE(std::abs(int(fa[i]) - int(fc[i])), 1) << "byte " << i;
    px += fa[i] != fc[i];
  }
  EXPECT_LE(px, fa.size() / 200);
}

}  // namespace

namespace {

// A pass that fails fails its windows' futures (each worker's record gets the error) and the
// batcher goes on with the next ones, with a pass in flight beside it or not.
TEST(WindowBatcher, AFailedPassFailsItsWindowsOnly) {
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 17);
  for (const auto mode : {WindowBatcher::Overlap::Off, WindowBatcher::Overlap::On}) {
    WindowBatcher b(*tok, PassOptions{0, 0, 1}, 0, mode);
    auto before = b.encode(test::random_act(9, 3, 32, 32, 3));
    auto bad = b.encode(test::random_act(9, 4, 32, 32, 1));  // four channels: the model takes three
    auto good = b.encode(test::random_act(9, 3, 32, 32, 2));
    try {
      bad.get();
      ADD_FAILURE() << "a 4-channel window was encoded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find("channels"), std::string::npos) << e.what();
    }
    EXPECT_EQ(good.get().z.T, 3);
    EXPECT_EQ(before.get().z.T, 3);
  }
}

// With a pass in flight while the next is queued (a GPU's order, forced on the CPU), every
// window gets exactly what it gets one pass after another: continuous latents and token ids,
// windows of two lengths interleaved (the batcher takes passes out of submission order).
TEST(WindowBatcher, OverlappedPassesEqualPassesOneAfterAnother) {
  for (const char* arch : {"CV4x8x8", "DV4x8x8"}) {
    SCOPED_TRACE(arch);
    auto tok = Tokenizer::random(config_for_arch(arch, 8, 1), 18);
    std::vector<Act> xs;
    for (int i = 0; i < 10; ++i) xs.push_back(test::random_act(i % 3 == 2 ? 5 : 9, 3, 32, 32, 200 + i));
    uint64_t n_off = 0, n_on = 0;
    const auto off = test::encode_through_batcher(*tok, xs, 1, WindowBatcher::Overlap::Off, &n_off);
    const auto on = test::encode_through_batcher(*tok, xs, 1, WindowBatcher::Overlap::On, &n_on);
    EXPECT_EQ(n_off, 0u);
    EXPECT_GT(n_on, 0u) << "no pass was queued behind another";
    ASSERT_EQ(on.size(), off.size());
    for (size_t i = 0; i < off.size(); ++i) {
      EXPECT_EQ(on[i].z.T, off[i].z.T) << "window " << i;
      EXPECT_TRUE(on[i].z.v == off[i].z.v) << "window " << i << ": latents differ";
      EXPECT_EQ(on[i].ids, off[i].ids) << "window " << i;
      if (std::string(arch)[0] == 'D') EXPECT_FALSE(on[i].ids.empty());
    }
  }
}

}  // namespace
