// SPDX-License-Identifier: Apache-2.0
// `reel report`: one self-contained static HTML page (inline CSS, SVG and a small inline
// script; no network, no external files) for the records of a curation run and/or an
// evaluation.
//
// Records are read one at a time and reduced to compact rows, so 100 000 clips fit in a few
// tens of MB. Records that share an "id" are merged (later runs add to earlier ones), so the
// outputs of several stages of one run can be given together. What the page shows:
//   - counts: clips, clips with errors (by stage and code), clips removed by filters (by reason)
//   - histograms of every numeric metric over all clips, scatter plots of metric pairs over an
//     evenly spaced sample of at most `scatter_points` clips
//   - evaluations: the `worst` clips by PSNR-Y with original | reconstruction | error heatmap
//     (from `reel eval --previews`) and their per-frame PSNR plots
//   - duplicate groups side by side, captions
//   - a table of every clip, worst first, 50 to a page (paginated in the browser), with
//     thumbnails for at most `thumbnails` clips (the worst half, the rest evenly sampled)
// Record fields it reads (all optional): id, source, path, span.seconds, frames, errors[],
// eval.{psnr_y, ssim_y, ...} (numbers), eval.per_frame.psnr_y, eval.preview.{original,
// reconstruction, error, frame}, scores.{name} (numbers), filter.{kept, reasons[]},
// dedup.{group, kept}, caption (string or {text}). Aggregate lines ({"aggregate": ...}) of
// reel eval are shown as run summaries, with their Fréchet distance.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace reel {

struct ReportOptions {
  std::string title = "reel report";
  int thumbnails = 240;       // clips with an embedded thumbnail
  int worst = 12;             // evaluation clips shown with their preview frames
  int scatter_points = 2000;  // points per scatter plot
  int page_size = 50;         // table rows per page
  int thumb_side = 160;       // thumbnail size (longer side, pixels)
  bool decode_thumbnails = true;  // decode clip files for thumbnails (off: previews only)
};

class ReportBuilder {
 public:
  explicit ReportBuilder(ReportOptions options);
  ~ReportBuilder();
  // Starts the records of one run file (its name is listed on the page).
  void begin_run(const std::string& name);
  void add(const nlohmann::json& record);
  // Renders the page. Thumbnails and previews are read here; a file that cannot be read is
  // left out and counted on the page, never fatal.
  std::string html();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reel
