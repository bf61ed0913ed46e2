// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/tokenize.h"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "reel/core/backend.h"
#include "reel/core/cancel.h"
#include "reel/core/log.h"
#include "reel/io/atomic_file.h"
#include "reel/io/h5.h"
#include "reel/io/uuid.h"
#include "reel/media/decoder.h"
#include "reel/media/video_writer.h"
#include "reel/model/latents_store.h"
#include "reel/model/ops.h"
#include "reel/storage/output_target.h"
#include "reel/storage/remote_file.h"

namespace fs = std::filesystem;

namespace reel {

std::unique_ptr<Tokenizer> load_model(const std::string& path) {
  if (path.empty()) throw Error(Code::InvalidArgument, "--model is required");
  try {
    auto t = Tokenizer::load(path);
    REEL_INFO("model", "%s: %s, %.2fM parameters", path.c_str(), t->config().arch_name().c_str(),
              (t->parameter_count(true) + t->parameter_count(false)) / 1e6);
    return t;
  } catch (const Error& e) {
    if (e.code() == Code::NotFound || e.code() == Code::InvalidData || e.code() == Code::IoError)
      throw Error(Code::ModelError, std::string(e.what()) + " (--model wants a reel model file, see weights/FORMAT.md)");
    throw;
  }
}

void place_tokenizer(Tokenizer& tok, const ComputeTarget& target) {
  if (target.device.kind == DeviceKind::Cpu && target.dtype == DType::F32) return;
  tok.use_backend(make_backend(target.device, 0, target.dtype));
  REEL_VERBOSE("model", "tokenizer on %s", tok.backend().describe().c_str());
}

std::unique_ptr<Tokenizer> load_model(const std::string& path, const ComputeTarget& target) {
  auto t = load_model(path);
  place_tokenizer(*t, target);
  return t;
}

namespace {
ComputeTarget target_of(const std::string& device, const std::string& dtype) {
  ComputeTarget t;
  t.device = resolve_device(device);  // throws DeviceUnavailable / InvalidArgument
  t.dtype = parse_dtype(dtype, t.device);
  if (t.device.kind == DeviceKind::Cpu && t.dtype != DType::F32)
    throw Error(Code::InvalidArgument, std::string("--dtype ") + dtype_name(t.dtype) + " needs a CUDA device: the CPU backend computes in fp32");
  return t;
}
}  // namespace

ComputeTarget resolve_compute(const std::string& device, const std::string& dtype) {
  const ComputeTarget t = target_of(device, dtype);
  REEL_INFO("device", "computing on %s", t.describe().c_str());
  return t;
}

std::vector<ComputeTarget> resolve_computes(const std::string& devices, const std::string& dtype) {
  std::vector<std::string> names;
  for (size_t a = 0; a <= devices.size();) {
    const size_t b = std::min(devices.find(',', a), devices.size());
    if (b > a) names.push_back(devices.substr(a, b - a));
    a = b + 1;
  }
  if (names.empty()) throw Error(Code::InvalidArgument, "--devices is empty (all, cpu, or cuda:0,cuda:1,...)");
  std::vector<ComputeTarget> out;
  if (names.size() == 1 && names[0] == "all") {
    std::string why;
    const int n = cuda_device_count(&why);
    if (n == 0) throw Error(Code::DeviceUnavailable, "--devices all: no CUDA device (" + why + ")");
    for (int i = 0; i < n; ++i) names.push_back("cuda:" + std::to_string(i));
    names.erase(names.begin());
  }
  for (const auto& name : names) {
    if (name == "all" || name == "auto")
      throw Error(Code::InvalidArgument, "--devices " + devices + ": '" + name + "' stands alone, not in a list");
    const ComputeTarget t = target_of(name, dtype);
    for (const auto& o : out)
      if (o.device.name() == t.device.name()) throw Error(Code::InvalidArgument, "--devices names " + name + " twice");
    out.push_back(t);
  }
  std::string list;
  for (const auto& t : out) list += (list.empty() ? "" : ", ") + t.describe();
  // A clip's result must not depend on which worker took it.
  for (const auto& t : out)
    if (t.dtype != out[0].dtype)
      throw Error(Code::InvalidArgument, "--devices " + devices + " computes in different dtypes (" + list +
                                             "): give one --dtype for all");
  REEL_INFO("device", "tokenizer workers on %zu device%s: %s", out.size(), out.size() == 1 ? "" : "s", list.c_str());
  return out;
}

namespace {
// The index of environment variable `name`'s value among `choices` ("auto", choices[0], when it is
// unset or empty); another value is a usage error naming the variable and its choices.
size_t env_choice(const char* name, const std::vector<std::string>& choices) {
  const char* e = std::getenv(name);
  const std::string v = e && *e ? e : choices[0];
  for (size_t i = 0; i < choices.size(); ++i)
    if (v == choices[i]) return i;
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  throw Error(Code::InvalidArgument, std::string(name) + " must be " + list + ", not '" + v + "'");
}

// REEL_TOKENIZE_INPUT=rgb|pictures overrides Auto (for measuring one route against the other).
InputRoute default_input_route() {
  static const InputRoute r =
      std::array{InputRoute::Auto, InputRoute::Rgb, InputRoute::Planes}[env_choice("REEL_TOKENIZE_INPUT", {"auto", "rgb", "pictures"})];
  return r;
}

// REEL_BATCH_OVERLAP=on|off overrides the batcher's Auto (for measuring a pass in flight against
// passes one after another on the same GPU).
WindowBatcher::Overlap default_overlap() {
  static const WindowBatcher::Overlap o = std::array{WindowBatcher::Overlap::Auto, WindowBatcher::Overlap::On,
                                                     WindowBatcher::Overlap::Off}[env_choice("REEL_BATCH_OVERLAP", {"auto", "on", "off"})];
  return o;
}
}  // namespace

ClipLatents encode_source(const TokenizerUse& use, const std::string& source, int window, double* fps,
                          const PassOptions& passes, int decode_threads, InputRoute route) {
  if (route == InputRoute::Auto) route = default_input_route();
  DecodeOptions d;
  d.threads = decode_threads;
  const Device dev = use.tok->backend().device();
  d.planes = route == InputRoute::Planes || (route == InputRoute::Auto && dev.kind == DeviceKind::Cuda);
  d.device_planes = dev.kind == DeviceKind::Cuda;
  d.cuda_device = d.device_planes ? dev.index : 0;
  auto dec = VideoDecoder::open(source, d);
  const VideoInfo& info = dec->info();
  ClipEncoder enc(use, info.display_width, info.display_height, window, passes);
  Frame f;
  int64_t on_device = 0, host_planes = 0, rgb = 0;
  while (dec->next(&f)) {
    throw_if_cancelled();
    if (f.planes) {
      enc.push_planes(f.planes);
      ++(f.planes.on_device ? on_device : host_planes);
    } else {
      enc.push(f.data.data());
      ++rgb;
    }
  }
  if (d.planes)
    REEL_VERBOSE("tokenize", "%s: network input made on %s from %lld NVDEC pictures in device memory, %lld host pictures, %lld RGB24 frames",
                 source.c_str(), dev.name().c_str(), static_cast<long long>(on_device), static_cast<long long>(host_planes),
                 static_cast<long long>(rgb));
  ClipLatents lat = enc.finish();
  if (lat.frames == 0) throw Error(Code::InvalidData, "no decodable video frame in " + source);
  *fps = info.fps;
  return lat;
}

int64_t write_reconstruction(const TokenizerUse& use, const ClipLatents& lat, double fps, const std::string& out,
                             const PassOptions& passes) {
  // fps as a rational in thousandths; 24 when the source had none.
  const int fn = static_cast<int>(std::lround(fps * 1000));
  VideoWriter w(out, lat.width, lat.height, fn > 0 ? fn : 24000, 1000);
  decode_clip(use, lat, [&](const uint8_t* rgb) {
    throw_if_cancelled();
    w.write(rgb);
  }, passes);
  w.close();
  return w.frames();
}

std::string clip_key(const Json& rec, const std::string& source) {
  if (rec.contains("id") && rec["id"].is_string()) return sanitize_key(rec["id"].get<std::string>());
  return uuid_v5(kReelClipNamespace, source);
}

bool shares_device(const ComputeTarget& t, const PassOptions& passes) {
  return t.device.kind == DeviceKind::Cuda || passes.batch > 1;
}

DevicePool::DevicePool(std::string model, const ComputeTarget& target, std::vector<ComputeTarget> devices,
                       PassOptions passes, int compute_threads)
    : model_(std::move(model)), targets_(std::move(devices)), passes_(passes), threads_(compute_threads) {
  if (targets_.empty()) targets_.push_back(target);
  slots_.resize(targets_.size());
}

DevicePool::~DevicePool() {
  for (auto& s : slots_)
    if (s.batcher && s.batcher->passes() > 0)
      REEL_INFO("tokenize", "%s: %llu windows in %llu passes (%.2f a pass)", s.tok->backend().describe().c_str(),
                static_cast<unsigned long long>(s.batcher->windows()), static_cast<unsigned long long>(s.batcher->passes()),
                double(s.batcher->windows()) / double(s.batcher->passes()));
}

const Tokenizer& DevicePool::first() {
  Slot& s = slots_[0];
  if (!s.tok) s.tok = load_model(model_, targets_[0]);
  return *s.tok;
}

TokenizerUse DevicePool::worker(int index, std::unique_ptr<Tokenizer>* own) {
  const size_t d = static_cast<size_t>(index) % targets_.size();
  Slot& s = slots_[d];
  if (shares_device(targets_[d], passes_)) {
    // The device's workers share one model instance behind one batcher.
    if (!s.tok) s.tok = load_model(model_, targets_[d]);
    if (!s.batcher) s.batcher = std::make_unique<WindowBatcher>(*s.tok, passes_, threads_, default_overlap());
    return TokenizerUse(*s.batcher);
  }
  // A model instance per worker (the CPU's default: workers compute in parallel).
  *own = s.tok && !s.handed ? std::move(s.tok) : load_model(model_, targets_[d]);
  s.handed = true;
  return TokenizerUse(**own);
}

namespace {

// A resumed run must compute as the first did: 16-bit runs name their dtype (fp32 ledgers of
// earlier versions stay valid).
Json with_dtype(Json fp, const ComputeTarget& t) {
  if (t.dtype != DType::F32) fp["dtype"] = dtype_name(t.dtype);
  return fp;
}

Json model_fields(const Tokenizer& tok) {
  return {{"model", tok.config().arch_name()}, {"model_sha256", tok.checksum()}};
}

// ---- encode ----

class EncodeProcessor : public Processor {
 public:
  EncodeProcessor(const TokenizeConfig& c, LatentsStore& store, const OutputTarget& target, TokenizerUse use,
                  std::unique_ptr<Tokenizer> own)
      : c_(c), store_(store), target_(target), use_(use), own_(std::move(own)), tok_(use.tok) {}

