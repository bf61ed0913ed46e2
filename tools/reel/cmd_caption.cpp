// SPDX-License-Identifier: Apache-2.0
// reel caption: captions per window from a VLM behind an OpenAI-compatible endpoint.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "commands.h"
#include "common.h"
#include "reel/stages/caption.h"

namespace reel::cli {

void register_caption(CLI::App& app, int* exit_code) {
  struct Opts {
    std::vector<std::string> inputs;
    CaptionConfig c;
    std::string prompt, prompt_file, extra_body, api_key_env = "OPENAI_API_KEY", enhance_key_env, enhance_extra;
    RunnerCli runner;
  };
  auto o = std::make_shared<Opts>();
  o->c.chat.model = "auto";
  if (const char* e = std::getenv("OPENAI_BASE_URL")) o->c.endpoint = e;
  auto* cmd = app.add_subcommand("caption", "Caption clips with a vision-language model behind an OpenAI-compatible endpoint");
  cmd->add_option("inputs", o->inputs, "Clips, directories, record files (.jsonl), or - for clip records on stdin (default)");
  cmd->add_option("--endpoint", o->c.endpoint, "Base URL ending in /v1 (default: $OPENAI_BASE_URL)");
  cmd->add_option("--model", o->c.chat.model, "Model name, or auto: the first that /v1/models lists")->capture_default_str();
  cmd->add_option("--prompt", o->prompt, "The caption prompt (default: a detailed description of the video)");
  cmd->add_option("--prompt-file", o->prompt_file, "Read the prompt from this file");
  cmd->add_option("--temperature", o->c.chat.temperature, "Sampling temperature")->capture_default_str();
  cmd->add_option("--max-tokens", o->c.chat.max_tokens, "Longest caption, in tokens (a longer one is an error: truncated)")
      ->capture_default_str();
  cmd->add_option("--extra-body", o->extra_body, "JSON object merged into every request body (e.g. '{\"top_p\": 0.9}')");
  cmd->add_option("--api-key-env", o->api_key_env, "Environment variable holding the API key (sent as a bearer token)")
      ->capture_default_str();
  cmd->add_option("--fps", o->c.windows.fps, "Frames per second sent (an even count per window, clamped to 4...768)")
      ->capture_default_str();
  cmd->add_option("--window", o->c.windows.window, "Native frames per caption window")->capture_default_str();
  cmd->add_option("--min-remainder", o->c.windows.min_remainder, "A remainder this long becomes its own window")
      ->capture_default_str();
  cmd->add_option("--max-side", o->c.max_side, "Longer side of the frames sent, in pixels")->capture_default_str();
  cmd->add_option("--send", o->c.send, "images: the frames as base64 JPEG image_url parts (every server); video: the window "
                  "as one mp4 video_url data URL at --fps (vLLM's extension)")
      ->capture_default_str()->check(CLI::IsMember({"images", "video"}));
  cmd->add_option("--concurrency", o->c.concurrency, "Requests in flight at once (all workers together)")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--timeout", o->c.timeout_s, "Seconds one request may take")->capture_default_str();
  cmd->add_option("--retries", o->c.retry.retries, "Retries of a request on 429, 5xx and timeouts")->capture_default_str();
  cmd->add_option("--retry-base", o->c.retry.base_s, "Backoff base in seconds (full jitter, doubling per retry)")
      ->capture_default_str();
  cmd->add_option("--breaker", o->c.breaker_after, "Stop the batch (exit 7) after this many requests in a row failed for good")
      ->capture_default_str();
  auto* g = "Enhancement pass (a text model rewrites each caption; stored beside it as \"enhanced\")";
  cmd->add_option("--enhance-model", o->c.enhance.model, "Text model for the pass, or auto (default: no pass)")->group(g);
  cmd->add_option("--enhance-prompt", o->c.enhance.prompt, "Instruction put before each caption (default: a vivid, faithful rewrite)")
      ->group(g);
  cmd->add_option("--enhance-endpoint", o->c.enhance_endpoint, "Its base URL (default: --endpoint)")->group(g);
  cmd->add_option("--enhance-api-key-env", o->enhance_key_env,
                  "Variable holding its API key (default: the caption key on the same endpoint, none on another)")
      ->group(g);
  cmd->add_option("--enhance-max-tokens", o->c.enhance.max_tokens, "Longest rewrite, in tokens")->capture_default_str()->group(g);
  cmd->add_option("--enhance-extra-body", o->enhance_extra, "JSON object merged into its request bodies (e.g. '{\"stop\": [\"\\n\"]}')")
      ->group(g);
  cmd->add_option("--enhance-temperature", o->c.enhance.temperature, "Its sampling temperature")->capture_default_str()->group(g);
  // Workers decode and wait; two more than the requests in flight keep the next clips' frames
  // ready while the endpoint works (0 = that default).
  o->runner.workers = 0;
  add_runner_options(cmd, &o->runner);
  cmd->footer(
      "\nRecords get \"captions\": [{start_frame, end_frame, text, model, prompt_tokens, completion_tokens, finish_reason}];\n"
      "a failed window gets an entry in \"errors\". With --enhance-model each caption also gets \"enhanced\": {text, model,\n"
      "prompt_tokens, completion_tokens, finish_reason}. Windows: 256 native frames, a remainder of >= 128 its own window.\n"
      "Examples:\n"
      "  reel caption --endpoint http://gpu-node:8000/v1 --model Qwen2.5-VL-7B-Instruct clips.jsonl > captioned.jsonl\n"
      "  OPENAI_BASE_URL=http://127.0.0.1:8080/v1 reel caption --concurrency 32 --workers 16 clips/ > captioned.jsonl" +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    CaptionConfig& c = o->c;
    if (c.endpoint.empty()) throw Error(Code::InvalidArgument, "no endpoint: pass --endpoint URL or set OPENAI_BASE_URL");
    if (const char* k = std::getenv(o->api_key_env.c_str())) c.api_key = k;
    c.chat.prompt = kDefaultCaptionPrompt;
    if (!o->prompt.empty()) c.chat.prompt = o->prompt;
    if (!o->prompt_file.empty()) {
      std::ifstream in(o->prompt_file);
      if (!in) throw Error(Code::InvalidArgument, "cannot read --prompt-file " + o->prompt_file);
      c.chat.prompt.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (!o->extra_body.empty()) {
      c.chat.extra = nlohmann::json::parse(o->extra_body, nullptr, false);
      if (!c.chat.extra.is_object()) throw Error(Code::InvalidArgument, "--extra-body must be a JSON object");
    }
    if (!c.enhance.model.empty()) {
      if (c.enhance.prompt.empty()) c.enhance.prompt = kDefaultEnhancePrompt;
      if (!o->enhance_extra.empty()) {
        c.enhance.extra = nlohmann::json::parse(o->enhance_extra, nullptr, false);
        if (!c.enhance.extra.is_object()) throw Error(Code::InvalidArgument, "--enhance-extra-body must be a JSON object");
      }
      if (!o->enhance_key_env.empty()) {
        const char* k = std::getenv(o->enhance_key_env.c_str());
        if (!k) throw Error(Code::InvalidArgument, "--enhance-api-key-env: " + o->enhance_key_env + " is not set");
        c.enhance_api_key = k;
      } else if (c.enhance_endpoint.empty() || c.enhance_endpoint == c.endpoint) {
        c.enhance_api_key = c.api_key;
      }
    }
    c.decode_threads = 1;
    if (o->runner.workers == 0) o->runner.workers = std::min(1024, c.concurrency + 2);
    c.ledger = o->runner.ledger;
    resolve_caption_models(c);
    auto stage = make_caption_stage(c);
    run_and_store(std::move(stage), run_options(o->runner, o->inputs), exit_code);
  });
}

}  // namespace reel::cli
