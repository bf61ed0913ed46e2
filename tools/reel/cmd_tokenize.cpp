// SPDX-License-Identifier: Apache-2.0
// reel tokenize encode|decode|roundtrip|verify|bench|info: the Cosmos-compatible tokenizer.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "reel/core/backend.h"
#include "reel/core/log.h"
#include "reel/io/atomic_file.h"
#include "reel/io/inputs.h"
#include "reel/io/uuid.h"
#include "reel/media/decoder.h"
#include "reel/media/video_writer.h"
#include "reel/model/latents_io.h"
#include "reel/model/pipeline.h"
#include "tokenize_common.h"

namespace fs = std::filesystem;

namespace reel::cli {

std::unique_ptr<Tokenizer> load_model(const std::string& path) {
  if (path.empty()) throw Error(Code::InvalidArgument, "--model is required");
  try {
    auto t = Tokenizer::load(path);
    REEL_INFO("model", "%s: %s, %.2fM parameters", path.c_str(), t->config().arch_name().c_str(),
              (t->parameter_count(true) + t->parameter_count(false)) / 1e6);
    return t;
  } catch (const Error& e) {
    if (e.code() == Code::NotFound) throw Error(Code::ModelError, e.what());
    throw;
  }
}

void apply_threads() { ops_set_threads(thread_count()); }

void check_device(const std::string& request) {
  Device d = resolve_device(request);  // throws DeviceUnavailable / InvalidArgument
  if (d.kind == DeviceKind::Cuda && request != "auto")
    throw Error(Code::DeviceUnavailable, "device " + d.name() +
                                             ": the tokenizer has no CUDA path yet (only the Haar patcher kernel); use --device cpu");
}

void add_device_option(CLI::App* cmd, std::string* device) {
  cmd->add_option("--device", *device, "auto|cpu|cuda|cuda:N (the tokenizer runs on the CPU for now)")
      ->capture_default_str()
      ->envname("REEL_DEVICE");
}

void add_tile_options(CLI::App* cmd, TileOpts* t) {
  cmd->add_option("--tile", t->tile, "Process frames in spatial tiles of this many pixels (0 = whole frames); bounds memory")
      ->capture_default_str();
  cmd->add_option("--tile-overlap", t->overlap, "Overlap of neighbouring tiles in pixels, blended linearly")->capture_default_str();
}

ClipLatents encode_source(const Tokenizer& tok, const std::string& source, int window, double* fps, const TileOpts& tile) {
  DecodeOptions d;
  d.threads = globals().threads;
  auto dec = VideoDecoder::open(source, d);
  const VideoInfo& info = dec->info();
  ClipEncoder enc(tok, info.display_width, info.display_height, window, tile.tile, tile.overlap);
  Frame f;
  while (dec->next(&f)) {
    if (g_interrupted) throw Error(Code::Cancelled, "interrupted");
    enc.push(f.data.data());
  }
  ClipLatents lat = enc.finish();
  if (lat.frames == 0) throw Error(Code::InvalidData, "no decodable video frame in " + source);
  *fps = info.fps;
  return lat;
}

int64_t write_reconstruction(const Tokenizer& tok, const ClipLatents& lat, double fps, const fs::path& out,
                             const TileOpts& tile) {
  // fps as a rational in thousandths; 24 when the source had none.
  const int fn = static_cast<int>(std::lround(fps * 1000));
  VideoWriter w(out, lat.width, lat.height, fn > 0 ? fn : 24000, 1000);
  decode_clip(tok, lat, [&](const uint8_t* rgb) { w.write(rgb); }, tile.tile, tile.overlap);
  w.close();
  return w.frames();
}

std::string clip_key(const nlohmann::json& rec, const std::string& source) {
  if (rec.contains("id") && rec["id"].is_string()) return sanitize_key(rec["id"].get<std::string>());
  return uuid_v5(kReelClipNamespace, source);
}

namespace {

struct EncodeOpts {
  std::string model;
  std::vector<std::string> inputs;
  std::string output = "latents.h5";
  int window = 17;
  bool fp32 = false;
  bool int32 = false;
  TileOpts tile;
  std::string device = "auto";
};

int run_encode(const EncodeOpts& o) {
  check_device(o.device);
  apply_threads();
  auto tok = load_model(o.model);
  auto items = expand_inputs(o.inputs, std::cin);
  fs::path out(o.output);
  AtomicPath ap(out);
  // Resume: start from the existing file, skipping clips it already holds.
  std::error_code ec;
  if (fs::exists(out, ec)) fs::copy_file(out, ap.tmp(), fs::copy_options::overwrite_existing, ec);
  int failed = 0;
  {
    h5::File f(ap.tmp().string(), 'a');
    f.write_attr_string("/", "format", "reel-latents");
    f.write_attr_string("/", "model", tok->config().arch_name());
    f.write_attr_string("/", "model_sha256", tok->checksum());
    f.write_attr_string("/", "config", tok->config().to_json().dump());
    LatentWriteOptions wo;
    wo.latent_fp16 = !o.fp32;
    wo.indices_uint16 = !o.int32;
    Progress progress("encode", static_cast<int64_t>(items.size()));
    int done = 0;
    for (auto& item : items) {
      if (g_interrupted) break;
      nlohmann::json rec = item.record.is_object() ? item.record : nlohmann::json::object();
      rec["source"] = rec.value("source", item.source);
      if (!item.error.empty()) {
        add_error(rec, "tokenize", Code::InvalidData, item.error);
        emit(rec);
        ++failed;
        continue;
      }
      if (rec.contains("errors") && rec["errors"].is_array() && !rec["errors"].empty()) {
        emit(rec);  // failed upstream (e.g. a clip split could not write): passed through as is
        continue;
      }
      const std::string key = clip_key(rec, item.source);
      const std::string group = "clips/" + key;
      try {
        ClipLatents lat;
        if (!f.exists(group + "/latent") && !f.exists(group + "/indices")) {
          double fps = 0;
          lat = encode_source(*tok, item.source, o.window, &fps, o.tile);
          nlohmann::json attrs = {{"source", item.source},
                                  {"fps", fps},
                                  {"model", tok->config().arch_name()},
                                  {"model_sha256", tok->checksum()},
                                  {"config", tok->config().to_json().dump()},
                                  {"record", rec.dump()}};
          if (rec.contains("span")) attrs["span"] = rec["span"].dump();
          write_clip_latents(f, key, lat, attrs, wo);
          f.flush();
        } else {
          lat = read_clip_latents(f, key, nullptr);  // resumed: written by an earlier run
        }
        nlohmann::json tokens = {{"path", fs::absolute(out).string()},
                                 {"group", group},
                                 {"model", tok->config().arch_name()},
                                 {"model_sha256", tok->checksum()},
                                 {"window", lat.window},
                                 {"frames", lat.frames}};
        if (tok->config().discrete)
          tokens["indices_shape"] = {lat.latent_t(), lat.lat_h, lat.lat_w};
        else
          tokens["latent_shape"] = {lat.channels, lat.latent_t(), lat.lat_h, lat.lat_w};
        rec["tokens"] = tokens;
        emit(rec);
      } catch (const Error& e) {
        if (e.code() == Code::Cancelled) break;
        REEL_WARN("tokenize", "%s: %s", item.source.c_str(), e.what());
        add_error(rec, "tokenize", e.code(), e.what());
        emit(rec);
        ++failed;
      }
      progress.tick(++done, item.source);
    }
  }
  ap.commit();
  return failed ? kExitPartial : kExitOk;
}

int run_decode(const std::string& model, const std::string& latents, const std::string& outdir, const TileOpts& tile) {
  apply_threads();
  h5::File f(latents, 'r', Code::InvalidData);
  std::string mpath = model;
  auto tok = load_model(mpath);
  fs::create_directories(outdir);
  int failed = 0;
  for (auto& key : f.list("clips")) {
    if (g_interrupted) break;
    nlohmann::json attrs, rec;
    try {
      ClipLatents lat = read_clip_latents(f, key, &attrs);
      if (attrs.contains("model_sha256") && attrs["model_sha256"] != tok->checksum())
        REEL_WARN("tokenize", "clip %s was encoded with another model (sha256 %s)", key.c_str(),
                  attrs["model_sha256"].get<std::string>().c_str());
      rec = attrs.contains("record") && attrs["record"].is_object() ? attrs["record"] : nlohmann::json::object();
      fs::path out = fs::path(outdir) / (sanitize_key(key) + ".mp4");
      const int64_t n = write_reconstruction(*tok, lat, attrs.value("fps", 24.0), out, tile);
      rec["reconstruction"] = {{"path", fs::absolute(out).string()}, {"frames", n}};
      emit(rec);
    } catch (const Error& e) {
      add_error(rec, "tokenize", e.code(), e.what());
      rec["group"] = "clips/" + key;
      emit(rec);
      ++failed;
    }
  }
  return failed ? kExitPartial : kExitOk;
}

}  // namespace

void register_tokenize(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("tokenize", "Cosmos-compatible causal video/image tokenizer (encode, decode, verify)");
  cmd->require_subcommand(1);
  cmd->footer(exit_code_footer());

  auto eo = std::make_shared<EncodeOpts>();
  auto* enc = cmd->add_subcommand("encode", "Encode videos/images into latents or tokens (HDF5); one record per clip");
  enc->add_option("--model", eo->model, "Model file (HDF5, see weights/FORMAT.md)")->required()->envname("REEL_MODEL");
  enc->add_option("inputs", eo->inputs, "Videos, images, directories, or - for clip records on stdin (default)");
  enc->add_option("-o,--output", eo->output, "Latents file (resumes: clips already in it are skipped)")->capture_default_str();
  enc->add_option("--window", eo->window, "Frames per causal window (1 + k*tc), 0 = whole clip")->capture_default_str();
  enc->add_flag("--fp32", eo->fp32, "Store continuous latents as float32 (default float16)");
  enc->add_flag("--int32", eo->int32, "Store token ids as int32 (default uint16)");
  add_tile_options(enc, &eo->tile);
  add_device_option(enc, &eo->device);
  enc->callback([eo, exit_code] { *exit_code = run_encode(*eo); });

  auto dec_model = std::make_shared<std::string>();
  auto dec_in = std::make_shared<std::string>();
  auto dec_out = std::make_shared<std::string>("recon");
  auto dec_tile = std::make_shared<TileOpts>();
  auto* dec = cmd->add_subcommand("decode", "Decode a latents file back to mp4 videos, one per clip");
  dec->add_option("--model", *dec_model, "Model file")->required()->envname("REEL_MODEL");
  dec->add_option("latents", *dec_in, "Latents file written by `reel tokenize encode`")->required();
  dec->add_option("-o,--output", *dec_out, "Output directory")->capture_default_str();
  add_tile_options(dec, dec_tile.get());
  dec->callback([=] { *exit_code = run_decode(*dec_model, *dec_in, *dec_out, *dec_tile); });

  register_tokenize_roundtrip(cmd, exit_code);
  register_tokenize_verify(cmd, exit_code);
  register_tokenize_bench(cmd, exit_code);
  register_tokenize_info(cmd, exit_code);
}

}  // namespace reel::cli
