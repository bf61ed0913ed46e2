// SPDX-License-Identifier: Apache-2.0
// One decode per clip across the stages of `reel run`: the first frame stage (reel filter)
// decodes each clip and, from that same decode, converts the frames the later frame stages
// (reel embed, reel caption) will want, as those stages would convert them themselves
// (VideoDecoder::add_view); a later stage takes them when the clip reaches it, and decodes the
// clip itself only when they are not there. Records are therefore the same with and without
// sharing (tested against the shell pipeline).
//
// Each consumer registers a planner: given the clip's stream info and the record the producer
// holds, which frames it will want and how converted (nothing: it will decode itself). Entries
// of clips that never reach a consumer (rejected, deduplicated) would pile up: the share holds
// at most `max_bytes` of frames and drops the oldest entries beyond that.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "reel/media/decoder.h"

namespace reel {

class FrameShare {
 public:
  struct Want {
    DecodeOptions view;            // format, out_width/out_height, downscale_only, fast_scale
    std::vector<int64_t> indices;  // sorted
  };
  using Planner = std::function<std::optional<Want>(const VideoInfo& info, const nlohmann::json& record)>;

  struct Shared {
    VideoInfo info;                // what the producer's decoder said
    std::vector<int64_t> indices;  // what was asked for
    std::vector<Frame> frames;     // those the stream had, in order (index, size, data)
    int64_t decoded = 0;           // frames the producer decoded
  };

  explicit FrameShare(size_t max_bytes) : max_bytes_(max_bytes) {}

  // A consumer's slot; called before the run starts.
  int add_consumer(std::string name, Planner planner);
  size_t consumers() const { return planners_.size(); }
  // What every consumer will want of this clip: (slot, want) pairs.
  std::vector<std::pair<int, Want>> plan(const VideoInfo& info, const nlohmann::json& record) const;
  // The producer's frames for one consumer (thread-safe).
  void put(const std::string& media, int slot, Shared frames);
  // Takes them out (thread-safe); false when they are not here.
  bool take(const std::string& media, int slot, Shared* out);

  // "embed: 12 of 13 clips from the shared decode; caption: 5 of 5"
  std::string summary() const;

 private:
  struct Slot {
    std::string name;
    int64_t taken = 0, missed = 0;
  };
  size_t max_bytes_, bytes_ = 0;
  std::vector<Planner> planners_;
  mutable std::mutex mu_;
  std::vector<Slot> slots_;
  std::map<std::pair<std::string, int>, Shared> entries_;
  std::deque<std::pair<std::string, int>> order_;  // oldest first, for the cap
};

// The producer's side for one clip: asks the share what the consumers will want, adds those
// views to the producer's decoder, collects their frames as the producer decodes, and hands
// them over. With no share (or nobody wanting anything) it does nothing.
class SharedDecode {
 public:
  SharedDecode(FrameShare* share, VideoDecoder& decoder, const nlohmann::json& record);
  // The last frame index some consumer wants (-1: none); the producer decodes at least that far.
  int64_t last_wanted() const { return last_; }
  // For every frame the producer decodes: takes its views.
  void collect(Frame& frame);
  // Gives the frames to the consumers (decoded: frames the producer decoded).
  void put(const std::string& media, int64_t decoded);

 private:
  FrameShare* share_;
  std::vector<std::pair<int, FrameShare::Shared>> shared_;  // (consumer slot, its frames)
  std::map<int, size_t> view_of_;                           // view id -> entry in shared_
  int64_t last_ = -1;
};

}  // namespace reel
