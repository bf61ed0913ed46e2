// SPDX-License-Identifier: Apache-2.0
// Renders the report page from the rows: sections in static HTML + SVG, the clip table as
// embedded JSON paginated by a small inline script.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "reel/core/log.h"
#include "reel/media/preview.h"
#include "report/page_assets.h"
#include "report/rows.h"
#include "report/svg.h"

namespace fs = std::filesystem;

namespace reel::report {
namespace {

using std::string;

// A media path of a record, as given or relative to its run file's directory.
string resolve(const string& p, const string& base) {
  if (p.empty() || p.find("://") != string::npos) return {};
  std::error_code ec;
  if (fs::exists(p, ec)) return p;
  if (!base.empty() && fs::path(p).is_relative() && fs::exists(fs::path(base) / p, ec)) return (fs::path(base) / p).string();
  return {};
}

string data_uri(const std::vector<uint8_t>& jpg) { return "data:image/jpeg;base64," + base64(jpg); }

std::vector<uint8_t> read_bytes(const string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

string base_name(const string& p) {
  const auto s = p.find_last_of('/');
  return s == string::npos ? p : p.substr(s + 1);
}

// Rows worst first: by PSNR-Y when there is one (lowest first, rows without it last),
// otherwise in input order.
std::vector<size_t> worst_first(const Table& t) {
  std::vector<size_t> order(t.rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const int m = t.find("psnr_y");
  if (m < 0) return order;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const float x = t.rows[a].metric(m), y = t.rows[b].metric(m);
    if (std::isnan(x) != std::isnan(y)) return std::isnan(y);
    return x < y;
  });
  return order;
}

// Indices of evenly spaced elements: k of n.
std::vector<size_t> even_sample(size_t n, size_t k) {
  std::vector<size_t> out;
  if (k >= n) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (size_t i = 0; i < k; ++i) out.push_back(i * n / k);
  return out;
}

double round5(double v) {
  if (!std::isfinite(v)) return v;
  char b[32];
  std::snprintf(b, sizeof b, "%.5g", v);
  return std::strtod(b, nullptr);
}

string card(const string& label, const string& value, const string& cls = "") {
  return "<div class=\"card " + cls + "\"><div class=\"v\">" + html_escape(value) + "</div><div class=\"k\">" + html_escape(label) +
         "</div></div>";
}

string bar_table(const std::map<string, int64_t>& counts, int64_t total, const string& head) {
  std::vector<std::pair<string, int64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
  string s = "<table class=\"bars\"><thead><tr><th>" + html_escape(head) + "</th><th>clips</th><th></th></tr></thead><tbody>";
  for (auto& [k, n] : v) {
    const double pct = total ? 100.0 * n / total : 0;
    s += "<tr><td>" + html_escape(k) + "</td><td class=\"num\">" + std::to_string(n) + "</td><td><div class=\"bar\" style=\"width:" +
         fmt_num(std::max(0.5, pct * 3)) + "px\"></div> " + fmt_num(pct) + "%</td></tr>";
  }
  return s + "</tbody></table>";
}

// The reason a filter gives, reduced to the filter's name: "motion<0.02" -> "motion".
string reason_name(const string& r) {
  const auto e = r.find_first_of(" <>=:");
  return e == string::npos || e == 0 ? r : r.substr(0, e);
}

class Page {
 public:
  Page(const Table& t, const ReportOptions& o) : t_(t), o_(o), order_(worst_first(t)) {}

  string render() {
    pick_thumbnails();
    const std::vector<std::pair<const char*, string>> sections = {
        {"Summary", summary()},   {"Filters", filters()},       {"Errors", errors()},     {"Distributions", distributions()},
        {"Worst clips", worst()}, {"Duplicates", duplicates()}, {"Captions", captions()}, {"All clips", clips()}};
    string nav, body;
    for (auto& [name, html] : sections) {
      if (html.empty()) continue;
      // Each section starts with <section id="...">: link to it.
      const auto q = html.find('"') + 1;
      nav += "<a href=\"#" + html.substr(q, html.find('"', q) - q) + "\">" + name + "</a>";
      body += html;
    }
    body = header(nav) + body;
    if (failed_media_)
      body += "<p class=\"note\">" + std::to_string(failed_media_) + " thumbnails or preview images could not be read and were left out.</p>";
    return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
           "<title>" + html_escape(o_.title) + "</title><style>" + string(kReportCss) + "</style></head><body>" + body +
           "<script>" + string(kReportJs) + "</script></body></html>\n";
  }

