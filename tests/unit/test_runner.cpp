// SPDX-License-Identifier: Apache-2.0
// The stage runner on trivial stages: order, passthrough, retries, error records, fatal
// errors, exact resume from the ledger (torn lines, other options), whole-input stages.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "../cli_util.h"
#include "reel/core/cancel.h"
#include "reel/pipeline/ledger.h"
#include "reel/pipeline/runner.h"

namespace fs = std::filesystem;
using namespace reel;

namespace {

// Adds "n" = the number in the record's source name; sleeps a little, randomly, so that
// workers finish out of order; fails on sources containing "bad", stops on "fatal".
class CountingStage : public Stage {
 public:
  std::atomic<int> processed{0};
  std::string ledger;
  Json options = Json::object();
  std::vector<std::string> collected;
  std::string name() const override { return "count"; }
  std::string ledger_path() const override { return ledger; }
  Json fingerprint() const override { return options; }
  void collect(const InputItem& it, StageOutput&) override { collected.push_back(it.media); }
  std::unique_ptr<Processor> processor(int w) override {
    struct P : Processor {
      CountingStage* s;
      std::mt19937 rng;
      P(CountingStage* st, int w) : s(st), rng(w) {}
      StageOutput process(const InputItem& it) override {
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
        ++s->processed;
        if (it.media.find("fatal") != std::string::npos) throw Error(Code::ModelError, "model gone");
        if (it.media.find("bad") != std::string::npos) throw Error(Code::InvalidData, "cannot decode " + it.media);
        Json r = it.record;
        r["n"] = std::stoi(fs::path(it.media).stem().string().substr(1));
        return {{r}, Json()};
      }
    };
    return std::make_unique<P>(this, w);
  }
};

struct Captured {
  std::string out;
  RunResult result;
};

Captured run(Stage& s, const std::string& input, int workers, bool retry = false) {
  std::istringstream in(input);
  RunOptions o;
  o.in = &in;
  o.workers = workers;
  o.retry_errors = retry;
  o.progress.mode = "never";
  Captured c;
  o.sink = [&](const std::string& lines) { c.out += lines; };
  c.result = run_stage(s, o);
  return c;
}

std::string numbered(int n, const std::string& extra = "") {
  std::string s;
  for (int i = 0; i < n; ++i) s += "/v/c" + std::to_string(i) + extra + ".mp4\n";
  return s;
}

TEST(Runner, OutputKeepsInputOrderWithManyWorkers) {
  CountingStage s;
  auto c = run(s, numbered(300), 8);
  auto recs = test::jsonl(c.out);
  ASSERT_EQ(recs.size(), 300u);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(recs[i]["n"], i);
  EXPECT_EQ(c.result.exit_code, 0);
  EXPECT_EQ(c.result.counts.done, 300);
  ASSERT_EQ(s.collected.size(), 300u);  // collect() runs in input order too
  EXPECT_EQ(s.collected[299], "/v/c299.mp4");
}

TEST(Runner, ErrorsArePassedThroughAndBadLinesBecomeErrorRecords) {
  CountingStage s;
  const std::string in = "/v/c0.mp4\n"
                         R"({"path": "/v/c1.mp4", "errors": [{"stage": "split", "code": "io_error", "message": "x"}]})" "\n"
                         "{not json\n"
                         R"({"nothing": 1})" "\n"
                         "/v/c2bad.mp4\n";
  auto c = run(s, in, 2);
  auto recs = test::jsonl(c.out);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[0]["n"], 0);
  EXPECT_FALSE(recs[1].contains("n"));  // passed through unprocessed
  EXPECT_EQ(recs[1]["errors"].size(), 1u);
  EXPECT_EQ(recs[2]["errors"][0]["stage"], "count");
  EXPECT_EQ(recs[3]["errors"][0]["code"], "invalid_data");
  EXPECT_EQ(recs[3]["nothing"], 1);  // unknown keys survive even in an error record
  EXPECT_EQ(recs[4]["errors"][0]["message"], "cannot decode /v/c2bad.mp4");
  EXPECT_EQ(s.processed, 2);
  EXPECT_EQ(c.result.counts.passed, 1);
  EXPECT_EQ(c.result.counts.failed, 3);
  EXPECT_EQ(c.result.exit_code, kExitPartial);
  // --retry-errors processes it, keeps the old entry and marks it retried.
  CountingStage r;
  auto c2 = run(r, in, 1, true);
  auto rec = test::jsonl(c2.out)[1];
  EXPECT_EQ(rec["n"], 1);
  ASSERT_EQ(rec["errors"].size(), 1u);
  EXPECT_TRUE(rec["errors"][0]["retried"].get<bool>());
  EXPECT_FALSE(has_open_errors(rec));
}

