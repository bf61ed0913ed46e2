// SPDX-License-Identifier: Apache-2.0
// Overhead of the stage runner on trivial records: N JSON lines through a stage that adds
// one field, against a plain loop in the same process that does the least any JSONL stage
// must (parse the line, add the field, serialise it). Prints one JSON line per worker count
// with records/s and the ratio to the plain loop. Usage: bench_runner [--records N] [--repeat R]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include "reel/core/log.h"
#include "reel/pipeline/runner.h"

using clk = std::chrono::steady_clock;
using namespace reel;

namespace {

class Tag : public Stage {
 public:
  std::string name() const override { return "tag"; }
  std::unique_ptr<Processor> processor(int) override {
    struct P : Processor {
      StageOutput process(const InputItem& it) override {
        Json r = it.record;
        r["tag"] = 1;
        return {{std::move(r)}, Json()};
      }
    };
    return std::make_unique<P>();
  }
};

std::string input(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += R"({"id":"c)" + std::to_string(i) + R"(","path":"/data/clips/c)" + std::to_string(i) +
         R"(.mp4","source":"/data/v.mp4","span":{"frames":[0,120]},"errors":[]})" "\n";
  return s;
}

double plain(const std::string& in, size_t* bytes) {
  const auto t0 = clk::now();
  std::istringstream s(in);
  std::string line, out;
  while (std::getline(s, line)) {
    Json r = Json::parse(line);
    r["tag"] = 1;
    out += r.dump() + "\n";
  }
  *bytes = out.size();
  return std::chrono::duration<double>(clk::now() - t0).count();
}

double runner(const std::string& in, int workers, size_t* bytes) {
  std::istringstream s(in);
  Tag stage;
  RunOptions o;
  o.in = &s;
  o.workers = workers;
  o.progress.mode = "never";
  size_t n = 0;
  o.sink = [&](const std::string& l) { n += l.size(); };
  const auto t0 = clk::now();
  run_stage(stage, o);
  *bytes = n;
  return std::chrono::duration<double>(clk::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000, repeat = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--records") && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
  }
  log_set_level(LogLevel::Error);
  const std::string in = input(n);
  size_t b0 = 0, b1 = 0;
  double base = 1e30;
  for (int r = 0; r < repeat; ++r) base = std::min(base, plain(in, &b0));
  std::printf("{\"loop\": \"plain parse+dump\", \"records\": %d, \"records_per_s\": %.0f}\n", n, n / base);
  for (int w : {1, 2, 4}) {
    double best = 1e30;
    for (int r = 0; r < repeat; ++r) best = std::min(best, runner(in, w, &b1));
    std::printf("{\"loop\": \"runner\", \"workers\": %d, \"records\": %d, \"records_per_s\": %.0f, \"vs_plain\": %.2f, "
                "\"same_bytes\": %s}\n",
                w, n, n / best, base / best, b0 == b1 ? "true" : "false");
  }
  return 0;
}
