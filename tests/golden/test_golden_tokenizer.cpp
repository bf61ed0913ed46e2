// SPDX-License-Identifier: Apache-2.0
// Every case of every reference golden file (tests/golden/data, copied from the reference
// PyTorch implementation's float32 outputs): each tap, the latent or FSQ codes/indices and
// the reconstruction must match within 1e-4 relative error (max-abs over RMS). The first
// diverging tap is reported, which localises a bug to one module.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "../test_util.h"
#include "reel/model/tokenizer.h"

namespace fs = std::filesystem;
using namespace reel;

namespace {

constexpr double kTol = 1e-4;

std::vector<std::string> golden_files() {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(test::data_dir() + "/golden/data"))
    if (e.path().extension() == ".h5") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, TapsLatentsAndReconstructionMatchReference) {
  const std::string path = test::data_dir() + "/golden/data/" + GetParam();
  auto tok = Tokenizer::load(path);
  h5::File f(path, 'r');
  const auto cases = f.list("cases");
  ASSERT_FALSE(cases.empty());
  for (const auto& k : cases) {
    SCOPED_TRACE("case " + k);
    const std::string base = "cases/" + k;
    Act x = test::read_act(f, base + "/input");
    std::map<std::string, double> errs;
    std::vector<std::string> order;
    auto tap = [&](const std::string& name, const Act& a) {
      const std::string ds = base + "/taps/" + name;
      if (!f.exists(ds)) return;
      Act ref = test::read_act(f, ds);
      ASSERT_EQ(ref.numel(), a.numel()) << "tap " << name << " has the wrong size";
      errs[name] = test::rel_error(a.v, ref.v);
      order.push_back(name);
    };
    std::vector<int32_t> idx;
    Act z = tok->encode(x, &idx, tap);
    if (tok->config().discrete) {
      Act codes = test::read_act(f, base + "/codes");
      EXPECT_LT(test::rel_error(z.v, codes.v), kTol) << "FSQ codes";
      auto ref_idx = f.read_int32(base + "/indices");
      ASSERT_EQ(ref_idx.size(), idx.size());
      size_t equal = 0;
      for (size_t i = 0; i < idx.size(); ++i) equal += idx[i] == ref_idx[i];
      // Ties (a value on a rounding boundary) may flip; none occur in these files.
      EXPECT_EQ(equal, idx.size()) << "token ids equal: " << equal << "/" << idx.size();
      Act rec = tok->decode_indices(ref_idx, z.T, z.H, z.W, tap);
      EXPECT_LT(test::rel_error(rec.v, test::read_act(f, base + "/recon").v), kTol) << "reconstruction";
    } else {
      Act lat = test::read_act(f, base + "/latent");
      EXPECT_LT(test::rel_error(z.v, lat.v), kTol) << "latent";
      Act rec = tok->decode(lat, tap);
      EXPECT_LT(test::rel_error(rec.v, test::read_act(f, base + "/recon").v), kTol) << "reconstruction";
    }
    // Every reference tap must have been produced, and the first failing one is named.
    for (const auto& name : f.list(base + "/taps")) {
      if (name.rfind("quantizer#", 0) == 0) continue;  // checked above as codes/indices
      EXPECT_TRUE(errs.count(name)) << "tap never produced: " << name;
    }
    for (const auto& name : order) {
      if (errs[name] >= kTol) {
        ADD_FAILURE() << "first diverging tap: " << name << " rel error " << errs[name];
        break;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllFiles, Golden, ::testing::ValuesIn(golden_files()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 3);
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
