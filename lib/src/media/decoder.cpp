// SPDX-License-Identifier: Apache-2.0
// FFmpeg-backed VideoDecoder (see reel/media/decoder.h for the contract).
#include "reel/media/decoder.h"
#include "reel/media/limits.h"

#include "reel/core/cancel.h"

extern "C" {
#include <libavutil/motion_vector.h>
}

extern "C" {
#include <libavutil/display.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

#include <cmath>
#include <cstring>

#include "av_util.h"
#include "hw_device.h"
#include "reel/core/log.h"

namespace reel {
namespace {

int display_rotation(const AVStream* st) {
  size_t size = 0;
  const uint8_t* m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (!m || size < 9 * sizeof(int32_t)) return 0;
  double theta = -av_display_rotation_get(reinterpret_cast<const int32_t*>(m));
  if (std::isnan(theta)) return 0;
  int r = static_cast<int>(std::lround(theta / 90.0)) * 90;
  r %= 360;
  if (r < 0) r += 360;
  return r;
}

// Rotates a packed image clockwise by `deg` (90/180/270) into dst.
void rotate_packed(const uint8_t* src, int w, int h, int ch, int deg, uint8_t* dst) {
  if (deg == 180) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        std::memcpy(dst + ((size_t)(h - 1 - y) * w + (w - 1 - x)) * ch, src + ((size_t)y * w + x) * ch, ch);
  } else if (deg == 90) {  // output is h wide, w tall: dst(x', y') with x' = h-1-y, y' = x
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        std::memcpy(dst + ((size_t)x * h + (h - 1 - y)) * ch, src + ((size_t)y * w + x) * ch, ch);
  } else if (deg == 270) {  // x' = y, y' = w-1-x
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        std::memcpy(dst + ((size_t)(w - 1 - x) * h + y) * ch, src + ((size_t)y * w + x) * ch, ch);
  }
}

// The colour matrix a frame converts with (an SWS_CS_* / AVCOL_SPC_* value): the stream's, and
// when it says none, BT.709 for HD, not swscale's BT.601 default (which the ffmpeg command line,
// cli_scale, keeps).
int colour_matrix(const AVFrame* f, bool cli_scale) {
  if (f->colorspace == AVCOL_SPC_UNSPECIFIED) return f->height >= 720 && !cli_scale ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
  return static_cast<int>(f->colorspace);
}

// The same as BT.709 or BT.601 (false for the other matrices: BT.2020, FCC, SMPTE 240M, ...).
bool yuv_matrix(const AVFrame* f, bool cli_scale, bool* bt709) {
  const int cs = colour_matrix(f, cli_scale);
  if (cs == AVCOL_SPC_BT709) *bt709 = true;
  else if (cs == AVCOL_SPC_BT470BG || cs == AVCOL_SPC_SMPTE170M) *bt709 = false;  // swscale's two BT.601 entries
  else return false;
  return true;
}

bool full_range(const AVFrame* f) {
  return f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P || f->format == AV_PIX_FMT_YUVJ422P ||
         f->format == AV_PIX_FMT_YUVJ444P;
}

class FfmpegDecoder final : public VideoDecoder {
  // One conversion of the decoded frames: the main output, or an extra view (add_view).
  struct Converter {
    DecodeOptions opt;
    av::SwsPtr sws, sws_gray;
    int w = 0, h = 0, fmt = -1, ow = 0, oh = 0;  // what sws was made for
    std::vector<int64_t> indices;               // a view's frames (sorted)
    bool every = false;                         // a view of every frame
  };

 public:
  FfmpegDecoder(const std::string& url, const DecodeOptions& opt) : opt_(opt) {
    fmt_ = av::open_input(url);
    int idx = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (idx < 0) throw Error(Code::InvalidData, "no video stream in " + url);
    st_ = fmt_->streams[idx];
    const AVCodec* codec = avcodec_find_decoder(st_->codecpar->codec_id);
    if (!codec) throw Error(Code::InvalidData, std::string("no decoder for codec ") +
                                                   avcodec_get_name(st_->codecpar->codec_id) + " in " + url);
    dec_.reset(avcodec_alloc_context3(codec));
    if (!dec_) throw Error(Code::OutOfMemory, "avcodec_alloc_context3");
    int err = avcodec_parameters_to_context(dec_.get(), st_->codecpar);
    if (err < 0) av::fail("avcodec_parameters_to_context", err);
    dec_->thread_count = opt.threads;
    // Exported motion vectors come out different from run to run under FFmpeg 5.1's frame
    // threads (H.264: a frame's vectors are read while another thread may still write them),
    // so a decoder that exports them threads over slices only.
    dec_->thread_type = opt.motion_vectors ? FF_THREAD_SLICE : FF_THREAD_FRAME | FF_THREAD_SLICE;
    dec_->pkt_timebase = st_->time_base;
    if (opt.skip_loop_filter) dec_->skip_loop_filter = AVDISCARD_ALL;
    const MediaLimits& lim = media_limits();
    const int64_t pixels = static_cast<int64_t>(st_->codecpar->width) * st_->codecpar->height;
    if (lim.max_pixels > 0 && pixels > lim.max_pixels)
      throw Error(Code::InvalidData, "frames of " + std::to_string(st_->codecpar->width) + "x" + std::to_string(st_->codecpar->height) +
                                         " (" + std::to_string(pixels) + " pixels) exceed --max-pixels " +
                                         std::to_string(lim.max_pixels) + " in " + url);
    if (lim.max_frames > 0 && st_->nb_frames > lim.max_frames)
      throw Error(Code::InvalidData, std::to_string(st_->nb_frames) + " frames exceed --max-frames " + std::to_string(lim.max_frames) +
                                         " in " + url);
    const HwAccel hw = opt.hwaccel == HwAccel::Default ? default_hwaccel() : opt.hwaccel;
    if (hw == HwAccel::Cuda) {
      hw_source_ = url;
      use_cuda(codec);
    }
    AVDictionary* dopts = nullptr;
    if (opt.motion_vectors) av_dict_set(&dopts, "flags2", "+export_mvs", 0);
    // A stream may change its frame size midway: the decoder refuses frames over the bound too.
    if (lim.max_pixels > 0) av_dict_set_int(&dopts, "max_pixels", std::min<int64_t>(lim.max_pixels, INT32_MAX), 0);
    err = avcodec_open2(dec_.get(), codec, &dopts);
    av_dict_free(&dopts);
    if (err < 0) av::fail(std::string("cannot open decoder ") + codec->name + " for " + url, err);

    frame_.reset(av_frame_alloc());
    host_.reset(av_frame_alloc());
    pkt_.reset(av_packet_alloc());
    if (!frame_ || !host_ || !pkt_) throw Error(Code::OutOfMemory, "av_frame_alloc");

    info_.source = url;
    info_.container = fmt_->iformat->name;
    info_.codec = codec->name;
    info_.stream_index = idx;
    info_.width = st_->codecpar->width;
    info_.height = st_->codecpar->height;
    if (info_.width <= 0 || info_.height <= 0) throw Error(Code::InvalidData, "video stream has no frame size in " + url);
    info_.rotation = opt.autorotate ? display_rotation(st_) : 0;
    bool swap = info_.rotation == 90 || info_.rotation == 270;
    info_.display_width = swap ? info_.height : info_.width;
    info_.display_height = swap ? info_.width : info_.height;
    AVRational sar = av_guess_sample_aspect_ratio(fmt_.get(), st_, nullptr);
    if (sar.num > 0 && sar.den > 0) {
      av_reduce(&info_.sar_num, &info_.sar_den, sar.num, sar.den, 1 << 30);
    }
    AVRational fr = st_->avg_frame_rate;
    if (fr.num <= 0 || fr.den <= 0) fr = st_->r_frame_rate;
    if (fr.num <= 0 || fr.den <= 0) fr = av_guess_frame_rate(fmt_.get(), st_, nullptr);
    if (fr.num > 0 && fr.den > 0) {
      info_.fps_num = fr.num;
      info_.fps_den = fr.den;
      info_.fps = av_q2d(fr);
    }
    info_.tb_num = st_->time_base.num;
    info_.tb_den = st_->time_base.den;
    if (st_->duration != AV_NOPTS_VALUE && st_->duration > 0) {
      info_.duration_s = st_->duration * av_q2d(st_->time_base);
    } else if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) {
      info_.duration_s = fmt_->duration / static_cast<double>(AV_TIME_BASE);
    }
    info_.frames_hint = st_->nb_frames > 0 ? st_->nb_frames : 0;
    for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
      if (fmt_->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) info_.has_audio = true;
      // Only the chosen video stream is demuxed into packets we look at.
      if ((int)i != idx) fmt_->streams[i]->discard = AVDISCARD_ALL;
    }
    // Frame duration used when a frame arrives without a PTS.
    default_duration_ = fr.num > 0 ? av_rescale_q(1, av_inv_q(fr), st_->time_base) : 1;
    if (default_duration_ <= 0) default_duration_ = 1;
  }

  const VideoInfo& info() const override { return info_; }
  void set_convert_every(int n) override { opt_.convert_every = std::max(1, n); }
  void set_convert_frames(std::vector<int64_t> indices) override { convert_frames_ = std::move(indices); }
  int add_view(const DecodeOptions& view, std::vector<int64_t> indices) override {
    if (view.autorotate != opt_.autorotate)
      throw Error(Code::InvalidArgument, "a view must rotate as the decoder does");
    Converter cv;
    cv.opt = view;
    cv.indices = std::move(indices);
    std::sort(cv.indices.begin(), cv.indices.end());
    views_.push_back(std::move(cv));
    return static_cast<int>(views_.size()) - 1;
  }
  int add_view_every_frame(const DecodeOptions& view) override {
    const int id = add_view(view, {});
    views_.back().every = true;
    return id;
  }
  void stop_motion_vectors() override {
    opt_.motion_vectors = false;
    dec_->flags2 &= ~AV_CODEC_FLAG2_EXPORT_MVS;  // frame threads pick it up with the next packet
  }
  int64_t first_pts() const override { return first_pts_ == AV_NOPTS_VALUE ? 0 : first_pts_; }
  const std::vector<std::string>& warnings() const override { return warnings_; }
  bool decodes_on_gpu() const override { return on_gpu_; }

  void seek(int64_t pts, int64_t first_index) override {
    int err = av_seek_frame(fmt_.get(), st_->index, pts, AVSEEK_FLAG_BACKWARD);
    if (err < 0) av::fail("seek in " + info_.source, err);
    avcodec_flush_buffers(dec_.get());
    eof_sent_ = false;
    done_ = false;
    next_index_ = first_index;
    last_pts_ = AV_NOPTS_VALUE;
  }

  bool next(Frame* out) override {
    // The previous frame is let go only now: a borrowed luma plane lives until this call.
    av_frame_unref(frame_.get());
    av_frame_unref(host_.get());
    while (!done_) {
      int r = avcodec_receive_frame(dec_.get(), frame_.get());
      if (r == 0) {
        const int64_t max_frames = media_limits().max_frames;
        if (max_frames > 0 && next_index_ >= max_frames)
          throw Error(Code::InvalidData, "more than --max-frames " + std::to_string(max_frames) + " frames in " + info_.source);
        AVFrame* f = frame_.get();
        if (f->format == AV_PIX_FMT_CUDA && pixels_wanted(next_index_) && !planes_of(f, next_index_, nullptr)) f = download(f);
        emit(out, f);
        return true;
      }
      if (r == AVERROR_EOF) {
        done_ = true;
        break;
      }
      if (r != AVERROR(EAGAIN)) {
        note("decode error: " + av::err_str(r));
        if (++errors_ > 1000) throw Error(Code::InvalidData, "too many decode errors in " + info_.source);
        continue;
      }
      feed();
    }
    return false;
  }

 private:
  // NVDEC for this decoder when the codec has it and a device opens; otherwise a CPU decode
  // and one line in the log.
  void use_cuda(const AVCodec* codec) {
    if (opt_.motion_vectors) {
      fallback("NVDEC exports no motion vectors (they are read from the bitstream on the CPU)");
      return;
    }
    bool nvdec = false;
    for (int i = 0;; ++i) {
      const AVCodecHWConfig* c = avcodec_get_hw_config(codec, i);
      if (!c) break;
      if ((c->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) && c->device_type == AV_HWDEVICE_TYPE_CUDA) nvdec = true;
    }
    if (!nvdec) {
      fallback(std::string("FFmpeg has no NVDEC decoding of ") + codec->name);
      return;
    }
    std::string why;
    AVBufferRef* device = av::cuda_device(opt_.cuda_device, &why);
    if (!device) {
      fallback(why);
      return;
    }
    dec_->hw_device_ctx = av_buffer_ref(device);
    if (!dec_->hw_device_ctx) throw Error(Code::OutOfMemory, "av_buffer_ref");
    dec_->get_format = pick_format;
    dec_->opaque = this;
    // The GPU decodes; CPU frame threads would only hold more surfaces in flight. (A stream
    // NVDEC then turns down in pick_format decodes on one CPU thread: rare, and logged.)
    dec_->thread_count = 1;
  }

  // FFmpeg offers AV_PIX_FMT_CUDA when NVDEC takes the stream (codec profile, size, bit depth);
  // otherwise the software format, and the stream decodes on the CPU.
  static AVPixelFormat pick_format(AVCodecContext* c, const AVPixelFormat* formats) {
    auto* self = static_cast<FfmpegDecoder*>(c->opaque);
    self->on_gpu_ = false;
    for (const AVPixelFormat* p = formats; *p != AV_PIX_FMT_NONE; ++p)
      if (*p == AV_PIX_FMT_CUDA) {
        self->on_gpu_ = true;
        return *p;
      }
    const char* profile = avcodec_profile_name(c->codec_id, c->profile);
    self->fallback(std::string("NVDEC does not decode ") + avcodec_get_name(c->codec_id) + (profile ? std::string(" ") + profile : "") +
                   " streams");
    for (const AVPixelFormat* p = formats; *p != AV_PIX_FMT_NONE; ++p) {
      const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(*p);
      if (d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL)) return *p;
    }
    return AV_PIX_FMT_NONE;
  }

  // Whether frame `index` gets the main conversion.
  bool convert_wanted(int64_t index) const {
    if (!opt_.convert) return false;
    if (!convert_frames_.empty()) return std::binary_search(convert_frames_.begin(), convert_frames_.end(), index);
    return opt_.convert_every <= 1 || index % opt_.convert_every == 0;
  }
  bool view_wanted(const Converter& v, int64_t index) const {
    return v.every || std::binary_search(v.indices.begin(), v.indices.end(), index);
  }
  // Whether frame `index` needs its pixels (an NVDEC frame is copied to host memory only then).
  bool pixels_wanted(int64_t index) const {
    if (opt_.luma_thumb_width > 0 || convert_wanted(index)) return true;
    for (const Converter& v : views_)
      if (view_wanted(v, index)) return true;
    return false;
  }

  AVFrame* download(AVFrame* gpu) {
    const int err = av_hwframe_transfer_data(host_.get(), gpu, 0);
    if (err < 0) av::fail("copying an NVDEC frame of " + info_.source + " to host memory", err);
    av_frame_copy_props(host_.get(), gpu);
    return host_.get();
  }

  void note(const std::string& w) {
    if (warnings_.size() < 20) warnings_.push_back(w);
    REEL_DEBUG("decode", "%s: %s", info_.source.c_str(), w.c_str());
  }

  // Sends the next packet of our stream (or the flush packet at the end of input).
  void feed() {
    if (eof_sent_) return;
    for (;;) {
      int r = av_read_frame(fmt_.get(), pkt_.get());
      if (r < 0) {
        // An object store that stopped answering is not the end of the video.
        if (const std::string why = av::read_error(fmt_.get()); r != AVERROR_EOF && !why.empty()) throw Error(Code::IoError, why);
        if (r != AVERROR_EOF) note("read error after " + std::to_string(next_index_) + " frames: " + av::err_str(r));
        avcodec_send_packet(dec_.get(), nullptr);
        eof_sent_ = true;
        return;
      }
      if (pkt_->stream_index != st_->index) {
        av_packet_unref(pkt_.get());
        continue;
      }
      int s = avcodec_send_packet(dec_.get(), pkt_.get());
      av_packet_unref(pkt_.get());
      if (s < 0 && s != AVERROR(EAGAIN)) {
        note("corrupt packet: " + av::err_str(s));
        if (++errors_ > 1000) throw Error(Code::InvalidData, "too many decode errors in " + info_.source);
      }
      return;
    }
  }

  void emit(Frame* out, AVFrame* f) {
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) pts = f->pts;
    if (pts == AV_NOPTS_VALUE || (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_)) {
      // Missing or non-increasing PTS: continue from the previous frame.
      pts = last_pts_ == AV_NOPTS_VALUE ? 0 : last_pts_ + (f->pkt_duration > 0 ? f->pkt_duration : default_duration_);
    }
    if (first_pts_ == AV_NOPTS_VALUE) first_pts_ = pts;
    last_pts_ = pts;
    out->index = next_index_++;
    out->pts = pts;
    out->time_s = (pts - first_pts_) * av_q2d(st_->time_base);
    // Only a random access point (IDR): an I-frame that later frames may reach past (open GOP,
    // periodic intra refresh) is no place to start or end a stream copy.
    out->key = f->key_frame;
    out->pict_type = av_get_picture_type_char(f->pict_type);
    out->coded_width = f->width;
    out->coded_height = f->height;
    out->motion_vectors.clear();
    if (opt_.motion_vectors) {
      if (const AVFrameSideData* sd = av_frame_get_side_data(f, AV_FRAME_DATA_MOTION_VECTORS)) {
        const auto* mv = reinterpret_cast<const AVMotionVector*>(sd->data);
        const size_t n = sd->size / sizeof(AVMotionVector);
        out->motion_vectors.reserve(n);
        for (size_t i = 0; i < n; ++i)
          out->motion_vectors.push_back({static_cast<int16_t>(mv[i].w), static_cast<int16_t>(mv[i].h), mv[i].dst_x, mv[i].dst_y,
                                         mv[i].motion_x, mv[i].motion_y, mv[i].motion_scale,
                                         static_cast<int8_t>(mv[i].source < 0 ? -1 : 1)});
      }
    }
    if (opt_.luma_thumb_width > 0) luma_thumb(f, out);
    out->views.clear();
    out->borrowed = nullptr;
    out->borrowed_stride = 0;
    out->planes = Yuv420{};
    for (size_t v = 0; v < views_.size(); ++v)
      if (view_wanted(views_[v], out->index)) {
        Frame view;
        convert_with(views_[v], f, &view);
        out->views.push_back({static_cast<int>(v), view.width, view.height, view.channels, std::move(view.data)});
      }
    // No pixels converted: a frame not wanted, or one handed over as its planes.
    if (!convert_wanted(out->index) || planes_of(f, out->index, &out->planes)) {
      out->width = f->width;
      out->height = f->height;
      out->channels = 0;
      out->data.clear();
      out->gray.clear();
      return;
    }
    convert(f, out);
  }

  // Whether frame `index` goes out as its planes (DecodeOptions::planes), filling *p when given.
  bool planes_of(const AVFrame* f, int64_t index, Yuv420* p) const {
    if (!opt_.planes || !convert_wanted(index) || opt_.format != PixelFormat::RGB24 || opt_.out_width > 0 ||
        opt_.out_height > 0 || info_.rotation != 0 || opt_.with_gray || opt_.luma_thumb_width > 0)
      return false;
    for (const Converter& v : views_)
      if (view_wanted(v, index)) return false;
    Yuv420 q;
    if (!yuv_matrix(f, false, &q.bt709) || f->width <= 0 || f->height <= 0) return false;
    q.full_range = full_range(f);
    q.width = f->width;
    q.height = f->height;
    q.y = f->data[0];
    q.y_pitch = f->linesize[0];
    if (f->format == AV_PIX_FMT_CUDA) {
      const auto* frames = f->hw_frames_ctx ? reinterpret_cast<const AVHWFramesContext*>(f->hw_frames_ctx->data) : nullptr;
      if (!opt_.device_planes || !frames || frames->sw_format != AV_PIX_FMT_NV12) return false;  // P010, 4:4:4: the host route
      q.on_device = true;
      q.device = opt_.cuda_device;
    } else if (f->format != AV_PIX_FMT_YUV420P && f->format != AV_PIX_FMT_YUVJ420P && f->format != AV_PIX_FMT_NV12) {
      return false;
    }
    if (f->format == AV_PIX_FMT_CUDA || f->format == AV_PIX_FMT_NV12) {
      q.u = f->data[1];
      q.v = f->data[1] + 1;
      q.uv_step = 2;
    } else {
      q.u = f->data[1];
      q.v = f->data[2];
    }
    q.uv_pitch = f->linesize[1];
    if (p) *p = q;
    return true;
  }

  // Averages a regular grid of about 2 x 2 samples per thumbnail pixel.
  void luma_thumb(const AVFrame* f, Frame* out) {
    out->thumb.clear();
    out->thumb_width = out->thumb_height = 0;
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
    const bool planar_luma = d && !(d->flags & AV_PIX_FMT_FLAG_RGB) && !(d->flags & AV_PIX_FMT_FLAG_PAL) &&
                             (d->flags & AV_PIX_FMT_FLAG_PLANAR || d->nb_components == 1) && d->comp[0].depth == 8 &&
                             d->comp[0].plane == 0 && d->comp[0].step == 1;
    if (!planar_luma || f->width <= 0 || f->height <= 0) return;
    const int tw = std::min(opt_.luma_thumb_width, f->width);
    const int th = std::max(1, static_cast<int>(static_cast<int64_t>(f->height) * tw / f->width));
    const int sx = std::max(1, f->width / (2 * tw)), sy = std::max(1, f->height / (2 * th));
    std::vector<uint32_t> sum(static_cast<size_t>(tw) * th, 0), cnt(sum.size(), 0);
    for (int y = 0; y < f->height; y += sy) {
      const uint8_t* row = f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0];
      const size_t ty = static_cast<size_t>(static_cast<int64_t>(y) * th / f->height) * tw;
      for (int x = 0; x < f->width; x += sx) {
        const size_t i = ty + static_cast<size_t>(static_cast<int64_t>(x) * tw / f->width);
        sum[i] += row[x];
        ++cnt[i];
      }
    }
    out->thumb.resize(sum.size());
    for (size_t i = 0; i < sum.size(); ++i) out->thumb[i] = static_cast<uint8_t>(cnt[i] ? (sum[i] + cnt[i] / 2) / cnt[i] : 0);
    out->thumb_width = tw;
    out->thumb_height = th;
  }

  void convert(AVFrame* f, Frame* out) {
    main_.opt = opt_;
    convert_with(main_, f, out);
  }

  void convert_with(Converter& cv, AVFrame* f, Frame* out) {
    const DecodeOptions& opt = cv.opt;
    if (opt.format == PixelFormat::LUMA && info_.rotation == 0) {
      const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
      const bool planar_luma = d && !(d->flags & AV_PIX_FMT_FLAG_RGB) && !(d->flags & AV_PIX_FMT_FLAG_PAL) &&
                               (d->flags & AV_PIX_FMT_FLAG_PLANAR || d->nb_components == 1) && d->comp[0].depth == 8 &&
                               d->comp[0].plane == 0 && d->comp[0].step == 1;
      if (planar_luma && opt.borrow_luma) {
        out->data.clear();
        out->borrowed = f->data[0];
        out->borrowed_stride = f->linesize[0];
        out->width = f->width;
        out->height = f->height;
        out->channels = 1;
        return;
      }
      if (planar_luma) {
        out->data.resize(static_cast<size_t>(f->width) * f->height);
        for (int y = 0; y < f->height; ++y)
          std::memcpy(out->data.data() + static_cast<size_t>(y) * f->width, f->data[0] + static_cast<size_t>(y) * f->linesize[0],
                      f->width);
        out->width = f->width;
        out->height = f->height;
        out->channels = 1;
        return;
      }
    }
    bool swap = info_.rotation == 90 || info_.rotation == 270;
    int dw = swap ? f->height : f->width, dh = swap ? f->width : f->height;  // display size
    int ow = opt.out_width, oh = opt.out_height;
    if (ow <= 0 && oh <= 0) {
      ow = dw;
      oh = dh;
    } else if (ow <= 0) {
      ow = std::max(2, static_cast<int>(std::lround(static_cast<double>(oh) * dw / dh / 2)) * 2);
    } else if (oh <= 0) {
      oh = std::max(2, static_cast<int>(std::lround(static_cast<double>(ow) * dh / dw / 2)) * 2);
    }
    if (opt.downscale_only && (ow > dw || oh > dh)) {
      ow = dw;
      oh = dh;
    }
    int sw = swap ? oh : ow, sh = swap ? ow : oh;  // size before rotation
    const bool gray = opt.format != PixelFormat::RGB24;
    if (!cv.sws || f->width != cv.w || f->height != cv.h || f->format != cv.fmt || sw != cv.ow || sh != cv.oh) {
      cv.sws = make_sws(f, sw, sh, gray ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24, opt);
      cv.sws_gray = opt.with_gray && !gray ? make_sws(f, sw, sh, AV_PIX_FMT_GRAY8, opt) : nullptr;
      cv.w = f->width;
      cv.h = f->height;
      cv.fmt = f->format;
      cv.ow = sw;
      cv.oh = sh;
    }
    scale(f, cv.sws.get(), sw, sh, gray ? 1 : 3, &out->data);
    if (cv.sws_gray) scale(f, cv.sws_gray.get(), sw, sh, 1, &out->gray);
    else out->gray.clear();
    out->width = ow;
    out->height = oh;
    out->channels = gray ? 1 : 3;
  }

  // A conversion to `dst` at sw x sh with the stream's colour matrix and range.
  av::SwsPtr make_sws(AVFrame* f, int sw, int sh, AVPixelFormat dst, const DecodeOptions& opt) {
    const bool down = sw < f->width || sh < f->height;
    const int flags = opt.cli_scale ? SWS_BICUBIC
                                    : (down ? SWS_AREA : SWS_BICUBIC) | (opt.fast_scale ? 0 : SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT);
    av::SwsPtr c(sws_getContext(f->width, f->height, static_cast<AVPixelFormat>(f->format), sw, sh, dst, flags, nullptr,
                                nullptr, nullptr));
    if (!c) throw Error(Code::InvalidData, std::string("unsupported pixel format ") +
                                              (av_get_pix_fmt_name((AVPixelFormat)f->format) ?: "?"));
    const int cs = colour_matrix(f, opt.cli_scale);
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
    const bool is_yuv = d && !(d->flags & AV_PIX_FMT_FLAG_RGB) && d->nb_components >= 3;
    const bool full = full_range(f);
    if (is_yuv)
      sws_setColorspaceDetails(c.get(), sws_getCoefficients(cs), full ? 1 : 0, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0,
                               1 << 16, 1 << 16);
    return c;
  }

  // Converts (and rotates for display) one decoded frame into `out`.
  void scale(AVFrame* f, SwsContext* c, int sw, int sh, int ch, std::vector<uint8_t>* out) {
    const size_t bytes = static_cast<size_t>(sw) * sh * ch;
    std::vector<uint8_t>& dst = info_.rotation ? scratch_ : *out;
    dst.resize(bytes);
    uint8_t* planes[4] = {dst.data(), nullptr, nullptr, nullptr};
    int strides[4] = {sw * ch, 0, 0, 0};
    sws_scale(c, f->data, f->linesize, 0, f->height, planes, strides);
    if (info_.rotation) {
      out->resize(bytes);
      rotate_packed(scratch_.data(), sw, sh, ch, info_.rotation, out->data());
    }
  }

  DecodeOptions opt_;
  VideoInfo info_;
  av::FormatPtr fmt_;
  av::CodecPtr dec_;
  av::FramePtr frame_;
  av::FramePtr host_;  // an NVDEC frame's pixels in host memory (NV12, P010, ...)
  av::PacketPtr pkt_;
  Converter main_;
  std::vector<Converter> views_;
  AVStream* st_ = nullptr;
  std::vector<uint8_t> scratch_;
  std::vector<std::string> warnings_;
  int64_t next_index_ = 0;
  std::vector<int64_t> convert_frames_;
  int64_t first_pts_ = AV_NOPTS_VALUE;
  int64_t last_pts_ = AV_NOPTS_VALUE;
  int64_t default_duration_ = 1;
  int errors_ = 0;
  bool eof_sent_ = false;
  bool done_ = false;
  bool on_gpu_ = false;
  std::string hw_source_;        // the file, for the fallback's log line
  bool fallback_said_ = false;  // get_format may run again on a stream change
  void fallback(const std::string& why) {
    if (!fallback_said_) av::note_cpu_fallback(hw_source_, why);
    fallback_said_ = true;
  }
};

}  // namespace

std::unique_ptr<VideoDecoder> VideoDecoder::open(const std::string& url, const DecodeOptions& options) {
  return std::make_unique<FfmpegDecoder>(url, options);
}

int64_t expected_frames(const VideoInfo& info, double fallback_duration_s) {
  if (info.frames_hint > 0) return info.frames_hint;
  const double fps = info.fps > 0 ? info.fps : 25.0;
  const double duration = info.duration_s > 0 ? info.duration_s : fallback_duration_s;
  return std::max<int64_t>(1, std::llround(duration * fps));
}

PickedFrames decode_indices(VideoDecoder& decoder, const std::vector<int64_t>& indices) {
  decoder.set_convert_frames(indices);
  PickedFrames out;
  Frame f;
  size_t next = 0;
  while (next < indices.size() && decoder.next(&f)) {
    throw_if_cancelled();
    ++out.decoded;
    if (f.index != indices[next] || f.data.empty()) continue;
    out.frames.push_back(std::move(f));
    f = Frame{};
    ++next;
  }
  return out;
}

}  // namespace reel
