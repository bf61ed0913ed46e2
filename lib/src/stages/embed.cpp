// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/embed.h"
#include "reel/storage/output_target.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "reel/core/cancel.h"
#include "reel/core/log.h"
#include "reel/embed/embedder.h"
#include "reel/embed/embedding_store.h"
#include "reel/embed/frame_plan.h"
#include "reel/embed/phash.h"
#include "reel/filter/text.h"
#include "reel/io/atomic_file.h"
#include "reel/media/decoder.h"
#include "reel/pipeline/frame_share.h"
#include "reel/pipeline/record.h"

namespace fs = std::filesystem;

namespace reel {

namespace {

// Frames at the analysis width (what a model card resizes from).
DecodeOptions plan_decode(int threads) {
  DecodeOptions o;
  o.threads = threads;
  o.format = PixelFormat::RGB24;
  o.out_width = kTextWidth;
  return o;
}

std::unique_ptr<VideoDecoder> open_for_plan(const std::string& media, int threads) {
  return VideoDecoder::open(media, plan_decode(threads));
}

std::vector<int64_t> plan_for(const ModelCard& card, const VideoInfo& info, const Json& record) {
  const double fps = info.fps > 0 ? info.fps : 25.0;
  return plan_frames(card, expected_frames(info, record.value("duration_s", 0.0)), fps);
}

class EmbedProcessor : public Processor {
 public:
  // share with slot < 0: this stage is the producer (reel run without a filter before it).
  EmbedProcessor(const EmbedConfig& c, const ModelCard& card, const ComputeTarget& target, FrameShare* share, int slot)
      : c_(c), embedder_(card, target), share_(share), slot_(slot) {
    REEL_INFO("embed", "%s on %s", card.name.c_str(), embedder_.describe().c_str());
  }

  // As producer: decodes up to the last frame anyone wants, converting the later stages' frames too.
  PickedFrames decode_sharing(VideoDecoder& dec, const std::vector<int64_t>& plan, const InputItem& item) {
    SharedDecode shared(share_, dec, item.record);
    const int64_t last = std::max(plan.empty() ? int64_t{-1} : plan.back(), shared.last_wanted());
    dec.set_convert_frames(plan);
    PickedFrames out;
    Frame f;
    size_t next = 0;
    while (out.decoded <= last && dec.next(&f)) {
      throw_if_cancelled();
      ++out.decoded;
      shared.collect(f);
      if (next < plan.size() && f.index == plan[next] && !f.data.empty()) {
        out.frames.push_back(std::move(f));
        f = Frame{};
        ++next;
      }
    }
    shared.put(item.media, out.decoded);
    return out;
  }

  // The planned frames: from reel run's shared decode when it holds all of them, else decoded here.
  PickedFrames frames_of(const InputItem& item) {
    FrameShare::Shared sh;
    if (share_ && slot_ >= 0 && share_->take(item.media, slot_, &sh) &&
        sh.indices == plan_for(embedder_.card(), sh.info, item.record) && sh.frames.size() == sh.indices.size())
      return {std::move(sh.frames), sh.decoded};
    auto dec = open_for_plan(item.media, c_.decode_threads);
    const VideoInfo& info = dec->info();
    const double fps = info.fps > 0 ? info.fps : 25.0;
    const int64_t frames = expected_frames(info, item.record.value("duration_s", 0.0));
    std::vector<int64_t> plan = plan_frames(embedder_.card(), frames, fps);
    PickedFrames s = share_ && slot_ < 0 ? decode_sharing(*dec, plan, item) : decode_indices(*dec, plan);
    if (s.frames.size() < plan.size() && s.decoded > 0 && s.decoded < frames) {
      // Fewer frames than the container said: plan again on the frames there are.
      plan = plan_frames(embedder_.card(), s.decoded, fps);
      s = decode_indices(*open_for_plan(item.media, c_.decode_threads), plan);
    }
    return s;
  }

  StageOutput process(const InputItem& item) override {
    PickedFrames s = frames_of(item);
    if (s.frames.empty()) throw Error(Code::InvalidData, "no decodable frame in " + item.media);
    const int w = s.frames[0].width, h = s.frames[0].height;
    std::vector<const uint8_t*> ptrs;
    std::vector<int64_t> indices;
    nlohmann::json hashes = nlohmann::json::array();
    for (const Frame& fr : s.frames) {
      ptrs.push_back(fr.data.data());
      indices.push_back(fr.index);
      hashes.push_back(hash_hex(dct_hash(fr.data.data(), w, h)));
    }
    const std::vector<float> v = embedder_.embed(ptrs, w, h);
    Json rec = item.record;
    Json e = {{"model", embedder_.card().name}, {"dim", v.size()}, {"frames", indices}, {"phash", hashes}};
    if (c_.inline_vector) e["vector"] = v;
    rec["embedding"] = e;
    StageOutput out{{rec}, Json{{"key", item_key(item)}}, {}};
    if (!c_.output.empty()) out.blob.assign(reinterpret_cast<const char*>(v.data()), sizeof(float) * v.size());
    return out;
  }

