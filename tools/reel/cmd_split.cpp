// SPDX-License-Identifier: Apache-2.0
// reel split: cut videos into clips (per shot or fixed-stride windows), one record per clip.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "reel/core/log.h"
#include "reel/io/atomic_file.h"
#include "reel/io/inputs.h"
#include "reel/io/uuid.h"
#include "reel/media/clip_writer.h"
#include "scene_options.h"

namespace fs = std::filesystem;

namespace reel::cli {
namespace {

struct SplitOpts {
  std::vector<std::string> inputs;
  std::string outdir;
  std::string mode = "scenes";
  double clip_len = 0, stride = 0, min_len = 0, max_len = 0, crop = 0;
  bool exact = false;
  std::string encoder = "auto";
  int crf = 18;
  bool force = false;
  SceneCliOptions scene;
};

// Time of frame i in seconds (i == frames: end of the video).
double frame_time(const SceneResult& s, int64_t i) {
  double tb = static_cast<double>(s.info.tb_num) / s.info.tb_den;
  if (i >= s.frames) return s.duration_s;
  return (s.frame_meta[i].pts - s.first_pts) * tb;
}

// First frame whose time is >= t (frames if none).
int64_t frame_at(const SceneResult& s, double t) {
  int64_t lo = 0, hi = s.frames;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (frame_time(s, mid) < t - 1e-6) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

std::vector<std::pair<int64_t, int64_t>> plan_spans(const SceneResult& s, const SplitOpts& o) {
  std::vector<std::pair<int64_t, int64_t>> spans, out;
  if (o.mode == "stride") {
    for (double t = 0; t + o.clip_len <= s.duration_s + 1e-6; t += o.stride) {
      int64_t a = frame_at(s, t), b = frame_at(s, t + o.clip_len);
      if (b > a) spans.push_back({a, b});
    }
    return spans;
  }
  int64_t prev = 0;
  for (int64_t c : s.cuts) {
    spans.push_back({prev, c});
    prev = c;
  }
  spans.push_back({prev, s.frames});
  for (auto [a, b] : spans) {
    if (o.crop > 0) {
      a = frame_at(s, frame_time(s, a) + o.crop);
      b = frame_at(s, frame_time(s, b) - o.crop);
    }
    if (b <= a) continue;
    if (frame_time(s, b) - frame_time(s, a) < o.min_len - 1e-6) continue;
    if (o.max_len > 0) {
      while (frame_time(s, b) - frame_time(s, a) > o.max_len + 1e-6) {
        int64_t m = frame_at(s, frame_time(s, a) + o.max_len);
        if (m <= a) m = a + 1;
        out.push_back({a, m});
        a = m;
      }
      if (frame_time(s, b) - frame_time(s, a) < o.min_len - 1e-6 || b <= a) continue;
    }
    out.push_back({a, b});
  }
  return out;
}

// A clip is complete when its JSON sidecar exists and names the mp4's exact size.
bool load_complete(const fs::path& json_path, const fs::path& mp4_path, nlohmann::json* rec) {
  std::error_code ec;
  if (!fs::exists(json_path, ec) || !fs::exists(mp4_path, ec)) return false;
  try {
    std::ifstream f(json_path);
    nlohmann::json j = nlohmann::json::parse(f);
    if (j.value("bytes", int64_t(-1)) != static_cast<int64_t>(fs::file_size(mp4_path))) return false;
    *rec = std::move(j);
    return true;
  } catch (...) {
    return false;
  }
}

int split_one(const InputItem& item, const SplitOpts& o, const SceneOptions& so, const fs::path& outdir) {
  nlohmann::json base = item.record.is_object() ? item.record : nlohmann::json::object();
  base["source"] = item.source;
  if (!item.error.empty()) {
    add_error(base, "split", Code::InvalidData, item.error);
    emit(base);
    return 1;
  }
  SceneResult scan;
  try {
    scan = detect_scenes(item.source, so);
  } catch (const Error& e) {
    REEL_WARN("split", "%s", e.what());
    add_error(base, "split", e.code(), e.what());
    emit(base);
    return 1;
  }
  const bool copy_ok = !o.exact && mp4_can_copy(scan.info.codec);
  if (!o.exact && !copy_ok)
    REEL_INFO("split", "%s: codec %s cannot be stream-copied into mp4, re-encoding", item.source.c_str(),
              scan.info.codec.c_str());
  auto spans = plan_spans(scan, o);
  int failures = 0;
  const double tb = static_cast<double>(scan.info.tb_num) / scan.info.tb_den;
  int clip_index = 0;
  for (auto [a, b] : spans) {
    if (g_interrupted) break;
    nlohmann::json rec = base;
    int64_t s = a, e = b;
    std::string mode = copy_ok ? "copy" : "encode";
    if (copy_ok) {
      auto [k0, k1] = copy_span(scan.frame_meta, a, b);
      s = k0;
      e = k1;
    }
    rec["split"] = {{"mode", o.mode}, {"requested", {a, b}}, {"write", mode}};
    if (o.mode == "scenes") rec["split"]["detector"] = scan.detector;
    if (s >= e) {
      add_error(rec, "split", Code::InvalidArgument,
                "shot [" + std::to_string(a) + "," + std::to_string(b) +
                    ") holds no whole GOP for stream copy; rerun with --exact to cut it frame-accurately");
      emit(rec);
      ++failures;
      continue;
    }
    const std::string id = uuid_v5(kReelClipNamespace, item.source + "#" + std::to_string(s) + "-" + std::to_string(e));
    const fs::path mp4 = outdir / (id + ".mp4"), side = outdir / (id + ".json");
    nlohmann::json done;
    if (!o.force && load_complete(side, mp4, &done)) {
      for (auto& [k, v] : base.items())
        if (!done.contains(k)) done[k] = v;
      emit(done);
      ++clip_index;
      continue;
    }
    try {
      ClipResult cr;
      if (mode == "copy") {
        cr = write_clip_copy(item.source, scan, s, e, mp4);
      } else {
        EncodeOptions eo;
        eo.encoder = o.encoder;
        eo.crf = o.crf;
        eo.threads = globals().threads;
        cr = write_clip_encode(item.source, scan, s, e, eo, mp4);
      }
      rec["id"] = id;
      rec["clip_index"] = clip_index++;
      rec["span"] = {{"frames", {cr.start, cr.end}},
                     {"seconds", {frame_time(scan, cr.start), frame_time(scan, cr.end)}},
                     {"pts", {scan.frame_meta[cr.start].pts,
                              cr.end < scan.frames ? scan.frame_meta[cr.end].pts
                                                   : scan.first_pts + (int64_t)std::llround(scan.duration_s / tb)}},
                     {"time_base", std::to_string(scan.info.tb_num) + "/" + std::to_string(scan.info.tb_den)}};
      rec["frames"] = cr.end - cr.start;
      rec["fps"] = scan.info.fps;
      rec["width"] = scan.info.display_width;
      rec["height"] = scan.info.display_height;
      rec["codec"] = cr.codec;
      rec["path"] = mp4.string();
      rec["bytes"] = cr.bytes;
      rec["split"]["write"] = cr.mode;
      if (!cr.note.empty()) rec["split"]["note"] = cr.note;
      if (!rec.contains("errors")) rec["errors"] = nlohmann::json::array();
      write_file_atomic(side, rec.dump(2) + "\n");
      emit(rec);
    } catch (const Error& err) {
      REEL_WARN("split", "%s [%lld,%lld): %s", item.source.c_str(), (long long)s, (long long)e, err.what());
      add_error(rec, "split", err.code(), err.what());
      emit(rec);
      ++failures;
    }
  }
  return failures;
}

}  // namespace

void register_split(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("split", "Cut videos into clips (per shot or fixed windows); one JSON line per clip");
  auto o = std::make_shared<SplitOpts>();
  cmd->add_option("inputs", o->inputs, "Videos, directories, URLs, or - for records/paths on stdin (default)");
  cmd->add_option("-o,--output", o->outdir, "Output directory for <id>.mp4 and <id>.json")->required();
  cmd->add_option("--mode", o->mode, "scenes: one clip per shot; stride: fixed windows")
      ->capture_default_str()->check(CLI::IsMember({"scenes", "stride"}));
  cmd->add_option("--clip-len", o->clip_len, "Stride mode: clip length in seconds")->check(CLI::PositiveNumber);
  cmd->add_option("--stride", o->stride, "Stride mode: seconds between clip starts")->check(CLI::PositiveNumber);
  cmd->add_option("--min-len", o->min_len, "Drop clips shorter than this (seconds)")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-len", o->max_len, "Cut longer shots into pieces of at most this (seconds, 0 = no limit)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--crop", o->crop, "Trim this many seconds off each end of every shot")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--exact", o->exact, "Re-encode for frame-accurate clips (default: stream copy at keyframes)");
  cmd->add_option("--encoder", o->encoder, "auto|libx264|libopenh264|libvpx-vp9|mpeg4 (with --exact)")
      ->capture_default_str();
  cmd->add_option("--crf", o->crf, "libx264 quality (with --exact)")->capture_default_str()->check(CLI::Range(0, 51));
  cmd->add_flag("--force", o->force, "Rewrite clips that are already complete");
  add_scene_options(cmd, &o->scene);
  cmd->footer(
      "\nClips are <outdir>/<id>.mp4 with a <id>.json record beside; id = UUIDv5(source + span), so a re-run\n"
      "skips complete clips and rewrites the rest.\nExamples:\n"
      "  reel split datasets/videos -o clips/ > clips.jsonl\n"
      "  reel split --mode stride --clip-len 4 --stride 4 --exact in.mp4 -o clips/" +
      exit_code_footer());
  cmd->callback([o, exit_code] {
    if (o->mode == "stride" && (o->clip_len <= 0 || o->stride <= 0))
      throw CLI::ValidationError("--mode stride", "needs --clip-len and --stride");
    fs::path outdir(o->outdir);
    std::error_code ec;
    fs::create_directories(outdir, ec);
    if (ec) throw Error(Code::IoError, "cannot create " + outdir.string() + ": " + ec.message());
    SceneOptions so = to_scene_options(o->scene);
    auto items = expand_inputs(o->inputs, std::cin);
    Progress progress("split", static_cast<int64_t>(items.size()));
    int failed = 0, done = 0;
    for (auto& item : items) {
      if (g_interrupted) break;
      if (split_one(item, *o, so, outdir)) ++failed;
      progress.tick(++done, item.source);
    }
    progress.finish();
    *exit_code = failed ? kExitPartial : kExitOk;
  });
}

}  // namespace reel::cli
