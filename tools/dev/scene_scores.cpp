// SPDX-License-Identifier: Apache-2.0
// Dev helper (not installed): prints the per-frame scores of every detector for a video,
// used to calibrate thresholds. Usage: scene_scores VIDEO [detector]
#include <cstdio>
#include "reel/media/scene_detect.h"
int main(int argc, char** argv) {
  if (argc < 2) return 2;
  reel::SceneOptions o;
  if (argc > 2) o.detector = argv[2];
  auto r = reel::detect_scenes(argv[1], o);
  for (size_t i = 0; i < r.scores.size(); ++i) printf("%zu %.3f\n", i, r.scores[i]);
  fprintf(stderr, "cuts:");
  for (auto c : r.cuts) fprintf(stderr, " %lld", (long long)c);
  fprintf(stderr, "\n");
}