  StageOutput process(const InputItem& item) override {
    // OpenMP's thread count is a per-thread setting: set it on this worker thread.
    ops_set_threads(c_.compute_threads);
    Json rec = item.record;
    const std::string key = clip_key(rec, item.media);
    ClipLatents lat;
    if (store_.has(key)) {
      lat = store_.read(key, nullptr);  // finished by a killed run after its last printed record
      // That run may have died between writing the clip and uploading it.
      const std::string file = store_.clip_file(key);
      if (target_.remote() && !target_.present(target_.published(file), static_cast<int64_t>(fs::file_size(file))))
        target_.publish(file, false);
    } else {
      double fps = 0;
      lat = encode_source(use_, item.media, c_.window, &fps, c_.passes, c_.decode_threads);
      Json attrs = model_fields(*tok_);
      attrs["source"] = rec.value("source", item.media);
      attrs["fps"] = fps;
      attrs["config"] = tok_->config().to_json().dump();
      attrs["record"] = rec.dump();
      if (rec.contains("span")) attrs["span"] = rec["span"].dump();
      store_.write(key, lat, attrs, c_.write);
      // An s3:// output: the clip's file goes up whole now (its staged copy stays for resume).
      if (target_.remote()) target_.publish(store_.clip_file(key), false);
    }
    Json tokens = model_fields(*tok_);
    tokens["path"] = target_.published(store_.index_path());
    tokens["group"] = "clips/" + key;
    tokens["file"] = target_.published(store_.clip_file(key));
    tokens["window"] = lat.window;
    tokens["frames"] = lat.frames;
    if (tok_->config().discrete) tokens["indices_shape"] = {lat.latent_t(), lat.lat_h, lat.lat_w};
    else tokens["latent_shape"] = {lat.channels, lat.latent_t(), lat.lat_h, lat.lat_w};
    rec["tokens"] = tokens;
    return {{rec}, Json(key)};
  }

