// SPDX-License-Identifier: Apache-2.0
#include "reel/model/window_batcher.h"

#include <algorithm>

#include "reel/core/status.h"
#include "reel/model/ops.h"

namespace reel {

WindowBatcher::WindowBatcher(const Tokenizer& tok, const PassOptions& passes, int compute_threads, Overlap overlap)
    : tok_(tok),
      asked_(passes),
      threads_(compute_threads),
      overlap_(overlap == Overlap::On || (overlap == Overlap::Auto && tok.backend().device().kind != DeviceKind::Cpu)),
      thread_([this] { loop(); }) {}

WindowBatcher::~WindowBatcher() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  room_.notify_all();
  thread_.join();
}

std::future<WindowBatcher::Encoded> WindowBatcher::encode(Act window) {
  WindowInput in;
  in.x = std::move(window);
  return encode(std::move(in));
}

std::future<WindowBatcher::Encoded> WindowBatcher::encode(WindowInput window) {
  const Act& x = window.x;
  const Tensor* f = window.frames.empty() ? nullptr : &window.frames[0];
  Job j{Kind::Encode, {window.T(), f ? f->C : x.C, f ? f->H : x.H, f ? f->W : x.W}, std::move(window), {}, {}, {}};
  auto fut = j.encoded.get_future();
  submit(std::move(j));
  return fut;
}

std::future<Act> WindowBatcher::decode(Act latent) {
  WindowInput in;
  in.x = std::move(latent);
  Job j{Kind::Decode, {in.x.T, in.x.C, in.x.H, in.x.W}, std::move(in), {}, {}, {}};
  auto f = j.act.get_future();
  submit(std::move(j));
  return f;
}

std::future<Act> WindowBatcher::decode_ids(std::vector<int32_t> ids, int t, int h, int w) {
  Job j{Kind::DecodeIds, {t, 0, h, w}, WindowInput{}, std::move(ids), {}, {}};
  auto f = j.act.get_future();
  submit(std::move(j));
  return f;
}

uint64_t WindowBatcher::passes() const {
  std::lock_guard<std::mutex> lk(mu_);
  return passes_;
}

uint64_t WindowBatcher::windows() const {
  std::lock_guard<std::mutex> lk(mu_);
  return windows_;
}

void WindowBatcher::submit(Job&& j) {
  std::unique_lock<std::mutex> lk(mu_);
  room_.wait(lk, [&] { return stop_ || queue_.size() < cap_; });
  if (stop_) throw Error(Code::Cancelled, "the window batcher has stopped");
  queue_.push_back(std::move(j));
  wake_.notify_one();
}

// The passes for a job's shape, planned once per shape.
const PassOptions& WindowBatcher::plan_for(const Job& j) {
  const auto [T, C, H, W] = j.shape;
  const auto key = std::make_tuple(static_cast<int>(j.kind), T, C, H, W);
  auto it = planned_.find(key);
  if (it != planned_.end()) return it->second;
  const ModelConfig& c = tok_.config();
  const bool enc = j.kind == Kind::Encode;
  const int frames = enc ? T : tok_.output_frames(T);
  const int h = enc ? H : H * c.spatial_compression, w = enc ? W : W * c.spatial_compression;
  PassOptions asked = asked_;
  if (j.kind == Kind::DecodeIds) asked.tile = 0;  // token ids are never tiled
  return planned_[key] = resolve_passes(tok_, enc, frames, h, w, asked);
}

void WindowBatcher::loop() {
  ops_set_threads(threads_);  // OpenMP's thread count is a per-thread setting
  Flight flight;  // an encode pass queued on the device (overlap_ only), when it holds jobs
  for (;;) {
    std::vector<Job> jobs;
    PassOptions plan;
    bool got = false;
    {
      std::unique_lock<std::mutex> lk(mu_);
      // With a pass in flight, the next batch only if one is waiting already.
      got = take(lk, &jobs, &plan, flight.jobs.empty());
    }
    room_.notify_all();
    if (!got) {
      finish(flight);
      std::lock_guard<std::mutex> lk(mu_);
      if (stop_) {
        fail_queue();
        return;
      }
      continue;
    }
    if (jobs[0].kind == Kind::Encode) {
      if (!flight.jobs.empty()) ++overlapped_;
      Flight next = launch(std::move(jobs), plan);  // queued behind the pass in flight
      finish(flight);
      if (overlap_) flight = std::move(next);
      else finish(next);
      continue;
    }
    finish(flight);
    run_batch(jobs, plan);
  }
}

