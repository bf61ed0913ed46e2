// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/split.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "reel/core/cancel.h"
#include "reel/core/log.h"
#include "reel/io/atomic_file.h"
#include "reel/io/uuid.h"
#include "reel/stages/scenes.h"
#include "reel/storage/output_target.h"

namespace fs = std::filesystem;

namespace reel {
namespace {

// A clip is complete when its JSON sidecar exists and names the mp4's exact size.
// (For an S3 output the sidecar stays staged and the clip is checked where it was published.)
bool load_complete(const fs::path& json_path, const fs::path& mp4_path, const OutputTarget& target, Json* rec) {
  std::error_code ec;
  if (!fs::exists(json_path, ec)) return false;
  try {
    std::ifstream f(json_path);
    Json j = Json::parse(f);
    if (!target.present(target.published(mp4_path.string()), j.value("bytes", int64_t(-1)))) return false;
    *rec = std::move(j);
    return true;
  } catch (...) {
    return false;
  }
}

// The cuts an upstream `reel scenes` record carries, if it does and they fit the video.
bool given_cuts(const Json& rec, std::vector<int64_t>* cuts, std::vector<Transition>* transitions, Json* detector) {
  auto s = rec.find("scenes");
  if (s == rec.end() || !s->is_object() || !s->contains("cuts") || !(*s)["cuts"].is_array()) return false;
  for (const auto& c : (*s)["cuts"]) {
    if (!c.is_number_integer()) return false;
    cuts->push_back(c.get<int64_t>());
  }
  if (auto t = s->find("transitions"); t != s->end()) {
    if (!t->is_array()) return false;
    for (const auto& x : *t) {
      if (!x.is_object() || !x.contains("first") || !x.contains("last") || !x["first"].is_number_integer() ||
          !x["last"].is_number_integer() || x["last"].get<int64_t>() < x["first"].get<int64_t>())
        return false;
      transitions->push_back({x["first"].get<int64_t>(), x["last"].get<int64_t>(), x.value("kind", std::string("gradual"))});
    }
  }
  *detector = *s;
  for (const char* k : {"cuts", "transitions", "scores", "many", "warnings"}) detector->erase(k);
  return true;
}

class SplitProcessor : public Processor {
 public:
  SplitProcessor(const SplitConfig& c, const OutputTarget& target) : c_(c), target_(target) {}

