// SPDX-License-Identifier: Apache-2.0
#include "reel/model/bench.h"

#include <sys/resource.h>

#include <chrono>
#include <sstream>

#include "reel/core/backend.h"
#include "reel/core/status.h"
#include "reel/model/ops.h"

namespace reel {

namespace {
double peak_rss_mb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}
}  // namespace

std::vector<int> parse_bench_shape(const std::string& shape_s) {
  std::vector<int> shape;
  std::stringstream ss(shape_s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    char* end = nullptr;
    const long v = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end || v <= 0 || v > 1 << 16)
      throw Error(Code::InvalidArgument, "--shape " + shape_s + ": '" + part + "' is not a positive integer (want 1,3,T,H,W)");
    shape.push_back(static_cast<int>(v));
  }
  if (shape.size() != 5 || shape[0] != 1 || shape[1] != 3)
    throw Error(Code::InvalidArgument, "--shape " + shape_s + ": want 1,3,T,H,W");
  return shape;
}

nlohmann::json bench_tokenizer(const Tokenizer& tok_ref, const std::vector<int>& shape, int repeat, uint64_t seed,
                               const std::string& only, int threads) {
  const Tokenizer* tok = &tok_ref;
  Act x(shape[2], 3, shape[3], shape[4]);
  uint64_t s = seed * 2654435761u + 1;
  for (auto& v : x.v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    v = static_cast<float>((s >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
  }
  using clk = std::chrono::steady_clock;
  double enc_best = 1e30, dec_best = 1e30;
  uint64_t enc_macs = 0, dec_macs = 0;
  Act z;
  std::vector<int32_t> idx;
  for (int r = 0; r < repeat; ++r) {
    uint64_t m0 = tok->backend().mac_count();
    auto t0 = clk::now();
    z = tok->encode(x, &idx);
    auto t1 = clk::now();
    enc_macs = tok->backend().mac_count() - m0;
    enc_best = std::min(enc_best, std::chrono::duration<double>(t1 - t0).count());
    if (only == "encode") continue;
    if (only == "decode") op_profile_reset();
    m0 = tok->backend().mac_count();
    t1 = clk::now();
    Act y = tok->decode(z);
    auto t2 = clk::now();
    dec_macs = tok->backend().mac_count() - m0;
    dec_best = std::min(dec_best, std::chrono::duration<double>(t2 - t1).count());
  }
  nlohmann::json j = {{"arch", tok->config().arch_name()},
                      {"channels", tok->config().channels},
                      {"shape", shape},
                      {"threads", threads},
                      {"backend", tok->backend().describe()},
                      {"repeat", repeat},
                      {"peak_rss_mb", peak_rss_mb()}};
  if (only != "decode") {
    j["encode_s"] = enc_best;
    j["encode_gmac"] = enc_macs / 1e9;
    j["encode_gflops"] = 2.0 * enc_macs / 1e9 / enc_best;
  }
  if (only != "encode") {
    j["decode_s"] = dec_best;
    j["decode_gmac"] = dec_macs / 1e9;
    j["decode_gflops"] = 2.0 * dec_macs / 1e9 / dec_best;
  }
  return j;
}

}  // namespace reel
