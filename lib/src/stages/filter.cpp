// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/filter.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <optional>

#include "reel/core/cancel.h"
#include "reel/filter/learned.h"
#include "reel/filter/motion.h"
#include "reel/filter/nsfw.h"
#include "reel/filter/quality.h"
#include "reel/filter/text.h"
#include "reel/io/atomic_file.h"
#include "reel/media/decoder.h"
#include "reel/pipeline/frame_share.h"

namespace fs = std::filesystem;

namespace reel {

std::vector<ScoreRule> default_filter_rules() {
  return {{"motion.global_mean", 0.00098, true},
          {"motion.per_patch_min_256", 1e-6, true},
          {"quality.black_fraction", 0.5, false},
          {"quality.frozen_fraction", 0.5, false},
          {"text.text_area", 0.1, false},
          {"text.overlay", 0, false},
          {"safety.nsfw", 0.8, false}};
}

ScoreRule parse_score_rule(const std::string& spec, bool minimum) {
  const size_t eq = spec.find('=');
  char* end = nullptr;
  const double v = eq == std::string::npos ? 0 : std::strtod(spec.c_str() + eq + 1, &end);
  if (eq == std::string::npos || eq == 0 || !end || *end || end == spec.c_str() + eq + 1 || !std::isfinite(v))
    throw Error(Code::InvalidArgument, "want NAME=VALUE (for example quality.sharpness=50), got '" + spec + "'");
  return {spec.substr(0, eq), v, minimum};
}

namespace {

// The value of "scorer.name" in a scores object, or NaN.
double score_of(const Json& scores, const std::string& name) {
  const size_t dot = name.find('.');
  const Json* v = &scores;
  if (dot != std::string::npos) {
    auto it = scores.find(name.substr(0, dot));
    if (it == scores.end() || !it->is_object()) return NAN;
    v = &*it;
  }
  auto it = v->find(dot == std::string::npos ? name : name.substr(dot + 1));
  return it != v->end() && it->is_number() ? it->get<double>() : NAN;
}

// A second decode at the flow width, for clips whose codec gave no motion vectors.
MotionScores flow_motion(const std::string& media, double fps, double duration, const VideoInfo& info) {
  DecodeOptions o;
  o.format = PixelFormat::GRAY8;
  o.out_width = kFlowWidth;
  o.autorotate = false;  // the coded orientation, as the motion vectors have it
  auto dec = VideoDecoder::open(media, o);
  FlowMotionScorer s(fps, duration, info.width, info.height);
  Frame f;
  while (!s.done() && dec->next(&f)) {
    throw_if_cancelled();
    s.push(f.data.data(), f.width, f.height);
  }
  return s.finish();
}

class FilterProcessor : public Processor {
 public:
  std::unique_ptr<OcrEngine> ocr_;
  std::unique_ptr<NsfwNet> nsfw_;
  std::vector<std::unique_ptr<LearnedModel>> learned_;
  FilterProcessor(const FilterConfig& c, const ComputeTarget& target, std::shared_ptr<FrameShare> share)
      : c_(c), share_(std::move(share)) {
    if (c.text) ocr_ = std::make_unique<OcrEngine>();  // one engine and one network per worker
    if (!c.nsfw_model.empty()) nsfw_ = std::make_unique<NsfwNet>(c.nsfw_model, target);
    for (const auto& card : c.model_cards) learned_.push_back(std::make_unique<LearnedModel>(load_model_card(card), target));
  }
  StageOutput process(const InputItem& item) override {
    DecodeOptions o;
    o.threads = c_.decode_threads;
    o.motion_vectors = c_.motion;
    o.format = PixelFormat::RGB24;
    // Every clip at one analysis size: 640 px when OCR or a network looks at the frames (quality
    // scales them further down), else straight to quality's 384 px.
    o.out_width = c_.text || nsfw_ || !learned_.empty() ? kTextWidth : kQualityWidth;
    o.convert = c_.quality || c_.text || nsfw_ || !learned_.empty();
    o.luma_thumb_width = kThumbWidth;
    auto dec = VideoDecoder::open(item.media, o);
    const VideoInfo& info = dec->info();
    const double fps = info.fps > 0 ? info.fps : 25.0;
    QualityScorer quality(fps);
    // Pixels only for the frames some scorer samples: every scorer's step is a multiple.
    int64_t every = quality.sample_step();
    std::vector<LearnedScorer> learned;
    for (auto& m : learned_) {
      const int64_t step = std::max<int64_t>(1, std::lround(fps / m->card().fps));
      every = std::gcd(every, step);
      learned.emplace_back(*m, step);
    }
    dec->set_convert_every(static_cast<int>(every));
    // reel run: the frames later stages will want of this clip, from this same decode.
    SharedDecode shared(share_.get(), *dec, item.record);
    const double duration = info.duration_s > 0 ? info.duration_s : item.record.value("duration_s", 0.0);
    MotionScorer motion(fps, duration);
    std::optional<TextScorer> text;
    if (c_.text) text.emplace(*ocr_, 2 * quality.sample_step());  // one frame a second
    std::optional<NsfwScorer> safety;
    if (nsfw_) safety.emplace(*nsfw_, 2 * quality.sample_step());
    Frame f;
    int64_t frames = 0;
    while (dec->next(&f)) {
      throw_if_cancelled();
      ++frames;
      shared.collect(f);
      if (c_.motion && !motion.done()) {
        motion.push(f);
        if (motion.done()) dec->stop_motion_vectors();
      }
      if (c_.quality) quality.push(f);
      if (text) text->push(f);
      if (safety) safety->push(f);
      for (auto& l : learned) l.push(f);
    }
    Json rec = item.record;
    Json scores = rec.contains("scores") && rec["scores"].is_object() ? rec["scores"] : Json::object();
    if (c_.motion) {
      MotionScores m = motion.finish();
      const char* method = "motion_vectors";
      if (m.frames == 0 && frames > 1 && std::min(info.width, info.height) >= 256) {
        m = flow_motion(item.media, fps, duration, info);  // no vectors: optical flow instead
        method = "dis_flow";
      }
      Json j = {{"method", method},
                {"global_mean", m.global_mean},
                {"per_patch_min_256", m.per_patch_min_256},
                {"per_patch_min_256_box", m.per_patch_min_256_box},
                {"frames", m.frames}};
      if (!m.note.empty()) j["note"] = m.note;
      scores["motion"] = j;
    }
    if (c_.quality) scores["quality"] = quality.finish();
    if (text) scores["text"] = text->finish();
    if (safety) scores["safety"] = safety->finish();
    for (size_t k = 0; k < learned.size(); ++k) scores[learned_[k]->card().name] = learned[k].finish();
    scores["stream"] = {{"width", info.display_width}, {"height", info.display_height}, {"fps", info.fps}, {"frames", frames}};
    rec["scores"] = scores;
    Json reasons = Json::array();
    auto reject = [&](const std::string& score, double value, double threshold, const char* rule) {
      reasons.push_back({{"score", score}, {"value", std::isfinite(value) ? Json(value) : Json()}, {"threshold", threshold},
                         {"rule", rule}});
    };
    if (frames == 0) reasons.push_back({{"score", "stream.frames"}, {"value", 0}, {"rule", "no usable frame"}});
    if (info.display_width < c_.min_width) reject("stream.width", info.display_width, c_.min_width, "min");
    if (info.display_height < c_.min_height) reject("stream.height", info.display_height, c_.min_height, "min");
    if (info.fps < c_.min_fps) reject("stream.fps", info.fps, c_.min_fps, "min");
    for (const ScoreRule& r : c_.rules) {
      const std::string scorer = r.score.substr(0, r.score.find('.'));
      if ((scorer == "motion" && !c_.motion) || (scorer == "quality" && !c_.quality) || (scorer == "text" && !c_.text) ||
          (scorer == "safety" && c_.nsfw_model.empty()))
        continue;
      const double v = score_of(scores, r.score);
      if (!std::isfinite(v)) reject(r.score, v, r.threshold, "missing");
      else if (r.minimum ? v < r.threshold : v > r.threshold) reject(r.score, v, r.threshold, r.minimum ? "min" : "max");
    }
    const bool kept = reasons.empty();
    rec["filter"] = {{"kept", kept}, {"reasons", reasons}};
    if (kept || c_.score_only) shared.put(item.media, frames);  // a rejected clip goes no further
    if (kept || c_.score_only) return {{rec}, Json()};
    return {{}, Json{{"rejected", rec}}};
  }

