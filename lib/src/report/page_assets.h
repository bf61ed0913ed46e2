// SPDX-License-Identifier: Apache-2.0
// The report page's stylesheet and script, inlined into every report (no external files).
#pragma once

namespace reel::report {

inline constexpr const char* kReportCss = R"css(
:root{--fg:#1d2330;--mut:#667085;--bg:#fff;--card:#f4f6fa;--acc:#3b6fd8;--bad:#c4302b;--line:#d0d5dd}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1280px;padding:0 20px 40px}
header{border-bottom:1px solid var(--line);padding:12px 0}
h1{font-size:22px;margin:4px 0}h2{font-size:18px;margin:28px 0 8px}h3{font-size:14px;margin:12px 0 6px}
.meta,.note,.n,.l{color:var(--mut)}
.runs{margin:4px 0;padding-left:18px}
nav a{margin-right:14px;color:var(--acc);text-decoration:none}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:var(--card);border-radius:8px;padding:10px 16px;min-width:130px}
.card .v{font-size:22px;font-weight:600}.card .k{color:var(--mut)}.card.bad .v{color:var(--bad)}
table{border-collapse:collapse}
td,th{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{cursor:pointer;white-space:nowrap;background:var(--card)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:10px;background:var(--acc);vertical-align:middle}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{background:var(--card);border-radius:6px}
svg .t{font-size:12px;font-weight:600;fill:var(--fg)}svg .n,svg .l{font-size:10px;fill:var(--mut)}
svg rect{fill:var(--acc)}svg .ax{fill:none;stroke:var(--mut)}
svg .pts{fill:var(--acc);fill-opacity:.55}svg .line{fill:none;stroke:var(--acc);stroke-width:1.5}svg .mark{fill:var(--bad)}
.clip-card{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:10px 0}
.clip-card .m span{margin-right:14px}
.triplet,.row,.caps{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0}figcaption{color:var(--mut);font-size:12px;max-width:320px}
.triplet figure{flex:1 1 0;min-width:0;max-width:400px}.triplet img{width:100%;height:auto;border-radius:4px}
img.thumb{max-width:160px;max-height:90px;border-radius:3px;display:block}
.thumb.none{width:120px;height:68px;background:var(--card);color:var(--mut);font-size:11px;display:flex;align-items:center;justify-content:center}
.dup figure.dropped{opacity:.55}
.caps figure{width:180px}
#search{margin:6px 0;padding:4px 8px;width:320px}
.pager{margin:8px 0}.pager button{margin:0 8px}
.table-wrap{overflow-x:auto}
#clip-table td{max-width:360px;overflow-wrap:anywhere}#clip-table td.id{font-family:monospace;white-space:nowrap}#clip-table td.src{white-space:nowrap;max-width:260px;overflow:hidden;text-overflow:ellipsis}
)css";

inline constexpr const char* kReportJs = R"js(
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('clip-data').textContent);
  var head = document.querySelector('#clip-table thead');
  var body = document.querySelector('#clip-table tbody');
  var info = document.getElementById('page-info');
  var prev = document.getElementById('prev');
  var next = document.getElementById('next');
  var search = document.getElementById('search');
  var view = D.rows.slice(), page = 0, sortCol = -1, sortDir = 1;
  var text = [2, 3, D.cols.length - 1];  // id, source, caption: what the search box looks at

  function base(p) { var i = p.lastIndexOf('/'); return i < 0 ? p : p.slice(i + 1); }
  function fmt(v) {
    if (Number.isInteger(v) || Math.abs(v) >= 1000) return v.toFixed(0);
    return String(Number(v.toPrecision(4)));
  }
  function pages() { return Math.max(1, Math.ceil(view.length / D.pageSize)); }
  function renderHead() {
    var tr = document.createElement('tr');
    D.cols.forEach(function (c, i) {
      var th = document.createElement('th');
      th.textContent = c + (i === sortCol ? (sortDir > 0 ? ' \u25b2' : ' \u25bc') : '');
      th.addEventListener('click', function () { sortBy(i); });
      tr.appendChild(th);
    });
    head.replaceChildren(tr);
  }
  function render() {
    var frag = document.createDocumentFragment();
    var start = page * D.pageSize;
    view.slice(start, start + D.pageSize).forEach(function (r) {
      var tr = document.createElement('tr');
      r.forEach(function (v, i) {
        var td = document.createElement('td');
        if (i === 1) {
          var uri = D.thumbs[String(r[0])];
          if (uri) { var img = document.createElement('img'); img.className = 'thumb'; img.alt = ''; img.src = uri; td.appendChild(img); }
        } else if (i === 2) { td.textContent = String(v || '').slice(0, 8); td.title = v || ''; td.className = 'id'; }
        else if (i === 3) { td.textContent = base(v || ''); td.title = v || ''; td.className = 'src'; }
        else if (typeof v === 'number') { td.textContent = fmt(v); td.className = 'num'; }
        else { td.textContent = v === null ? '' : v; }
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    info.textContent = 'page ' + (page + 1) + ' / ' + pages() + ' (' + view.length + ' clips)';
    prev.disabled = page === 0;
    next.disabled = page >= pages() - 1;
  }
  function sortBy(i) {
    sortDir = sortCol === i ? -sortDir : 1;
    sortCol = i;
    view.sort(function (a, b) {
      var x = a[i], y = b[i];
      if (x === y) return 0;
      if (x === null || x === '') return 1;
      if (y === null || y === '') return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    page = 0;
    renderHead();
    render();
  }
  search.addEventListener('input', function () {
    var q = search.value.toLowerCase();
    view = D.rows.filter(function (r) {
      return !q || text.some(function (i) { return String(r[i] || '').toLowerCase().indexOf(q) >= 0; });
    });
    sortCol = -1;
    page = 0;
    renderHead();
    render();
  });
  prev.addEventListener('click', function () { if (page > 0) { page--; render(); } });
  next.addEventListener('click', function () { if (page < pages() - 1) { page++; render(); } });
  renderHead();
  render();
})();
)js";

}  // namespace reel::report
