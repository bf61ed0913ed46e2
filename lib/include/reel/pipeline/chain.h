// SPDX-License-Identifier: Apache-2.0
// Several stages as one pipeline in one process: step i's records are step i+1's input, exactly
// as `reel a | reel b | ...` passes them, each step on its own runner (its workers, ordering,
// ledger and resume), the steps running at once and joined by bounded in-memory pipes.
//
// A fatal error in one step ends the chain the way it ends a shell pipeline: every step stops
// taking inputs (cancellation), prints the records it finished, and the error is rethrown (the
// first in step order). Otherwise the exit code is the worst of the steps' (3 if
// any step had failed records, 130 if interrupted).
#pragma once
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "reel/pipeline/runner.h"

namespace reel {

struct ChainStep {
  std::string label;                   // for logs: "filter"
  std::unique_ptr<Stage> stage;        // one of the two
  std::unique_ptr<WholeStage> whole;
  RunOptions options;                  // its inputs, in and sink are set by run_chain except the first's inputs
};

struct ChainResult {
  int exit_code = 0;
  std::vector<RunResult> steps;
};

// in: the first step's stdin (nullptr: std::cin); sink: where the last step's lines go
// (nullptr: stdout).
ChainResult run_chain(std::vector<ChainStep>& steps, std::istream* in = nullptr,
                      std::function<void(const std::string&)> sink = nullptr);

}  // namespace reel
