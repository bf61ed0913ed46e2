// SPDX-License-Identifier: Apache-2.0
// reel run PIPELINE.yaml: the stages of a pipeline file in one process (pipeline/chain.h). Each
// step is parsed by its own subcommand's definitions, so its options, types and checks are
// exactly the command line's; a mistake is a usage error naming the file and line.
#include <cstdio>
#include <set>

#include "commands.h"
#include "common.h"
#include "reel/core/log.h"
#include "reel/pipeline/chain.h"
#include "reel/pipeline/frame_share.h"
#include "reel/pipeline/pipeline_file.h"

namespace reel::cli {

namespace {

const std::set<std::string>& runnable() {
  static const std::set<std::string> s = {"scenes", "split", "filter", "embed", "dedup", "caption", "tokenize encode", "eval", "shard"};
  return s;
}

std::string joined(const std::vector<std::string>& w, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < w.size(); ++i) s += (s.empty() ? "" : " ") + w[i];
  return s;
}

// The line of the option a CLI11 message is about (the longest name it mentions), else the step's.
int line_of(const PipelineStep& step, const std::string& message) {
  int line = step.line;
  size_t best = 0;
  for (const auto& o : step.options)
    if (o.name.size() > best && message.find(o.name) != std::string::npos) best = o.name.size(), line = o.line;
  return line;
}

// --steps "A", "A-B" or "A-" (1-based, inclusive) of a file with n steps; "" is all of them.
std::pair<int, int> step_range(const std::string& spec, int n) {
  if (spec.empty()) return {1, n};
  const size_t dash = spec.find('-');
  auto num = [&](const std::string& t) {
    if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos || t.size() > 6)
      throw Error(Code::InvalidArgument, "--steps " + spec + ": expected N, A-B or A-");
    return std::stoi(t);
  };
  const int a = num(spec.substr(0, dash));
  const int b = dash == std::string::npos ? a : dash + 1 == spec.size() ? n : num(spec.substr(dash + 1));
  if (a < 1 || b < a || b > n)
    throw Error(Code::InvalidArgument, "--steps " + spec + ": the file has steps 1-" + std::to_string(n));
  return {a, b};
}

struct Built {
  std::vector<ChainStep> steps;
  std::vector<std::unique_ptr<CLI::App>> apps;  // own the options the stages were built from
  std::vector<std::string> commands;
};

Built build(const PipelineFile& pf) {
  Built b;
  for (const PipelineStep& spec : pf.steps) {
    const std::string name = joined(spec.command);
    const std::string at = pf.path + ":" + std::to_string(spec.line) + ": ";
    if (!runnable().count(name)) {
      std::string list;
      for (const auto& r : runnable()) list += (list.empty() ? "" : ", ") + r;
      throw Error(Code::InvalidArgument, at + "'" + name + "' is not a stage reel run knows (" + list + ")");
    }
    auto app = std::make_unique<CLI::App>("reel");
    int unused = 0;
    register_all(*app, &unused);
    app->require_subcommand(1);
    const std::vector<std::string> words = step_words(spec);
    std::vector<const char*> argv = {"reel"};
    for (const auto& w : words) argv.push_back(w.c_str());
    ChainStep step;
    step.label = name;
    bool got = false;
    set_stage_capture([&](std::unique_ptr<Stage> s, std::unique_ptr<WholeStage> w, const RunOptions& ro) {
      step.stage = std::move(s);
      step.whole = std::move(w);
      step.options = ro;
      got = true;
    });
    try {
      app->parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      set_stage_capture(nullptr);
      throw Error(Code::InvalidArgument, pf.path + ":" + std::to_string(line_of(spec, e.what())) + ": " + name + ": " + e.what());
    } catch (const Error& e) {
      // Nothing has run yet: whatever a step's options make fail (a missing model or file, a bad
      // value) is a mistake in the pipeline file.
      set_stage_capture(nullptr);
      throw Error(Code::InvalidArgument, pf.path + ":" + std::to_string(line_of(spec, e.what())) + ": " + name + ": " + e.what());
    }
    set_stage_capture(nullptr);
    if (!got) throw Error(Code::InvalidArgument, at + name + ": nothing to run");
    b.commands.push_back("reel " + joined(words));
    b.steps.push_back(std::move(step));
    b.apps.push_back(std::move(app));
  }
  return b;
}

}  // namespace

