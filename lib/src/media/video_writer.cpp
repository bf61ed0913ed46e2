// SPDX-License-Identifier: Apache-2.0
#include "reel/media/video_writer.h"

extern "C" {
#include <libavutil/opt.h>
}

#include "av_util.h"
#include "reel/io/atomic_file.h"
#include "reel/media/clip_writer.h"

namespace reel {

struct VideoWriter::Impl {
  std::unique_ptr<AtomicPath> ap;
  AVFormatContext* out = nullptr;
  av::CodecPtr ec;
  AVStream* st = nullptr;
  av::FramePtr frame;
  av::PacketPtr pkt;
  av::SwsPtr sws;
  int w = 0, h = 0;
  int64_t n = 0;
  bool closed = false;

  void drain() {
    while (avcodec_receive_packet(ec.get(), pkt.get()) == 0) {
      if (pkt->duration <= 0) pkt->duration = 1;  // time base is 1/fps; mp4 edit lists need it
      pkt->stream_index = 0;
      av_packet_rescale_ts(pkt.get(), ec->time_base, st->time_base);
      int e = av_interleaved_write_frame(out, pkt.get());
      if (e < 0) av::fail("writing video", e);
    }
  }
  ~Impl() {
    if (out) {
      if (out->pb) avio_closep(&out->pb);
      avformat_free_context(out);
    }
  }
};

VideoWriter::VideoWriter(const std::filesystem::path& path, int width, int height, int fps_num, int fps_den,
                         const std::string& encoder, int crf)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.w = width;
  m.h = height;
  m.ap = std::make_unique<AtomicPath>(path);
  std::string name = encoder;
  if (name == "auto") {
    auto encs = available_encoders();
    name = encs.empty() ? "" : encs.front();
    if (name == "libvpx-vp9" && encs.size() > 1) name = encs[1];
  }
  const AVCodec* enc = avcodec_find_encoder_by_name(name.c_str());
  if (!enc) throw Error(Code::InvalidArgument, "encoder '" + name + "' is not available");
  int err = avformat_alloc_output_context2(&m.out, nullptr, "mp4", m.ap->tmp().c_str());
  if (err < 0) av::fail("cannot create mp4 muxer", err);
  err = avio_open(&m.out->pb, m.ap->tmp().c_str(), AVIO_FLAG_WRITE);
  if (err < 0) av::fail("cannot write " + m.ap->tmp().string(), err);
  m.ec.reset(avcodec_alloc_context3(enc));
  const int ew = width & ~1, eh = height & ~1;
  m.ec->width = ew;
  m.ec->height = eh;
  m.ec->pix_fmt = AV_PIX_FMT_YUV420P;
  if (fps_num <= 0 || fps_den <= 0) fps_num = 24, fps_den = 1;
  m.ec->time_base = {fps_den, fps_num};
  m.ec->framerate = {fps_num, fps_den};
  m.ec->color_range = AVCOL_RANGE_MPEG;
  m.ec->colorspace = AVCOL_SPC_BT709;
  m.ec->color_primaries = AVCOL_PRI_BT709;
  m.ec->color_trc = AVCOL_TRC_BT709;
  if (name == "libx264") {
    av_opt_set(m.ec->priv_data, "preset", "veryfast", 0);
    av_opt_set(m.ec->priv_data, "crf", std::to_string(crf).c_str(), 0);
  } else if (name == "mpeg4") {
    m.ec->flags |= AV_CODEC_FLAG_QSCALE;
    m.ec->global_quality = FF_QP2LAMBDA * 2;
  } else {
    m.ec->bit_rate = std::max<int64_t>(500000, int64_t(ew) * eh * 4);
  }
  if (m.out->oformat->flags & AVFMT_GLOBALHEADER) m.ec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  err = avcodec_open2(m.ec.get(), enc, nullptr);
  if (err < 0) av::fail("cannot open encoder " + name, err);
  m.st = avformat_new_stream(m.out, nullptr);
  if (!m.st) throw Error(Code::OutOfMemory, "avformat_new_stream");
  err = avcodec_parameters_from_context(m.st->codecpar, m.ec.get());
  if (err < 0) av::fail("avcodec_parameters_from_context", err);
  m.st->time_base = m.ec->time_base;
  err = avformat_write_header(m.out, nullptr);
  if (err < 0) av::fail("cannot write mp4 header", err);
  m.frame.reset(av_frame_alloc());
  m.pkt.reset(av_packet_alloc());
  m.frame->format = AV_PIX_FMT_YUV420P;
  m.frame->width = ew;
  m.frame->height = eh;
  if (av_frame_get_buffer(m.frame.get(), 0) < 0) throw Error(Code::OutOfMemory, "av_frame_get_buffer");
  m.sws.reset(sws_getContext(width, height, AV_PIX_FMT_RGB24, ew, eh, AV_PIX_FMT_YUV420P,
                             SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr));
  sws_setColorspaceDetails(m.sws.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1, sws_getCoefficients(SWS_CS_ITU709), 0,
                           0, 1 << 16, 1 << 16);
}

VideoWriter::~VideoWriter() = default;

void VideoWriter::write(const uint8_t* rgb) {
  Impl& m = *impl_;
  av_frame_make_writable(m.frame.get());
  const uint8_t* src[1] = {rgb};
  int stride[1] = {m.w * 3};
  sws_scale(m.sws.get(), src, stride, 0, m.h, m.frame->data, m.frame->linesize);
  m.frame->pts = m.n++;
  int e = avcodec_send_frame(m.ec.get(), m.frame.get());
  if (e < 0) av::fail("encoding", e);
  m.drain();
}

void VideoWriter::close() {
  Impl& m = *impl_;
  if (m.closed) return;
  int e = avcodec_send_frame(m.ec.get(), nullptr);
  if (e < 0 && e != AVERROR_EOF) av::fail("flushing the encoder", e);
  m.drain();
  e = av_write_trailer(m.out);
  if (e < 0) av::fail("cannot finish mp4", e);
  avio_closep(&m.out->pb);
  m.ap->commit();
  m.closed = true;
}

int64_t VideoWriter::frames() const { return impl_->n; }

}  // namespace reel
