// SPDX-License-Identifier: Apache-2.0
#include "reel/media/scene_detect.h"

#include <functional>

#include <opencv2/imgproc.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>

#include "reel/core/log.h"
#include "reel/core/status.h"
#include "reel/media/gradual.h"
#include "reel/media/transnet.h"

namespace reel {

const std::vector<std::string>& scene_detectors() {
  static const std::vector<std::string> names = {"auto", "structure", "content", "adaptive", "histogram", "transnetv2"};
  return names;
}

double scene_default_threshold(const std::string& detector) {
  if (detector == "structure" || detector == "auto") return 55.0;
  if (detector == "content") return 27.0;
  if (detector == "adaptive") return 3.0;
  if (detector == "histogram") return 0.05;
  if (detector == "transnetv2") return 0.5;
  throw Error(Code::InvalidArgument,
              "unknown scene detector '" + detector + "' (auto|structure|content|adaptive|histogram|transnetv2)");
}

std::string default_transnet_model() { return REEL_DEFAULT_TRANSNET_MODEL; }

SceneScorer::SceneScorer(std::string detector) : detector_(detector == "auto" ? std::string("structure") : std::move(detector)) {
  scene_default_threshold(detector_);  // validates the name
  if (detector_ == "transnetv2")
    throw Error(Code::InvalidArgument, "transnetv2 scores windows of frames, not frame pairs: use detect_scenes");
}

bool SceneScorer::wants_gray() const { return detector_ == "structure"; }

float SceneScorer::push(const uint8_t* pixels, int width, int height, int stride) {
  if (stride <= 0) stride = width * (wants_gray() ? 1 : 3);
  const bool gray_in = wants_gray();
  cv::Mat src(height, width, gray_in ? CV_8UC1 : CV_8UC3, const_cast<uint8_t*>(pixels));
  float score = 0.0f;
  if (detector_ == "structure") {
    // Luma on a coarse grid (32 cells wide), normalised per frame to zero mean and unit
    // spread: exposure flicker (gain/offset) and film jitter of a few pixels vanish, while a
    // new shot changes the layout of light and dark.
    // Box averages over a grid 32 cells wide, straight from the (full-size) luma plane.
    const int gw = std::min(32, width);
    const int gh = std::min(height, std::max(1, static_cast<int>(std::lround(32.0 * height / width))));
    // Each cell is the mean of an 8x8 lattice of samples spread evenly over it: far cheaper
    // than a full box filter and, on coarse 32-wide cells, just as stable.
    constexpr int kS = 8;
    std::vector<int> sample_x(static_cast<size_t>(gw) * kS);
    for (int c = 0; c < gw * kS; ++c) sample_x[c] = static_cast<int>((2 * static_cast<int64_t>(c) + 1) * width / (2 * gw * kS));
    std::vector<float> z(static_cast<size_t>(gw) * gh, 0.0f);
    for (int r = 0; r < gh * kS; ++r) {
      const int y = static_cast<int>((2 * static_cast<int64_t>(r) + 1) * height / (2 * gh * kS));
      const uint8_t* p = pixels + static_cast<size_t>(y) * stride;
      float* zr = z.data() + static_cast<size_t>(r / kS) * gw;
      for (int cx = 0; cx < gw; ++cx) {
        uint32_t sum = 0;
        for (int k = 0; k < kS; ++k) sum += p[sample_x[cx * kS + k]];
        zr[cx] += static_cast<float>(sum);
      }
    }
    for (float& v : z) v *= 1.0f / (kS * kS);
    double mean = 0, var = 0;
    for (float v : z) mean += v;
    mean /= z.size();
    mean_luma_ = static_cast<float>(mean);
    for (float v : z) var += (v - mean) * (v - mean);
    const double sd = std::sqrt(var / z.size());
    for (float& v : z) v = static_cast<float>((v - mean) / (sd + 8.0));  // +8 keeps near-flat frames from exploding
    auto distance = [&](const std::vector<float>& y) {
      double acc = 0;
      for (size_t i = 0; i < z.size(); ++i) acc += std::fabs(z[i] - y[i]);
      return static_cast<float>(100.0 * acc / z.size());
    };
    if (have_prev_ && prev_feat_.size() == z.size()) score = distance(prev_feat_);
    // Frame t against frames t-2..t-kFlash: a change at frame i = t-j+1 that frame t undoes
    // (frame i-1 comes back), and whether frame t shows again what frame t-j showed.
    const int64_t t = static_cast<int64_t>(returns_.size());
    returns_.push_back(std::numeric_limits<float>::infinity());
    for (int j = 2; j <= static_cast<int>(recent_.size()); ++j) {
      const std::vector<float>& y = recent_[recent_.size() - j];
      if (y.size() != z.size()) continue;
      const float d = distance(y);
      returns_[t - j + 1] = std::min(returns_[t - j + 1], d);
      returns_[t] = std::min(returns_[t], d);
    }
    recent_.push_back(z);
    if (static_cast<int>(recent_.size()) > kFlash) recent_.erase(recent_.begin());
    prev_feat_ = std::move(z);
  } else if (detector_ == "histogram") {
    cv::Mat gray;
    cv::cvtColor(src, gray, cv::COLOR_RGB2GRAY);
    std::vector<float> hist(256, 0.0f);
    for (int y = 0; y < gray.rows; ++y) {
      const uint8_t* row = gray.ptr<uint8_t>(y);
      for (int x = 0; x < gray.cols; ++x) hist[row[x]] += 1.0f;
    }
    if (have_prev_) {
      cv::Mat a(1, 256, CV_32F, prev_feat_.data()), b(1, 256, CV_32F, hist.data());
      double corr = cv::compareHist(a, b, cv::HISTCMP_CORREL);
      score = static_cast<float>(1.0 - corr);
    }
    prev_feat_ = std::move(hist);
  } else {
    cv::Mat hsv;
    cv::cvtColor(src, hsv, cv::COLOR_RGB2HSV);  // H in [0,180), S and V in [0,255]
    size_t n = static_cast<size_t>(width) * height * 3;
    cur_.assign(hsv.data, hsv.data + n);
    if (have_prev_ && prev_.size() == n) {
      uint64_t sum[3] = {0, 0, 0};
      for (size_t i = 0; i < n; i += 3) {
        sum[0] += std::abs(int(cur_[i]) - int(prev_[i]));
        sum[1] += std::abs(int(cur_[i + 1]) - int(prev_[i + 1]));
        sum[2] += std::abs(int(cur_[i + 2]) - int(prev_[i + 2]));
      }
      double px = static_cast<double>(n / 3);
      score = static_cast<float>((sum[0] + sum[1] + sum[2]) / (3.0 * px));
    }
    std::swap(prev_, cur_);
  }
  have_prev_ = true;
  return score;
}

std::vector<int64_t> scene_cuts_from_scores(const std::string& detector, const std::vector<float>& scores,
                                            double threshold, int min_scene_len, const std::vector<float>* returns) {
  if (threshold < 0) threshold = scene_default_threshold(detector);
  std::vector<int64_t> cuts;
  int64_t last = 0;
  const int64_t n = static_cast<int64_t>(scores.size());
  for (int64_t i = 1; i < n; ++i) {
    bool cut = false;
    if (detector == "structure") {
      // A cut is a spike: one frame pair differs while its neighbours do not. Fast motion
      // and motion-graphics transitions raise the neighbouring pairs as well.
      double nb = std::max(scores[i - 1], i + 1 < n ? scores[i + 1] : 0.0f);
      if (i == 1) nb = i + 1 < n ? scores[i + 1] : 0.0f;
      cut = scores[i] >= threshold && scores[i] - nb >= threshold / 3.0;
      // A flash, or a frame or two of another picture, is undone a few frames later: every
      // cut of the sample videos and the synthetic set keeps 2/3 of its score or more there,
      // a three-frame flash a tenth.
      if (cut && returns && i < static_cast<int64_t>(returns->size()) && (*returns)[i] < scores[i] / 3.0) cut = false;
    } else if (detector == "adaptive") {
      const int w = 2;
      double sum = 0;
      int cnt = 0;
      for (int64_t j = i - w; j <= i + w; ++j) {
        if (j == i || j < 1 || j >= n) continue;
        sum += scores[j];
        ++cnt;
      }
      double avg = cnt ? sum / cnt : 0.0;
      double ratio = avg > 1e-6 ? scores[i] / avg : (scores[i] > 0 ? 255.0 : 0.0);
      cut = ratio >= threshold && scores[i] >= 15.0;
    } else {
      cut = scores[i] >= threshold;
    }
    if (cut && i - last >= min_scene_len) {
      cuts.push_back(i);
      last = i;
    }
  }
  return cuts;
}

namespace {
// Decodes every frame; `score` (may be empty) turns each converted frame into a score.
SceneResult decode_timeline(std::unique_ptr<VideoDecoder> dec, const std::function<float(const Frame&)>& score,
                            const std::function<bool(int64_t, double)>& enough = nullptr) {
  SceneResult r;
  const std::string url = dec->info().source;
  r.info = dec->info();
  Frame f;
  double last_time = 0.0;
  while (dec->next(&f)) {
    if (score) r.scores.push_back(score(f));
    r.frame_meta.push_back({f.pts, f.key});
    last_time = f.time_s;
    if (enough && enough(static_cast<int64_t>(r.frame_meta.size()), f.time_s)) {
      r.partial = true;
      break;
    }
  }
  r.frames = static_cast<int64_t>(r.frame_meta.size());
  r.warnings = dec->warnings();
  if (r.frames == 0) {
    std::string why = r.warnings.empty() ? "no decodable video frame" : "no decodable video frame (" + r.warnings[0] + ")";
    throw Error(Code::InvalidData, why + " in " + url);
  }
  r.first_pts = dec->first_pts();
  double frame_dur = r.info.fps > 0 ? 1.0 / r.info.fps : 0.0;
  if (r.frames > 1 && frame_dur == 0.0) frame_dur = last_time / (r.frames - 1);
  r.duration_s = last_time + frame_dur;
  return r;
}

SceneResult decode_timeline(const std::string& url, const DecodeOptions& dopt, const std::function<float(const Frame&)>& score,
                            const std::function<bool(int64_t, double)>& enough = nullptr) {
  return decode_timeline(VideoDecoder::open(url, dopt), score, enough);
}
}  // namespace

namespace {
// One network per worker thread, model file and target: loading costs far more than a short
// video. A thread takes the next of the targets in turn the first time it asks and keeps it,
// so N workers over N devices run one per device.
TransNetV2& transnet_for(const std::string& path, const std::vector<ComputeTarget>& targets) {
  static std::atomic<size_t> next_slot{0};
  thread_local const size_t slot = next_slot++;
  const ComputeTarget target = targets.empty() ? ComputeTarget{} : targets[slot % targets.size()];
  thread_local std::vector<std::pair<std::string, std::unique_ptr<TransNetV2>>> nets;
  const std::string key = path + "|" + target.describe();
  for (auto& [k, n] : nets)
    if (k == key) return *n;
  nets.emplace_back(key, std::make_unique<TransNetV2>(path, target));
  REEL_INFO("scenes", "transnetv2: %s on %s", path.c_str(), nets.back().second->describe().c_str());
  return *nets.back().second;
}

SceneResult detect_transnet(const std::string& url, const SceneOptions& options, double threshold) {
  TransNetV2& net = transnet_for(options.model.empty() ? default_transnet_model() : options.model, options.targets);
  DecodeOptions dopt;
  dopt.threads = options.threads;
  dopt.format = PixelFormat::RGB24;
  dopt.out_width = TransNetV2::kWidth;
  dopt.out_height = TransNetV2::kHeight;
  dopt.cli_scale = true;
  TransNetStream stream(net);
  std::vector<float> luma;
  SceneResult r = decode_timeline(url, dopt, [&](const Frame& f) {
    stream.push(f.data.data());
    uint32_t sum = 0;
    for (size_t i = 0; i < f.data.size(); i += 3) sum += 299u * f.data[i] + 587u * f.data[i + 1] + 114u * f.data[i + 2];
    luma.push_back(static_cast<float>(sum / 1000.0 / (f.data.size() / 3)));
    return 0.0f;
  });
  stream.finish();
  r.scores = stream.single();
  r.many = stream.many();
  Boundaries b = transnet_boundaries(r.scores, r.many, threshold, options.min_scene_len);
  label_fades(&b.transitions, luma);
  r.cuts = std::move(b.cuts);
  r.transitions = std::move(b.transitions);
  return r;
}

// auto's cheap tests cannot tell a change over a few frames from a jolt of motion, nor a slow
// dissolve over moving shots from the motion itself; TransNetV2, trained on transitions against
// motion, can. It runs on one window per such place, so it costs a window (about 0.4 s on 2
// cores) where one turns up, not a pass over the video.
GradualOptions transnet_checks(const SceneOptions& options) {
  static_assert(ShotFeatures::kViewWidth == TransNetV2::kWidth && ShotFeatures::kViewHeight == TransNetV2::kHeight,
                "auto shows the network its own view of each frame");
  GradualOptions o;
  const std::string model = options.model.empty() ? default_transnet_model() : options.model;
  if (options.model.empty() && !std::filesystem::exists(model)) {
    static std::once_flag warned;
    std::call_once(warned, [&] {
      REEL_WARN("scenes",
                "auto: no %s (bash .ci/setup makes it); changes over %d frames or fewer are kept unchecked, "
                "changes over moving shots are not looked for",
                model.c_str(), o.short_span);
    });
    return o;
  }
  // One video's checks share windows where the package's stream would (TransNetSpots).
  auto spots = std::make_shared<TransNetSpots>(transnet_for(model, options.targets));
  auto many_over = [spots](const ShotFeatures& f, int64_t first, int64_t last) {
    return spots->many_over([&f](int64_t i) { return f.view(i); }, f.base, f.frames(), first, last);
  };
  o.confirm_short = [many_over](const ShotFeatures& f, int64_t first, int64_t last) {
    if (f.rgb.empty()) return true;  // no view to show the network
    return many_over(f, first - 2, last + 2) >= 0.5f;
  };
  // Over moving shots the middle of the change must be inside a transition: a span's ends reach
  // into the motion beside it, and into a transition next to it.
  o.confirm_moving = [many_over](const ShotFeatures& f, int64_t first, int64_t last) {
    if (f.rgb.empty()) return false;
    const int64_t mid = (first + last) / 2;
    return many_over(f, mid - 2, mid + 2) >= 0.5f;
  };
  return o;
}
}  // namespace

SceneResult detect_scenes(const std::string& url, const SceneOptions& options) {
  const double threshold = options.threshold < 0 ? scene_default_threshold(options.detector) : options.threshold;
  if (options.detector == "transnetv2") {
    SceneResult r = detect_transnet(url, options, threshold);
    r.detector = options.detector;
    r.threshold = threshold;
    return r;
  }
  DecodeOptions dopt;
  dopt.threads = options.threads;
  SceneScorer scorer(options.detector);
  // The luma-only detector reads a small grey image straight from swscale (area averaging),
  // which keeps the analysis well under the cost of decoding.
  dopt.format = scorer.wants_gray() ? PixelFormat::LUMA : PixelFormat::RGB24;
  dopt.out_width = scorer.wants_gray() ? std::min(options.analysis_width, 128) : options.analysis_width;
  dopt.downscale_only = true;
  dopt.fast_scale = true;
  // Cells 1/32 of the frame wide average away what deblocking changes; skipping it makes the
  // decode cheaper than a plain one.
  dopt.skip_loop_filter = scorer.wants_gray();
  dopt.borrow_luma = scorer.wants_gray();  // the grid samples the decoder's plane in place
  const bool with_colour = options.detector == "auto";
  const bool with_layout = scorer.wants_gray();
  GradualStream gradual(with_colour ? transnet_checks(options) : GradualOptions{});
  ShotFeatures& feats = gradual.features();
  SceneResult r;
  if (with_colour) {
    // auto: one more view of each frame, 48x27 RGB, for the colour half of the gradual tests.
    DecodeOptions view;
    view.format = PixelFormat::RGB24;
    view.out_width = ShotFeatures::kViewWidth;
    view.out_height = ShotFeatures::kViewHeight;
    view.fast_scale = true;
    auto dec = VideoDecoder::open(url, dopt);
    dec->add_view_every_frame(view);
    std::vector<float> scores;
    r = decode_timeline(std::move(dec), [&](const Frame& f) {
      const float sc = scorer.push(f.borrowed ? f.borrowed : f.data.data(), f.width, f.height, f.borrowed_stride);
      const FrameView* v = f.views.empty() ? nullptr : &f.views[0];
      feats.push(scorer.feature(), v ? v->data.data() : nullptr, v ? v->width * v->height : 0, scorer.mean_luma());
      scores.push_back(sc);
      if (gradual.due())
        gradual.search(scene_cuts_from_scores("structure", scores, threshold, options.min_scene_len, &scorer.returns()));
      return sc;
    });
  } else {
    r = decode_timeline(url, dopt, [&](const Frame& f) {
      const float sc = scorer.push(f.borrowed ? f.borrowed : f.data.data(), f.width, f.height, f.borrowed_stride);
      if (with_layout) feats.luma.push_back(scorer.mean_luma());
      return sc;
    });
  }
  r.detector = options.detector;
  r.threshold = threshold;
  r.cuts = scene_cuts_from_scores(scorer.wants_gray() ? "structure" : options.detector, r.scores, r.threshold,
                                  options.min_scene_len, scorer.wants_gray() ? &scorer.returns() : nullptr);
  if (with_layout) {
    // Fades through black from the mean luma (cheap); auto adds every other gradual kind.
    std::vector<Transition> tr = find_fades(feats.luma);
    if (with_colour) {
      for (Transition& t : gradual.finish(r.cuts)) tr.push_back(std::move(t));
      label_fades(&tr, feats.luma);
    }
    Boundaries b = merge_boundaries(r.cuts, std::move(tr), options.min_scene_len, r.frames);
    r.cuts = std::move(b.cuts);
    r.transitions = std::move(b.transitions);
  }
  return r;
}

SceneResult scan_timeline(const std::string& url, int threads, const std::function<bool(int64_t, double)>& enough) {
  DecodeOptions dopt;
  dopt.threads = threads;
  dopt.convert = false;
  return decode_timeline(url, dopt, nullptr, enough);
}

}  // namespace reel
