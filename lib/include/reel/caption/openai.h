// SPDX-License-Identifier: Apache-2.0
// The OpenAI chat-completions wire format that vLLM, SGLang, llama.cpp's server, Ollama and the
// hosted APIs all accept: a request with one user message of a text part and the window's
// frames as base64 JPEG image_url parts, and the answer's caption, finish reason and token
// counts. An answer that is not a caption (malformed JSON, no choices, a refusal, an empty or
// truncated text) is an error for that window, never stored as a caption.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace reel {

struct ChatOptions {
  std::string model;
  std::string prompt;
  double temperature = 0.1;
  int max_tokens = 1024;
  nlohmann::json extra = nlohmann::json::object();  // merged into the body last (top_p, seed, ...)
};

std::string chat_request_body(const ChatOptions& o, const std::vector<std::string>& jpeg_base64);
// The window as one mp4 video_url data URL (vLLM's extension of the format).
std::string chat_request_body_video(const ChatOptions& o, const std::string& mp4_base64);

struct ChatResult {
  bool ok = false;
  std::string text, finish_reason, error;
  int64_t prompt_tokens = -1, completion_tokens = -1;
};

// status: the HTTP status (0: no answer); body: what came back.
ChatResult parse_chat_response(long status, const std::string& body);

// A text-only request: the instruction, a blank line, then the text to work on (the caption
// enhancement pass). One user message of plain text, which every chat template accepts (some,
// Gemma's among them, have no system role).
std::string chat_request_body_text(const ChatOptions& o, const std::string& text);

// The first model id of a /v1/models answer ("" when there is none).
std::string first_model_id(const std::string& body);

// The default prompt: a detailed description of what is seen and what happens, in the spirit
// of the large pipelines' captioning prompts.
extern const char* const kDefaultCaptionPrompt;
// The default enhancement prompt, after Cosmos-Curate's caption enhancement: richer wording,
// nothing invented.
extern const char* const kDefaultEnhancePrompt;

}  // namespace reel
