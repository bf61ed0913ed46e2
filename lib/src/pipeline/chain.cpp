// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/chain.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <streambuf>
#include <thread>

#include "reel/core/cancel.h"
#include "reel/core/log.h"

namespace reel {

namespace {

// A bounded pipe of text between two steps: the writer blocks while `cap` bytes wait unread;
// once the reader is gone (its step ended), writes are dropped, as a broken shell pipe would.
class LinePipe {
 public:
  explicit LinePipe(size_t cap) : cap_(cap) {}
  void write(const std::string& s) {
    std::unique_lock<std::mutex> lk(mu_);
    space_.wait(lk, [&] { return bytes_ < cap_ || reader_gone_; });
    if (reader_gone_) return;
    chunks_.push_back(s);
    bytes_ += s.size();
    data_.notify_one();
  }
  void close_write() {
    std::lock_guard<std::mutex> lk(mu_);
    writer_done_ = true;
    data_.notify_all();
  }
  void close_read() {
    std::lock_guard<std::mutex> lk(mu_);
    reader_gone_ = true;
    chunks_.clear();
    space_.notify_all();
  }
  bool read(std::string* out) {
    std::unique_lock<std::mutex> lk(mu_);
    data_.wait(lk, [&] { return !chunks_.empty() || writer_done_; });
    if (chunks_.empty()) return false;
    *out = std::move(chunks_.front());
    chunks_.pop_front();
    bytes_ -= out->size();
    space_.notify_one();
    return true;
  }

 private:
  size_t cap_, bytes_ = 0;
  std::mutex mu_;
  std::condition_variable data_, space_;
  std::deque<std::string> chunks_;
  bool writer_done_ = false, reader_gone_ = false;
};

class PipeBuf : public std::streambuf {
 public:
  explicit PipeBuf(LinePipe& p) : pipe_(p) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    do {
      if (!pipe_.read(&buf_)) return traits_type::eof();
    } while (buf_.empty());
    setg(buf_.data(), buf_.data(), buf_.data() + buf_.size());
    return traits_type::to_int_type(*gptr());
  }

 private:
  LinePipe& pipe_;
  std::string buf_;
};

}  // namespace

namespace {
// The pipes of a chain, kept for the life of the process: a step stopped by an error or an
// interrupt may leave its reader thread detached (the runner does so for a stdin that never
// closes), still holding the stream; it must find the pipe there, at its end.
struct Pipes {
  std::vector<std::unique_ptr<LinePipe>> pipes;
  std::vector<std::unique_ptr<PipeBuf>> bufs;
  std::vector<std::unique_ptr<std::istream>> streams;
};
std::mutex graveyard_mu;
std::vector<std::unique_ptr<Pipes>>& graveyard() {
  static auto* g = new std::vector<std::unique_ptr<Pipes>>();  // never destroyed: threads may outlive main
  return *g;
}
}  // namespace

ChainResult run_chain(std::vector<ChainStep>& steps, std::istream* in, std::function<void(const std::string&)> sink) {
  ChainResult res;
  const size_t n = steps.size();
  res.steps.resize(n);
  if (n == 0) return res;
  // pipes[i] carries step i's output to step i + 1.
  auto owned = std::make_unique<Pipes>();
  auto& pipes = owned->pipes;
  auto& bufs = owned->bufs;
  auto& streams = owned->streams;
  for (size_t i = 0; i + 1 < n; ++i) {
    pipes.push_back(std::make_unique<LinePipe>(8u << 20));
    bufs.push_back(std::make_unique<PipeBuf>(*pipes.back()));
    streams.push_back(std::make_unique<std::istream>(bufs.back().get()));
  }
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    RunOptions& o = steps[i].options;
    if (i > 0) {
      o.inputs.clear();  // everything comes through the pipe
      o.in = streams[i - 1].get();
    } else {
      o.in = in;
    }
    if (i + 1 < n) {
      LinePipe* p = pipes[i].get();
      o.sink = [p](const std::string& s) { p->write(s); };
    } else {
      o.sink = sink;
    }
    threads.emplace_back([&, i] {
      try {
        res.steps[i] = steps[i].stage ? run_stage(*steps[i].stage, steps[i].options) : run_whole(*steps[i].whole, steps[i].options);
      } catch (...) {
        errors[i] = std::current_exception();
        REEL_DEBUG("run", "step %zu (%s) stopped with an error", i + 1, steps[i].label.c_str());
        // The batch stops as a whole, as a shell pipeline does when one of its commands
        // dies: every step stops taking inputs and prints what it finished.
        request_cancel();
      }
      if (i + 1 < n) pipes[i]->close_write();  // the next step sees the end of its input
      if (i > 0) pipes[i - 1]->close_read();   // what the step before still sends has nowhere to go
    });
  }
  for (auto& t : threads) t.join();
  for (auto& p : pipes) {  // a detached reader sees the end of its input and returns
    p->close_read();
    p->close_write();
  }
  {
    std::lock_guard<std::mutex> lk(graveyard_mu);
    graveyard().push_back(std::move(owned));
  }
  for (size_t i = 0; i < n; ++i)
    if (errors[i]) std::rethrow_exception(errors[i]);
  for (const auto& r : res.steps) {
    if (r.exit_code == 130 || res.exit_code == 130) res.exit_code = 130;
    else res.exit_code = std::max(res.exit_code, r.exit_code);
  }
  return res;
}

}  // namespace reel
