// SPDX-License-Identifier: Apache-2.0
#include "reel/stages/verify.h"

#include "reel/io/h5.h"
#include "reel/model/golden.h"
#include "reel/model/tokenizer.h"

namespace reel {
namespace {

class VerifyProcessor : public Processor {
 public:
  VerifyProcessor(double tol, int threads) : tol_(tol), threads_(threads) {}
  StageOutput process(const InputItem& item) override {
    ops_set_threads(threads_);
    const std::string& path = item.media;
    StageOutput out;
  auto tok = Tokenizer::load(path);
    h5::File f(path, 'r', Code::InvalidData);
    for (const auto& k : f.list("cases")) {
      const std::string base = "cases/" + k;
      Json rec = item.record;
      rec.update(Json{{"file", path}, {"case", k}, {"model", tok->config().arch_name()}});
      Json taps = Json::object();
      double worst = 0;
      auto tap = [&](const std::string& name, const Act& a) {
        if (!f.exists(base + "/taps/" + name)) return;
        double e = rel_error(a.v, read_ncthw(f, base + "/taps/" + name).v);
        taps[name] = e;
        worst = std::max(worst, e);
      };
      Act x = read_ncthw(f, base + "/input");
      std::vector<int32_t> idx;
      Act z = tok->encode(x, &idx, tap);
      Act rec_out;
      if (tok->config().discrete) {
        double ec = rel_error(z.v, read_ncthw(f, base + "/codes").v);
        rec["codes"] = ec;
        worst = std::max(worst, ec);
        auto ref = f.read_int32(base + "/indices");
        size_t eq = 0;
        for (size_t i = 0; i < ref.size() && i < idx.size(); ++i) eq += ref[i] == idx[i];
        rec["indices_equal"] = ref.empty() ? 0.0 : double(eq) / ref.size();
        rec_out = tok->decode_indices(ref, z.T, z.H, z.W, tap);
      } else {
        Act lat = read_ncthw(f, base + "/latent");
        double el = rel_error(z.v, lat.v);
        rec["latent"] = el;
        worst = std::max(worst, el);
        rec_out = tok->decode(lat, tap);
      }
      double er = rel_error(rec_out.v, read_ncthw(f, base + "/recon").v);
      rec["recon"] = er;
      worst = std::max(worst, er);
      rec["taps"] = taps;
      rec["max_rel_error"] = worst;
      bool ok = worst < tol_ && (!rec.contains("indices_equal") || rec["indices_equal"].get<double>() >= 0.999);
      rec["pass"] = ok;
      if (!ok) add_error(rec, "verify", Code::InvalidData, "case " + k + " is off the reference (max relative error " + std::to_string(worst) + ", tolerance " + std::to_string(tol_) + ")");
      out.records.push_back(std::move(rec));
    }
    return out;
  }

 private:
  double tol_;
  int threads_;
};

class VerifyStage : public Stage {
 public:
  VerifyStage(double tol, int threads) : tol_(tol), threads_(threads) {}
  std::string name() const override { return "verify"; }
  std::unique_ptr<Processor> processor(int) override { return std::make_unique<VerifyProcessor>(tol_, threads_); }

 private:
  double tol_;
  int threads_;
};

}  // namespace

std::unique_ptr<Stage> make_verify_stage(double tolerance, int compute_threads) {
  return std::make_unique<VerifyStage>(tolerance, compute_threads);
}

}  // namespace reel
