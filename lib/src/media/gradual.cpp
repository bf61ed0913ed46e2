// SPDX-License-Identifier: Apache-2.0
#include "reel/media/gradual.h"

#include <algorithm>
#include <cmath>

namespace reel {

void ShotFeatures::push(const std::vector<float>& grid_z, const uint8_t* view_rgb, int pixels, float mean_luma) {
  if (grid == 0) grid = static_cast<int>(grid_z.size());
  if (static_cast<int>(grid_z.size()) == grid) {
    z.insert(z.end(), grid_z.begin(), grid_z.end());
  } else {
    z.insert(z.end(), static_cast<size_t>(grid), 0.0f);  // a frame of another size: no layout
  }
  const size_t held = static_cast<size_t>(frames() - base);
  if (view_rgb) {
    if (hist.size() < held * 64) hist.resize(held * 64, -1.0f);  // earlier frames had no colour
    float h[64] = {};
    const uint8_t* p = view_rgb;
    for (int i = 0; i < pixels; ++i, p += 3) h[((p[0] >> 6) << 4) | ((p[1] >> 6) << 2) | (p[2] >> 6)] += 1.0f;
    for (float& v : h) v /= static_cast<float>(std::max(1, pixels));
    hist.insert(hist.end(), h, h + 64);
  } else if (!hist.empty()) {
    hist.insert(hist.end(), 64, -1.0f);  // a frame without colour among frames with it
  }
  if (view_rgb && pixels == kViewWidth * kViewHeight) {
    rgb.resize(held * kViewBytes);  // earlier frames without a view stay black
    rgb.insert(rgb.end(), view_rgb, view_rgb + kViewBytes);
  } else if (!rgb.empty()) {
    rgb.resize((held + 1) * kViewBytes);
  }
  luma.push_back(mean_luma);
}

void ShotFeatures::drop_before(int64_t frame) {
  const int64_t n = std::min(frame, frames()) - base;
  if (n <= 0) return;
  z.erase(z.begin(), z.begin() + n * grid);
  if (!hist.empty()) hist.erase(hist.begin(), hist.begin() + n * 64);
  if (!rgb.empty()) rgb.erase(rgb.begin(), rgb.begin() + std::min(rgb.size(), static_cast<size_t>(n) * kViewBytes));
  base += n;
}

namespace {

struct Dist {
  const ShotFeatures& f;
  double layout(int64_t a, int64_t b) const {
    const float* x = f.z.data() + (a - f.base) * f.grid;
    const float* y = f.z.data() + (b - f.base) * f.grid;
    double s = 0;
    for (int i = 0; i < f.grid; ++i) s += std::fabs(x[i] - y[i]);
    return 100.0 * s / std::max(1, f.grid);
  }
  double colour(int64_t a, int64_t b) const {
    if (f.hist.empty()) return 1.0;  // no colour: the layout decides alone
    const float* x = f.hist.data() + (a - f.base) * 64;
    const float* y = f.hist.data() + (b - f.base) * 64;
    if (x[0] < 0 || y[0] < 0) return 1.0;
    double s = 0;
    for (int i = 0; i < 64; ++i) s += std::fabs(x[i] - y[i]);
    return 0.5 * s;
  }
  double both(int64_t a, int64_t b) const { return layout(a, b) / 100.0 + colour(a, b); }
};

struct Candidate {
  int64_t t, k;
  double score;
};

constexpr int kScales[] = {2, 3, 5, 8, 12, 18, 26};
// A frame has left shot A (or not yet reached B) when its distance to A is this share of its
// distances to A and B together.
constexpr double kLeave = 0.08;

}  // namespace

std::vector<Transition> find_gradual(const ShotFeatures& f, const std::vector<int64_t>& hard_cuts, const GradualOptions& o,
                                     int64_t lo, int64_t hi) {
  const int64_t n = f.frames();
  if (hi < 0 || hi > n) hi = n;
  const Dist d{f};
  std::vector<int64_t> cuts(hard_cuts);
  std::sort(cuts.begin(), cuts.end());
  // First frame of the shot holding frame i, and one past its last (by the hard cuts).
  auto shot_begin = [&](int64_t i) {
    auto it = std::upper_bound(cuts.begin(), cuts.end(), i);
    return it == cuts.begin() ? int64_t{0} : *std::prev(it);
  };
  auto shot_end = [&](int64_t i) {
    auto it = std::upper_bound(cuts.begin(), cuts.end(), i);
    return it == cuts.end() ? n : *it;
  };
  std::vector<Candidate> cands, moving;
  for (int k : kScales) {
    const int64_t t_end = std::min(n - k, hi + kGradualContext);
    for (int64_t t = std::max(f.base + k, lo - kGradualContext); t < t_end; ++t) {
      const int64_t a = t - k, b = t + k;
      if (shot_end(a) <= b) continue;  // a hard cut lies inside
      const double cs = d.layout(a, b);
      if (cs < o.structure) continue;
      const double ch = d.colour(a, b);
      if (ch < o.colour) continue;
      // The change beside the window, k frames on each side within the same shot.
      const int64_t a0 = std::max({shot_begin(a), a - k, f.base}), b1 = std::min(shot_end(b) - 1, b + k);
      // Missing frames beside the window are no evidence of steadiness: at the start or end of
      // a video a pan or zoom, or the fade that opens or closes it, would pass as a change
      // between two shots.
      if (a < k || b + k >= n) continue;
      const double before = a0 < a ? d.layout(a0, a) : 0.0, after = b1 > b ? d.layout(b, b1) : 0.0;
      // Steady on both sides on average, and not much less so on either: a transition right
      // after a pan still counts, a zoom that speeds up on one side does not.
      const double ratio = cs / (0.5 * (before + after) + 5.0);
      if (ratio < o.steadiness || cs / (std::max(before, after) + 5.0) < o.steadiness_each) {
        if (o.confirm_moving) moving.push_back({t, k, std::min(cs / o.structure, ch / o.colour)});
        continue;
      }
      cands.push_back({t, k, std::min({cs / o.structure, ch / o.colour, ratio / o.steadiness})});
    }
  }
  // Strongest window first; windows overlapping a kept one are its own smaller or shifted views.
  auto strongest = [](std::vector<Candidate> all, const std::vector<Candidate>& taken) {
    std::sort(all.begin(), all.end(), [](const Candidate& x, const Candidate& y) {
      return x.score != y.score ? x.score > y.score : x.t < y.t;
    });
    std::vector<Candidate> kept;
    auto overlaps = [](const Candidate& c, const std::vector<Candidate>& in) {
      for (const Candidate& q : in)
        if (c.t - c.k < q.t + q.k && q.t - q.k < c.t + c.k) return true;
      return false;
    };
    for (const Candidate& c : all)
      if (!overlaps(c, taken) && !overlaps(c, kept)) kept.push_back(c);
    return kept;
  };
  const std::vector<Candidate> kept = strongest(std::move(cands), {});
  // Place the span where frames stop resembling the window's first frame and start resembling
  // its last.
  auto span_of = [&](const Candidate& c) {
    const int64_t a = c.t - c.k, b = c.t + c.k;
    int64_t first = b, last = a;
    for (int64_t t = a + 1; t < b; ++t) {
      const double da = d.both(t, a), db = d.both(t, b);
      const double p = da / (da + db + 1e-9);
      if (p > kLeave) first = std::min(first, t);
      if (p < 1.0 - kLeave) last = std::max(last, t);
    }
    return std::pair<int64_t, int64_t>{first, last};
  };
  std::vector<Transition> out;
  for (const Candidate& c : kept) {
    if (c.t < lo || c.t >= hi) continue;  // context: another range's
    const auto [first, last] = span_of(c);
    // A change within a frame or two is no gradual transition (hard cuts are the structure
    // test's; a flash or a jolt of motion is neither).
    if (last - first + 1 < 3) continue;
    if (last - first + 1 <= o.short_span && o.confirm_short && !o.confirm_short(f, first, last)) continue;
    out.push_back({first, last, "gradual"});
  }
  for (const Candidate& c : strongest(std::move(moving), kept)) {
    if (c.t < lo || c.t >= hi) continue;
    const auto [first, last] = span_of(c);
    if (last - first + 1 > o.short_span && o.confirm_moving(f, first, last)) out.push_back({first, last, "gradual"});
  }
  std::sort(out.begin(), out.end(), [](const Transition& x, const Transition& y) { return x.first < y.first; });
  return out;
}

void GradualStream::search(const std::vector<int64_t>& hard_cuts_so_far) {
  const int64_t hi = f_.frames() - kHeld;
  if (hi <= next_) return;
  for (Transition& t : find_gradual(f_, hard_cuts_so_far, o_, next_, hi)) found_.push_back(std::move(t));
  next_ = hi;
  f_.drop_before(next_ - kHeld);
}

std::vector<Transition> GradualStream::finish(const std::vector<int64_t>& hard_cuts) {
  for (Transition& t : find_gradual(f_, hard_cuts, o_, next_, f_.frames())) found_.push_back(std::move(t));
  next_ = f_.frames();
  std::sort(found_.begin(), found_.end(), [](const Transition& x, const Transition& y) { return x.first < y.first; });
  return std::move(found_);
}

std::vector<Transition> find_fades(const std::vector<float>& luma, double dark) {
  std::vector<Transition> out;
  const int64_t n = static_cast<int64_t>(luma.size());
  for (int64_t i = 0; i < n;) {
    if (luma[i] > dark) {
      ++i;
      continue;
    }
    int64_t j = i;
    while (j + 1 < n && luma[j + 1] <= dark) ++j;
    int64_t first = i, last = j;
    while (first > 0 && luma[first - 1] > luma[first] + 0.25f) --first;
    while (last + 1 < n && luma[last + 1] > luma[last] + 0.25f) ++last;
    i = j + 1;
    // Through black between two lit pictures, dimming and brightening over more than a frame.
    if (first == 0 || last == n - 1) continue;
    if (luma[first - 1] < dark + 15 || luma[last + 1] < dark + 15) continue;
    if (i - first < 2 || last - j < 1) continue;
    out.push_back({first, last, "fade"});
  }
  return out;
}

Boundaries merge_boundaries(const std::vector<int64_t>& hard_cuts, std::vector<Transition> transitions, int min_scene_len,
                            int64_t frames) {
  std::sort(transitions.begin(), transitions.end(), [](const Transition& x, const Transition& y) { return x.first < y.first; });
  // Overlapping transitions are one.
  std::vector<Transition> tr;
  for (const Transition& t : transitions) {
    if (!tr.empty() && t.first <= tr.back().last + 1) {
      tr.back().last = std::max(tr.back().last, t.last);
      if (t.kind == "fade") tr.back().kind = "fade";
    } else {
      tr.push_back(t);
    }
  }
  struct B {
    int64_t cut;
    int tr;  // index into tr, -1: a hard cut
  };
  std::vector<B> all;
  for (int64_t c : hard_cuts) {
    bool inside = false;
    for (const Transition& t : tr) inside |= c >= t.first - 1 && c <= t.last + 2;
    if (!inside) all.push_back({c, -1});
  }
  for (size_t i = 0; i < tr.size(); ++i) all.push_back({tr[i].cut(), static_cast<int>(i)});
  std::sort(all.begin(), all.end(), [](const B& x, const B& y) { return x.cut < y.cut; });
  Boundaries out;
  int64_t last = 0;
  for (const B& b : all) {
    if (b.cut <= 0 || b.cut >= frames || b.cut - last < min_scene_len) continue;
    out.cuts.push_back(b.cut);
    if (b.tr >= 0) out.transitions.push_back(tr[b.tr]);
    last = b.cut;
  }
  return out;
}

}  // namespace reel
