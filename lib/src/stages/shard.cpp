// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/shard.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>

#include "reel/core/crash_point.h"
#include "reel/core/log.h"
#include "reel/io/atomic_file.h"
#include "reel/io/h5.h"
#include "reel/io/npy.h"
#include "reel/io/tar_writer.h"
#include "reel/media/decoder.h"
#include "reel/model/latents_io.h"
#include "reel/pipeline/record.h"
#include "reel/pipeline/shard.h"
#include "reel/storage/output_target.h"
#include "reel/storage/remote_file.h"
#include "reel/storage/s3.h"

namespace reel {

namespace fs = std::filesystem;

namespace {

// A dot would split the key (WebDataset keys end at the first dot of a member's name), a slash
// would leave the shard: letters, digits, _ and - only.
bool valid_key(const std::string& k) {
  if (k.empty() || k.size() > 200) return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

std::string sample_key(const Json& rec, const std::string& media) {
  if (rec.contains("id") && rec["id"].is_string()) return rec["id"];
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(media)));
  return buf;
}

std::string media_ext(const std::string& media) {
  std::string e = fs::path(media).extension().string();
  if (!e.empty()) e.erase(0, 1);
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::regex ok("[a-z0-9]{1,8}");
  return std::regex_match(e, ok) ? e : "mp4";
}

std::string caption_text(const Json& rec, const std::string& mode) {
  if (mode == "none" || !rec.contains("captions") || !rec["captions"].is_array()) return "";
  std::string out;
  for (const auto& c : rec["captions"]) {
    if (!c.is_object()) continue;
    std::string t;
    if (mode == "enhanced" && c.contains("enhanced") && c["enhanced"].is_object() && c["enhanced"].value("text", "") != "")
      t = c["enhanced"]["text"];
    else if (c.contains("text") && c["text"].is_string())
      t = c["text"];
    if (!t.empty()) out += (out.empty() ? "" : "\n") + t;
  }
  return out;
}

struct Sample {
  std::string key, media, ext, bucket;
  Json record;  // as it came in: the .json member
};

struct Member {
  std::string name, data, file;  // data, or the file to stream
  uint64_t size = 0;
};

class ShardProcessor : public Processor {
 public:
  explicit ShardProcessor(const ShardConfig& c) : c_(c) {}

  StageOutput process(const InputItem& item) override {
    Json rec = item.record;
    const std::string key = sample_key(rec, item.media);
    if (!valid_key(key))
      throw Error(Code::InvalidData, "id '" + key.substr(0, 80) + "' cannot be a WebDataset key (letters, digits, _ and - only)");
    if (is_url(item.media) && !is_remote_url(item.media))
      throw Error(Code::InvalidArgument, "reel shard packs local, s3:// or http(s):// clip files, not " + item.media.substr(0, 200));
    std::error_code ec;
    if (!is_url(item.media) && !fs::is_regular_file(item.media, ec)) throw Error(Code::IoError, "no clip file at " + item.media);
    if (c_.latents && !(rec.contains("tokens") && rec["tokens"].is_object() && rec["tokens"].value("file", "") != ""))
      throw Error(Code::InvalidData, "--latents: the record has no tokens.file (run reel tokenize encode first)");
    if (c_.embedding && !(rec.contains("embedding") && rec["embedding"].is_object() &&
                          (rec["embedding"].contains("vector") || rec["embedding"].value("file", "") != "")))
      throw Error(Code::InvalidData, "--embedding: the record has no embedding (run reel embed first)");
    std::string bucket;
    if (!c_.buckets.dims.empty()) {
      int w = rec.value("width", 0), h = rec.value("height", 0);
      double d = rec.value("duration_s", -1.0);
      if (w <= 0 || h <= 0 || d < 0) {  // not in the record: from the file
        auto dec = VideoDecoder::open(item.media, DecodeOptions{});
        w = dec->info().display_width, h = dec->info().display_height;
        if (d < 0) d = dec->info().duration_s;
      }
      const Bucket b = bucket_of(c_.buckets, w, h, d);
      if (!b.fits) {
        add_error(rec, "shard", Code::InvalidData, "fits no bucket: " + b.why);
        return {{rec}, Json{{"misfit", b.why}, {"id", key}}, ""};
      }
      bucket = b.path;
    }
    return {{rec}, Json{{"key", key}, {"bucket", bucket}, {"ext", media_ext(item.media)}}, ""};
  }

