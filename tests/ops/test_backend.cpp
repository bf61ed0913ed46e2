// SPDX-License-Identifier: Apache-2.0
// The compute-backend boundary (reel/core/backend.h): the CPU backend is the reference
// operators behind the interface (same numbers), tensors cross only through upload and
// download, a tensor cannot be handed to a backend that does not own it, each instance keeps
// its own thread count, and a device without a backend is a clear error.
#include <gtest/gtest.h>

#include <omp.h>

#include "../test_util.h"
#include "reel/core/backend.h"
#include "reel/core/status.h"
#include "reel/model/ops.h"
#include "reel/model/tokenizer.h"

namespace reel {
namespace {

using test::random_act;

float max_abs_diff(const Act& a, const Act& b) {
  EXPECT_EQ(a.T, b.T);
  EXPECT_EQ(a.C, b.C);
  EXPECT_EQ(a.H, b.H);
  EXPECT_EQ(a.W, b.W);
  float d = 0;
  for (size_t i = 0; i < std::min(a.v.size(), b.v.size()); ++i) d = std::max(d, std::fabs(a.v[i] - b.v[i]));
  return d;
}

TEST(Backend, CpuBackendIsTheReferenceOperators) {
  const auto be = make_backend(Device{});
  EXPECT_EQ(be->device().kind, DeviceKind::Cpu);
  EXPECT_EQ(be->dtype(), DType::F32);
  const Act x = random_act(3, 8, 10, 12, 7);
  const Tensor t = be->upload(x);
  EXPECT_EQ(t.T, 3);
  EXPECT_EQ(t.C, 8);
  EXPECT_EQ(max_abs_diff(be->download(t), x), 0.0f);  // the round trip is exact
  const Act w = random_act(1, 16, 8, 9, 8), b = random_act(1, 1, 1, 16, 9);  // (16, 8, 3, 3), bias
  ConvWeights cw{be->weight(w.v.data(), w.v.size()), be->weight(b.v.data(), b.v.size()), 16, 8, 1, 3, 3};
  const ConvW hw{w.v.data(), b.v.data(), 16, 8, 1, 3, 3};
  EXPECT_EQ(max_abs_diff(be->download(be->conv2d(t, cw, 1, 1, 1, 1, 1)), conv2d(x, hw, 1, 1, 1, 1, 1)), 0.0f);
  // A norm + SiLU prologue through the backend's affine object equals the operator's.
  const Act g = random_act(1, 1, 1, 8, 10);
  const NormAffine na = be->group_norm(t, be->weight(g.v.data(), 8), be->weight(b.v.data(), 8), 4, 1e-6f, true);
  const ChannelAffine ca = group_norm_affine(x, g.v.data(), b.v.data(), 4, 1e-6f, true);
  EXPECT_EQ(max_abs_diff(be->download(be->conv2d(t, cw, 1, 1, 1, 1, 1, &na)), conv2d(x, hw, 1, 1, 1, 1, 1, &ca)), 0.0f);
  EXPECT_EQ(max_abs_diff(be->download(be->haar_patch(t, 2, true)), haar_patch3d(x, 2)), 0.0f);
  const Tensor p = be->prepend_first_frame(t);
  const Act pa = be->download(p);
  ASSERT_EQ(pa.T, 4);
  for (size_t i = 0; i < x.frame_size(); ++i) ASSERT_EQ(pa.frame(0)[i], x.frame(0)[i]);
  for (size_t i = 0; i < x.v.size(); ++i) ASSERT_EQ(pa.v[x.frame_size() + i], x.v[i]);
}

TEST(Backend, TensorsStayWithTheirBackend) {
  const auto a = make_backend(Device{}), b = make_backend(Device{});
  const Tensor t = a->upload(random_act(1, 2, 4, 4, 1));
  try {
    (void)b->download(t);
    ADD_FAILURE() << "a backend read another backend's tensor";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::Internal);
  }
}

TEST(Backend, EachInstanceKeepsItsThreads) {
  const int before = omp_get_max_threads();
  const auto one = make_backend(Device{}, 1);
  const Tensor t = one->upload(random_act(2, 4, 8, 8, 2));
  (void)one->avg_pool_spatial_padded(t);
  Tensor u = one->upload(random_act(2, 4, 8, 8, 3));
  one->add_(u, t);
  EXPECT_EQ(omp_get_max_threads(), 1);  // the instance set what its ops run with
  ops_set_threads(before);
  const auto caller = make_backend(Device{});  // 0: leaves the caller's setting alone
  Tensor v = caller->upload(random_act(2, 4, 8, 8, 4));
  caller->add_(v, caller->upload(random_act(2, 4, 8, 8, 5)));
  EXPECT_EQ(omp_get_max_threads(), before);
}

TEST(Backend, DeviceWithoutABackendIsAnError) {
  Device d;
  d.kind = DeviceKind::Cuda;
  try {
    (void)make_backend(d);
    ADD_FAILURE() << "made a CUDA backend";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::DeviceUnavailable);
  }
}

// The tokenizer runs on whichever backend it is given: another CPU instance, with its own
// thread count and its own copy of the weight handles, gives the same latent.
TEST(Backend, TokenizerRunsOnTheBackendItIsGiven) {
  auto tok = Tokenizer::random(config_for_arch("CV4x8x8", 8, 1), 5);
  const Act x = random_act(5, 3, 16, 16, 11);
  const Act a = tok->encode(x);
  tok->use_backend(make_backend(Device{}, 1));
  EXPECT_NE(tok->backend().describe().find("1 threads"), std::string::npos) << tok->backend().describe();
  const Act b = tok->encode(x);
  EXPECT_LT(max_abs_diff(a, b), 1e-5f);
  EXPECT_THROW(tok->use_backend(nullptr), Error);
}

}  // namespace
}  // namespace reel
