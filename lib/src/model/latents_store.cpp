// SPDX-License-Identifier: Apache-2.0
#include "reel/model/latents_store.h"

#include <filesystem>

#include "reel/core/log.h"
#include "reel/io/atomic_file.h"

namespace fs = std::filesystem;

namespace reel {

namespace {
void write_header(h5::File& f, const LatentsHeader& h, const char* layout) {
  f.write_attr_string("/", "format", "reel-latents");
  f.write_attr_string("/", "layout", layout);
  f.write_attr_string("/", "model", h.model);
  f.write_attr_string("/", "model_sha256", h.model_sha256);
  f.write_attr_string("/", "config", h.config);
}
}  // namespace

LatentsStore::LatentsStore(std::string index_path, LatentsHeader header) : header_(std::move(header)) {
  index_ = fs::absolute(index_path).lexically_normal().string();
  dir_name_ = fs::path(index_).filename().string() + ".d";
  dir_ = (fs::path(index_).parent_path() / dir_name_).string();
  prepare_output_dir(fs::path(index_).parent_path(), "latents folder", "tokenize");
  prepare_output_dir(dir_, "latents clip folder", "tokenize");
  std::error_code ec;
  if (fs::exists(index_, ec)) {
    h5::File f(index_, 'r', Code::OutputError);
    const std::string layout = f.has_attr("/", "layout") ? f.read_attr_string("/", "layout") : "";
    if (layout != "index")
      throw Error(Code::OutputError, index_ + " exists and is not a reel latents index (a merged file or another file): "
                                              "choose another -o, or move it away");
    const std::string sha = f.has_attr("/", "model_sha256") ? f.read_attr_string("/", "model_sha256") : "";
    if (sha != header_.model_sha256)
      throw Error(Code::OutputError, index_ + " holds latents of another model (sha256 " + sha.substr(0, 12) +
                                              "...): choose another -o for this model");
  }
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path p = it->path();
    if (p.extension() == ".h5") on_disk_.insert(p.stem().string());
  }
  // Clips a killed run finished after its last index commit are indexed again now.
  indexed_ = on_disk_;
  dirty_ = true;
  commit();
}

std::string LatentsStore::clip_file(const std::string& key) const {
  return (fs::path(dir_) / (sanitize_key(key) + ".h5")).string();
}

bool LatentsStore::has(const std::string& key) const {
  std::lock_guard<std::mutex> lk(mu_);
  return on_disk_.count(sanitize_key(key)) > 0;
}

void LatentsStore::write(const std::string& key, const ClipLatents& lat, const nlohmann::json& attrs,
                         const LatentWriteOptions& opt) {
  const std::string k = sanitize_key(key);
  AtomicPath ap(clip_file(k));
  {
    h5::File f(ap.tmp().string(), 'w', Code::OutputError);
    write_header(f, header_, "clip");
    write_clip_latents(f, k, lat, attrs, opt);
    f.close();
  }
  ap.commit();
  std::lock_guard<std::mutex> lk(mu_);
  on_disk_.insert(k);
}

ClipLatents LatentsStore::read(const std::string& key, nlohmann::json* attrs) const {
  h5::File f(clip_file(key), 'r', Code::InvalidData);
  return read_clip_latents(f, sanitize_key(key), attrs);
}

void LatentsStore::add(const std::string& key) {
  std::lock_guard<std::mutex> lk(mu_);
  if (indexed_.insert(sanitize_key(key)).second) dirty_ = true;
}

void LatentsStore::commit() {
  std::lock_guard<std::mutex> lk(mu_);
  if (!dirty_) return;
  AtomicPath ap(index_);
  {
    h5::File f(ap.tmp().string(), 'w', Code::OutputError);
    write_header(f, header_, "index");
    f.create_group("clips");
    for (const auto& k : indexed_) f.create_external_link("clips/" + k, dir_name_ + "/" + k + ".h5", "/clips/" + k);
    f.close();
  }
  ap.commit();
  dirty_ = false;
}

size_t LatentsStore::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return indexed_.size();
}

}  // namespace reel