 private:
  const TokenizeConfig& c_;
  LatentsStore& store_;
  const OutputTarget& target_;
  TokenizerUse use_;
  std::unique_ptr<Tokenizer> own_;  // this worker's own instance, unless the device's is shared
  const Tokenizer* tok_;
};

class EncodeStage : public Stage {
 public:
  explicit EncodeStage(TokenizeConfig c) : c_(std::move(c)) {}
  std::string name() const override { return "tokenize"; }
  void open(const Shard& shard) override {
    default_input_route();  // a bad REEL_TOKENIZE_INPUT or REEL_BATCH_OVERLAP stops the run before any clip
    default_overlap();
    pool_ = std::make_unique<DevicePool>(c_.model, c_.target, c_.devices, c_.passes, c_.compute_threads);
    const Tokenizer& first = pool_->first();
    sha_ = first.checksum();
    // An s3:// output is written in the staging folder: each clip's file is uploaded when it is
    // written, the index when the run completes.
    std::string index;
    target_ = OutputTarget::for_file(shard.name(c_.output), &index);
    LatentsHeader h{first.config().arch_name(), first.checksum(), first.config().to_json().dump()};
    store_ = std::make_unique<LatentsStore>(index, h);
    ledger_ = store_->index_path() + ".ledger.jsonl";
  }
  std::unique_ptr<Processor> processor(int index) override {
    std::unique_ptr<Tokenizer> own;
    const TokenizerUse use = pool_->worker(index, &own);
    return std::make_unique<EncodeProcessor>(c_, *store_, target_, use, std::move(own));
  }
  std::string ledger_path() const override { return ledger_; }
  Json fingerprint() const override {
    return with_dtype({{"model_sha256", sha_}, {"window", c_.window}, {"tile", c_.passes.tile}, {"overlap", c_.passes.overlap},
                       {"fp16", c_.write.latent_fp16}, {"uint16", c_.write.indices_uint16}},
                      c_.target_of(0));
  }
  bool still_there(const StageOutput& done) const override {
    return !done.payload.is_string() || store_->has(done.payload.get<std::string>());
  }
  void collect(const InputItem&, StageOutput& out) override {
    if (out.payload.is_string()) store_->add(out.payload.get<std::string>());
  }
  void commit() override { store_->commit(); }
  std::vector<Json> finish(bool complete) override {
    store_->commit();
    if (complete && target_.remote()) target_.publish(store_->index_path(), false);
    return {};
  }