 private:
  const ShardConfig& c_;
};

class ShardStage : public Stage {
 public:
  explicit ShardStage(ShardConfig c) : c_(std::move(c)) {
    if (c_.out_dir.empty()) throw Error(Code::InvalidArgument, "reel shard needs -o DIR");
    target_ = OutputTarget(c_.out_dir);
    if (c_.max_samples < 0 || c_.max_bytes < 0) throw Error(Code::InvalidArgument, "shard limits must be >= 0");
    options_ = {{"shard_size", c_.max_samples}, {"shard_bytes", c_.max_bytes}, {"text", c_.text}, {"latents", c_.latents},
                {"embedding", c_.embedding}, {"bucket", c_.buckets.dims}, {"duration_bins", c_.buckets.duration_edges}};
  }
  std::string name() const override { return "shard"; }
  void open(const Shard& shard) override {
    shard_ = shard;
    root_ = target_.local_dir();
    prepare_output_dir(root_, "shard output folder", "shard");
  }
  std::unique_ptr<Processor> processor(int) override { return std::make_unique<ShardProcessor>(c_); }

  void collect(const InputItem& item, StageOutput& out) override {
    if (out.records.empty() || !out.payload.is_object()) return;
    if (out.payload.contains("misfit")) {
      misfits_.push_back({{"id", out.payload["id"]}, {"source", item.record.value("source", "")}, {"reason", out.payload["misfit"]}});
      return;
    }
    Sample s{out.payload["key"], item.media, out.payload["ext"], out.payload["bucket"], item.record};
    const std::string tar = place(s);
    Json loc = {{"tar", target_.published(tar)}, {"key", s.key}};
    if (!s.bucket.empty()) loc["bucket"] = s.bucket;
    out.records[0]["webdataset"] = loc;
    Totals& t = buckets_[s.bucket].totals;
    t.samples += 1;
    t.duration_s += item.record.value("duration_s", 0.0);
    t.frames += item.record.value("frames", int64_t{0});
  }

  std::vector<Json> finish(bool complete) override {
    if (!complete) return {};  // the shards being filled are dropped: a re-run writes them whole
    for (auto& [name, st] : buckets_) {
      if (st.open) finish_open(st, name);
      remove_beyond(name, st.next);
    }
    write_manifest();
    return {};
  }

 private:
  struct Closed {
    std::string tar;
    int64_t samples = 0;
    uint64_t bytes = 0;
  };
  struct Totals {
    int64_t samples = 0, frames = 0;
    double duration_s = 0;
  };
  struct BucketState {
    int64_t next = 0;  // the number of the shard being filled
    bool open = false;
    Json existing;     // verify mode: the complete shard's index found on disk
    size_t pos = 0;    // samples of `existing` matched so far
    std::vector<Sample> held;
    std::unique_ptr<TarWriter> writer;
    Json entries = Json::array();
    uint64_t sample_bytes = 0;
    std::vector<Closed> closed;
    Totals totals;
  };

