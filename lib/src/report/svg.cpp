// SPDX-License-Identifier: Apache-2.0
#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace reel::report {

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string fmt_num(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "n/a" : (v > 0 ? "inf" : "-inf");
  char b[32];
  const double a = std::fabs(v);
  if (a < 1e6 && v == std::floor(v))
    std::snprintf(b, sizeof b, "%.0f", v);
  else if (a != 0 && (a < 1e-3 || a >= 1e6))
    std::snprintf(b, sizeof b, "%.2e", v);
  else if (a >= 100)
    std::snprintf(b, sizeof b, "%.1f", v);
  else
    std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

namespace {

constexpr int kW = 340, kH = 180, kL = 44, kR = 10, kT = 26, kB = 30;  // size and margins

struct Range {
  double lo = 0, hi = 1;
};

Range range_of(const std::vector<double>& v) {
  Range r{INFINITY, -INFINITY};
  for (double x : v)
    if (std::isfinite(x)) r.lo = std::min(r.lo, x), r.hi = std::max(r.hi, x);
  if (!(r.lo <= r.hi)) return {0, 1};
  if (r.hi - r.lo < 1e-12) r.lo -= 0.5, r.hi += 0.5;
  return r;
}

std::string num_attr(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string frame_open(const std::string& cls, const std::string& title, const std::string& note, int h = kH) {
  std::string s = "<svg class=\"chart " + cls + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kW) +
                  "\" height=\"" + std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(kW) + " " + std::to_string(h) +
                  "\" role=\"img\"><title>" + html_escape(title) + "</title>";
  s += "<text class=\"t\" x=\"" + std::to_string(kL) + "\" y=\"14\">" + html_escape(title) + "</text>";
  if (!note.empty()) s += "<text class=\"n\" x=\"" + std::to_string(kW - kR) + "\" y=\"14\" text-anchor=\"end\">" + html_escape(note) + "</text>";
  return s;
}

// Axes with min/max labels on both.
std::string axes(Range x, Range y, int h = kH) {
  const int x0 = kL, x1 = kW - kR, y0 = h - kB, y1 = kT;
  std::string s = "<path class=\"ax\" d=\"M" + std::to_string(x0) + " " + std::to_string(y1) + "V" + std::to_string(y0) + "H" +
                  std::to_string(x1) + "\"/>";
  s += "<text class=\"l\" x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(y0 + 14) + "\">" + fmt_num(x.lo) + "</text>";
  s += "<text class=\"l\" x=\"" + std::to_string(x1) + "\" y=\"" + std::to_string(y0 + 14) + "\" text-anchor=\"end\">" +
       fmt_num(x.hi) + "</text>";
  s += "<text class=\"l\" x=\"" + std::to_string(x0 - 4) + "\" y=\"" + std::to_string(y0) + "\" text-anchor=\"end\">" +
       fmt_num(y.lo) + "</text>";
  s += "<text class=\"l\" x=\"" + std::to_string(x0 - 4) + "\" y=\"" + std::to_string(y1 + 8) + "\" text-anchor=\"end\">" +
       fmt_num(y.hi) + "</text>";
  return s;
}

}  // namespace

std::string svg_histogram(const std::vector<double>& values, const std::string& title, int bins) {
  Range r = range_of(values);
  std::vector<int64_t> count(bins, 0);
  int64_t n = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    int b = static_cast<int>((v - r.lo) / (r.hi - r.lo) * bins);
    count[std::clamp(b, 0, bins - 1)]++;
    ++n;
  }
  const int64_t peak = std::max<int64_t>(1, *std::max_element(count.begin(), count.end()));
  std::string s = frame_open("hist", title, std::to_string(n) + " clips");
  const double pw = double(kW - kL - kR) / bins, ph = kH - kT - kB;
  for (int b = 0; b < bins; ++b) {
    if (!count[b]) continue;
    const double h = ph * double(count[b]) / peak;
    const double lo = r.lo + (r.hi - r.lo) * b / bins, hi = r.lo + (r.hi - r.lo) * (b + 1) / bins;
    s += "<rect x=\"" + num_attr(kL + b * pw + 0.5) + "\" y=\"" + num_attr(kT + ph - h) + "\" width=\"" + num_attr(pw - 1) +
         "\" height=\"" + num_attr(h) + "\"><title>" + fmt_num(lo) + " to " + fmt_num(hi) + ": " + std::to_string(count[b]) +
         "</title></rect>";
  }
  s += axes(r, Range{0, double(peak)});
  return s + "</svg>";
}

std::string svg_scatter(const std::vector<double>& x, const std::vector<double>& y, const std::string& x_label,
                        const std::string& y_label, const std::string& note) {
  std::vector<double> fx, fy;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) fx.push_back(x[i]), fy.push_back(y[i]);
  Range rx = range_of(fx), ry = range_of(fy);
  std::string s = frame_open("scatter", y_label + " vs " + x_label, note);
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  std::string d;
  for (size_t i = 0; i < fx.size(); ++i) {
    const double px = kL + pw * (fx[i] - rx.lo) / (rx.hi - rx.lo), py = kT + ph * (1 - (fy[i] - ry.lo) / (ry.hi - ry.lo));
    // One path of tiny squares: far lighter for the browser than thousands of <circle>s.
    d += "M" + num_attr(px - 2) + " " + num_attr(py - 2) + "h4v4h-4z";
  }
  s += "<path class=\"pts\" d=\"" + d + "\"/>";
  s += axes(rx, ry);
  return s + "</svg>";
}

std::string svg_series(const std::vector<double>& y, const std::string& title, int mark) {
  Range ry = range_of(y);
  Range rx{0, double(std::max<size_t>(1, y.size() - 1))};
  std::string s = frame_open("series", title, std::to_string(y.size()) + " frames");
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  auto px = [&](size_t i) { return kL + pw * (double(i) - rx.lo) / (rx.hi - rx.lo); };
  auto py = [&](double v) { return kT + ph * (1 - (v - ry.lo) / (ry.hi - ry.lo)); };
  std::string d;
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) continue;
    d += (d.empty() ? "M" : "L") + num_attr(px(i)) + " " + num_attr(py(y[i]));
  }
  s += "<path class=\"line\" d=\"" + d + "\"/>";
  if (mark >= 0 && size_t(mark) < y.size() && std::isfinite(y[mark]))
    s += "<circle class=\"mark\" cx=\"" + num_attr(px(mark)) + "\" cy=\"" + num_attr(py(y[mark])) + "\" r=\"3.5\"><title>frame " +
         std::to_string(mark) + ": " + fmt_num(y[mark]) + "</title></circle>";
  s += axes(rx, ry);
  return s + "</svg>";
}

}  // namespace reel::report
