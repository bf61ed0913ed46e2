// SPDX-License-Identifier: Apache-2.0
#include "reel/media/transitions.h"

#include <algorithm>

namespace reel {

Boundaries transnet_boundaries(const std::vector<float>& single, const std::vector<float>& many, double threshold,
                               int min_scene_len, int hard_frames) {
  Boundaries b;
  const int64_t n = static_cast<int64_t>(single.size());
  int64_t last_cut = 0;
  for (int64_t i = 0; i < n;) {
    if (single[i] <= threshold) {
      ++i;
      continue;
    }
    int64_t j = i;
    while (j + 1 < n && single[j + 1] > threshold) ++j;
    int64_t first = i, last = j;
    if (static_cast<int64_t>(many.size()) == n) {
      while (first > 0 && many[first - 1] > threshold) --first;
      while (last + 1 < n && many[last + 1] > threshold) ++last;
    }
    i = j + 1;
    Transition t{first, last, "gradual"};
    const bool hard = last - first + 1 <= hard_frames;
    const int64_t cut = hard ? j + 1 : t.cut();
    if (cut <= 0 || cut >= n || cut - last_cut < min_scene_len) continue;
    b.cuts.push_back(cut);
    if (!hard) b.transitions.push_back(t);
    last_cut = cut;
  }
  return b;
}

void label_fades(std::vector<Transition>* transitions, const std::vector<float>& mean_luma, double dark_luma) {
  for (Transition& t : *transitions) {
    const int64_t lo = std::max<int64_t>(0, t.first), hi = std::min<int64_t>(t.last, static_cast<int64_t>(mean_luma.size()) - 1);
    float darkest = 255.0f;
    for (int64_t k = lo; k <= hi; ++k) darkest = std::min(darkest, mean_luma[k]);
    if (hi >= lo && darkest <= dark_luma) t.kind = "fade";
  }
}

}  // namespace reel
