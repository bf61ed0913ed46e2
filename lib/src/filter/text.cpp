// SPDX-License-Identifier: Apache-2.0
#include "reel/filter/text.h"

#include <leptonica/allheaders.h>
#include <omp.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "reel/core/status.h"

namespace reel {

struct OcrEngine::Impl {
  tesseract::TessBaseAPI api;
};

OcrEngine::OcrEngine() : impl_(std::make_unique<Impl>()) {
  setMsgSeverity(L_SEVERITY_NONE);  // Leptonica's complaints about boxes at frame edges are not ours to print
  if (impl_->api.Init(nullptr, "eng", tesseract::OEM_LSTM_ONLY) != 0)
    throw Error(Code::ModelError, "Tesseract cannot load its English data (apt-get install tesseract-ocr-eng)");
  impl_->api.SetPageSegMode(tesseract::PSM_SPARSE_TEXT);  // scattered text, not a page of prose
  // Sauvola's local thresholds: a global Otsu split of a frame with a dark caption box over a
  // bright scene loses the caption (the box and the scene land on opposite sides).
  impl_->api.SetVariable("thresholding_method", "2");
  impl_->api.SetVariable("debug_file", "/dev/null");
}

OcrEngine::~OcrEngine() { impl_->api.End(); }

namespace {
bool counts(const char* word) {
  int alnum = 0;
  for (const char* p = word; p && *p; ++p) alnum += std::isalnum(static_cast<unsigned char>(*p)) != 0;
  return alnum >= 2;
}

double iou(const OcrEngine::Box& a, const OcrEngine::Box& b) {
  const int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const int x1 = std::min(a.x + a.w, b.x + b.w), y1 = std::min(a.y + a.h, b.y + b.h);
  const double inter = std::max(0, x1 - x0) * static_cast<double>(std::max(0, y1 - y0));
  const double uni = static_cast<double>(a.w) * a.h + static_cast<double>(b.w) * b.h - inter;
  return uni > 0 ? inter / uni : 0.0;
}
}  // namespace

std::vector<OcrEngine::Box> OcrEngine::lines(const uint8_t* rgb, int w, int h) {
  // One thread per recognition: --workers gives the parallelism, and a single-threaded reading
  // cannot depend on scheduling. OpenMP's thread count is a per-thread setting, so this touches
  // only this worker's OCR.
  omp_set_num_threads(1);
  tesseract::TessBaseAPI& api = impl_->api;
  api.SetImage(rgb, w, h, 3, 3 * w);
  std::vector<Box> out;
  if (api.Recognize(nullptr) != 0) return out;
  std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (!it) return out;
  do {
    int x0, y0, x1, y1;
    if (!it->BoundingBox(tesseract::RIL_TEXTLINE, &x0, &y0, &x1, &y1)) continue;
    // Words of this line.
    Box box{x0, y0, x1 - x0, y1 - y0, 0};
    double conf = 0;
    int n = 0;
    bool any = false;
    do {
      std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
      const float c = it->Confidence(tesseract::RIL_WORD);
      conf += c, ++n;
      if (counts(word.get())) {
        any = true;
        if (c >= 60) ++box.words;
      }
    } while (!it->IsAtFinalElement(tesseract::RIL_TEXTLINE, tesseract::RIL_WORD) && it->Next(tesseract::RIL_WORD));
    if (any && n && conf / n >= 50) out.push_back(box);
  } while (it->Next(tesseract::RIL_WORD));
  api.Clear();
  return out;
}

TextScorer::TextScorer(OcrEngine& ocr, int64_t sample_step) : ocr_(ocr), step_(std::max<int64_t>(1, sample_step)) {}

void TextScorer::push(const Frame& f) {
  const int64_t i = index_++;
  if (frames_ >= kTextFrames || i % step_ != 0 || f.data.empty()) return;
  const auto lines = ocr_.lines(f.data.data(), f.width, f.height);
  ++frames_;
  double area = 0;
  int words = 0;
  std::vector<std::pair<OcrEngine::Box, int>> now;
  for (const auto& b : lines) {
    area += static_cast<double>(b.w) * b.h;
    words += b.words;
    // The longest chain this box continues, over the last 15 sampled frames.
    int chain = 1;
    const size_t from = history_.size() > 15 ? history_.size() - 15 : 0;
    for (size_t k = from; k < history_.size(); ++k)
      for (const auto& [old, len] : history_[k])
        if (iou(old, b) >= 0.9) chain = std::max(chain, len + 1);
    if (chain >= 3) overlay_ = true;
    now.push_back({b, chain});
  }
  history_.push_back(std::move(now));
  if (!lines.empty()) ++with_text_;
  words_ += words;
  area_ += std::min(1.0, area / (static_cast<double>(f.width) * f.height));
}

nlohmann::json TextScorer::finish() const {
  nlohmann::json j;
  j["frames"] = frames_;
  if (frames_ == 0) return j;
  j["words"] = words_ / frames_;
  j["text_area"] = area_ / frames_;
  j["text_frames"] = static_cast<double>(with_text_) / frames_;
  j["overlay"] = overlay_ ? 1 : 0;
  return j;
}

}  // namespace reel