TEST(Runner, AFatalErrorStopsTheRunAfterPrintingWhatFinished) {
  CountingStage s;
  std::string out;
  std::istringstream in(numbered(5) + "/v/c5fatal.mp4\n" + numbered(50));
  RunOptions o;
  o.in = &in;
  o.workers = 1;
  o.progress.mode = "never";
  o.sink = [&](const std::string& l) { out += l; };
  try {
    run_stage(s, o);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::ModelError);
  }
  EXPECT_EQ(test::jsonl(out).size(), 5u);  // everything before the failure, in order
  EXPECT_LT(s.processed, 20);              // and it stopped soon after
}

TEST(Runner, ResumesExactlyFromTheLedger) {
  const fs::path dir = test::temp_dir("ledger");
  CountingStage full;
  full.ledger = (dir / "full.jsonl").string();
  const std::string want = run(full, numbered(40), 4).out;
  EXPECT_EQ(full.processed, 40);
  // A killed run: the ledger holds its header, 15 entries and half of the 16th line.
  std::ifstream f(full.ledger);
  std::string line, part;
  for (int i = 0; i < 16 && std::getline(f, line); ++i) part += line + "\n";
  std::getline(f, line);
  part += line.substr(0, line.size() / 2);
  const fs::path killed = dir / "killed.jsonl";
  std::ofstream(killed) << part;
  CountingStage again;
  again.ledger = killed.string();
  auto c = run(again, numbered(40), 3);
  EXPECT_EQ(c.out, want);           // the same records, in the same order
  EXPECT_EQ(again.processed, 25);   // only what was missing
  EXPECT_EQ(c.result.counts.resumed, 15);
  // Other options: the ledger is set aside, not trusted.
  CountingStage other;
  other.ledger = killed.string();
  other.options = {{"threshold", 2}};
  EXPECT_EQ(run(other, numbered(40), 2).out, want);
  EXPECT_EQ(other.processed, 40);
  EXPECT_TRUE(fs::exists(killed.string() + ".stale"));
  fs::remove_all(dir);
}

TEST(Runner, CancellationPrintsOnlyCompleteRecordsInOrder) {
  CountingStage s;
  std::istringstream in(numbered(2000));
  RunOptions o;
  o.in = &in;
  o.workers = 4;
  o.progress.mode = "never";
  std::string out;
  o.sink = [&](const std::string& l) {
    out += l;
    if (out.size() > 2000) request_cancel();
  };
  RunResult r = run_stage(s, o);
  reset_cancel();
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.exit_code, kExitInterrupted);
  auto recs = test::jsonl(out);
  ASSERT_LT(recs.size(), 2000u);
  for (size_t i = 0; i < recs.size(); ++i) ASSERT_EQ(recs[i]["n"], static_cast<int>(i));
}

TEST(Runner, WholeInputStagesSeeEveryRecordOnce) {
  struct Sum : WholeStage {
    int64_t total = 0;
    std::string name() const override { return "sum"; }
    void add(const InputItem& it) override { total += it.record.value("v", 0); }
    std::vector<Json> finish() override { return {{{"total", total}}}; }
  } sum;
  std::istringstream in(R"({"path": "a", "v": 2})" "\n" R"({"path": "b", "v": 40})" "\n");
  RunOptions o;
  o.in = &in;
  o.progress.mode = "never";
  std::string out;
  o.sink = [&](const std::string& l) { out += l; };
  EXPECT_EQ(run_whole(sum, o).exit_code, 0);
  EXPECT_EQ(test::jsonl(out)[0]["total"], 42);
}

TEST(Runner, RecordContract) {
  InputItem it;
  ASSERT_TRUE(parse_input_line(R"({"path": "/c/x.mp4", "source": "/v/orig.mp4"})", &it));
  EXPECT_EQ(it.media, "/c/x.mp4");                 // a stage reads `path`
  EXPECT_EQ(it.record["source"], "/v/orig.mp4");   // and never touches `source`
  ASSERT_TRUE(parse_input_line("/v/raw.mp4", &it));
  EXPECT_EQ(it.record["source"], "/v/raw.mp4");    // the first stage sets it
  Json r = {{"frames", 190}, {"duration_s", 7.6}, {"scenes", {{"cuts", {116}}}}, {"keep", 1}};
  drop_media_fields(r);
  EXPECT_EQ(r, Json({{"keep", 1}}));
}

}  // namespace
