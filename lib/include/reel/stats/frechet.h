// SPDX-License-Identifier: Apache-2.0
// Fréchet distance between two Gaussians fitted to feature vectors: the formula behind FID
// and FVD (Heusel et al. 2017; Unterthiner et al. 2018):
//   d^2 = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2))
// The mean and covariance (unbiased, n - 1 like numpy.cov) are accumulated one feature
// vector at a time, so no feature matrix is ever held in memory.
#pragma once
#include <cstdint>
#include <vector>

namespace reel {

struct GaussianStats {
  int dim = 0;
  int64_t n = 0;
  std::vector<double> mean;  // dim
  std::vector<double> cov;   // dim x dim, row-major, symmetric
};

class FeatureAccumulator {
 public:
  explicit FeatureAccumulator(int dim = 0) : dim_(dim) {}
  // Adds one feature vector; the first call fixes the dimension if it was not given.
  void add(const float* f, int dim);
  int64_t count() const { return n_; }
  int dim() const { return dim_; }
  // Needs at least two vectors (throws Error(InvalidArgument) otherwise).
  GaussianStats finish() const;

 private:
  int dim_ = 0;
  int64_t n_ = 0;
  // Sums of (x - shift) and of its outer products; shifting by the first vector keeps the
  // covariance exact in double when the features have a large common offset.
  std::vector<double> shift_, sum_, outer_;
};

// tr((A B)^(1/2)) for symmetric positive semi-definite A and B (dim x dim, row-major),
// through the symmetric form A^(1/2) B A^(1/2); eigenvalues below zero (round-off) count as 0.
double trace_sqrt_product(const std::vector<double>& a, const std::vector<double>& b, int dim);

double frechet_distance(const GaussianStats& a, const GaussianStats& b);

}  // namespace reel