 private:
  const FilterConfig& c_;
  std::shared_ptr<FrameShare> share_;
};

class FilterStage : public Stage {
 public:
  explicit FilterStage(FilterConfig c) : c_(std::move(c)) {
    // Each worker loads its own network later; a wrong path is a usage error now, before any input.
    std::error_code ec;
    if (!c_.nsfw_model.empty() && !fs::is_regular_file(c_.nsfw_model, ec))
      throw Error(Code::ModelError, "--nsfw-model: " + c_.nsfw_model + " not found");
    // A card's own threshold is a rule unless the user set one for that score.
    for (const auto& path : c_.model_cards) {
      const ModelCard card = load_model_card(path);
      const std::string score = card.name + ".score";
      const bool given = std::any_of(c_.rules.begin(), c_.rules.end(), [&](const ScoreRule& r) { return r.score == score; });
      if (card.has_threshold && !given) c_.rules.push_back({score, card.threshold, card.threshold_min});
    }
  }
  ~FilterStage() override {
    if (rejected_) std::fclose(rejected_);
  }
  std::string name() const override { return "filter"; }
  void open(const Shard& shard) override {
    if (!c_.rejected.empty()) {
      const std::string path = shard.name(c_.rejected);
      const fs::path dir = fs::absolute(path).parent_path();
      ensure_writable_dir(dir, "folder of the rejected file");
      // Rewritten from the start on every run: resumed inputs feed it again from the ledger.
      rejected_ = std::fopen(path.c_str(), "wb");
      if (!rejected_) throw Error(Code::OutputError, "cannot write " + path + ": " + std::strerror(errno));
      rejected_path_ = path;
    }
    ledger_ = !c_.ledger.empty() ? shard.name(c_.ledger) : rejected_path_.empty() ? "" : rejected_path_ + ".ledger.jsonl";
  }
  std::unique_ptr<Processor> processor(int index) override {
    const ComputeTarget target = c_.targets.empty() ? ComputeTarget{} : c_.targets[index % c_.targets.size()];
    return std::make_unique<FilterProcessor>(c_, target, share_);
  }
  bool share_frames(const std::shared_ptr<FrameShare>& share, bool producer) override {
    if (!producer) return false;
    share_ = share;
    return true;
  }
  std::string ledger_path() const override { return ledger_; }
  Json fingerprint() const override {
    Json rules = Json::array();
    for (const auto& r : c_.rules) rules.push_back({r.score, r.threshold, r.minimum});
    return {{"motion", c_.motion}, {"quality", c_.quality}, {"text", c_.text}, {"nsfw", !c_.nsfw_model.empty()},
            {"cards", c_.model_cards}, {"rules", rules}, {"min_width", c_.min_width},
            {"min_height", c_.min_height}, {"min_fps", c_.min_fps}, {"score_only", c_.score_only}};
  }
  void collect(const InputItem&, StageOutput& out) override {
    if (!rejected_ || !out.payload.is_object() || !out.payload.contains("rejected")) return;
    const std::string line = out.payload["rejected"].dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), rejected_) != line.size())
      throw Error(Code::OutputError, "writing " + rejected_path_ + ": " + std::strerror(errno));
    dirty_ = true;
  }
  void commit() override {
    if (!rejected_ || !dirty_) return;
    if (std::fflush(rejected_) != 0 || ::fsync(fileno(rejected_)) != 0)
      throw Error(Code::OutputError, "writing " + rejected_path_ + ": " + std::strerror(errno));
    dirty_ = false;
  }
  std::vector<Json> finish(bool) override {
    commit();
    return {};
  }

 private:
  FilterConfig c_;
  FILE* rejected_ = nullptr;
  std::string rejected_path_, ledger_;
  std::shared_ptr<FrameShare> share_;
  bool dirty_ = false;
};

}  // namespace

std::unique_ptr<Stage> make_filter_stage(const FilterConfig& config) { return std::make_unique<FilterStage>(config); }

}  // namespace reel
