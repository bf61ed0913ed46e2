// SPDX-License-Identifier: Apache-2.0
// The report's data model: records reduced to rows, then rendered by report_html.cpp.
#include "reel/report/report.h"

#include <cmath>
#include <filesystem>

#include "report/rows.h"

namespace fs = std::filesystem;

namespace reel {

namespace report {

int Table::metric(const std::string& name) {
  auto it = metric_index.find(name);
  if (it != metric_index.end()) return it->second;
  const int i = static_cast<int>(metric_names.size());
  metric_index[name] = i;
  metric_names.push_back(name);
  return i;
}

int Table::find(const std::string& name) const {
  auto it = metric_index.find(name);
  return it == metric_index.end() ? -1 : it->second;
}

namespace {

double num(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void set_metric(Table& t, Row& r, const std::string& name, double v) {
  if (!std::isfinite(v)) return;
  const int i = t.metric(name);
  if (r.metrics.size() <= size_t(i)) r.metrics.resize(i + 1, NAN);
  r.metrics[i] = static_cast<float>(v);
}

}  // namespace

void absorb(Table& t, int run, const std::string& base_dir, const nlohmann::json& rec) {
  if (!rec.is_object()) return;
  if (rec.contains("aggregate")) {
    t.runs[run].aggregates.push_back(rec);
    return;
  }
  const nlohmann::json ev = rec.value("eval", nlohmann::json::object());
  std::string key = str(rec, "id");
  if (key.empty()) key = str(rec, "source") + "\n" + str(ev, "reference") + "\n" + str(ev, "distorted");
  auto [it, fresh] = t.by_key.emplace(key, t.rows.size());
  if (fresh) t.rows.emplace_back();
  Row& r = t.rows[it->second];
  r.run = run;
  r.base_dir = base_dir;
  if (auto v = str(rec, "id"); !v.empty()) r.id = v;
  if (auto v = str(rec, "source"); !v.empty()) r.source = v;
  if (auto v = str(ev, "reference"); !v.empty() && r.source.empty()) r.source = v;
  if (auto v = str(ev, "distorted"); !v.empty()) r.distorted = v;
  if (auto v = str(rec, "path"); !v.empty()) r.path = v;
  if (auto sp = rec.find("span"); sp != rec.end() && sp->is_object()) {
    auto s = sp->find("seconds");
    if (s != sp->end() && s->is_array() && s->size() == 2) set_metric(t, r, "duration_s", num((*s)[1]) - num((*s)[0]));
  }
  if (auto e = rec.find("errors"); e != rec.end() && e->is_array()) {
    for (auto& x : *e) {
      if (!x.is_object()) continue;
      std::string code = x.contains("code") ? (x["code"].is_string() ? x["code"].get<std::string>() : x["code"].dump()) : "?";
      r.errors.push_back(str(x, "stage") + ": " + code);
      if (r.error_message.empty()) r.error_message = str(x, "message");
    }
  }
  for (auto& [k, v] : ev.items())
    if (v.is_number() && k != "frames") set_metric(t, r, k, v.get<double>());
  if (auto c = ev.find("compression"); c != ev.end() && c->is_object()) set_metric(t, r, "bits_ratio", num(c->value("bits_ratio", nlohmann::json())));
  if (auto pf = ev.find("per_frame"); pf != ev.end() && pf->is_object() && pf->contains("psnr_y") && (*pf)["psnr_y"].is_array()) {
    r.per_frame.clear();
    for (auto& v : (*pf)["psnr_y"]) r.per_frame.push_back(static_cast<float>(num(v)));
  }
  if (auto p = ev.find("preview"); p != ev.end() && p->is_object()) {
    r.preview_frame = p->value("frame", -1);
    r.preview_original = str(*p, "original");
    r.preview_reconstruction = str(*p, "reconstruction");
    r.preview_error = str(*p, "error");
  }
  // scores.<name> numbers, or one object per scorer (reel filter): scores.<scorer>.<name>.
  if (auto sc = rec.find("scores"); sc != rec.end() && sc->is_object())
    for (auto& [k, v] : sc->items()) {
      if (v.is_number()) set_metric(t, r, "scores." + k, v.get<double>());
      if (v.is_object())
        for (auto& [k2, v2] : v.items())
          if (v2.is_number() && k2 != "frames" && k2 != "sampled") set_metric(t, r, "scores." + k + "." + k2, v2.get<double>());
    }
  if (auto f = rec.find("filter"); f != rec.end() && f->is_object()) {
    if (f->contains("kept") && (*f)["kept"].is_boolean()) r.filter = (*f)["kept"].get<bool>() ? 1 : 0;
    r.reasons.clear();
    if (auto rs = f->find("reasons"); rs != f->end() && rs->is_array())
      for (auto& x : *rs) {
        if (x.is_string()) r.reasons.push_back(x.get<std::string>());
        if (x.is_object() && x.contains("score") && x["score"].is_string()) r.reasons.push_back(x["score"].get<std::string>());
      }
  }
  if (auto d = rec.find("dedup"); d != rec.end() && d->is_object()) {
    if (auto g = d->find("group"); g != d->end()) r.dup_group = g->is_string() ? g->get<std::string>() : g->dump();
    if (d->contains("kept") && (*d)["kept"].is_boolean()) r.dup_kept = (*d)["kept"].get<bool>() ? 1 : 0;
  }
  if (auto c = rec.find("caption"); c != rec.end()) {
    if (c->is_string()) r.caption = c->get<std::string>();
    else if (c->is_object()) r.caption = str(*c, "text");
  }
  ++t.runs[run].records;
}

}  // namespace report

struct ReportBuilder::Impl {
  ReportOptions opt;
  report::Table table;
  std::string base_dir;
};

ReportBuilder::ReportBuilder(ReportOptions options) : impl_(std::make_unique<Impl>()) { impl_->opt = std::move(options); }
ReportBuilder::~ReportBuilder() = default;

void ReportBuilder::begin_run(const std::string& name) {
  impl_->table.runs.push_back({name, 0, {}});
  impl_->base_dir = name == "-" ? std::string() : fs::path(name).parent_path().string();
}

void ReportBuilder::add(const nlohmann::json& record) {
  if (impl_->table.runs.empty()) begin_run("-");
  report::absorb(impl_->table, static_cast<int>(impl_->table.runs.size()) - 1, impl_->base_dir, record);
}

std::string ReportBuilder::html() { return report::render_html(impl_->table, impl_->opt); }

}  // namespace reel
