// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/merge.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "reel/core/log.h"
#include "reel/io/atomic_file.h"
#include "reel/io/h5.h"
#include "reel/pipeline/shard.h"

namespace fs = std::filesystem;

namespace reel {

void check_shard_families(const std::vector<std::string>& files) {
  static const std::regex re(R"(^(.*)\.shard-(\d+)-of-(\d+)(\.[^/]*)?$)");
  std::map<std::string, std::pair<int, std::set<int>>> families;  // stem+ext -> (N, indices)
  for (const auto& f : files) {
    std::smatch m;
    if (!std::regex_match(f, m, re)) continue;
    const std::string fam = m[1].str() + m[4].str();
    const int i = std::stoi(m[2].str()), n = std::stoi(m[3].str());
    auto& e = families[fam];
    if (e.first && e.first != n)
      throw Error(Code::InvalidArgument, "shards of " + fam + " from runs with different counts (" + std::to_string(e.first) +
                                             " and " + std::to_string(n) + ")");
    e.first = n;
    if (!e.second.insert(i).second) throw Error(Code::InvalidArgument, "shard file given twice: " + f);
  }
  for (const auto& [fam, e] : families) {
    for (int i = 0; i < e.first; ++i) {
      if (e.second.count(i)) continue;
      Shard s{i, e.first, ""};
      const size_t dot = fam.rfind('.');
      const bool has_ext = dot != std::string::npos && fam.find('/', dot) == std::string::npos;
      const std::string want = has_ext ? fam.substr(0, dot) + s.suffix() + fam.substr(dot) : fam + s.suffix();
      throw Error(Code::InvalidArgument, "missing shard " + std::to_string(i) + " of " + std::to_string(e.first) + ": " + want +
                                             " (did that task fail or not run yet?)");
    }
  }
}

namespace {

bool is_latents_file(const InputItem& it) {
  const std::string ext = fs::path(it.media).extension().string();
  return (ext == ".h5" || ext == ".hdf5") && it.plain;
}

// Sort key of a record: source, then span start (or the span split was asked for), then id.
std::tuple<std::string, int64_t, std::string> order(const Json& r) {
  int64_t start = -1;
  const Json* f = nullptr;
  if (r.contains("span") && r["span"].is_object() && r["span"].contains("frames")) f = &r["span"]["frames"];
  // A shot split could not cut has no span yet, only the span it asked for.
  if (!f && r.contains("split") && r["split"].is_object() && r["split"].contains("requested")) f = &r["split"]["requested"];
  if (f && f->is_array() && !f->empty() && (*f)[0].is_number_integer()) start = (*f)[0].get<int64_t>();
  return {r.value("source", std::string()), start, r.value("id", std::string())};
}

class MergeStage : public WholeStage {
 public:
  explicit MergeStage(MergeConfig c) : c_(std::move(c)) {}
  std::string name() const override { return "merge"; }
  void open(const Shard&) override { check_shard_families(c_.inputs); }
  void add(const InputItem& it) override {
    if (it.error.empty() && is_latents_file(it)) {
      latents_.push_back(it.media);
      return;
    }
    if (!it.error.empty() && it.record.contains("aggregate")) {
      ++summaries_;  // eval's per-shard aggregate: medians do not merge; eval the merged records again
      return;
    }
    if (!it.error.empty()) throw Error(Code::InvalidArgument, "not a record: " + it.error);
    const std::string key = item_key(it) + "\n" + std::to_string(std::get<1>(order(it.record)));
    if (!keys_.insert(key).second)
      throw Error(Code::InvalidArgument, "record " + item_key(it) + " appears twice in the inputs (a shard given twice, or "
                                         "overlapping runs?)");
    records_.push_back(it.record);
  }
  std::vector<Json> finish() override {
    if (summaries_) REEL_WARN("merge", "left out %d per-shard aggregate lines (eval's summaries do not add up)", summaries_);
    if (!latents_.empty()) merge_latents();
    std::stable_sort(records_.begin(), records_.end(), [](const Json& a, const Json& b) { return order(a) < order(b); });
    return std::move(records_);
  }

 private:
  void merge_latents() {
    if (c_.latents_out.empty()) throw Error(Code::InvalidArgument, "merging latents files needs -o FILE.h5");
    AtomicPath ap(c_.latents_out);
    std::map<std::string, std::string> owner;  // clip -> file
    {
      h5::File out(ap.tmp().string(), 'w', Code::OutputError);
      std::string sha;
      for (const auto& path : latents_) {
        h5::File in(path, 'r', Code::InvalidArgument);
        const std::string s = in.has_attr("/", "model_sha256") ? in.read_attr_string("/", "model_sha256") : "";
        if (sha.empty()) {
          sha = s;
          for (const char* a : {"format", "model", "model_sha256", "config"})
            if (in.has_attr("/", a)) out.write_attr_string("/", a, in.read_attr_string("/", a));
          out.write_attr_string("/", "layout", "merged");
          out.create_group("clips");
        } else if (s != sha) {
          throw Error(Code::InvalidArgument, path + " holds latents of another model than " + latents_[0]);
        }
        for (const auto& k : in.list("clips")) {
          auto [it, fresh] = owner.emplace(k, path);
          if (!fresh) throw Error(Code::InvalidArgument, "clip " + k + " is in both " + it->second + " and " + path);
          out.copy_from(in, "clips/" + k, "clips/" + k);
        }
      }
      out.close();
    }
    ap.commit();
    REEL_INFO("merge", "%s: %zu clips from %zu files", c_.latents_out.c_str(), owner.size(), latents_.size());
  }

  MergeConfig c_;
  std::vector<std::string> latents_;
  std::vector<Json> records_;
  std::set<std::string> keys_;
  int summaries_ = 0;
};

}  // namespace

std::unique_ptr<WholeStage> make_merge_stage(const MergeConfig& config) { return std::make_unique<MergeStage>(config); }

}  // namespace reel
