// SPDX-License-Identifier: Apache-2.0
#include "reel/stats/frechet.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "reel/core/status.h"

// LAPACK's symmetric eigensolver (divide and conquer), exported by OpenBLAS.
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info);

namespace reel {
namespace {

// Eigen-decomposition of a symmetric matrix: on return `a` holds the eigenvectors (columns of
// the column-major result = rows here, since the input is symmetric) and `w` the eigenvalues.
void sym_eig(std::vector<double>& a, std::vector<double>& w, int n) {
  w.assign(n, 0.0);
  int info = 0, lwork = -1, liwork = -1, iwq = 0;
  double wq = 0;
  dsyevd_("V", "U", &n, a.data(), &n, w.data(), &wq, &lwork, &iwq, &liwork, &info);
  lwork = static_cast<int>(wq);
  liwork = iwq;
  std::vector<double> work(std::max(1, lwork));
  std::vector<int> iwork(std::max(1, liwork));
  dsyevd_("V", "U", &n, a.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  if (info != 0) throw Error(Code::Internal, "dsyevd failed to converge (info " + std::to_string(info) + ")");
}

// Symmetric PSD square root: V diag(sqrt(max(w,0))) V^T.
std::vector<double> sym_sqrt(std::vector<double> a, int n) {
  std::vector<double> w;
  sym_eig(a, w, n);
  // LAPACK is column-major: eigenvector k is a[k*n .. k*n+n). Scale it by sqrt(sqrt(w_k)) so
  // that the product of the scaled vectors with themselves gives the square root.
  for (int k = 0; k < n; ++k) {
    const double s = std::sqrt(std::sqrt(std::max(w[k], 0.0)));
    for (int i = 0; i < n; ++i) a[size_t(k) * n + i] *= s;
  }
  std::vector<double> r(size_t(n) * n);
  // r = A^T A with A rows = scaled eigenvectors (row-major view of the column-major result).
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0, a.data(), n, a.data(), n, 0.0, r.data(), n);
  return r;
}

}  // namespace

void FeatureAccumulator::add(const float* f, int dim) {
  if (dim_ == 0) dim_ = dim;
  if (dim != dim_)
    throw Error(Code::InvalidArgument,
                "feature size changed: got " + std::to_string(dim) + ", expected " + std::to_string(dim_));
  if (n_ == 0) {
    shift_.assign(f, f + dim);
    sum_.assign(dim, 0.0);
    outer_.assign(size_t(dim) * dim, 0.0);
  }
  std::vector<double> d(dim);
  for (int i = 0; i < dim; ++i) d[i] = double(f[i]) - shift_[i];
  for (int i = 0; i < dim; ++i) sum_[i] += d[i];
  cblas_dsyr(CblasRowMajor, CblasUpper, dim, 1.0, d.data(), 1, outer_.data(), dim);
  ++n_;
}

GaussianStats FeatureAccumulator::finish() const {
  if (n_ < 2)
    throw Error(Code::InvalidArgument,
                "a covariance needs at least 2 feature vectors, got " + std::to_string(n_));
  GaussianStats s;
  s.dim = dim_;
  s.n = n_;
  s.mean.resize(dim_);
  s.cov.assign(size_t(dim_) * dim_, 0.0);
  const double n = double(n_);
  for (int i = 0; i < dim_; ++i) s.mean[i] = shift_[i] + sum_[i] / n;
  for (int i = 0; i < dim_; ++i)
    for (int j = i; j < dim_; ++j) {
      const double c = (outer_[size_t(i) * dim_ + j] - sum_[i] * sum_[j] / n) / (n - 1);
      s.cov[size_t(i) * dim_ + j] = s.cov[size_t(j) * dim_ + i] = c;
    }
  return s;
}

double trace_sqrt_product(const std::vector<double>& a, const std::vector<double>& b, int n) {
  const std::vector<double> ah = sym_sqrt(a, n);
  std::vector<double> t(size_t(n) * n), m(size_t(n) * n);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, ah.data(), n, b.data(), n, 0.0, t.data(), n);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, t.data(), n, ah.data(), n, 0.0, m.data(), n);
  // Symmetrise against round-off before the symmetric solver.
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      const double v = 0.5 * (m[size_t(i) * n + j] + m[size_t(j) * n + i]);
      m[size_t(i) * n + j] = m[size_t(j) * n + i] = v;
    }
  std::vector<double> w;
  sym_eig(m, w, n);
  double tr = 0;
  for (double x : w) tr += std::sqrt(std::max(x, 0.0));
  return tr;
}

double frechet_distance(const GaussianStats& a, const GaussianStats& b) {
  if (a.dim != b.dim || a.dim <= 0)
    throw Error(Code::InvalidArgument,
                "feature sizes differ: " + std::to_string(a.dim) + " vs " + std::to_string(b.dim));
  const int n = a.dim;
  double d = 0;
  for (int i = 0; i < n; ++i) d += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i]);
  for (int i = 0; i < n; ++i) d += a.cov[size_t(i) * n + i] + b.cov[size_t(i) * n + i];
  d -= 2.0 * trace_sqrt_product(a.cov, b.cov, n);
  // Identical distributions give a tiny negative value from round-off.
  return std::max(d, 0.0);
}

}  // namespace reel