 private:
  const Table& t_;
  const ReportOptions& o_;
  std::vector<size_t> order_;
  std::map<size_t, string> thumbs_;  // row -> data URI
  int64_t failed_media_ = 0;

  void pick_thumbnails() {
    std::set<size_t> want;
    const size_t cap = std::max(0, o_.thumbnails);
    if (order_.size() <= cap) {
      want.insert(order_.begin(), order_.end());
    } else {
      for (size_t i = 0; i < cap / 2; ++i) want.insert(order_[i]);
      for (size_t i : even_sample(order_.size() - cap / 2, cap - cap / 2)) want.insert(order_[cap / 2 + i]);
    }
    for (auto& [g, members] : dup_groups())
      for (size_t i = 0; i < members.size() && i < 6; ++i) want.insert(members[i]);
    for (size_t i : captioned()) want.insert(i);
    if (!o_.decode_thumbnails) return;
    std::vector<size_t> rows(want.begin(), want.end());
    std::vector<string> uris(rows.size());
    int64_t failed = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : failed)
    for (size_t k = 0; k < rows.size(); ++k) {
      const Row& r = t_.rows[rows[k]];
      string p = resolve(r.path, r.base_dir);
      if (p.empty()) p = resolve(r.source, r.base_dir);
      if (p.empty()) continue;
      try {
        uris[k] = data_uri(video_thumbnail(p, o_.thumb_side));
      } catch (const std::exception& e) {
        ++failed;
      }
    }
    failed_media_ += failed;
    for (size_t k = 0; k < rows.size(); ++k)
      if (!uris[k].empty()) thumbs_[rows[k]] = std::move(uris[k]);
  }