 private:
  const EmbedConfig& c_;
  Embedder embedder_;
  FrameShare* share_;
  int slot_;
};

class EmbedStage : public Stage {
 public:
  explicit EmbedStage(EmbedConfig c) : c_(std::move(c)), card_(load_model_card(c_.card)) {
    if (c_.output.empty() && !c_.inline_vector)
      throw Error(Code::InvalidArgument, "reel embed needs -o FILE.h5 (or --inline to put the vectors in the records)");
    Embedder probe(card_);  // loads and checks the model once, before any input
    dim_ = probe.dim();
    sha256_ = probe.sha256();
  }
  std::string name() const override { return "embed"; }
  void open(const Shard& shard) override {
    if (c_.output.empty()) {
      ledger_ = c_.ledger.empty() ? "" : shard.name(c_.ledger);
      return;
    }
    // An s3:// output is written in the staging folder and uploaded when complete.
    std::string path;
    target_ = OutputTarget::for_file(shard.name(c_.output), &path);
    prepare_output_dir(fs::path(path).parent_path(), "folder of the embeddings file", "embed");
    std::ifstream card_text(c_.card);
    Json card_json = Json::parse(card_text, nullptr, false);
    writer_.emplace(path, dim_, c_.fp16,
                    Json{{"model", card_.name}, {"model_sha256", sha256_}, {"card", card_json.is_discarded() ? Json() : card_json}},
                    c_.resume);
    ledger_ = c_.ledger.empty() ? path + ".ledger.jsonl" : shard.name(c_.ledger);
  }
  std::unique_ptr<Processor> processor(int index) override {
    const ComputeTarget target = c_.targets.empty() ? ComputeTarget{} : c_.targets[index % c_.targets.size()];
    return std::make_unique<EmbedProcessor>(c_, card_, target, share_.get(), slot_);
  }
  bool share_frames(const std::shared_ptr<FrameShare>& share, bool producer) override {
    share_ = share;
    if (producer) return true;  // slot_ stays -1

    const ModelCard card = card_;
    slot_ = share->add_consumer("embed", [card](const VideoInfo& info, const Json& record) -> std::optional<FrameShare::Want> {
      return FrameShare::Want{plan_decode(0), plan_for(card, info, record)};
    });
    return true;
  }
  std::string ledger_path() const override { return ledger_; }
  Json fingerprint() const override {
    return {{"model_sha256", sha256_}, {"card", fs::absolute(c_.card).string()}, {"output", c_.output},
            {"inline", c_.inline_vector}, {"fp16", c_.fp16}};
  }
  bool still_there(const StageOutput& done) const override {
    if (!writer_) return true;
    for (const auto& r : done.records)
      if (has_open_errors(r)) return true;  // an error record points at nothing
    return done.payload.is_object() && writer_->has(done.payload.value("key", ""));
  }
  void collect(const InputItem& item, StageOutput& out) override {
    if (!writer_ || out.records.empty() || !out.records[0].contains("embedding")) return;
    const std::string key = item_key(item);
    const int64_t row = out.blob.empty() ? writer_->reuse(key)
                                         : writer_->add(key, reinterpret_cast<const float*>(out.blob.data()));
    if (row < 0) throw Error(Code::OutputError, writer_->path() + ".rows lost the row of " + key);
    Json& e = out.records[0]["embedding"];
    e["file"] = target_.published(writer_->path());
    e["row"] = row;
  }
  void commit() override {
    if (writer_) writer_->sync();
  }
  std::vector<Json> finish(bool complete) override {
    if (writer_) writer_->finish(complete);
    // Records already name the s3:// file: it is uploaded whole (multipart above the part size),
    // visible only once complete; a run that did not complete uploads nothing.
    if (writer_ && complete) target_.publish(writer_->path(), false);
    return {};
  }

 private:
  EmbedConfig c_;
  ModelCard card_;
  int dim_ = 0;
  std::string sha256_, ledger_;
  std::optional<EmbeddingWriter> writer_;
  OutputTarget target_;
  std::shared_ptr<FrameShare> share_;
  int slot_ = -1;
};

}  // namespace

std::unique_ptr<Stage> make_embed_stage(const EmbedConfig& config) { return std::make_unique<EmbedStage>(config); }

}  // namespace reel