void register_run(CLI::App& app, int* exit_code) {
  struct Opts {
    std::string file;
    std::vector<std::string> inputs;
    bool dry_run = false;
    int64_t share_mb = 1024;
    std::string steps;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("run", "Run the stages of a pipeline file (YAML) in one process");
  cmd->add_option("pipeline", o->file, "The pipeline file")->required();
  cmd->add_option("inputs", o->inputs, "The first stage's inputs (default: the file's 'inputs', else stdin)");
  cmd->add_option("--steps", o->steps,
                  "Run only these steps (1-based: 2, 2-4, 3-); a range that starts after step 1 reads records from stdin (reel "
                  "slurm runs the per-input steps in its array and the rest in the merge job)");
  cmd->add_flag("--dry-run", o->dry_run, "Check the file and print the plan (one command per stage) without running it");
  cmd->add_option("--shared-frames-mb", o->share_mb,
                  "Memory for frames decoded once for several stages (filter's decode serves embed and caption); 0: "
                  "every stage decodes its own")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->footer(
      "\nThe file:\n"
      "  inputs: [videos/]\n"
      "  stages:\n"
      "    - split: {output: out/clips, max-len: 4}\n"
      "    - filter: {score-only: true}\n"
      "    - embed: {output: out/embeddings.h5}\n"
      "    - dedup: {rejected: out/duplicates.jsonl}\n"
      "    - shard: {output: out/dataset}\n"
      "Each stage is a subcommand with its long options (true = a flag, a list repeats it). The records printed equal\n"
      "those of the shell pipeline `reel split ... | reel filter ... | ...`; each stage keeps its own workers, ledger\n"
      "and resume." +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    PipelineFile pf = load_pipeline_file(o->file);
    const auto [first, last] = step_range(o->steps, static_cast<int>(pf.steps.size()));
    pf.steps = std::vector<PipelineStep>(pf.steps.begin() + (first - 1), pf.steps.begin() + last);
    Built b = build(pf);
    if (!o->inputs.empty()) b.steps[0].options.inputs = o->inputs;
    else if (!pf.inputs.empty() && first == 1) b.steps[0].options.inputs = pf.inputs;
    // One decode per clip: the first stage that can produce frames decodes for the frame
    // stages after it.
    std::shared_ptr<FrameShare> share;
    std::string sharing;
    if (o->share_mb > 0) {
      share = std::make_shared<FrameShare>(static_cast<size_t>(o->share_mb) << 20);
      size_t producer = b.steps.size();
      for (size_t i = 0; i < b.steps.size(); ++i) {
        ChainStep& st = b.steps[i];
        if (!st.stage) continue;
        if (producer == b.steps.size()) {
          if (st.stage->share_frames(share, true)) producer = i, sharing = st.label + " decodes each clip once for";
        } else if (st.stage->share_frames(share, false)) {
          sharing += " " + st.label;
        }
      }
      if (share->consumers() == 0) sharing.clear();
    }
    if (o->dry_run) {
      std::string plan;
      for (size_t i = 0; i < b.steps.size(); ++i) {
        const RunOptions& ro = b.steps[i].options;
        plan += std::to_string(i + 1) + ". " + b.commands[i];
        if (i == 0) plan += ro.inputs.empty() ? " < stdin" : " " + joined(ro.inputs);
        plan += "    (line " + std::to_string(pf.steps[i].line) + "; " +
                (b.steps[i].stage ? std::to_string(ro.workers) + " workers" : std::string("whole input")) +
                (ro.shard.sharded() ? "; shard " + std::to_string(ro.shard.index) + "/" + std::to_string(ro.shard.count) : "") + ")\n";
      }
      plan += sharing.empty() ? "Each stage decodes the clips it reads itself.\n" : "Shared decode: " + sharing + ".\n";
      std::fputs(plan.c_str(), stdout);
      return;
    }
    REEL_INFO("run", "%zu stages from %s", b.steps.size(), pf.path.c_str());
    *exit_code = run_chain(b.steps).exit_code;
    if (!sharing.empty()) REEL_INFO("run", "shared decode: %s", share->summary().c_str());
  });
}

}  // namespace reel::cli