  std::vector<std::pair<string, std::vector<size_t>>> dup_groups() const {
    std::map<string, std::vector<size_t>> g;
    for (size_t i = 0; i < t_.rows.size(); ++i)
      if (!t_.rows[i].dup_group.empty()) g[t_.rows[i].dup_group].push_back(i);
    std::vector<std::pair<string, std::vector<size_t>>> out;
    for (auto& [k, v] : g)
      if (v.size() >= 2) out.push_back({k, v});
    std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.second.size() > b.second.size(); });
    return out;
  }

  std::vector<size_t> captioned() const {
    std::vector<size_t> all;
    for (size_t i : order_)
      if (!t_.rows[i].caption.empty()) all.push_back(i);
    std::vector<size_t> out;
    for (size_t k : even_sample(all.size(), 24)) out.push_back(all[k]);
    return out;
  }

  string thumb(size_t row) const {
    auto it = thumbs_.find(row);
    if (it == thumbs_.end()) return "<div class=\"thumb none\">no image</div>";
    return "<img class=\"thumb\" alt=\"\" src=\"" + it->second + "\">";
  }

  string header(const string& nav) const {
    char when[64];
    std::time_t now = std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    string runs;
    for (auto& r : t_.runs) runs += "<li><code>" + html_escape(r.name) + "</code>: " + std::to_string(r.records) + " records</li>";
    string s = "<header><h1>" + html_escape(o_.title) + "</h1><p class=\"meta\">reel " + string(REEL_VERSION) + ", " + when +
               "</p><ul class=\"runs\">" + runs + "</ul><nav>" + nav + "</nav></header>";
    return s;
  }

  string summary() const {
    int64_t errors = 0, removed = 0, filtered = 0, dups = 0;
    for (auto& r : t_.rows) {
      errors += !r.errors.empty();
      filtered += r.filter >= 0;
      removed += r.filter == 0;
      dups += r.dup_kept == 0;
    }
    string s = "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">" + card("clips", std::to_string(t_.rows.size()));
    s += card("with errors", std::to_string(errors), errors ? "bad" : "");
    if (filtered) s += card("removed by filters", std::to_string(removed));
    if (dups) s += card("removed as duplicates", std::to_string(dups));
    for (const char* m : {"psnr_y", "ssim_y", "duration_s"}) {
      const int k = t_.find(m);
      double sum = 0;
      int64_t n = 0;
      for (auto& r : t_.rows)
        if (float v = r.metric(k); std::isfinite(v)) sum += v, ++n;
      if (n) s += card(string("mean ") + m, fmt_num(sum / n));
    }
    s += "</div>";
    for (auto& run : t_.runs)
      for (auto& a : run.aggregates) s += aggregate(run.name, a);
    return s + "</section>";
  }

  static string aggregate(const string& run, const nlohmann::json& a) {
    string s = "<h3>Aggregate of <code>" + html_escape(run) + "</code></h3><table class=\"agg\"><thead><tr><th>metric</th>";
    for (const char* k : {"mean", "median", "p5", "p95", "min", "max"}) s += "<th>" + string(k) + "</th>";
    s += "</tr></thead><tbody>";
    for (auto& [name, st] : a["aggregate"].items()) {
      if (!st.is_object()) continue;
      s += "<tr><td>" + html_escape(name) + "</td>";
      for (const char* k : {"mean", "median", "p5", "p95", "min", "max"})
        s += "<td class=\"num\">" + (st.contains(k) && st[k].is_number() ? fmt_num(st[k].get<double>()) : string("")) + "</td>";
      s += "</tr>";
    }
    s += "</tbody></table>";
    if (a.contains("frechet") && a["frechet"].is_object()) {
      auto& f = a["frechet"];
      s += "<p class=\"frechet\">Fréchet distance (" + html_escape(f.value("network", string("?"))) + ", " +
           std::to_string(f.value("samples_reference", 0)) + " / " + std::to_string(f.value("samples_distorted", 0)) +
           " samples, " + std::to_string(f.value("dim", 0)) + "-d features): <b>" +
           (f.contains("distance") ? fmt_num(f["distance"].get<double>()) : html_escape(f.value("error", string("n/a")))) + "</b></p>";
    }
    return s;
  }

  string filters() const {
    std::map<string, int64_t> by_reason;
    int64_t removed = 0, n = 0;
    for (auto& r : t_.rows) {
      if (r.filter < 0) continue;
      ++n;
      if (r.filter != 0) continue;
      ++removed;
      if (r.reasons.empty()) by_reason["(no reason given)"]++;
      for (auto& x : r.reasons) by_reason[reason_name(x)]++;
    }
    if (!n) return "";
    return "<section id=\"filters\"><h2>Removed by filters</h2><p>" + std::to_string(removed) + " of " + std::to_string(n) +
           " filtered clips removed; a clip failing several filters counts under each.</p>" + bar_table(by_reason, n, "filter") +
           "</section>";
  }

  string errors() const {
    std::map<string, int64_t> by;
    std::vector<std::pair<string, string>> examples;
    for (auto& r : t_.rows) {
      for (auto& e : r.errors) by[e]++;
      if (!r.errors.empty() && examples.size() < 20) examples.push_back({r.source, r.error_message});
    }
    if (by.empty()) return "";
    string s = "<section id=\"errors\"><h2>Errors</h2>" + bar_table(by, static_cast<int64_t>(t_.rows.size()), "stage: code") +
               "<ul class=\"examples\">";
    for (auto& [src, msg] : examples) s += "<li><code>" + html_escape(base_name(src)) + "</code>: " + html_escape(msg) + "</li>";
    return s + "</ul></section>";
  }

  string distributions() const {
    if (t_.metric_names.empty()) return "";
    string s = "<section id=\"distributions\"><h2>Distributions</h2><div class=\"charts\">";
    std::vector<int> shown;
    for (size_t m = 0; m < t_.metric_names.size(); ++m) {
      std::vector<double> v;
      v.reserve(t_.rows.size());
      for (auto& r : t_.rows)
        if (float x = r.metric(int(m)); std::isfinite(x)) v.push_back(x);
      if (v.empty()) continue;
      shown.push_back(int(m));
      s += svg_histogram(v, t_.metric_names[m]);
    }
    s += "</div>";
    // Scatter plots: PSNR-Y against the other quality measures, or consecutive score pairs.
    std::vector<std::pair<int, int>> pairs;
    const int p = t_.find("psnr_y");
    for (const char* other : {"ssim_y", "flicker", "bits_ratio", "ms_ssim_y"})
      if (p >= 0 && t_.find(other) >= 0 && pairs.size() < 3) pairs.push_back({p, t_.find(other)});
    for (size_t i = 0; pairs.empty() && i + 1 < shown.size() && i < 6; i += 2) pairs.push_back({shown[i], shown[i + 1]});
    if (!pairs.empty()) {
      s += "<div class=\"charts\">";
      for (auto [a, b] : pairs) {
        // Clips that have both values, evenly sampled down to scatter_points.
        std::vector<size_t> both;
        for (size_t i = 0; i < t_.rows.size(); ++i)
          if (std::isfinite(t_.rows[i].metric(a)) && std::isfinite(t_.rows[i].metric(b))) both.push_back(i);
        const auto sample = even_sample(both.size(), std::max(1, o_.scatter_points));
        const string note = sample.size() < both.size()
                                ? std::to_string(sample.size()) + " of " + std::to_string(both.size()) + " clips, evenly sampled"
                                : std::to_string(both.size()) + " clips";
        std::vector<double> x, y;
        for (size_t k : sample) x.push_back(t_.rows[both[k]].metric(a)), y.push_back(t_.rows[both[k]].metric(b));
        s += svg_scatter(x, y, t_.metric_names[a], t_.metric_names[b], note);
      }
      s += "</div>";
    }
    return s + "</section>";
  }

  string image(const Row& r, const string& path, const string& label) {
    const string p = resolve(path, r.base_dir);
    std::vector<uint8_t> bytes;
    if (!p.empty()) bytes = read_bytes(p);
    if (bytes.size() < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8) {
      ++failed_media_;
      return "<figure><div class=\"thumb none\">missing</div><figcaption>" + label + "</figcaption></figure>";
    }
    return "<figure><img alt=\"" + label + "\" src=\"" + data_uri(bytes) + "\"><figcaption>" + label + "</figcaption></figure>";
  }

  string worst() {
    std::vector<size_t> rows;
    for (size_t i : order_)
      if (!t_.rows[i].preview_original.empty() && rows.size() < size_t(std::max(0, o_.worst))) rows.push_back(i);
    if (rows.empty()) return "";
    int64_t with_preview = 0;
    for (auto& r : t_.rows) with_preview += !r.preview_original.empty();
    string s = "<section id=\"worst\"><h2>Worst clips</h2><p>The " + std::to_string(rows.size()) + " lowest-PSNR-Y of " +
               std::to_string(with_preview) +
               " evaluated clips with previews, each at its worst frame: original | reconstruction | error (black: exact, "
               "yellow: 48 levels or more).</p>";
    for (size_t i : rows) {
      const Row& r = t_.rows[i];
      s += "<article class=\"clip-card\"><h3>" + html_escape(base_name(r.source.empty() ? r.id : r.source)) + "</h3><p class=\"m\">";
      for (const char* m : {"psnr_y", "ssim_y", "ms_ssim_y", "flicker"}) {
        if (const float v = r.metric(t_.find(m)); std::isfinite(v)) s += "<span>" + string(m) + " <b>" + fmt_num(v) + "</b></span>";
      }
      s += "<span>frame <b>" + std::to_string(r.preview_frame) + "</b></span></p><div class=\"triplet\">" +
           image(r, r.preview_original, "original") + image(r, r.preview_reconstruction, "reconstruction") +
           image(r, r.preview_error, "error") + "</div>";
      if (!r.per_frame.empty()) s += svg_series(std::vector<double>(r.per_frame.begin(), r.per_frame.end()), "PSNR-Y per frame (dB)", r.preview_frame);
      s += "</article>";
    }
    return s + "</section>";
  }

  string duplicates() const {
    auto groups = dup_groups();
    if (groups.empty()) return "";
    string s = "<section id=\"duplicates\"><h2>Duplicate groups</h2><p>" + std::to_string(groups.size()) +
               " groups; the largest " + std::to_string(std::min<size_t>(groups.size(), 30)) + " shown, up to 6 clips each.</p>";
    for (size_t g = 0; g < groups.size() && g < 30; ++g) {
      s += "<div class=\"dup\"><h3>group " + html_escape(groups[g].first) + " (" + std::to_string(groups[g].second.size()) +
           " clips)</h3><div class=\"row\">";
      for (size_t k = 0; k < groups[g].second.size() && k < 6; ++k) {
        const size_t i = groups[g].second[k];
        const Row& r = t_.rows[i];
        s += "<figure class=\"" + string(r.dup_kept == 0 ? "dropped" : "kept") + "\">" + thumb(i) + "<figcaption>" +
             html_escape(base_name(r.source)) + (r.dup_kept == 0 ? " (removed)" : r.dup_kept == 1 ? " (kept)" : "") +
             "</figcaption></figure>";
      }
      s += "</div></div>";
    }
    return s + "</section>";
  }

  string captions() const {
    auto rows = captioned();
    if (rows.empty()) return "";
    string s = "<section id=\"captions\"><h2>Captions</h2><p>" + std::to_string(rows.size()) +
               " captioned clips, evenly sampled; every caption is in the table below.</p><div class=\"caps\">";
    for (size_t i : rows)
      s += "<figure>" + thumb(i) + "<figcaption>" + html_escape(t_.rows[i].caption) + "</figcaption></figure>";
    return s + "</div></section>";
  }

  string clips() const {
    nlohmann::json cols = {"#", "", "id", "source"};
    for (auto& m : t_.metric_names) cols.push_back(m);
    for (const char* c : {"errors", "filter", "dedup", "caption"}) cols.push_back(c);
    nlohmann::json rows = nlohmann::json::array();
    int64_t rank = 0;
    for (size_t i : order_) {
      const Row& r = t_.rows[i];
      nlohmann::json row = {++rank, thumbs_.count(i) ? 1 : 0, r.id, r.source};
      for (size_t m = 0; m < t_.metric_names.size(); ++m) {
        const float v = r.metric(int(m));
        row.push_back(std::isfinite(v) ? nlohmann::json(round5(v)) : nlohmann::json());
      }
      string errs;
      for (auto& e : r.errors) errs += (errs.empty() ? "" : "; ") + e;
      string filt = r.filter < 0 ? "" : r.filter ? "kept" : "removed";
      for (auto& x : r.reasons) filt += " " + x;
      row.push_back(errs);
      row.push_back(filt);
      row.push_back(r.dup_group.empty() ? "" : r.dup_group + (r.dup_kept == 0 ? " (removed)" : ""));
      row.push_back(r.caption.size() > 300 ? r.caption.substr(0, 300) + "..." : r.caption);
      rows.push_back(std::move(row));
    }
    nlohmann::json thumbs = nlohmann::json::object();
    rank = 0;
    for (size_t i : order_) {
      ++rank;
      auto it = thumbs_.find(i);
      if (it != thumbs_.end()) thumbs[std::to_string(rank)] = it->second;
    }
    nlohmann::json data = {{"cols", cols}, {"rows", rows}, {"thumbs", thumbs}, {"pageSize", o_.page_size}};
    string js = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Inside <script>, "</" could close the element early; "<\/" is the same JSON string.
    string safe;
    safe.reserve(js.size());
    for (size_t k = 0; k < js.size(); ++k) {
      if (js[k] == '<' && k + 1 < js.size() && js[k + 1] == '/') safe += "<\\";
      else safe += js[k];
    }
    const string note = thumbs_.size() < t_.rows.size()
                            ? "Thumbnails for " + std::to_string(thumbs_.size()) + " of " + std::to_string(t_.rows.size()) +
                                  " clips (the worst, then an even sample); every clip is in the table."
                            : "";
    return "<section id=\"clips\"><h2>All clips</h2><p>" + std::to_string(t_.rows.size()) + " clips" +
           (t_.find("psnr_y") >= 0 ? ", worst PSNR-Y first" : "") + "; click a column to sort. " + note +
           "</p><input id=\"search\" type=\"search\" placeholder=\"filter by id, source, caption\"><div class=\"table-wrap\"><table id=\"clip-table\">"
           "<thead></thead><tbody></tbody></table></div><div class=\"pager\"><button id=\"prev\" type=\"button\">previous</button>"
           "<span id=\"page-info\"></span><button id=\"next\" type=\"button\">next</button></div>"
           "<script type=\"application/json\" id=\"clip-data\">" + safe + "</script></section>";
  }
};

}  // namespace

string render_html(const Table& t, const ReportOptions& o) { return Page(t, o).render(); }

}  // namespace reel::report
