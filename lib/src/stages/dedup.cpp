// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/dedup.h"
#include "reel/storage/remote_file.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>

#include "reel/core/log.h"
#include "reel/embed/phash.h"
#include "reel/io/atomic_file.h"
#include "reel/io/h5.h"
#include "reel/pipeline/record.h"

namespace fs = std::filesystem;

namespace reel {

namespace {

struct Item {
  uint32_t length = 0;  // of its record line in the spool (written and read back in item order)
  int32_t file = -1;    // index into files_, or -1 for an inline vector / none
  int64_t row = -1;     // row in its file, or offset into inline_ (in floats)
  int64_t slot = -1;    // its row in the matrix, -1 when it has no usable vector
  bool passthrough = false;
  std::string id, error;
  std::vector<uint64_t> phash;
  double score = -std::numeric_limits<double>::infinity();
  int64_t dup_of = -1;  // item index
  float similarity = 0;
  int hamming = -1;
  int32_t cluster = -1;
  float max_sim = -2;
};

const Json* field(const Json& rec, const std::string& path) {
  const Json* v = &rec;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t dot = path.find('.', pos);
    const std::string key = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (!v->is_object() || !v->contains(key)) return nullptr;
    v = &(*v)[key];
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return v;
}

class DedupStage : public WholeStage {
 public:
  explicit DedupStage(DedupConfig c) : c_(std::move(c)) {
    spool_ = std::tmpfile();
    if (!spool_) throw Error(Code::OutputError, std::string("cannot create a temporary file: ") + std::strerror(errno));
    if (!c_.keep_by.empty()) c_.sem.rank = "score";
  }
  ~DedupStage() override {
    if (spool_) std::fclose(spool_);
  }
  std::string name() const override { return "dedup"; }
  bool records_only() const override { return true; }
  int64_t failed() const override { return failed_; }
  void open(const Shard&) override {
    if (!c_.rejected.empty()) ensure_writable_dir(fs::absolute(c_.rejected).parent_path(), "folder of the rejected file");
  }

  void add(const InputItem& in) override {
    Item it;
    const std::string line = in.record.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    it.length = static_cast<uint32_t>(line.size());
    if (std::fwrite(line.data(), 1, line.size(), spool_) != line.size())
      throw Error(Code::OutputError, std::string("writing the temporary file: ") + std::strerror(errno));
    it.id = item_key(in);
    if (has_open_errors(in.record)) {
      it.passthrough = true;
    } else if (const Json* e = field(in.record, "embedding"); !e || !e->is_object()) {
      it.error = "no embedding in the record (run reel embed first)";
    } else {
      if (e->contains("vector") && (*e)["vector"].is_array()) {
        it.row = static_cast<int64_t>(inline_.size());
        for (const auto& v : (*e)["vector"]) inline_.push_back(v.is_number() ? v.get<float>() : NAN);
        it.file = -2 - static_cast<int32_t>((*e)["vector"].size());  // an inline vector of that size
      } else if (e->contains("file") && (*e)["file"].is_string() && e->contains("row") && (*e)["row"].is_number_integer()) {
        const std::string file = (*e)["file"];
        auto [pos, fresh] = file_index_.emplace(file, static_cast<int32_t>(files_.size()));
        if (fresh) files_.push_back(file);
        it.file = pos->second;
        it.row = (*e)["row"];
      } else {
        it.error = "the embedding names neither a file and row nor an inline vector";
      }
      if (c_.phash && e->contains("phash") && (*e)["phash"].is_array())
        for (const auto& h : (*e)["phash"]) {
          uint64_t v = 0;
          if (h.is_string() && parse_hash_hex(h.get<std::string>(), &v)) it.phash.push_back(v);
        }
    }
    if (!c_.keep_by.empty())
      if (const Json* s = field(in.record, c_.keep_by); s && s->is_number()) it.score = s->get<double>();
    items_.push_back(std::move(it));
  }

  void finish_into(const std::function<void(const Json&)>& emit) override {
    std::fflush(spool_);
    std::vector<float> x = load_vectors();
    if (c_.phash) phash_pass();
    semantic_pass(x);
    write_out(emit);
  }

