// SPDX-License-Identifier: Apache-2.0
// Text in a clip, by Tesseract (Debian's libtesseract, English data) on sampled frames.
//
// Frames: one per second (every sample_step-th decoded frame), at most kTextFrames, at the
// 640-pixel analysis width (Cosmos-Curate's longest side 640), sparse-text page mode with
// Sauvola thresholding. Per frame Tesseract's text
// lines (mean word confidence >= 50, at least one word of two letters or digits) and words
// (confidence >= 60, two or more letters or digits). Scores:
//   words        mean word count per sampled frame
//   text_area    mean fraction of the frame covered by text-line boxes (sum of box areas, <= 1)
//   text_frames  fraction of sampled frames with any text line
//   overlay      1 if some text-line box stays in place: matched with IoU >= 0.9 to a box of
//                one of the 15 sampled frames before it, in at least 3 sampled frames. That is
//                Cosmos-Curate's burned-in rule (theirs on PaddleOCR detector boxes of every 3rd
//                frame); text that moves is scene text and never chains.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>

#include "reel/media/decoder.h"

namespace reel {

constexpr int kTextWidth = 640;
constexpr int kTextFrames = 10;

// One Tesseract engine (not thread-safe: one per worker).
class OcrEngine {
 public:
  struct Box {
    int x = 0, y = 0, w = 0, h = 0;
    int words = 0;  // words of this line that count
  };
  // Throws ModelError when the English data is missing (apt-get install tesseract-ocr-eng).
  OcrEngine();
  ~OcrEngine();
  // Text lines of a packed RGB24 image.
  std::vector<Box> lines(const uint8_t* rgb, int w, int h);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class TextScorer {
 public:
  TextScorer(OcrEngine& ocr, int64_t sample_step);
  // Offers a decoded frame; RGB24 at kTextWidth on the frames the decoder converted.
  void push(const Frame& f);
  nlohmann::json finish() const;

 private:
  OcrEngine& ocr_;
  int64_t step_, index_ = 0;
  int frames_ = 0, with_text_ = 0;
  double words_ = 0, area_ = 0;
  bool overlay_ = false;
  // Per sampled frame its line boxes and, per box, the length of the chain it ends.
  std::vector<std::vector<std::pair<OcrEngine::Box, int>>> history_;
};

}  // namespace reel
