// SPDX-License-Identifier: Apache-2.0
// The stage runner every subcommand stands on.
//
// A reader thread streams the inputs (reader.h) into a bounded queue, keeping only the
// items this process's shard owns; `workers` threads run the stage, each with its own
// Processor (and so its own model instance); the calling thread prints the records in
// input order through a bounded reorder window. Before records are printed, the stage's
// commit() makes durable what they point at and the ledger records them (exact resume).
// A stage never reads stdin, prints or exits: it returns records or throws reel::Error,
// and the runner decides what the process does:
//   - an input whose record already carries errors is passed through unprocessed (unless
//     retry_errors), a line that is not a record becomes an error record;
//   - Error with code ModelError, DeviceUnavailable, OutputError or ServiceUnavailable stops the whole run
//     (the records already finished are still printed) and is rethrown;
//   - any other Error becomes an entry in the record's "errors";
//   - cancellation (SIGINT/SIGTERM) stops taking inputs, lets the records in flight
//     finish or abandon, prints every finished record in order, and reports interrupted.
#pragma once
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "reel/pipeline/progress.h"
#include "reel/pipeline/record.h"
#include "reel/pipeline/shard.h"

namespace reel {

class FrameShare;  // pipeline/frame_share.h

struct RunOptions {
  std::vector<std::string> inputs;  // positional arguments (see reader.h)
  std::istream* in = nullptr;       // stdin (nullptr: std::cin)
  int workers = 1;                  // records in flight at once
  int window = 0;                   // reorder window (0: 4 x workers + 8)
  bool retry_errors = false;
  bool resume = true;               // use the stage's ledger
  std::string ledger;               // ledger file instead of the stage's own (shard suffix added)
  Shard shard;
  ProgressOptions progress;
  // Receives a batch of complete lines ("...\n"); default: stdout, flushed.
  std::function<void(const std::string&)> sink;
};

struct StageOutput {
  std::vector<Json> records;
  Json payload;  // stage data for collect() beside the records (kept in the ledger)
  std::string blob;  // bytes for collect() only, never in the ledger (an embedding vector)
};

class Processor {
 public:
  virtual ~Processor() = default;
  // One input; called on a worker thread, never concurrently on the same Processor.
  virtual StageOutput process(const InputItem& item) = 0;
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string name() const = 0;
  // Called once before any input, with the shard this process owns.
  virtual void open(const Shard& shard) { (void)shard; }
  // A processor for worker `index` (0..workers-1); created before the run starts. It owns
  // what one worker needs (a model instance; a GPU stage binds worker i to device i, so
  // --workers = device count runs one worker per GPU on the same pool).
  virtual std::unique_ptr<Processor> processor(int index) = 0;
  // Where the ledger lives ("" = the stage does not resume) and what must match to trust it.
  virtual std::string ledger_path() const { return ""; }
  virtual Json fingerprint() const { return Json::object(); }
  // A ledger entry is trusted only while what its records point at still exists (a user may
  // have deleted outputs): false redoes the input. Called on worker threads.
  virtual bool still_there(const StageOutput& done) const { (void)done; return true; }
  // In input order on the runner's thread, for every finished input (resumed ones too);
  // it may amend out.records (with where collect() put their data), which are then ledgered
  // and printed as amended.
  virtual void collect(const InputItem& item, StageOutput& out) { (void)item, (void)out; }
  // Makes everything the records collected so far point at durable; before they are printed.
  virtual void commit() {}
  // After the last input (complete = not interrupted, no fatal error): trailing records.
  virtual std::vector<Json> finish(bool complete) { (void)complete; return {}; }
  // reel run's one decode per clip (pipeline/frame_share.h), called before the run: a stage that
  // decodes clips may convert frames for the frame stages after it (producer) or take them
  // (consumer). Returns whether it takes that part; by default a stage takes none.
  virtual bool share_frames(const std::shared_ptr<FrameShare>& share, bool producer) {
    (void)share, (void)producer;
    return false;
  }
};

// A stage that needs all its inputs before it can answer (dedup, merge, report).
class WholeStage {
 public:
  virtual ~WholeStage() = default;
  virtual std::string name() const = 0;
  virtual void open(const Shard& shard) { (void)shard; }
  virtual void add(const InputItem& item) = 0;
  virtual std::vector<Json> finish() { return {}; }
  // Streams the output records to emit (a stage with millions of them overrides this rather
  // than finish(), which holds them all at once).
  virtual void finish_into(const std::function<void(const Json&)>& emit) {
    for (const auto& r : finish()) emit(r);
  }
  // Every argument is a record file, whatever its name.
  virtual bool records_only() const { return false; }
  // Inputs it could not use (exit 3 when nonzero).
  virtual int64_t failed() const { return 0; }
};

struct RunResult {
  RunCounts counts;
  bool interrupted = false;
  int exit_code = 0;  // 0, 3 (some inputs failed) or 130 (interrupted)
};

RunResult run_stage(Stage& stage, const RunOptions& options);
RunResult run_whole(WholeStage& stage, const RunOptions& options);

// True for the codes that stop a whole run instead of failing one record.
bool is_fatal(Code code);

// Writes lines to stdout (the default sink).
void write_stdout(const std::string& lines);

}  // namespace reel
