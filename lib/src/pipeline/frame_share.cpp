// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/frame_share.h"

#include <algorithm>

namespace reel {

namespace {
size_t bytes_of(const FrameShare::Shared& s) {
  size_t n = 0;
  for (const auto& f : s.frames) n += f.data.size() + f.gray.size();
  return n;
}
}  // namespace

int FrameShare::add_consumer(std::string name, Planner planner) {
  std::lock_guard<std::mutex> lk(mu_);
  planners_.push_back(std::move(planner));
  slots_.push_back({std::move(name)});
  return static_cast<int>(planners_.size()) - 1;
}

std::vector<std::pair<int, FrameShare::Want>> FrameShare::plan(const VideoInfo& info, const nlohmann::json& record) const {
  std::vector<std::pair<int, Want>> out;
  for (size_t i = 0; i < planners_.size(); ++i)
    if (auto w = planners_[i](info, record); w && !w->indices.empty()) out.emplace_back(static_cast<int>(i), std::move(*w));
  return out;
}

void FrameShare::put(const std::string& media, int slot, Shared frames) {
  std::lock_guard<std::mutex> lk(mu_);
  const auto key = std::make_pair(media, slot);
  if (auto it = entries_.find(key); it != entries_.end()) {
    bytes_ -= bytes_of(it->second);
    entries_.erase(it);
  }
  const size_t n = bytes_of(frames);
  if (n > max_bytes_) return;
  while (bytes_ + n > max_bytes_ && !order_.empty()) {
    auto it = entries_.find(order_.front());
    order_.pop_front();
    if (it != entries_.end()) {
      bytes_ -= bytes_of(it->second);
      entries_.erase(it);
    }
  }
  entries_.emplace(key, std::move(frames));
  order_.push_back(key);
  bytes_ += n;
  if (order_.size() > 2 * entries_.size() + 1024) {  // keys of entries taken since: drop them
    std::deque<std::pair<std::string, int>> live;
    for (auto& k : order_)
      if (entries_.count(k)) live.push_back(std::move(k));
    order_.swap(live);
  }
}

bool FrameShare::take(const std::string& media, int slot, Shared* out) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = entries_.find({media, slot});
  if (it == entries_.end()) {
    ++slots_[static_cast<size_t>(slot)].missed;
    return false;
  }
  bytes_ -= bytes_of(it->second);
  *out = std::move(it->second);
  entries_.erase(it);  // its key stays in order_ until put() compacts it
  ++slots_[static_cast<size_t>(slot)].taken;
  return true;
}

std::string FrameShare::summary() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::string s;
  for (const auto& sl : slots_)
    s += (s.empty() ? "" : "; ") + sl.name + ": " + std::to_string(sl.taken) + " of " + std::to_string(sl.taken + sl.missed) +
         " clips from the shared decode";
  return s;
}

SharedDecode::SharedDecode(FrameShare* share, VideoDecoder& decoder, const nlohmann::json& record) : share_(share) {
  if (!share_) return;
  for (auto& [slot, want] : share_->plan(decoder.info(), record)) {
    FrameShare::Shared sh;
    sh.info = decoder.info();
    sh.indices = want.indices;
    last_ = std::max(last_, want.indices.back());
    view_of_[decoder.add_view(want.view, std::move(want.indices))] = shared_.size();
    shared_.emplace_back(slot, std::move(sh));
  }
}

void SharedDecode::collect(Frame& frame) {
  for (FrameView& v : frame.views) {
    Frame out;
    out.index = frame.index, out.pts = frame.pts, out.time_s = frame.time_s;
    out.width = v.width, out.height = v.height, out.channels = v.channels;
    out.data = std::move(v.data);
    shared_[view_of_.at(v.id)].second.frames.push_back(std::move(out));
  }
}

void SharedDecode::put(const std::string& media, int64_t decoded) {
  for (auto& [slot, sh] : shared_) {
    sh.decoded = decoded;
    share_->put(media, slot, std::move(sh));
  }
  shared_.clear();
}

}  // namespace reel