  fs::path dir_of(const std::string& bucket) const { return bucket.empty() ? root_ : root_ / bucket; }
  std::string stem(int64_t n) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "shard-%06lld", static_cast<long long>(n));
    return buf + shard_.suffix();
  }
  fs::path tar_path(const std::string& b, int64_t n) const { return dir_of(b) / (stem(n) + ".tar"); }
  fs::path idx_path(const std::string& b, int64_t n) const { return dir_of(b) / (stem(n) + ".idx.json"); }

  void open_shard(BucketState& st, const std::string& bucket) {
    if (st.next == 0 && !st.open && st.closed.empty()) prepare_output_dir(dir_of(bucket), "shard bucket folder", "shard");
    st.open = true;
    st.pos = 0;
    st.held.clear();
    st.entries = Json::array();
    st.sample_bytes = 0;
    st.writer.reset();
    st.existing = Json();
    const fs::path tar = tar_path(bucket, st.next), idx = idx_path(bucket, st.next);
    std::error_code ec;
    if (fs::is_regular_file(idx, ec) && fs::is_regular_file(tar, ec)) {
      std::ifstream in(idx);
      Json j = Json::parse(in, nullptr, false);
      if (j.is_object() && j.value("options", Json()) == options_ && j["samples"].is_array() &&
          j.value("bytes", uint64_t{0}) == fs::file_size(tar, ec) && !ec)
        st.existing = std::move(j);
    }
    if (st.existing.is_null()) st.writer = std::make_unique<TarWriter>(tar);
  }

  bool would_roll(const BucketState& st, size_t count, uint64_t next_size) const {
    if (count == 0) return false;
    if (c_.max_samples > 0 && static_cast<int64_t>(count) >= c_.max_samples) return true;
    return c_.max_bytes > 0 && st.sample_bytes + next_size > static_cast<uint64_t>(c_.max_bytes);
  }

  std::string place(const Sample& s) {
    BucketState& st = buckets_[s.bucket];
    if (!st.open) open_shard(st, s.bucket);
    std::optional<std::vector<Member>> members;
    for (;;) {
      if (!st.existing.is_null()) {
        const Json& have = st.existing["samples"];
        if (st.pos < have.size() && have[st.pos].value("key", "") == s.key) {  // the same sample as before
          for (const auto& m : have[st.pos]["members"]) st.sample_bytes += m.value("size", uint64_t{0});
          st.held.push_back(s);
          ++st.pos;
          return tar_path(s.bucket, st.next).string();
        }
        if (!members) members = build(s);
        if (st.pos == have.size() && would_roll(st, st.pos, size_of(*members))) {  // complete as it is
          close(st, s.bucket);
          open_shard(st, s.bucket);
          continue;
        }
        rewrite(st, s.bucket);  // the inputs differ from the run that wrote it
      }
      if (!members) members = build(s);
      if (would_roll(st, st.entries.size(), size_of(*members))) {
        close(st, s.bucket);
        open_shard(st, s.bucket);
        continue;
      }
      write(st, s, *members);
      st.held.push_back(s);
      return tar_path(s.bucket, st.next).string();
    }
  }

  static uint64_t size_of(const std::vector<Member>& ms) {
    uint64_t n = 0;
    for (const auto& m : ms) n += m.size;
    return n;
  }

  std::vector<Member> build(const Sample& s) {
    std::vector<Member> ms;
    if (is_remote_url(s.media)) {  // a clip in an object store: packed from memory
      std::string bytes = read_remote(s.media);
      const uint64_t n = bytes.size();
      ms.push_back({s.key + "." + s.ext, std::move(bytes), "", n});
    } else {
      std::error_code ec;
      const uint64_t video = fs::file_size(s.media, ec);
      if (ec) throw Error(Code::IoError, "cannot read " + s.media + ": " + ec.message());
      ms.push_back({s.key + "." + s.ext, "", s.media, video});
    }
    auto add = [&](const std::string& suffix, std::string data) {
      const uint64_t n = data.size();
      ms.push_back({s.key + suffix, std::move(data), "", n});
    };
    add(".json", s.record.dump(-1, ' ', false, Json::error_handler_t::replace));
    if (std::string t = caption_text(s.record, c_.text); !t.empty()) add(".txt", std::move(t));
    if (c_.latents) {
      const Json& tok = s.record["tokens"];
      h5::File f(local_copy(tok.value("file", "")), 'r', Code::InvalidData);  // s3:// latents: fetched once
      std::string group = tok.value("group", "");
      const std::string key = group.rfind("clips/", 0) == 0 ? group.substr(6) : sanitize_key(s.key);
      const ClipLatents lat = read_clip_latents(f, key, nullptr);
      const int64_t t = lat.latent_t();
      if (!lat.latent.empty()) {
        add(".latents.npy", npy_bytes({lat.channels, t, lat.lat_h, lat.lat_w}, lat.latent.data()));
      } else {
        std::vector<uint16_t> ids(lat.indices.begin(), lat.indices.end());  // token ids < 64000
        add(".tokens.npy", npy_bytes({t, lat.lat_h, lat.lat_w}, ids.data()));
      }
    }
    if (c_.embedding) {
      const Json& e = s.record["embedding"];
      std::vector<float> v;
      if (e.contains("vector") && e["vector"].is_array()) {
        for (const auto& x : e["vector"]) v.push_back(x.is_number() ? x.get<float>() : NAN);
      } else {
        const std::string file = e.value("file", "");
        auto it = embeddings_.find(file);
        if (it == embeddings_.end()) it = embeddings_.emplace(file, std::make_unique<h5::File>(local_copy(file), 'r', Code::InvalidData)).first;
        const auto shape = it->second->shape("embeddings");
        const int64_t row = e.value("row", int64_t{-1});
        if (shape.size() != 2 || row < 0 || row >= shape[0])
          throw Error(Code::InvalidData, file + ": no row " + std::to_string(row) + " in embeddings");
        v.resize(static_cast<size_t>(shape[1]));
        it->second->read_rows("embeddings", row, 1, v.data());
      }
      add(".embedding.npy", npy_bytes({static_cast<int64_t>(v.size())}, v.data()));
    }
    return ms;
  }

  void write(BucketState& st, const Sample& s, const std::vector<Member>& ms) {
    Json entry = {{"key", s.key}, {"members", Json::array()}};
    for (const auto& m : ms) {
      const TarMember tm = m.file.empty() ? st.writer->add(m.name, m.data) : st.writer->add_file(m.name, m.file);
      if (tm.size != m.size) throw Error(Code::IoError, m.file + " changed size while it was packed");
      entry["members"].push_back({{"name", tm.name}, {"offset", tm.offset}, {"size", tm.size}});
    }
    st.entries.push_back(std::move(entry));
    st.sample_bytes += size_of(ms);
    crash_point("shard-sample");  // tests: a kill with a shard half written
  }

  // Verify mode found a difference: the shard is written again from its first sample.
  void rewrite(BucketState& st, const std::string& bucket) {
    st.existing = Json();
    st.writer = std::make_unique<TarWriter>(tar_path(bucket, st.next));
    st.entries = Json::array();
    st.sample_bytes = 0;
    for (const Sample& h : st.held) write(st, h, build(h));
  }

  void close(BucketState& st, const std::string& bucket) {
    const fs::path tar = tar_path(bucket, st.next), idx = idx_path(bucket, st.next);
    const std::string rel = fs::relative(tar, root_).string();
    if (!st.existing.is_null()) {
      const uint64_t bytes = st.existing.value("bytes", uint64_t{0});
      st.closed.push_back({rel, static_cast<int64_t>(st.pos), bytes});
      // Verified here, but a killed run may have stopped before the upload.
      if (target_.remote() && !target_.present(target_.published(tar.string()), static_cast<int64_t>(bytes))) {
        target_.publish(tar.string(), false);
        target_.publish(idx.string(), false);
      }
    } else {
      std::error_code ec;
      fs::remove(idx, ec);  // an index never describes another tar than the one beside it
      const uint64_t bytes = st.writer->commit();
      st.writer.reset();
      const Json j = {{"format", "reel-wds-index/1"}, {"tar", tar.filename().string()}, {"bytes", bytes},
                      {"options", options_}, {"samples", st.entries}};
      write_file_atomic(idx, j.dump(1) + "\n");
      target_.publish(tar.string(), false);  // kept staged: a re-run verifies against it
      target_.publish(idx.string(), false);
      st.closed.push_back({rel, static_cast<int64_t>(st.entries.size()), bytes});
    }
    st.open = false;
    ++st.next;
  }

  // At the end: a verified shard that this run filled less far than the one on disk is written
  // again with what this run gave it.
  void finish_open(BucketState& st, const std::string& bucket) {
    if (!st.existing.is_null() && st.pos != st.existing["samples"].size()) rewrite(st, bucket);
    close(st, bucket);
  }

  // Shards a longer earlier run left past this run's last one would be taken for part of it.
  void remove_beyond(const std::string& bucket, int64_t next) {
    for (int64_t n = next;; ++n) {
      std::error_code ec;
      const bool a = fs::remove(tar_path(bucket, n), ec), b = fs::remove(idx_path(bucket, n), ec);
      if (!a && !b) break;
      if (target_.remote())
        for (const fs::path& p : {tar_path(bucket, n), idx_path(bucket, n)}) {
          S3Location loc;
          if (parse_s3_url(target_.published(p.string()), &loc)) s3_client().remove(loc);
        }
      REEL_INFO("shard", "removed %s, left by an earlier run with more inputs", tar_path(bucket, n).c_str());
    }
  }

  void write_manifest() {
    Json buckets = Json::object();
    Json totals = {{"samples", 0}, {"bytes", 0}, {"shards", 0}, {"duration_s", 0.0}, {"frames", 0}};
    for (const auto& [name, st] : buckets_) {
      Json shards = Json::array();
      uint64_t bytes = 0;
      for (const auto& c : st.closed) {
        shards.push_back({{"tar", c.tar}, {"samples", c.samples}, {"bytes", c.bytes}});
        bytes += c.bytes;
      }
      buckets[name.empty() ? "." : name] = {{"samples", st.totals.samples}, {"bytes", bytes}, {"duration_s", st.totals.duration_s},
                                            {"frames", st.totals.frames}, {"shards", shards}};
      totals["samples"] = totals["samples"].get<int64_t>() + st.totals.samples;
      totals["bytes"] = totals["bytes"].get<uint64_t>() + bytes;
      totals["shards"] = totals["shards"].get<int64_t>() + static_cast<int64_t>(st.closed.size());
      totals["duration_s"] = totals["duration_s"].get<double>() + st.totals.duration_s;
      totals["frames"] = totals["frames"].get<int64_t>() + st.totals.frames;
    }
    const Json m = {{"format", "reel-wds-manifest/1"}, {"options", options_}, {"buckets", buckets}, {"totals", totals},
                    {"unbucketed", {{"count", misfits_.size()}, {"clips", misfits_}}}};
    write_file_atomic(root_ / shard_.name("manifest.json"), m.dump(1) + "\n");
    target_.publish((root_ / shard_.name("manifest.json")).string(), false);
    if (!misfits_.empty())
      REEL_WARN("shard", "%zu clips fit no bucket and were not sharded (listed in the manifest, and as errors in their records)",
                misfits_.size());
  }

  ShardConfig c_;
  OutputTarget target_;
  Shard shard_;
  fs::path root_;
  Json options_;
  std::map<std::string, BucketState> buckets_;
  std::map<std::string, std::unique_ptr<h5::File>> embeddings_;
  Json misfits_ = Json::array();
};

}  // namespace

std::unique_ptr<Stage> make_shard_stage(const ShardConfig& config) { return std::make_unique<ShardStage>(config); }

}  // namespace reel