 private:
  // The vectors of every item that has one, into an (items with vectors) x dim matrix.
  std::vector<float> load_vectors() {
    // Dimension and model: the first file that opens (or the first inline vector) sets them.
    std::vector<std::string> file_error(files_.size());
    std::vector<int64_t> file_rows(files_.size(), 0);
    std::vector<std::vector<std::string>> file_ids(files_.size());
    std::vector<std::unique_ptr<h5::File>> opened(files_.size());  // kept open for reading the rows
    for (size_t f = 0; f < files_.size(); ++f) {
      try {
        opened[f] = std::make_unique<h5::File>(local_copy(files_[f]), 'r');  // an s3:// file is fetched once
        h5::File& h = *opened[f];
        const auto shape = h.shape("embeddings");
        if (shape.size() != 2) throw Error(Code::InvalidData, files_[f] + ": embeddings is not a matrix");
        const std::string model = h.has_attr("/", "model") ? h.read_attr_string("/", "model") : "";
        if (dim_ == 0) {
          dim_ = static_cast<int>(shape[1]), model_ = model, first_ = files_[f];
          if (c_.sem.eps < 0 && h.has_attr("/", "card")) {  // the model card's measured eps
            const Json card = Json::parse(h.read_attr_string("/", "card"), nullptr, false);
            if (card.is_object() && card.value("dedup_eps", 0.0) > 0) c_.sem.eps = card["dedup_eps"].get<double>();
          }
        }
        if (shape[1] != dim_)
          throw Error(Code::InvalidData, "dimension mismatch: " + files_[f] + " holds " + std::to_string(shape[1]) +
                                             "-d embeddings, " + first_ + " " + std::to_string(dim_) + "-d");
        if (model != model_)
          throw Error(Code::InvalidData, "model mismatch: " + files_[f] + " holds " + model + " embeddings, " + first_ + " " + model_);
        file_rows[f] = shape[0];
        file_ids[f] = h.read_strings("ids");
      } catch (const Error& e) {
        file_error[f] = std::string("cannot use the embeddings file: ") + e.what();
      }
    }
    for (Item& it : items_) {
      if (it.passthrough || !it.error.empty()) continue;
      if (it.file >= 0) {
        const auto f = static_cast<size_t>(it.file);
        if (!file_error[f].empty()) it.error = file_error[f];
        else if (it.row < 0 || it.row >= file_rows[f])
          it.error = "row " + std::to_string(it.row) + " is past the end of " + files_[f] + " (" + std::to_string(file_rows[f]) + " rows)";
        else if (file_ids[f][static_cast<size_t>(it.row)] != it.id)
          it.error = "row " + std::to_string(it.row) + " of " + files_[f] + " belongs to " + file_ids[f][static_cast<size_t>(it.row)] +
                     ", not " + it.id + " (a stale file?)";
      } else {
        const int size = -2 - it.file;
        if (dim_ == 0) dim_ = size, first_ = "an inline vector";
        if (size != dim_)
          it.error = "dimension mismatch: an inline " + std::to_string(size) + "-d vector, " + first_ + " " + std::to_string(dim_) + "-d";
      }
      if (it.error.empty()) it.slot = slots_++;
    }
    std::vector<float> x(static_cast<size_t>(slots_) * dim_);
    // File rows a block at a time, each copied to its items' slots.
    for (size_t f = 0; f < files_.size(); ++f) {
      if (!file_error[f].empty()) continue;
      std::vector<std::pair<int64_t, int64_t>> want;  // (row, slot), sorted by row
      for (const Item& it : items_)
        if (it.slot >= 0 && it.file == static_cast<int32_t>(f)) want.emplace_back(it.row, it.slot);
      std::sort(want.begin(), want.end());
      h5::File& h = *opened[f];
      constexpr int64_t kBlock = 4096;
      std::vector<float> block(static_cast<size_t>(kBlock) * dim_);
      size_t w = 0;
      while (w < want.size()) {
        const int64_t r0 = want[w].first, m = std::min(kBlock, file_rows[f] - r0);
        h.read_rows("embeddings", r0, m, block.data());
        for (; w < want.size() && want[w].first < r0 + m; ++w)
          std::copy(block.begin() + (want[w].first - r0) * dim_, block.begin() + (want[w].first - r0 + 1) * dim_,
                    x.begin() + want[w].second * dim_);
      }
    }
    for (const Item& it : items_)
      if (it.slot >= 0 && it.file < 0) std::copy(inline_.begin() + it.row, inline_.begin() + it.row + dim_, x.begin() + it.slot * dim_);
    inline_.clear();
    inline_.shrink_to_fit();
    for (Item& it : items_) {  // unit length (a zero or non-finite vector is an error)
      if (it.slot < 0) continue;
      float* v = x.data() + it.slot * dim_;
      double s = 0;
      for (int j = 0; j < dim_; ++j) s += static_cast<double>(v[j]) * v[j];
      if (!(s > 0) || !std::isfinite(s)) {
        it.error = "the embedding is zero or not finite";
        continue;
      }
      const float inv = static_cast<float>(1 / std::sqrt(s));
      for (int j = 0; j < dim_; ++j) v[j] *= inv;
    }
    return x;
  }