  StageOutput process(const InputItem& item) override {
    SceneResult scan;
    std::vector<int64_t> cuts;
    std::vector<Transition> transitions;
    Json detector;
    bool reused = !c_.redetect && c_.plan.mode == "scenes" && given_cuts(item.record, &cuts, &transitions, &detector);
    if (reused) {
      scan = scan_timeline(item.media, c_.scene.threads, enough_for(c_.plan, cuts));
      if (scan.partial && plan_spans(scan, cuts, c_.plan, transitions).size() < static_cast<size_t>(c_.plan.max_clips))
        scan = scan_timeline(item.media, c_.scene.threads);  // shots too short to keep: look further
      const int64_t expect = item.record.value("frames", scan.frames);
      if (!scan.partial && expect != scan.frames) {
        REEL_WARN("split", "%s: the scenes record counts %lld frames, the video has %lld; detecting again", item.media.c_str(),
                  static_cast<long long>(expect), static_cast<long long>(scan.frames));
        reused = false;
        cuts.clear();
        transitions.clear();
      }
    }
    if (!reused) {
      if (c_.plan.mode == "scenes") {
        scan = detect_scenes(item.media, c_.scene);
        cuts = scan.cuts;
        transitions = scan.transitions;
        detector = {{"detector", scan.detector},
                    {"threshold", scan.threshold},
                    {"min_scene_len", c_.scene.min_scene_len},
                    {"analysis_width", c_.scene.analysis_width}};
      } else {
        scan = scan_timeline(item.media, c_.scene.threads, enough_for(c_.plan, {}));
        if (scan.partial && plan_spans(scan, cuts, c_.plan, transitions).size() < static_cast<size_t>(c_.plan.max_clips))
          scan = scan_timeline(item.media, c_.scene.threads);
      }
    }
    if (reused) detector["reused"] = true;
    Json base = item.record;
    drop_media_fields(base);
    for (const char* k : {"id", "path", "span", "clip_index", "split"}) base.erase(k);

    const bool copy_ok = !c_.exact && mp4_can_copy(scan.info.codec);
    if (!c_.exact && !copy_ok)
      REEL_INFO("split", "%s: codec %s cannot be stream-copied into mp4, re-encoding", item.media.c_str(),
                scan.info.codec.c_str());
    const double tb = static_cast<double>(scan.info.tb_num) / scan.info.tb_den;
    StageOutput out;
    int clip_index = 0;
    for (auto [a, b] : plan_spans(scan, cuts, c_.plan, transitions)) {
      throw_if_cancelled();  // clips written so far stay; a re-run finds them by their sidecars
      Json rec = base;
      int64_t s = a, e = b;
      const std::string mode = copy_ok ? "copy" : "encode";
      if (copy_ok) std::tie(s, e) = copy_span(scan.frame_meta, a, b);
      rec["split"] = {{"mode", c_.plan.mode}, {"requested", {a, b}}, {"write", mode}};
      if (c_.plan.mode == "scenes") rec["split"]["detector"] = detector;
      if (s >= e) {
        add_error(rec, "split", Code::InvalidArgument,
                  "shot [" + std::to_string(a) + "," + std::to_string(b) +
                      ") holds no whole GOP for stream copy; rerun with --exact to cut it frame-accurately");
        out.records.push_back(std::move(rec));
        continue;
      }
      const std::string id = uuid_v5(kReelClipNamespace, item.media + "#" + std::to_string(s) + "-" + std::to_string(e));
      const fs::path mp4 = fs::path(c_.outdir) / (id + ".mp4"), side = fs::path(c_.outdir) / (id + ".json");
      Json done;
      if (!c_.force && load_complete(side, mp4, target_, &done)) {
        for (auto& [k, v] : base.items())
          if (!done.contains(k)) done[k] = v;
        out.records.push_back(std::move(done));
        ++clip_index;
        continue;
      }
      try {
        const ClipResult cr = mode == "copy" ? write_clip_copy(item.media, scan, s, e, mp4)
                                             : write_clip_encode(item.media, scan, s, e, c_.encode, mp4);
        const double t0 = frame_time(scan, cr.start), t1 = frame_time(scan, cr.end);
        rec["id"] = id;
        rec["clip_index"] = clip_index++;
        rec["path"] = target_.published(mp4.string());
        rec["span"] = {{"frames", {cr.start, cr.end}},
                       {"seconds", {t0, t1}},
                       {"pts", {scan.frame_meta[cr.start].pts,
                                cr.end < scan.frames ? scan.frame_meta[cr.end].pts
                                                     : scan.first_pts + static_cast<int64_t>(std::llround(scan.duration_s / tb))}},
                       {"time_base", std::to_string(scan.info.tb_num) + "/" + std::to_string(scan.info.tb_den)}};
        rec["frames"] = cr.end - cr.start;
        rec["duration_s"] = t1 - t0;
        rec["fps"] = scan.info.fps;
        rec["width"] = scan.info.display_width;
        rec["height"] = scan.info.display_height;
        rec["codec"] = cr.codec;
        rec["bytes"] = cr.bytes;
        rec["split"]["write"] = cr.mode;
        if (!cr.note.empty()) rec["split"]["note"] = cr.note;
        if (!rec.contains("errors")) rec["errors"] = Json::array();
        write_file_atomic(side, rec.dump(2) + "\n");
        if (target_.remote()) {  // the clip first: a sidecar without its clip is never complete
          target_.publish(mp4.string(), true);
          target_.publish(side.string(), false);
        }
        out.records.push_back(std::move(rec));
      } catch (const Error& err) {
        if (err.code() == Code::Cancelled) throw;
        REEL_WARN("split", "%s [%lld,%lld): %s", item.media.c_str(), static_cast<long long>(s), static_cast<long long>(e),
                  err.what());
        add_error(rec, "split", err.code(), err.what());
        out.records.push_back(std::move(rec));
      }
    }
    return out;
  }

 private:
  const SplitConfig& c_;
  const OutputTarget& target_;
};

class SplitStage : public Stage {
 public:
  explicit SplitStage(SplitConfig c) : c_(std::move(c)), target_(c_.outdir) {
    c_.outdir = target_.local_dir();  // absolute: records name clips by absolute path (or s3:// URL)
  }
  std::string name() const override { return "split"; }
  void open(const Shard& shard) override {
    prepare_output_dir(c_.outdir, "clip directory", "split");
    ledger_ = (fs::path(c_.outdir) / ".ledger" / ("split" + shard.suffix() + ".jsonl")).string();
  }
  std::unique_ptr<Processor> processor(int) override { return std::make_unique<SplitProcessor>(c_, target_); }
  std::string ledger_path() const override { return c_.force ? "" : ledger_; }
  bool still_there(const StageOutput& done) const override {
    for (const auto& r : done.records) {
      if (!r.contains("path") || !r.contains("bytes")) continue;  // an error record
      if (!target_.present(r["path"].get<std::string>(), r["bytes"].get<int64_t>())) return false;
    }
    return true;
  }
  Json fingerprint() const override {
    return {{"mode", c_.plan.mode},         {"clip_len", c_.plan.clip_len}, {"stride", c_.plan.stride},
            {"min_len", c_.plan.min_len},   {"max_len", c_.plan.max_len},   {"crop", c_.plan.crop}, {"max_clips", c_.plan.max_clips},
            {"exact", c_.exact},            {"encoder", c_.encode.encoder}, {"crf", c_.encode.crf},
            {"detector", c_.scene.detector}, {"threshold", c_.scene.threshold}, {"keep_transitions", c_.plan.keep_transitions},
            {"min_scene_len", c_.scene.min_scene_len}, {"analysis_width", c_.scene.analysis_width},
            {"redetect", c_.redetect}};
  }

 private:
  SplitConfig c_;
  OutputTarget target_;
  std::string ledger_;
};

}  // namespace

std::unique_ptr<Stage> make_split_stage(const SplitConfig& config) { return std::make_unique<SplitStage>(config); }

}  // namespace reel
