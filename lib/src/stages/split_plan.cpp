// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/split_plan.h"

#include <algorithm>

namespace reel {

namespace {
constexpr double kEps = 1e-6;  // seconds; frame times are rationals printed as doubles
}

double frame_time(const SceneResult& s, int64_t i) {
  const double tb = static_cast<double>(s.info.tb_num) / s.info.tb_den;
  if (i >= s.frames) return s.duration_s;
  return (s.frame_meta[i].pts - s.first_pts) * tb;
}

int64_t frame_at(const SceneResult& s, double t) {
  int64_t lo = 0, hi = s.frames;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (frame_time(s, mid) < t - kEps) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

namespace {
std::vector<std::pair<int64_t, int64_t>> all_spans(const SceneResult& s, const std::vector<int64_t>& cuts, const SpanPlan& o,
                                                   const std::vector<Transition>& transitions);
}  // namespace

std::vector<std::pair<int64_t, int64_t>> plan_spans(const SceneResult& s, const std::vector<int64_t>& cuts,
                                                    const SpanPlan& o, const std::vector<Transition>& transitions) {
  std::vector<std::pair<int64_t, int64_t>> out = all_spans(s, cuts, o, o.keep_transitions ? std::vector<Transition>{} : transitions);
  if (s.partial) out.erase(std::remove_if(out.begin(), out.end(), [&](const auto& sp) { return sp.second >= s.frames; }), out.end());
  if (o.max_clips > 0 && static_cast<int64_t>(out.size()) > o.max_clips) out.resize(static_cast<size_t>(o.max_clips));
  return out;
}

std::function<bool(int64_t, double)> enough_for(const SpanPlan& o, const std::vector<int64_t>& cuts) {
  if (o.max_clips <= 0) return nullptr;
  if (o.mode == "stride") {
    const double need = static_cast<double>(o.max_clips - 1) * o.stride + o.clip_len;
    return [need](int64_t, double t) { return t > need + kEps; };
  }
  std::vector<int64_t> c;  // the cuts all_spans uses: increasing, later ones out of order ignored
  for (int64_t x : cuts)
    if (x > (c.empty() ? 0 : c.back())) c.push_back(x);
  if (static_cast<int64_t>(c.size()) < o.max_clips) return nullptr;
  const int64_t need = c[static_cast<size_t>(o.max_clips - 1)];
  return [need](int64_t frames, double) { return frames > need + 1; };
}

namespace {
std::vector<std::pair<int64_t, int64_t>> all_spans(const SceneResult& s, const std::vector<int64_t>& cuts, const SpanPlan& o,
                                                   const std::vector<Transition>& transitions) {
  std::vector<std::pair<int64_t, int64_t>> out;
  auto length = [&](int64_t a, int64_t b) { return frame_time(s, b) - frame_time(s, a); };
  if (o.mode == "stride") {
    for (double t = 0; t < s.duration_s - kEps; t += o.stride) {
      const int64_t a = frame_at(s, t);
      const int64_t b = t + o.clip_len <= s.duration_s + kEps ? frame_at(s, t + o.clip_len) : s.frames;
      if (b <= a) continue;
      if (b == s.frames && length(a, b) < o.clip_len - kEps && length(a, b) < o.min_len - kEps) break;
      out.push_back({a, b});
      if (b == s.frames) break;
    }
    return out;
  }
  // A boundary is the half-open run of frames [from, to) that no shot may hold: empty for a
  // hard cut, the whole transition for a gradual one.
  std::vector<std::pair<int64_t, int64_t>> shots;
  int64_t prev = 0;
  for (int64_t c : cuts) {
    if (c <= prev || c >= s.frames) continue;
    int64_t from = c, to = c;
    for (const Transition& t : transitions)
      if (t.cut() == c) from = std::max(prev, t.first), to = std::min(s.frames, t.last + 1);
    if (from > prev) shots.push_back({prev, from});
    prev = to;
  }
  if (prev < s.frames) shots.push_back({prev, s.frames});
  for (auto [a, b] : shots) {
    if (o.crop > 0) {
      a = frame_at(s, frame_time(s, a) + o.crop);
      b = frame_at(s, frame_time(s, b) - o.crop);
    }
    if (b <= a || length(a, b) < o.min_len - kEps) continue;
    if (o.max_len > 0) {
      while (length(a, b) > o.max_len + kEps) {
        int64_t m = frame_at(s, frame_time(s, a) + o.max_len);
        if (m <= a) m = a + 1;
        out.push_back({a, m});
        a = m;
      }
      if (b <= a || length(a, b) < o.min_len - kEps) continue;
    }
    out.push_back({a, b});
  }
  return out;
}
}  // namespace

}  // namespace reel