  // Exact and near-exact copies: the same number of frame hashes, mean Hamming distance at
  // most phash_bits; candidates share a 16-bit band of the middle frame's hash (any pair
  // within 3 bits there does, by pigeonhole). The first in input order is kept.
  void phash_pass() {
    std::unordered_map<uint64_t, std::vector<int64_t>> bands;
    for (int64_t i = 0; i < static_cast<int64_t>(items_.size()); ++i) {
      Item& it = items_[i];
      if (it.slot < 0 || !it.error.empty() || it.phash.empty()) continue;
      const uint64_t mid = it.phash[it.phash.size() / 2];
      int64_t best = -1;
      double best_d = 1e9;
      for (int b = 0; b < 4 && best < 0; ++b) {
        auto f = bands.find((static_cast<uint64_t>(b) << 16) | ((mid >> (16 * b)) & 0xffff));
        if (f == bands.end()) continue;
        for (int64_t j : f->second) {
          const Item& o = items_[j];
          if (o.phash.size() != it.phash.size()) continue;
          double sum = 0;
          for (size_t k = 0; k < it.phash.size(); ++k) sum += hamming(it.phash[k], o.phash[k]);
          const double mean = sum / it.phash.size();
          if (mean <= c_.phash_bits && mean < best_d) best = j, best_d = mean;
        }
      }
      if (best >= 0) {
        it.dup_of = best;
        it.hamming = static_cast<int>(std::lround(best_d));
        continue;
      }
      for (int b = 0; b < 4; ++b) bands[(static_cast<uint64_t>(b) << 16) | ((mid >> (16 * b)) & 0xffff)].push_back(i);
    }
  }

  void semantic_pass(std::vector<float>& x) {
    // The items still in play, their rows moved up in order (x is reused in place).
    std::vector<int64_t> who;
    std::vector<double> scores;
    int64_t m = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(items_.size()); ++i) {
      Item& it = items_[i];
      if (it.slot < 0 || !it.error.empty() || it.dup_of >= 0) continue;
      if (it.slot != m) std::copy(x.begin() + it.slot * dim_, x.begin() + (it.slot + 1) * dim_, x.begin() + m * dim_);
      who.push_back(i);
      scores.push_back(it.score);
      ++m;
    }
    if (c_.sem.eps < 0) c_.sem.eps = 0.1;  // NeMo Curator's examples
    SemDedupOptions o = c_.sem;
    o.nn = c_.histogram;
    const int k = o.clusters > 0 ? o.clusters : default_clusters(m);
    REEL_INFO("dedup", "%lld embeddings (%d-d) in play, eps %.3g; %s", static_cast<long long>(m), dim_, o.eps,
              k == 1 ? "one cluster (every pair compared)" : ("k-means with " + std::to_string(k) + " clusters").c_str());
    const SemDedupResult r = semantic_dedup(x.data(), m, dim_, o, &scores);
    for (int64_t p = 0; p < m; ++p) {
      Item& it = items_[who[p]];
      it.cluster = r.cluster[p];
      it.max_sim = r.max_sim[p];
      if (r.duplicate_of[p] >= 0) {
        it.dup_of = who[r.duplicate_of[p]];
        it.similarity = r.max_sim[p];
      }
    }
    if (c_.histogram) print_histogram(r, o.eps);
  }

