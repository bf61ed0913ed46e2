// SPDX-License-Identifier: Apache-2.0
// Input from other people's scripts: ids that try to climb out of the output folder, frame
// sizes and counts that would make the decoder allocate without bound (decompression bombs).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "../cli_util.h"
#include "../test_util.h"
#include "reel/model/tokenizer.h"

namespace fs = std::filesystem;
using namespace reel;
using test::q;
using test::reel_cmd;
using test::video;

namespace {

// Every file under `root`, relative to it.
std::set<std::string> files_under(const fs::path& root) {
  std::set<std::string> s;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) s.insert(fs::relative(e.path(), root).string());
  return s;
}

TEST(Hostile, RecordIdsNeverBecomePathsOutsideTheOutput) {
  const fs::path dir = test::temp_dir("hostile-ids");
  const fs::path out = dir / "out";
  fs::create_directories(out);
  const std::string model = (dir / "tiny.h5").string();
  Tokenizer::random(config_for_arch("CV8x8x8", 4, 1), 5)->save(model);
  const std::string clip = (dir / "c.mp4").string();
  ASSERT_EQ(test::run("ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48:rate=10:duration=0.9 -c:v libx264 -pix_fmt yuv420p " + q(clip))
                .code,
            0);
  const std::vector<std::string> ids = {"../../escaped", "/tmp/absolute", "a/b", "a_b", std::string("nul\0byte", 8), ".hidden", ""};
  {
    std::ofstream f(dir / "in.jsonl");
    for (const auto& id : ids) f << nlohmann::json{{"path", clip}, {"id", id}}.dump() << "\n";
  }
  // tokenize encode: one file per clip under lat.h5.d/, named from the id.
  auto enc = test::run(reel_cmd() + "tokenize encode --model " + q(model) + " " + q((dir / "in.jsonl").string()) + " -o " +
                       q((out / "lat.h5").string()) + " 2>/dev/null");
  ASSERT_EQ(enc.code, 0);
  ASSERT_EQ(test::jsonl(enc.out).size(), ids.size());
  std::set<std::string> per_clip;
  for (const auto& f : files_under(out))
    if (f.rfind("lat.h5.d/", 0) == 0 && f.find(".ledger") == std::string::npos) per_clip.insert(f);
  EXPECT_EQ(per_clip.size(), ids.size()) << "two ids shared a file";  // "a/b" and "a_b" too
  for (const auto& f : per_clip) EXPECT_EQ(f.find('/', 9), std::string::npos) << f;  // no sub-folders, no ".."
  // decode: reconstructions named from the same keys, inside the output folder.
  auto dec = test::run(reel_cmd() + "tokenize decode --model " + q(model) + " " + q((out / "lat.h5").string()) + " -o " +
                       q((out / "rec").string()) + " 2>/dev/null");
  ASSERT_EQ(dec.code, 0);
  int mp4s = 0;
  for (const auto& f : files_under(out / "rec")) mp4s += f.size() > 4 && f.substr(f.size() - 4) == ".mp4" && f.find('/') == std::string::npos;
  EXPECT_EQ(mp4s, static_cast<int>(ids.size()));
  // shard: a WebDataset key must be a plain name; the others become error records.
  auto sh = test::run(reel_cmd() + "shard -o " + q((out / "wds").string()) + " " + q((dir / "in.jsonl").string()) + " 2>/dev/null");
  EXPECT_EQ(sh.code, 3);
  int refused = 0;
  for (const auto& r : test::jsonl(sh.out)) refused += r.contains("errors") && !r["errors"].empty();
  EXPECT_EQ(refused, static_cast<int>(ids.size()) - 1);  // all but "a_b"
  // Nothing anywhere outside out/ (beside the inputs).
  std::set<std::string> outside = files_under(dir);
  for (auto it = outside.begin(); it != outside.end();) it = it->rfind("out/", 0) == 0 ? outside.erase(it) : std::next(it);
  EXPECT_EQ(outside, (std::set<std::string>{"c.mp4", "in.jsonl", "tiny.h5"}));
  EXPECT_FALSE(fs::exists(dir.parent_path() / "escaped.h5"));
  EXPECT_FALSE(fs::exists("/tmp/absolute.h5"));
  fs::remove_all(dir);
}

