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
//
// On a GPU one encode pass stays in flight: the thread queues a pass (launch_windows), and if
// another batch is waiting it queues that one behind it before it waits for the first one's
// latents, so the device never idles while the host hands out results and joins the next
// batch's frames. With nothing waiting it finishes the pass at once (no window is held back for
// work that may not come). The CPU backend computes as it is called, so there it finishes each
// pass before the next (Overlap::Auto); Overlap::On forces the GPU's order, and test it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
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
  enum class Overlap { Auto, On, Off };  // Auto: On for a device backend, Off on the CPU
  WindowBatcher(const Tokenizer& tok, const PassOptions& passes, int compute_threads, Overlap overlap = Overlap::Auto);
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
  // Passes queued while the one before was still in flight (Overlap).
  uint64_t overlapped() const { return overlapped_.load(); }

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
  // An encode pass queued on the backend, its latents on their way (launched) or the error that
  // stopped it.
  struct Flight {
    std::vector<Job> jobs;
    PendingPass pass;
    std::exception_ptr failed;
  };
  void submit(Job&& j);
  void loop();
  const PassOptions& plan_for(const Job& j);
  // Takes the next batch off the queue (under the lock): false when stopping.
  bool take(std::unique_lock<std::mutex>& lk, std::vector<Job>* jobs, PassOptions* plan, bool wait);
  void fail_queue();
  Flight launch(std::vector<Job> jobs, const PassOptions& plan);
  void finish(Flight& f);
  void run_batch(std::vector<Job>& jobs, const PassOptions& plan);  // a decode pass, to the end

  const Tokenizer& tok_;
  const PassOptions asked_;
  const int threads_;
  const bool overlap_;
  mutable std::mutex mu_;
  std::condition_variable wake_, room_;
  std::deque<Job> queue_;
  size_t cap_ = 2;  // queued windows before submit blocks
  bool stop_ = false;
  uint64_t passes_ = 0, windows_ = 0;
  std::atomic<uint64_t> overlapped_{0};
  std::map<std::tuple<int, int, int, int, int>, PassOptions> planned_;  // by (kind, shape)
  std::thread thread_;
};

}  // namespace reel
