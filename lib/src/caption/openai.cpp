// SPDX-License-Identifier: Apache-2.0
#include "reel/caption/openai.h"

namespace reel {

const char* const kDefaultCaptionPrompt =
    "Describe this video in detail. Say what is seen (the setting, the people, animals and objects, their appearance), "
    "what happens and in what order, how the camera moves, and the lighting and style of the footage. Describe only "
    "what is visible; do not speculate. Answer in one paragraph of plain text.";

const char* const kDefaultEnhancePrompt =
    "Rewrite the following video caption to be more vivid and detailed: add color, texture and motion to the "
    "wording, but do not add objects, people or events the caption does not mention. Answer with the rewritten "
    "caption only, as one paragraph of plain text.";

namespace {
std::string body_with(const ChatOptions& o, nlohmann::json content) {
  nlohmann::json body = {{"model", o.model},
                         {"messages", nlohmann::json::array({{{"role", "user"}, {"content", content}}})},
                         {"temperature", o.temperature},
                         {"max_tokens", o.max_tokens}};
  if (o.extra.is_object())
    for (auto it = o.extra.begin(); it != o.extra.end(); ++it) body[it.key()] = it.value();
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

std::string chat_request_body(const ChatOptions& o, const std::vector<std::string>& jpeg_base64) {
  nlohmann::json content = nlohmann::json::array();
  content.push_back({{"type", "text"}, {"text", o.prompt}});
  for (const auto& b : jpeg_base64)
    content.push_back({{"type", "image_url"}, {"image_url", {{"url", "data:image/jpeg;base64," + b}}}});
  return body_with(o, std::move(content));
}

std::string chat_request_body_video(const ChatOptions& o, const std::string& mp4_base64) {
  nlohmann::json content = nlohmann::json::array();
  content.push_back({{"type", "text"}, {"text", o.prompt}});
  content.push_back({{"type", "video_url"}, {"video_url", {{"url", "data:video/mp4;base64," + mp4_base64}}}});
  return body_with(o, std::move(content));
}

std::string chat_request_body_text(const ChatOptions& o, const std::string& text) {
  return body_with(o, o.prompt + "\n\n" + text);
}

namespace {
std::string server_message(const nlohmann::json& j) {
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  }
  return "";
}
}  // namespace

ChatResult parse_chat_response(long status, const std::string& body) {
  ChatResult r;
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (status < 200 || status >= 300) {
    const std::string msg = j.is_discarded() ? "" : server_message(j);
    r.error = "HTTP " + std::to_string(status) + (msg.empty() ? "" : ": " + msg.substr(0, 300));
    return r;
  }
  if (j.is_discarded() || !j.is_object()) {
    r.error = "malformed JSON in the answer";
    return r;
  }
  if (j.contains("usage") && j["usage"].is_object()) {
    r.prompt_tokens = j["usage"].value("prompt_tokens", int64_t{-1});
    r.completion_tokens = j["usage"].value("completion_tokens", int64_t{-1});
  }
  if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() || !j["choices"][0].is_object()) {
    const std::string msg = server_message(j);
    r.error = "no choices in the answer" + (msg.empty() ? "" : ": " + msg.substr(0, 300));
    return r;
  }
  const auto& c = j["choices"][0];
  if (c.contains("finish_reason") && c["finish_reason"].is_string()) r.finish_reason = c["finish_reason"];
  const nlohmann::json msg = c.value("message", nlohmann::json::object());
  if (msg.contains("refusal") && msg["refusal"].is_string() && !msg["refusal"].get<std::string>().empty()) {
    r.error = "the model refused: " + msg["refusal"].get<std::string>().substr(0, 300);
    return r;
  }
  if (r.finish_reason == "content_filter") {
    r.error = "the answer was withheld by the server's content filter";
    return r;
  }
  r.text = msg.contains("content") && msg["content"].is_string() ? msg["content"].get<std::string>() : "";
  while (!r.text.empty() && std::isspace(static_cast<unsigned char>(r.text.back()))) r.text.pop_back();
  if (r.finish_reason == "length") {
    r.error = "the answer was cut off at max_tokens (finish_reason length)";
    return r;
  }
  if (r.text.find_first_not_of(" \t\r\n") == std::string::npos) {
    r.error = "an empty answer";
    return r;
  }
  r.ok = true;
  return r;
}

std::string first_model_id(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array()) return "";
  for (const auto& m : j["data"])
    if (m.is_object() && m.contains("id") && m["id"].is_string()) return m["id"];
  return "";
}

}  // namespace reel
