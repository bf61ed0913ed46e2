// SPDX-License-Identifier: Apache-2.0
// Windows of several clips in one forward pass: the dynamic batching of inference servers.
//
// The workers of one device share one Tokenizer through a WindowBatcher. A worker hands over a
// padded window (encode) or a window's latent (decode) and gets a future; the batcher's own
// thread, the only one that touches the tokenizer, runs the network whenever it is free, on
// every queued window of the first one's shape up to that shape's batch (Tokenizer::
// encode_batch / decode_batch; `--batch auto` planned per shape from free memory). So a pass
// holds windows of whichever clips were waiting, and while one pass runs the next one fills:
// nothing waits for a batch to fill, and a lone clip is never held back. Windows that need
// tiles go through one at a time, on the same thread. Submitting blocks while two
// passes' worth of windows are queued, so host memory stays bounded when decoding outruns the
// device (a window of backend frames holds device memory while it waits, as much as its input in
// host memory would). Results equal one window at a time to float32 rounding (test_batched_windows.cpp).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "reel/model/pipeline.h"

namespace reel {

class WindowBatcher {
 public:
  // passes: as asked (kTileAuto and kBatchAuto are planned per shape, on the batcher's thread:
  // the plan asks the backend for its free memory, and only this thread uses the backend).
  // compute_threads: the CPU backend's operator threads on that thread (0: the default).
  WindowBatcher(const Tokenizer& tok, const PassOptions& passes, int compute_threads);
  ~WindowBatcher();  // fails what is still queued (Code::Cancelled) and joins
  WindowBatcher(const WindowBatcher&) = delete;
  WindowBatcher& operator=(const WindowBatcher&) = delete;

  using Encoded = EncodedWindow;
  std::future<Encoded> encode(Act window);
  // A window as host frames or as frames in the tokenizer's backend (WindowInput); windows of
  // both kinds and one shape share passes.
  std::future<Encoded> encode(WindowInput window);
  std::future<Act> decode(Act latent);
  std::future<Act> decode_ids(std::vector<int32_t> ids, int t, int h, int w);

  const Tokenizer& tokenizer() const { return tok_; }
  // Passes run and the windows they held (their ratio is the mean batch).
  uint64_t passes() const;
  uint64_t windows() const;

 private:
  enum class Kind { Encode, Decode, DecodeIds };
  struct Job {
    Kind kind;
    std::tuple<int, int, int, int> shape;  // (T, C, H, W) of the input; ids: (t, 0, h, w)
    WindowInput in;  // encode: the window; decode: the latent, in.x
    std::vector<int32_t> ids;
    std::promise<Encoded> encoded;
    std::promise<Act> act;
  };
  void submit(Job&& j);
  void loop();
  const PassOptions& plan_for(const Job& j);
  void run_batch(std::vector<Job>& jobs, const PassOptions& plan);

  const Tokenizer& tok_;
  const PassOptions asked_;
  const int threads_;
  mutable std::mutex mu_;
  std::condition_variable wake_, room_;
  std::deque<Job> queue_;
  size_t cap_ = 2;  // queued windows before submit blocks
  bool stop_ = false;
  uint64_t passes_ = 0, windows_ = 0;
  std::map<std::tuple<int, int, int, int, int>, PassOptions> planned_;  // by (kind, shape)
  std::thread thread_;
};

}  // namespace reel
