// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/runner.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "reel/core/cancel.h"
#include "reel/core/crash_point.h"
#include "reel/core/log.h"
#include "reel/pipeline/ledger.h"
#include "reel/pipeline/reader.h"

namespace reel {

bool is_fatal(Code code) {
  return code == Code::ModelError || code == Code::DeviceUnavailable || code == Code::OutputError ||
         code == Code::ServiceUnavailable;
}

void write_stdout(const std::string& lines) {
  // One write(2) per batch where the kernel takes it whole (regular files do), straight to
  // the descriptor: a kill between stdio's partial writes could otherwise tear a line.
  std::fflush(stdout);
  size_t off = 0;
  while (off < lines.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, lines.data() + off, lines.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) throw Error(Code::OutputError, "stdout closed (the next stage of the pipeline exited)");
      throw Error(Code::OutputError, std::string("writing stdout: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
}

namespace {

using clock_type = std::chrono::steady_clock;

std::string dump_line(const Json& j) {
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  s.push_back('\n');
  return s;
}

enum class Outcome { Done, Failed, Passed, Resumed, Abandoned };

struct Result {
  InputItem item;
  StageOutput out;
  Outcome outcome = Outcome::Done;
};

// State shared with the reader thread, which may outlive the run when it is blocked on a
// stdin that never closes after an interrupt (it is then detached and left alone).
struct Shared {
  std::mutex mu;
  std::condition_variable cv_work, cv_space, cv_result;
  std::deque<InputItem> queue;
  std::map<int64_t, Result> results;
  int64_t next_emit = 0, assigned = 0;
  bool reading_done = false;
  int active_workers = 0;
  std::exception_ptr fatal;
  std::atomic<bool> stop{false};
  bool stopping() const { return stop.load() || cancel_requested(); }
};

void read_loop(std::shared_ptr<Shared> sh, std::shared_ptr<RecordReader> reader, Shard shard, size_t capacity) {
  try {
    InputItem it;
    while (!sh->stopping() && reader->next(&it)) {
      const std::string owner = it.record.value("source", it.media);
      if (!shard.owns(owner)) continue;
      std::unique_lock<std::mutex> lk(sh->mu);
      sh->cv_space.wait(lk, [&] { return sh->queue.size() < capacity || sh->stopping(); });
      if (sh->stopping()) break;
      it.seq = sh->assigned++;
      sh->queue.push_back(std::move(it));
      sh->cv_work.notify_one();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lk(sh->mu);
    if (!sh->fatal) sh->fatal = std::current_exception();
    sh->stop = true;
  }
  std::lock_guard<std::mutex> lk(sh->mu);
  sh->reading_done = true;
  sh->cv_work.notify_all();
  sh->cv_result.notify_all();
}

class Run {
 public:
  Run(Stage& stage, const RunOptions& o) : stage_(stage), o_(o), sh_(std::make_shared<Shared>()) {}

  RunResult go() {
    const int workers = std::max(1, o_.workers);
    const size_t window = o_.window > 0 ? static_cast<size_t>(o_.window) : static_cast<size_t>(4 * workers + 8);
    stage_.open(o_.shard);
    if (o_.shard.sharded())
      REEL_INFO(stage_.name().c_str(), "shard %d/%d (from %s)", o_.shard.index, o_.shard.count, o_.shard.origin.c_str());
    const std::string ledger = !o_.ledger.empty() ? o_.shard.name(o_.ledger) : stage_.ledger_path();
    if (o_.resume && !ledger.empty()) ledger_.emplace(ledger, stage_.name(), stage_.fingerprint());
    std::vector<std::unique_ptr<Processor>> procs;
    for (int w = 0; w < workers; ++w) procs.push_back(stage_.processor(w));

    auto reader = std::make_shared<RecordReader>(o_.inputs, o_.in ? o_.in : &std::cin);
    if (!o_.shard.sharded()) counts_.total = reader->count_if_known();
    progress_.emplace(stage_.name(), o_.shard, o_.progress);
    sh_->active_workers = workers;
    std::thread reader_thread(read_loop, sh_, reader, o_.shard, window);
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back([this, w, window, p = procs[w].get()] { work_loop(*p, window); });

    try {
      emit_loop();
    } catch (...) {  // stdout closed, the index could not be written: stop, join, then report it
      std::lock_guard<std::mutex> lk(sh_->mu);
      if (!sh_->fatal) sh_->fatal = std::current_exception();
    }
    sh_->stop = true;
    sh_->cv_work.notify_all();
    sh_->cv_space.notify_all();
    for (auto& t : pool) t.join();
    {
      std::unique_lock<std::mutex> lk(sh_->mu);
      if (sh_->reading_done) {
        lk.unlock();
        reader_thread.join();
      } else {
        reader_thread.detach();  // blocked reading a stdin that is still open
      }
    }
    const bool interrupted = cancel_requested();
    const bool complete = !interrupted && !sh_->fatal;
    if (!sh_->fatal) {
      std::string tail;
      for (const auto& r : stage_.finish(complete)) tail += dump_line(r), ++counts_.records;
      print(tail);
    }
    progress_->finish(counts_, interrupted);
    if (sh_->fatal) std::rethrow_exception(sh_->fatal);
    RunResult rr;
    rr.counts = counts_;
    rr.interrupted = interrupted;
    rr.exit_code = interrupted ? kExitInterrupted : counts_.failed ? kExitPartial : kExitOk;
    return rr;
  }

 private:
  void work_loop(Processor& proc, size_t window) {
    for (;;) {
      InputItem item;
      {
        std::unique_lock<std::mutex> lk(sh_->mu);
        sh_->cv_work.wait(lk, [&] {
          return sh_->stopping() || (sh_->queue.empty() && sh_->reading_done) ||
                 (!sh_->queue.empty() && sh_->queue.front().seq < sh_->next_emit + static_cast<int64_t>(window));
        });
        if (sh_->stopping() || sh_->queue.empty()) break;
        item = std::move(sh_->queue.front());
        sh_->queue.pop_front();
        sh_->cv_space.notify_one();
      }
      Result r = handle(proc, std::move(item));
      std::lock_guard<std::mutex> lk(sh_->mu);
      const int64_t seq = r.item.seq;
      sh_->results.emplace(seq, std::move(r));
      sh_->cv_result.notify_one();
    }
    std::lock_guard<std::mutex> lk(sh_->mu);
    --sh_->active_workers;
    sh_->cv_result.notify_all();
  }

  Result handle(Processor& proc, InputItem&& item) {
    Result r;
    const std::string stage = stage_.name();
    if (!item.error.empty()) {
      r.item = std::move(item);
      Json rec = r.item.record;
      add_error(rec, stage, Code::InvalidData, r.item.error);
      r.out.records.push_back(std::move(rec));
      r.outcome = Outcome::Failed;
      return r;
    }
    if (has_open_errors(item.record)) {
      if (!o_.retry_errors) {
        r.out.records.push_back(item.record);
        r.item = std::move(item);
        r.outcome = Outcome::Passed;
        return r;
      }
      mark_errors_retried(item.record);
    }
    if (ledger_) {
      if (const Json* e = ledger_->find(item_key(item))) {
        StageOutput done;
        for (const auto& rec : (*e)["r"]) done.records.push_back(rec);
        done.payload = (*e)["p"];
        bool failed = false;
        for (const auto& rec : done.records) failed = failed || has_open_errors(rec);
        if (!(failed && o_.retry_errors) && stage_.still_there(done)) {
          r.out = std::move(done);
          r.item = std::move(item);
          r.outcome = Outcome::Resumed;
          return r;
        }
      }
    }
    try {
      r.out = proc.process(item);
      r.outcome = Outcome::Done;
      for (const auto& rec : r.out.records)
        if (has_open_errors(rec)) r.outcome = Outcome::Failed;
    } catch (const Error& e) {
      if (e.code() == Code::Cancelled) {
        r.outcome = Outcome::Abandoned;
      } else if (is_fatal(e.code())) {
        std::lock_guard<std::mutex> lk(sh_->mu);
        if (!sh_->fatal) sh_->fatal = std::current_exception();
        sh_->stop = true;
        sh_->cv_work.notify_all();
        sh_->cv_space.notify_all();
        r.outcome = Outcome::Abandoned;
      } else {
        REEL_WARN(stage.c_str(), "%s: %s", item.media.c_str(), e.what());
        Json rec = item.record;
        add_error(rec, stage, e.code(), e.what());
        r.out = StageOutput{{rec}, Json()};
        r.outcome = Outcome::Failed;
      }
    } catch (const std::exception& e) {
      REEL_ERROR(stage.c_str(), "%s: internal error: %s", item.media.c_str(), e.what());
      Json rec = item.record;
      add_error(rec, stage, Code::Internal, std::string("internal error: ") + e.what());
      r.out = StageOutput{{rec}, Json()};
      r.outcome = Outcome::Failed;
    }
    r.item = std::move(item);
    return r;
  }

  void emit_loop() {
    std::unique_lock<std::mutex> lk(sh_->mu);
    for (;;) {
      auto it = sh_->results.find(sh_->next_emit);
      if (it != sh_->results.end()) {
        if (it->second.outcome == Outcome::Abandoned) break;  // nothing after a gap is printed
        Result r = std::move(it->second);
        sh_->results.erase(it);
        ++sh_->next_emit;
        sh_->cv_work.notify_all();
        lk.unlock();
        take(r);
        if (pending_n_ >= 256 || unflushed_ >= 256 || clock_type::now() - last_flush_ > std::chrono::seconds(1)) flush();
        lk.lock();
        continue;
      }
      if (sh_->reading_done && sh_->next_emit == sh_->assigned) break;
      if (sh_->active_workers == 0) break;  // stopped: the next record will never come
      lk.unlock();
      flush();  // nothing ready: print what is finished before waiting
      lk.lock();
      if (sh_->results.count(sh_->next_emit)) continue;
      sh_->cv_result.wait_for(lk, std::chrono::milliseconds(250));
      lk.unlock();
      progress_->update(counts_);
      lk.lock();
    }
    lk.unlock();
    flush();
  }

  // A finished input, in order: into the ledger and the stage's collector, then pending print.
  void take(Result& r) {
    ++counts_.done;
    switch (r.outcome) {
      case Outcome::Failed: ++counts_.failed; break;
      case Outcome::Passed: ++counts_.passed; break;
      case Outcome::Resumed:
        ++counts_.resumed;
        // A failure finished by an earlier run is still a failure: the same exit code as then.
        for (const auto& rec : r.out.records)
          if (has_open_errors(rec)) {
            ++counts_.failed;
            break;
          }
        break;
      default: break;
    }
    stage_.collect(r.item, r.out);  // first: the ledger holds the records as collect() amends them
    if (ledger_ && (r.outcome == Outcome::Done || r.outcome == Outcome::Failed))
      ledger_->append(item_key(r.item), Json(r.out.records), r.out.payload);
    ++unflushed_;
    for (const auto& rec : r.out.records) {
      pending_ += dump_line(rec);
      ++pending_n_;
    }
  }

  void flush() {
    if (unflushed_ == 0) {  // nothing taken since the last flush (records or not)
      last_flush_ = clock_type::now();
      return;
    }
    unflushed_ = 0;
    stage_.commit();
    if (ledger_) ledger_->sync();
    crash_point("before-print");
    print(pending_);
    counts_.records += pending_n_;
    pending_.clear();
    pending_n_ = 0;
    last_flush_ = clock_type::now();
    progress_->update(counts_);
  }

  void print(const std::string& s) {
    if (s.empty()) return;
    if (o_.sink) o_.sink(s);
    else write_stdout(s);
  }

  Stage& stage_;
  const RunOptions& o_;
  std::shared_ptr<Shared> sh_;
  std::optional<Ledger> ledger_;
  std::optional<ProgressReporter> progress_;
  RunCounts counts_;
  std::string pending_;
  int64_t pending_n_ = 0, unflushed_ = 0;
  clock_type::time_point last_flush_ = clock_type::now();
};

}  // namespace

RunResult run_stage(Stage& stage, const RunOptions& options) { return Run(stage, options).go(); }

RunResult run_whole(WholeStage& stage, const RunOptions& o) {
  stage.open(o.shard);
  RecordReader reader(o.inputs, o.in ? o.in : &std::cin, stage.records_only());
  ProgressReporter progress(stage.name(), o.shard, o.progress);
  RunCounts c;
  InputItem it;
  while (!cancel_requested() && reader.next(&it)) {
    if (!o.shard.owns(it.record.value("source", it.media))) continue;
    it.seq = c.read++;
    stage.add(it);
    ++c.done;
    progress.update(c);
  }
  RunResult rr;
  rr.interrupted = cancel_requested();
  if (!rr.interrupted) {
    std::string out;
    auto send = [&] {
      if (o.sink) o.sink(out);
      else write_stdout(out);
      out.clear();
    };
    stage.finish_into([&](const Json& r) {
      out += dump_line(r);
      ++c.records;
      if (has_open_errors(r)) ++c.failed;
      if (out.size() >= (1u << 20)) send();
    });
    if (!out.empty() || c.records == 0) send();
  }
  c.failed += stage.failed();
  progress.finish(c, rr.interrupted);
  rr.counts = c;
  rr.exit_code = rr.interrupted ? kExitInterrupted : c.failed ? kExitPartial : kExitOk;
  return rr;
}

}  // namespace reel
