// SPDX-License-Identifier: Apache-2.0
// reel caption: captions per window (caption/windows.h) from a vision-language model behind an
// OpenAI-compatible /v1/chat/completions endpoint (caption/openai.h), through one shared HTTP
// engine (net/http.h) that keeps `concurrency` requests in flight for all workers together.
//
// Each record gets "captions": [{start_frame, end_frame, text, model, prompt_tokens,
// completion_tokens, finish_reason}] in window order; a window that fails gets an entry in
// "errors" naming it, and no caption. The optional enhancement pass sends each caption to a
// text model and stores its rewrite beside the original, as the caption's "enhanced":
// {text, model, prompt_tokens, completion_tokens, finish_reason}; captions that already have
// one are not sent again, so the pass can also run alone over captioned records. A record that already has a caption for a window keeps
// it (a re-run only asks for what is missing). The API key is sent as a bearer token and never
// logged or written.
#pragma once
#include <memory>
#include <string>

#include "reel/caption/openai.h"
#include "reel/caption/windows.h"
#include "reel/net/http.h"
#include "reel/pipeline/runner.h"

namespace reel {

struct CaptionConfig {
  std::string endpoint;      // base URL ending in /v1
  std::string api_key;       // "" = no Authorization header
  ChatOptions chat;          // model ("auto": the first of /v1/models), prompt, sampling
  WindowOptions windows;
  std::string send = "images";  // images: base64 JPEG image_url parts; video: one mp4 video_url
  int max_side = 512;        // longer side of the frames sent
  int jpeg_quality = 85;
  int concurrency = 8;
  double timeout_s = 120;
  RetryPolicy retry;
  int breaker_after = 8;     // requests in a row failing for good before the batch stops
  int decode_threads = 1;
  std::string ledger;        // resume ledger ("" = none)
  // The enhancement pass: enhance.model "" = off; "auto" = the first model of its endpoint.
  ChatOptions enhance;
  std::string enhance_endpoint;  // "" = endpoint
  std::string enhance_api_key;   // its own key: a hosted caption key never goes to another host
};

// Resolves each "auto" model (captions, enhancement) against its endpoint's /v1/models, in
// place; throws ServiceUnavailable when an endpoint does not answer or lists no model.
void resolve_caption_models(CaptionConfig& config);

std::unique_ptr<Stage> make_caption_stage(const CaptionConfig& config);

}  // namespace reel
