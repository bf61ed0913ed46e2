// SPDX-License-Identifier: Apache-2.0
// reel tokenize verify as a stage: each input is a golden file (weights + cases/<k>/{input,
// latent|codes, indices, recon, taps}); each case becomes one record with the relative error
// (max-abs / RMS) of every tap, the latent or codes, the token ids and the reconstruction. A
// case over the tolerance carries an error, so the run exits 3.
#pragma once
#include <memory>

#include "reel/pipeline/runner.h"

namespace reel {

std::unique_ptr<Stage> make_verify_stage(double tolerance, int compute_threads);

}  // namespace reel