// The first queued job, and every later one of its kind and shape, up to its batch.
bool WindowBatcher::take(std::unique_lock<std::mutex>& lk, std::vector<Job>* jobs, PassOptions* plan, bool wait) {
  if (wait) wake_.wait(lk, [&] { return stop_ || !queue_.empty(); });
  for (;;) {
    if (stop_ || queue_.empty()) return false;
    try {
      *plan = plan_for(queue_.front());
      break;
    } catch (...) {  // too little memory even for tiles, say: that window's error
      Job j = std::move(queue_.front());
      queue_.pop_front();
      if (j.kind == Kind::Encode) j.encoded.set_exception(std::current_exception());
      else j.act.set_exception(std::current_exception());
    }
  }
  const int n = plan->batch;
  cap_ = std::max<size_t>(cap_, 2 * static_cast<size_t>(n));
  jobs->push_back(std::move(queue_.front()));
  queue_.pop_front();
  for (auto it = queue_.begin(); it != queue_.end() && static_cast<int>(jobs->size()) < n;) {
    if (it->kind == (*jobs)[0].kind && it->shape == (*jobs)[0].shape) {
      jobs->push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  ++passes_;
  windows_ += jobs->size();
  return true;
}

void WindowBatcher::fail_queue() {
  for (Job& j : queue_) {
    const auto e = std::make_exception_ptr(Error(Code::Cancelled, "the window batcher stopped before this window ran"));
    if (j.kind == Kind::Encode) j.encoded.set_exception(e);
    else j.act.set_exception(e);
  }
  queue_.clear();
}

WindowBatcher::Flight WindowBatcher::launch(std::vector<Job> jobs, const PassOptions& plan) {
  Flight f;
  f.jobs = std::move(jobs);
  try {
    std::vector<const WindowInput*> inputs;
    for (const Job& j : f.jobs) inputs.push_back(&j.in);
    f.pass = launch_windows(tok_, inputs, plan);
  } catch (...) {
    f.failed = std::current_exception();
  }
  for (Job& j : f.jobs) j.in = WindowInput{};  // the device frames go once the pass holds them (freed in stream order)
  return f;
}

// Hands each window its part of the pass's latents, or the pass's error, and empties f.
void WindowBatcher::finish(Flight& f) {
  const int n = static_cast<int>(f.jobs.size());
  if (n == 0) return;
  struct Clear {
    Flight& f;
    ~Clear() { f = Flight{}; }
  } clear{f};
  if (!f.failed) {
    try {
      Act z = f.pass.z->wait();
      const int tl = z.T / n;
      const size_t per = f.pass.ids.size() / n;
      for (int i = 0; i < n; ++i) {
        Encoded e;
        e.z = n == 1 ? std::move(z) : frames_of(z, i * tl, tl);
        if (!f.pass.ids.empty())
          e.ids.assign(f.pass.ids.begin() + static_cast<std::ptrdiff_t>(i * per),
                       f.pass.ids.begin() + static_cast<std::ptrdiff_t>((i + 1) * per));
        f.jobs[i].encoded.set_value(std::move(e));
      }
      return;
    } catch (...) {
      f.failed = std::current_exception();
    }
  }
  // A failed pass fails each of its windows (each worker's record gets the error).
  for (Job& j : f.jobs) {
    try {
      j.encoded.set_exception(f.failed);
    } catch (const std::future_error&) {  // already satisfied before the throw
    }
  }
}

void WindowBatcher::run_batch(std::vector<Job>& jobs, const PassOptions& plan) {
  const int n = static_cast<int>(jobs.size());
  const Kind kind = jobs[0].kind;
  try {
    // A decode pass's input: the lone latent as it is, or the latents joined along T.
    Act joined;
    if (n > 1 && kind == Kind::Decode) {
      std::vector<const Act*> parts;
      for (const Job& j : jobs) parts.push_back(&j.in.x);
      joined = join_frames(parts);
    }
    const Act& x = n == 1 ? jobs[0].in.x : joined;
    Act y;
    if (kind == Kind::Decode) {
      y = decode_pass(tok_, x, n, plan);
    } else {
      const auto [t, c0, h, w] = jobs[0].shape;
      (void)c0;
      std::vector<int32_t> ids;
      for (Job& j : jobs) ids.insert(ids.end(), j.ids.begin(), j.ids.end());
      y = tok_.decode_indices_batch(ids, n, n * t, h, w);
    }
    const int to = y.T / n;
    for (int i = 0; i < n; ++i) jobs[i].act.set_value(n == 1 ? std::move(y) : frames_of(y, i * to, to));
  } catch (...) {
    // A failed pass fails each of its windows (each worker's record gets the error).
    const auto e = std::current_exception();
    for (Job& j : jobs) {
      try {
        j.act.set_exception(e);
      } catch (const std::future_error&) {  // already satisfied before the throw
      }
    }
  }
}

}  // namespace reel