 private:
  TokenizeConfig c_;
  std::unique_ptr<DevicePool> pool_;
  OutputTarget target_;
  std::unique_ptr<LatentsStore> store_;
  std::string ledger_, sha_;
};

// ---- decode and roundtrip: an mp4 per clip in a folder ----

class ReconProcessor : public Processor {
 public:
  ReconProcessor(const TokenizeConfig& c, TokenizerUse use, std::unique_ptr<Tokenizer> own, bool from_latents)
      : c_(c), use_(use), own_(std::move(own)), tok_(use.tok), from_latents_(from_latents) {}

  StageOutput process(const InputItem& item) override {
    ops_set_threads(c_.compute_threads);
    Json rec = item.record;
    ClipLatents lat;
    double fps = 0;
    std::string key;
    if (from_latents_) {
      const auto& t = rec.contains("tokens") && rec["tokens"].is_object() ? rec["tokens"] : Json::object();
      const std::string path = t.value("path", std::string()), group = t.value("group", std::string());
      if (path.empty() || group.rfind("clips/", 0) != 0)
        throw Error(Code::InvalidData, "record has no tokens.path and tokens.group=clips/<key> (from reel tokenize encode)");
      key = group.substr(6);
      Json attrs;
      {
        // Latents on an object store: the clip's own file, fetched once (HDF5 reads local files).
        const std::string file = t.value("file", std::string());
        if (is_remote_url(path) && !is_remote_url(file))
          throw Error(Code::InvalidData, "record's tokens.path is remote (" + path + ") but tokens.file is not");
        h5::File f(is_remote_url(path) ? local_copy(file) : path, 'r', Code::InvalidData);
        lat = read_clip_latents(f, key, &attrs);
      }
      if (attrs.contains("model_sha256") && attrs["model_sha256"] != tok_->checksum())
        REEL_WARN("tokenize", "clip %s was encoded with another model (sha256 %s)", key.c_str(),
                  attrs["model_sha256"].get<std::string>().c_str());
      fps = attrs.value("fps", 24.0);
    } else {
      key = clip_key(rec, item.media);
      lat = encode_source(use_, item.media, c_.window, &fps, c_.passes, c_.decode_threads);
    }
    const fs::path out = fs::path(c_.output) / (sanitize_key(key) + ".mp4");
    const int64_t n = write_reconstruction(use_, lat, fps, out.string(), c_.passes);
    Json r = model_fields(*tok_);
    r["path"] = fs::absolute(out).string();
    r["frames"] = n;
    rec["reconstruction"] = r;
    return {{rec}, Json()};
  }

