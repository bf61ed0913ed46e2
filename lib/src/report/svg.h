// SPDX-License-Identifier: Apache-2.0
// Inline SVG charts for the HTML report: computed here, so the page needs no chart library.
#pragma once
#include <string>
#include <vector>

namespace reel::report {

std::string html_escape(const std::string& s);
// Compact number for labels: 3 significant digits, no exponent for ordinary magnitudes.
std::string fmt_num(double v);

// Histogram of all finite values (bins over [min, max]); each bar has a tooltip with its range
// and count.
std::string svg_histogram(const std::vector<double>& values, const std::string& title, int bins = 30);
// Scatter of (x[i], y[i]) (finite pairs only); `note` goes under the title (e.g. the sampling).
std::string svg_scatter(const std::vector<double>& x, const std::vector<double>& y, const std::string& x_label,
                        const std::string& y_label, const std::string& note);
// Line plot of a per-frame series with a marker at frame `mark` (-1: none).
std::string svg_series(const std::vector<double>& y, const std::string& title, int mark);

}  // namespace reel::report
