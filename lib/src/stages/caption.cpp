// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/caption.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <optional>

#include "reel/core/log.h"
#include "reel/media/decoder.h"
#include "reel/media/preview.h"
#include "reel/media/video_writer.h"
#include "reel/pipeline/frame_share.h"
#include "reel/pipeline/record.h"

namespace reel {

namespace {

std::vector<std::string> auth_headers(const std::string& api_key) {
  std::vector<std::string> h = {"Content-Type: application/json"};
  if (!api_key.empty()) h.push_back("Authorization: Bearer " + api_key);
  return h;
}

std::string base_url(const std::string& endpoint) {
  std::string u = endpoint;
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u;
}

// The window's sampled frames as an mp4 at the sampling rate (even size, as H.264 wants).
std::string window_mp4(const std::vector<const Frame*>& frames, double fps) {
  static std::atomic<int> counter{0};
  const int w = frames[0]->width & ~1, h = frames[0]->height & ~1;
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("reel-caption-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".mp4");
  {
    VideoWriter vw(path, w, h, std::max(1, static_cast<int>(std::lround(fps * 1000))), 1000, "auto", 23);
    std::vector<uint8_t> even(static_cast<size_t>(w) * h * 3);
    for (const Frame* f : frames) {
      for (int y = 0; y < h; ++y)
        std::copy(f->data.begin() + static_cast<size_t>(y) * f->width * 3, f->data.begin() + (static_cast<size_t>(y) * f->width + w) * 3,
                  even.begin() + static_cast<size_t>(y) * w * 3);
      vw.write(even.data());
    }
    vw.close();
  }
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return base64(bytes);
}

struct Shared {
  explicit Shared(const CaptionConfig& c) : engine(c.concurrency), breaker(c.breaker_after), enhance_breaker(c.breaker_after) {}
  HttpEngine engine;  // one cap on requests in flight, both passes together
  CircuitBreaker breaker, enhance_breaker;  // one per endpoint: each can be down alone
};

std::string enhance_endpoint(const CaptionConfig& c) { return c.enhance_endpoint.empty() ? c.endpoint : c.enhance_endpoint; }

std::string window_name(int64_t start, int64_t end) {
  return "window [" + std::to_string(start) + ", " + std::to_string(end) + ")";
}

// One request's answer: a ChatResult (its error naming the attempts when it failed), or nothing
// when the request stopped the batch (the circuit breaker), its exception kept in *fatal.
std::optional<ChatResult> answer_of(std::future<HttpResponse>& f, std::exception_ptr* fatal) {
  HttpResponse resp;
  try {
    resp = f.get();
  } catch (...) {
    if (!*fatal) *fatal = std::current_exception();
    return std::nullopt;
  }
  ChatResult r = resp.status == 0 ? ChatResult{false, "", "", "no answer from the endpoint: " + resp.error}
                                  : parse_chat_response(resp.status, resp.body);
  if (!r.ok && resp.attempts > 1) r.error += " (after " + std::to_string(resp.attempts) + " attempts)";
  return r;
}

// What one clip needs: its windows, the captions it already has, the frames the missing windows
// send and how they are converted (shared by process() and reel run's shared-decode planner).
struct WindowPlan {
  std::vector<CaptionWindow> windows;
  std::map<std::pair<int64_t, int64_t>, Json> have;
  std::vector<int64_t> wanted;  // sorted, unique
  DecodeOptions decode;
};

WindowPlan plan_windows(const CaptionConfig& c, const VideoInfo& info, const Json& rec) {
  WindowPlan p;
  const double fps = info.fps > 0 ? info.fps : 25.0;
  const int64_t frames = expected_frames(info, rec.value("duration_s", 0.0));
  const int w = info.display_width, h = info.display_height;
  // Windows that already have a caption keep it.
  if (rec.contains("captions") && rec["captions"].is_array())
    for (const auto& cap : rec["captions"])
      if (cap.is_object() && cap.contains("text") && cap["start_frame"].is_number_integer() && cap["end_frame"].is_number_integer())
        p.have[{cap["start_frame"].get<int64_t>(), cap["end_frame"].get<int64_t>()}] = cap;
  p.windows = caption_windows(frames, fps, c.windows);
  for (const auto& win : p.windows)
    if (!p.have.count({win.start_frame, win.end_frame})) p.wanted.insert(p.wanted.end(), win.frames.begin(), win.frames.end());
  std::sort(p.wanted.begin(), p.wanted.end());
  p.wanted.erase(std::unique(p.wanted.begin(), p.wanted.end()), p.wanted.end());
  p.decode.format = PixelFormat::RGB24;
  if (w > 0 && h > 0 && std::max(w, h) > c.max_side)
    p.decode.out_width = w >= h ? c.max_side : std::max(2, static_cast<int>(std::lround(static_cast<double>(c.max_side) * w / h)));
  return p;
}

class CaptionProcessor : public Processor {
 public:
  CaptionProcessor(const CaptionConfig& c, Shared& s, FrameShare* share, int slot) : c_(c), s_(s), share_(share), slot_(slot) {}

  StageOutput process(const InputItem& item) override {
    FrameShare::Shared sh;
    const bool from_share = share_ && share_->take(item.media, slot_, &sh);
    const VideoInfo info = from_share ? sh.info : VideoDecoder::open(item.media, DecodeOptions{})->info();
    Json rec = item.record;
    const WindowPlan p = plan_windows(c_, info, rec);
    const std::vector<CaptionWindow>& windows = p.windows;
    std::vector<const CaptionWindow*> todo;
    for (const auto& win : windows)
      if (!p.have.count({win.start_frame, win.end_frame})) todo.push_back(&win);
    // The frames every missing window sends, as base64 JPEG, decoded once at the JPEG size (or
    // taken from reel run's shared decode, converted the same way).
    std::map<int64_t, std::string> jpeg;
    std::map<int64_t, Frame> raw;  // --send video: the frames themselves
    if (!p.wanted.empty()) {
      std::vector<Frame> got;
      if (from_share && sh.indices == p.wanted && sh.frames.size() == p.wanted.size()) {
        got = std::move(sh.frames);
      } else {
        DecodeOptions o = p.decode;
        o.threads = c_.decode_threads;
        auto dec = VideoDecoder::open(item.media, o);
        got = decode_indices(*dec, p.wanted).frames;
      }
      for (Frame& f : got) {
        if (c_.send == "video") raw[f.index] = std::move(f);
        else jpeg[f.index] = base64(encode_jpeg(f.data.data(), f.width, f.height, c_.max_side, c_.jpeg_quality));
      }
    }
    const std::map<std::pair<int64_t, int64_t>, Json>& have = p.have;
    // Every missing window of this clip in flight at once; the engine caps the total.
    std::vector<std::future<HttpResponse>> answers;
    std::vector<std::string> window_error(todo.size());
    for (size_t k = 0; k < todo.size(); ++k) {
      std::vector<std::string> images;
      std::vector<const Frame*> frames;
      for (int64_t f : todo[k]->frames) {
        if (auto it = jpeg.find(f); it != jpeg.end()) images.push_back(it->second);
        if (auto it = raw.find(f); it != raw.end()) frames.push_back(&it->second);
      }
      if (images.empty() && frames.empty()) {
        window_error[k] = "no decodable frame in the window";
        answers.emplace_back();
        continue;
      }
      const std::string body = c_.send == "video" ? chat_request_body_video(c_.chat, window_mp4(frames, c_.windows.fps))
                                                  : chat_request_body(c_.chat, images);
      HttpRequest req{base_url(c_.endpoint) + "/chat/completions", body, auth_headers(c_.api_key), c_.timeout_s};
      answers.push_back(std::async(std::launch::async, [this, req] { return send(s_.engine, req, c_.retry, &s_.breaker); }));
    }
    Json captions = Json::array();
    for (auto& [span, cap] : have) captions.push_back(cap);
    std::exception_ptr fatal;
    for (size_t k = 0; k < todo.size(); ++k) {
      const CaptionWindow& win = *todo[k];
      const std::string where = window_name(win.start_frame, win.end_frame);
      if (!window_error[k].empty()) {
        add_error(rec, "caption", Code::InvalidData, where + ": " + window_error[k]);
        continue;
      }
      const std::optional<ChatResult> r = answer_of(answers[k], &fatal);
      if (!r) continue;
      if (!r->ok) {
        add_error(rec, "caption", Code::InvalidData, where + ": " + r->error);
        continue;
      }
      captions.push_back({{"start_frame", win.start_frame}, {"end_frame", win.end_frame}, {"text", r->text},
                          {"model", c_.chat.model}, {"prompt_tokens", r->prompt_tokens},
                          {"completion_tokens", r->completion_tokens}, {"finish_reason", r->finish_reason},
                          {"frames", win.frames.size()}});
    }
    if (fatal) std::rethrow_exception(fatal);
    std::sort(captions.begin(), captions.end(),
              [](const Json& a, const Json& b) { return a["start_frame"].get<int64_t>() < b["start_frame"].get<int64_t>(); });
    if (!c_.enhance.model.empty()) enhance(rec, captions);
    rec["captions"] = captions;
    if (windows.empty()) add_error(rec, "caption", Code::InvalidData, "fewer than " + std::to_string(c_.windows.min_frames) + " frames: no caption window");
    return {{rec}, Json()};
  }

  // The text pass: every caption without an "enhanced" rewrite is sent at once (the engine caps
  // the total); a failure is an error for its window and leaves the caption as it was.
  void enhance(Json& rec, Json& captions) {
    std::vector<size_t> sent;
    std::vector<std::future<HttpResponse>> answers;
    for (size_t i = 0; i < captions.size(); ++i) {
      const Json& cap = captions[i];
      if (cap.contains("enhanced") || !cap.contains("text") || !cap["text"].is_string()) continue;
      HttpRequest req{base_url(enhance_endpoint(c_)) + "/chat/completions", chat_request_body_text(c_.enhance, cap["text"]),
                      auth_headers(c_.enhance_api_key), c_.timeout_s};
      sent.push_back(i);
      answers.push_back(std::async(std::launch::async, [this, req] { return send(s_.engine, req, c_.retry, &s_.enhance_breaker); }));
    }
    std::exception_ptr fatal;
    for (size_t k = 0; k < sent.size(); ++k) {
      Json& cap = captions[sent[k]];
      const std::optional<ChatResult> r = answer_of(answers[k], &fatal);
      if (!r) continue;
      if (!r->ok) {
        add_error(rec, "caption", Code::InvalidData,
                  window_name(cap.value("start_frame", int64_t{0}), cap.value("end_frame", int64_t{0})) + ": enhance: " + r->error);
        continue;
      }
      cap["enhanced"] = {{"text", r->text}, {"model", c_.enhance.model}, {"prompt_tokens", r->prompt_tokens},
                         {"completion_tokens", r->completion_tokens}, {"finish_reason", r->finish_reason}};
    }
    if (fatal) std::rethrow_exception(fatal);
  }

 private:
  const CaptionConfig& c_;
  Shared& s_;
  FrameShare* share_;
  int slot_;
};

class CaptionStage : public Stage {
 public:
  explicit CaptionStage(CaptionConfig c) : c_(std::move(c)), shared_(std::make_unique<Shared>(c_)) {}
  std::string name() const override { return "caption"; }
  void open(const Shard& shard) override { ledger_ = c_.ledger.empty() ? "" : shard.name(c_.ledger); }
  std::unique_ptr<Processor> processor(int) override {
    return std::make_unique<CaptionProcessor>(c_, *shared_, share_.get(), slot_);
  }
  bool share_frames(const std::shared_ptr<FrameShare>& share, bool producer) override {
    if (producer) return false;
    share_ = share;
    const CaptionConfig c = c_;
    slot_ = share->add_consumer("caption", [c](const VideoInfo& info, const Json& record) -> std::optional<FrameShare::Want> {
      WindowPlan p = plan_windows(c, info, record);
      if (p.wanted.empty()) return std::nullopt;
      return FrameShare::Want{p.decode, std::move(p.wanted)};
    });
    return true;
  }
  std::string ledger_path() const override { return ledger_; }
  Json fingerprint() const override {
    return {{"endpoint", c_.endpoint}, {"model", c_.chat.model}, {"send", c_.send}, {"prompt", c_.chat.prompt}, {"max_side", c_.max_side},
            {"window", c_.windows.window}, {"fps", c_.windows.fps}, {"max_tokens", c_.chat.max_tokens},
            {"temperature", c_.chat.temperature}, {"extra", c_.chat.extra}, {"enhance_model", c_.enhance.model},
            {"enhance_prompt", c_.enhance.prompt}, {"enhance_endpoint", enhance_endpoint(c_)}, {"enhance_max_tokens", c_.enhance.max_tokens},
            {"enhance_temperature", c_.enhance.temperature}};
  }

 private:
  CaptionConfig c_;
  std::unique_ptr<Shared> shared_;
  std::string ledger_;
  std::shared_ptr<FrameShare> share_;
  int slot_ = -1;
};

}  // namespace

namespace {
std::string resolve_model(const CaptionConfig& c, const std::string& endpoint, const std::string& key, const char* option) {
  HttpEngine engine(1);
  CircuitBreaker breaker(1);
  HttpRequest req{base_url(endpoint) + "/models", "", auth_headers(key), c.timeout_s};
  const HttpResponse r = send(engine, req, c.retry, &breaker);
  if (r.status != 200)
    throw Error(Code::ServiceUnavailable, req.url + " answered " + (r.status ? "HTTP " + std::to_string(r.status) : r.error) +
                                              "; name the model with " + option);
  const std::string id = first_model_id(r.body);
  if (id.empty()) throw Error(Code::ServiceUnavailable, req.url + " lists no model; name it with " + option);
  REEL_INFO("caption", "%s: %s (the first of %s)", option, id.c_str(), req.url.c_str());
  return id;
}
}  // namespace

void resolve_caption_models(CaptionConfig& c) {
  if (c.chat.model == "auto") c.chat.model = resolve_model(c, c.endpoint, c.api_key, "--model");
  if (c.enhance.model == "auto") c.enhance.model = resolve_model(c, enhance_endpoint(c), c.enhance_api_key, "--enhance-model");
}

std::unique_ptr<Stage> make_caption_stage(const CaptionConfig& config) { return std::make_unique<CaptionStage>(config); }

}  // namespace reel