// Peak resident memory (KB) of one reel command, by GNU time; -1 if it failed to run.
long peak_kb(const std::string& args, const fs::path& dir, test::RunResult* r) {
  const std::string file = (dir / "rss.txt").string();
  *r = test::run("/usr/bin/time -f %M -o " + q(file) + " " + reel_cmd() + args + " 2>/dev/null");
  std::ifstream f(file);
  long kb = -1;
  f >> kb;
  return kb;
}

// A few hundred bytes that declare 16000x16000 frames, and an H.264 stream of 8192x8192 frames
// (200 KB on disk, most of a GB to decode): refused by --max-pixels before a frame is
// allocated, so the refusal costs what any small input costs.
TEST(Hostile, FrameSizeAndCountAreBoundedBeforeDecoding) {
  const fs::path dir = test::temp_dir("hostile-bomb");
  const fs::path y4m = dir / "bomb.y4m";
  {
    std::ofstream f(y4m, std::ios::binary);
    f << "YUV4MPEG2 W16000 H16000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" << std::string(4000, '\0');
  }
  const fs::path h264 = dir / "bomb8k.mp4";
  ASSERT_EQ(test::run("ffmpeg -v error -y -f lavfi -i color=black:size=8192x8192:rate=1:duration=2 -c:v libx264 -preset ultrafast "
                      "-pix_fmt yuv420p " + q(h264.string()))
                .code,
            0);
  ASSERT_LT(fs::file_size(h264), 1u << 20);
  test::RunResult small;
  const long baseline = peak_kb("scenes " + q(video("moviepy_fire2.mp4")), dir, &small);
  ASSERT_EQ(small.code, 0);
  for (const fs::path& bomb : {y4m, h264}) {
    test::RunResult r;
    const long kb = peak_kb("scenes " + q(bomb.string()), dir, &r);
    EXPECT_EQ(r.code, 3) << bomb;
    const auto recs = test::jsonl(r.out);
    ASSERT_EQ(recs.size(), 1u);
    ASSERT_FALSE(recs[0]["errors"].empty());
    EXPECT_NE(recs[0]["errors"][0]["message"].get<std::string>().find("exceed --max-pixels 40000000"), std::string::npos)
        << recs[0].dump();
    EXPECT_LT(kb, baseline + 100000) << bomb << ": refused, yet " << kb << " KB (a 1280x720 video: " << baseline << " KB)";
  }
  // The bound is the user's: raised, the 8K stream decodes, at the cost it would have had.
  test::RunResult big;
  const long big_kb = peak_kb("--max-pixels 70000000 scenes " + q(h264.string()), dir, &big);
  EXPECT_EQ(big.code, 0);
  EXPECT_EQ(test::jsonl(big.out)[0]["width"], 8192);
  EXPECT_GT(big_kb, baseline + 300000) << "the 8K decode took only " << big_kb << " KB";
  // --max-frames: a 25-frame video against a bound of 10, whether the container says how many
  // frames it holds (mp4) or not (the count is checked while decoding).
  for (const std::string& name : {std::string("moviepy_fire2.mp4"), std::string("deb_visp_cube.mpeg")}) {
    auto r = test::run(reel_cmd() + "--max-frames 10 scenes " + q(video(name)) + " 2>/dev/null");
    EXPECT_EQ(r.code, 3) << name;
    const auto recs = test::jsonl(r.out);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_NE(recs[0].dump().find("--max-frames 10"), std::string::npos) << recs[0].dump();
  }
  EXPECT_EQ(test::run(reel_cmd() + "--max-frames 0 scenes " + q(video("moviepy_fire2.mp4")) + " >/dev/null 2>&1").code, 0);
  fs::remove_all(dir);
}

}  // namespace
