// SPDX-License-Identifier: Apache-2.0
#include "reel/model/latents_io.h"

#include <cstdio>

#include "reel/core/status.h"
#include "reel/pipeline/shard.h"
#include "core/json_int.h"

namespace reel {

std::string sanitize_key(const std::string& key) {
  std::string out;
  for (char ch : key) {
    unsigned char c = static_cast<unsigned char>(ch);
    out += (std::isalnum(c) || c == '-' || c == '_' || c == '.') ? ch : '_';
  }
  if (out.empty() || out[0] == '.') out = "_" + out;  // never ".", "..", or a hidden file
  if (out.size() > 200) out.resize(200);
  if (out != key) {
    // An id that had to be escaped keeps a hash of itself, so two ids ("a/b" and "a_b") never
    // share a file or group.
    char h[20];
    std::snprintf(h, sizeof h, "-%016llx", static_cast<unsigned long long>(fnv1a64(key)));
    out += h;
  }
  return out;
}

void write_clip_latents(h5::File& f, const std::string& key_in, const ClipLatents& lat, const nlohmann::json& attrs,
                        const LatentWriteOptions& opt) {
  const std::string g = "clips/" + sanitize_key(key_in);
  f.remove(g);
  f.create_group(g);
  const int64_t T = lat.latent_t();
  if (!lat.indices.empty()) {
    std::vector<int64_t> shape = {T, lat.lat_h, lat.lat_w};
    if (opt.indices_uint16) {
      std::vector<uint16_t> u(lat.indices.begin(), lat.indices.end());
      f.write_uint16(g + "/indices", shape, u.data());
    } else {
      f.write_int32(g + "/indices", shape, lat.indices.data());
    }
  } else {
    f.write_float(g + "/latent", {lat.channels, T, lat.lat_h, lat.lat_w}, lat.latent.data(), opt.latent_fp16);
  }
  nlohmann::json a = attrs;
  a["frames"] = lat.frames;
  a["width"] = lat.width;
  a["height"] = lat.height;
  a["pad_top"] = lat.pad_top;
  a["pad_left"] = lat.pad_left;
  a["padded_h"] = lat.padded_h;
  a["padded_w"] = lat.padded_w;
  a["window"] = lat.window;
  a["window_frames"] = lat.window_frames;
  a["window_pad_front"] = lat.window_pad_front;
  a["window_pad_back"] = lat.window_pad_back;
  a["window_latent_frames"] = lat.window_latent_frames;
  for (auto& [k, v] : a.items()) f.write_attr_string(g, k, v.is_string() ? v.get<std::string>() : v.dump());
}

ClipLatents read_clip_latents(const h5::File& f, const std::string& key, nlohmann::json* attrs) {
  const std::string g = "clips/" + sanitize_key(key);
  if (!f.exists(g)) throw Error(Code::NotFound, f.path() + ": no clip " + key);
  auto attr = [&](const char* name) -> nlohmann::json {
    try {
      return nlohmann::json::parse(f.read_attr_string(g, name));
    } catch (const nlohmann::json::exception&) {
      throw Error(Code::InvalidData, f.path() + ": bad attribute " + g + "@" + name);
    }
  };
  auto bad_layout = [&](const char* name) {
    return Error(Code::InvalidData, f.path() + ": bad window layout in " + g + ": " + name + " must be an integer or a list of them");
  };
  auto geti = [&](const char* name) {
    const auto v = json_int(attr(name));
    if (!v) throw bad_layout(name);
    return static_cast<int>(*v);
  };
  auto getv = [&](const char* name) {
    const nlohmann::json a = attr(name);
    if (!a.is_array()) throw bad_layout(name);
    std::vector<int> out;
    for (const auto& x : a) {
      const auto v = json_int(x);
      if (!v) throw bad_layout(name);
      out.push_back(static_cast<int>(*v));
    }
    return out;
  };
  ClipLatents lat;
  lat.frames = geti("frames");
  lat.width = geti("width");
  lat.height = geti("height");
  lat.pad_top = geti("pad_top");
  lat.pad_left = geti("pad_left");
  lat.padded_h = geti("padded_h");
  lat.padded_w = geti("padded_w");
  lat.window = geti("window");
  lat.window_frames = getv("window_frames");
  lat.window_pad_front = getv("window_pad_front");
  lat.window_pad_back = getv("window_pad_back");
  lat.window_latent_frames = getv("window_latent_frames");
  if (f.exists(g + "/indices")) {
    auto s = f.shape(g + "/indices");
    if (s.size() != 3) throw Error(Code::InvalidData, g + "/indices must be (t, h, w)");
    lat.lat_h = static_cast<int>(s[1]);
    lat.lat_w = static_cast<int>(s[2]);
    lat.indices = f.read_int32(g + "/indices");
  } else {
    auto s = f.shape(g + "/latent");
    if (s.size() != 4) throw Error(Code::InvalidData, g + "/latent must be (C, t, h, w)");
    lat.channels = static_cast<int>(s[0]);
    lat.lat_h = static_cast<int>(s[2]);
    lat.lat_w = static_cast<int>(s[3]);
    lat.latent = f.read_float(g + "/latent");
  }
  if (lat.window_frames.size() != lat.window_latent_frames.size() || lat.window_pad_front.size() != lat.window_frames.size())
    throw Error(Code::InvalidData, g + ": inconsistent window layout");
  if (attrs) {
    *attrs = nlohmann::json::object();
    for (const char* k : {"source", "model", "model_sha256", "fps", "record", "span", "id"}) {
      if (!f.has_attr(g, k)) continue;
      std::string v = f.read_attr_string(g, k);
      try {
        (*attrs)[k] = nlohmann::json::parse(v);
      } catch (...) {
        (*attrs)[k] = v;
      }
    }
  }
  return lat;
}

}  // namespace reel