 private:
  const TokenizeConfig& c_;
  TokenizerUse use_;
  std::unique_ptr<Tokenizer> own_;
  const Tokenizer* tok_;
  bool from_latents_;
};

class ReconStage : public Stage {
 public:
  ReconStage(TokenizeConfig c, bool from_latents) : c_(std::move(c)), from_latents_(from_latents) {}
  std::string name() const override { return "tokenize"; }
  void open(const Shard& shard) override {
    prepare_output_dir(c_.output, "output folder", "tokenize");
    pool_ = std::make_unique<DevicePool>(c_.model, c_.target, c_.devices, c_.passes, c_.compute_threads);
    sha_ = pool_->first().checksum();
    ledger_ = (fs::path(c_.output) / ".ledger" / ((from_latents_ ? "decode" : "roundtrip") + shard.suffix() + ".jsonl")).string();
  }
  std::unique_ptr<Processor> processor(int index) override {
    std::unique_ptr<Tokenizer> own;
    const TokenizerUse use = pool_->worker(index, &own);
    return std::make_unique<ReconProcessor>(c_, use, std::move(own), from_latents_);
  }
  std::string ledger_path() const override { return ledger_; }
  Json fingerprint() const override {
    return with_dtype({{"model_sha256", sha_}, {"window", c_.window}, {"tile", c_.passes.tile}, {"overlap", c_.passes.overlap}},
                      c_.target_of(0));
  }
  bool still_there(const StageOutput& done) const override {
    std::error_code ec;
    for (const auto& r : done.records)
      if (r.contains("reconstruction") && !fs::exists(r["reconstruction"].value("path", std::string()), ec)) return false;
    return true;
  }

 private:
  TokenizeConfig c_;
  bool from_latents_;
  std::unique_ptr<DevicePool> pool_;
  std::string ledger_, sha_;
};

}  // namespace

std::unique_ptr<Stage> make_encode_stage(const TokenizeConfig& config) { return std::make_unique<EncodeStage>(config); }
std::unique_ptr<Stage> make_decode_stage(const TokenizeConfig& config) { return std::make_unique<ReconStage>(config, true); }
std::unique_ptr<Stage> make_roundtrip_stage(const TokenizeConfig& config) {
  return std::make_unique<ReconStage>(config, false);
}

std::string latents_file_records(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error(Code::InvalidArgument, "latents file " + path + " does not exist (give the -o file of reel tokenize encode)");
  std::unique_ptr<h5::File> f;
  try {
    f = std::make_unique<h5::File>(path, 'r', Code::InvalidArgument);
  } catch (const Error& e) {
    throw Error(Code::InvalidArgument, std::string(e.what()) + " (give the -o file of reel tokenize encode)");
  }
  const std::string abs = fs::absolute(path).lexically_normal().string();
  std::string lines;
  for (const auto& key : f->list("clips")) {
    Json rec = Json::object();
    const std::string g = "clips/" + key;
    try {
      if (f->has_attr(g, "record")) rec = Json::parse(f->read_attr_string(g, "record"));
      if (!rec.is_object()) rec = Json::object();
      if (!rec.contains("source") && f->has_attr(g, "source")) rec["source"] = f->read_attr_string(g, "source");
    } catch (const std::exception&) {
      rec = Json::object();
    }
    if (!rec.contains("source")) rec["source"] = abs + "#" + key;
    rec["tokens"] = {{"path", abs}, {"group", g}};
    lines += rec.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  }
  return lines;
}

}  // namespace reel
