// SPDX-License-Identifier: Apache-2.0
// The crash-safe latents output (encode's resume): clip files, the external-link index,
// reopening after a kill, refusing another model's or a non-index file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../cli_util.h"
#include "reel/io/atomic_file.h"
#include "reel/model/latents_store.h"

namespace fs = std::filesystem;
using namespace reel;

namespace {

ClipLatents small(float v) {
  ClipLatents l;
  l.frames = 9, l.width = 16, l.height = 16, l.padded_h = 16, l.padded_w = 16, l.window = 9;
  l.window_frames = {9};
  l.window_pad_front = {0};
  l.window_pad_back = {0};
  l.window_latent_frames = {3};
  l.channels = 2, l.lat_h = 2, l.lat_w = 2;
  l.latent.assign(2 * 3 * 2 * 2, v);
  return l;
}

TEST(LatentsStore, IndexFollowsTheClipFilesAndSurvivesAReopen) {
  const fs::path dir = test::temp_dir("store");
  const std::string index = (dir / "lat.h5").string();
  const LatentsHeader h{"CV4x8x8", "abc123", "{}"};
  {
    LatentsStore s(index, h);
    s.write("clip-a", small(0.5f), {{"source", "/v/a.mp4"}}, {});
    s.write("clip-b", small(-1.0f), {{"source", "/v/b.mp4"}}, {});
    EXPECT_TRUE(s.has("clip-a"));
    s.add("clip-a");
    s.commit();
    // Only what was added (about to be printed) is in the index so far.
    h5::File f(index, 'r');
    EXPECT_EQ(f.list("clips"), std::vector<std::string>{"clip-a"});
    EXPECT_EQ(f.read_float("clips/clip-a/latent"), std::vector<float>(24, 0.5f));
  }
  // A killed run left clip-b complete but unindexed, and a temp file of a dead process.
  std::ofstream(temp_path_for(dir / "lat.h5.d" / "clip-c.h5", 999999)) << "partial";
  LatentsStore again(index, h);
  EXPECT_TRUE(again.has("clip-b"));
  EXPECT_FALSE(again.has("clip-c"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "lat.h5.d"), fs::directory_iterator{}), 2);  // temp removed
  h5::File f(index, 'r');
  EXPECT_EQ(f.list("clips"), (std::vector<std::string>{"clip-a", "clip-b"}));
  nlohmann::json attrs;
  ClipLatents b = again.read("clip-b", &attrs);
  EXPECT_EQ(b.latent, small(-1.0f).latent);
  EXPECT_EQ(attrs["source"], "/v/b.mp4");
  // Another model's index, or a file that is not an index, is refused: nothing is overwritten.
  EXPECT_THROW(LatentsStore(index, LatentsHeader{"CV4x8x8", "other", "{}"}), Error);
  { h5::File plain((dir / "plain.h5").string(), 'w'); }
  try {
    LatentsStore s((dir / "plain.h5").string(), h);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::OutputError);
  }
  fs::remove_all(dir);
}

}  // namespace