  void print_histogram(const SemDedupResult& r, double eps) const {
    // Bins of 0.02 from 0.50 up: how many items have their most similar item of the cluster
    // there, and how many the current ranking would remove at each eps.
    static constexpr int kBins = 25;
    static constexpr float kLo = 0.5f, kWidth = 0.02f;
    auto bin = [](float s) { return s < kLo ? 0 : std::min(kBins, 1 + static_cast<int>((s - kLo) / kWidth)); };
    std::vector<int64_t> nn(kBins + 1, 0), removed(kBins + 1, 0);
    for (size_t i = 0; i < r.nn_sim.size(); ++i) {
      if (r.nn_sim[i] > -2) ++nn[bin(r.nn_sim[i])];
      if (r.max_sim[i] > -2) ++removed[bin(r.max_sim[i])];
    }
    std::fprintf(stderr, "[dedup] similarity to the nearest item of the same cluster (%zu items; eps %.3g removes "
                 "similarity >= %.3g):\n  bin            nearest   removed if eps = 1 - bin start\n", r.nn_sim.size(), eps, 1 - eps);
    int64_t cum = 0;
    for (int b = kBins; b >= 0; --b) {
      cum += removed[b];
      if (b == 0) std::fprintf(stderr, "  < 0.50       %9lld\n", static_cast<long long>(nn[b]));
      else
        std::fprintf(stderr, "  [%.2f, %.2f%c %9lld   %9lld\n", kLo + kWidth * (b - 1), kLo + kWidth * b, b == kBins ? ']' : ')',
                     static_cast<long long>(nn[b]), static_cast<long long>(cum));
    }
  }

  void write_out(const std::function<void(const Json&)>& emit) {
    std::optional<AtomicPath> rej_path;
    FILE* rej = nullptr;
    if (!c_.rejected.empty()) {
      rej_path.emplace(c_.rejected);
      rej = std::fopen(rej_path->tmp().c_str(), "wb");
      if (!rej) throw Error(Code::OutputError, "cannot write " + c_.rejected + ": " + std::strerror(errno));
    }
    std::string line;
    int64_t dups = 0, kept = 0;
    std::rewind(spool_);
    for (const Item& it : items_) {
      line.resize(it.length);
      if (std::fread(line.data(), 1, it.length, spool_) != it.length) throw Error(Code::OutputError, "reading back the temporary file");
      Json rec = Json::parse(line);
      if (it.passthrough) {
        emit(rec);
        continue;
      }
      if (!it.error.empty()) {
        add_error(rec, "dedup", Code::InvalidData, it.error);
        ++failed_;
        emit(rec);
        continue;
      }
      if (it.dup_of >= 0) {
        Json d = {{"kept", false}, {"duplicate_of", items_[it.dup_of].id}};
        if (it.hamming >= 0) d["method"] = "phash", d["hamming"] = it.hamming;
        else d["method"] = "semantic", d["similarity"] = it.similarity, d["cluster"] = it.cluster;
        rec["dedup"] = d;
        ++dups;
        if (rej) {
          const std::string out = rec.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
          if (std::fwrite(out.data(), 1, out.size(), rej) != out.size())
            throw Error(Code::OutputError, "writing " + c_.rejected + ": " + std::strerror(errno));
        }
        continue;
      }
      rec["dedup"] = {{"kept", true}, {"cluster", it.cluster}, {"max_similarity", it.max_sim > -2 ? Json(it.max_sim) : Json()}};
      ++kept;
      emit(rec);
    }
    if (rej) {
      if (std::fclose(rej) != 0) throw Error(Code::OutputError, "writing " + c_.rejected + ": " + std::strerror(errno));
      rej_path->commit();
    }
    REEL_INFO("dedup", "%lld kept, %lld duplicates removed, %lld errors", static_cast<long long>(kept), static_cast<long long>(dups),
              static_cast<long long>(failed_));
  }

  DedupConfig c_;
  FILE* spool_ = nullptr;
  std::vector<Item> items_;
  std::vector<std::string> files_;
  std::unordered_map<std::string, int32_t> file_index_;
  std::vector<float> inline_;
  int64_t slots_ = 0, failed_ = 0;
  int dim_ = 0;
  std::string model_, first_;
};

}  // namespace

std::unique_ptr<WholeStage> make_dedup_stage(const DedupConfig& config) { return std::make_unique<DedupStage>(config); }

}  // namespace reel
