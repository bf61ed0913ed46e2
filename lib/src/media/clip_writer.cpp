// SPDX-License-Identifier: Apache-2.0
#include "reel/media/clip_writer.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <limits>

#include "av_util.h"
#include "reel/io/atomic_file.h"

namespace fs = std::filesystem;

namespace reel {
namespace {

struct OutputCloser {
  void operator()(AVFormatContext* p) const {
    if (!p) return;
    if (p->pb && !(p->oformat->flags & AVFMT_NOFILE)) avio_closep(&p->pb);
    avformat_free_context(p);
  }
};
using OutputPtr = std::unique_ptr<AVFormatContext, OutputCloser>;

OutputPtr open_output(const fs::path& tmp) {
  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, "mp4", tmp.c_str());
  if (err < 0 || !raw) av::fail("cannot create mp4 muxer", err);
  OutputPtr out(raw);
  err = avio_open(&out->pb, tmp.c_str(), AVIO_FLAG_WRITE);
  if (err < 0) av::fail("cannot write " + tmp.string(), err);
  return out;
}

void copy_display_matrix(const AVStream* in, AVStream* out) {
  size_t size = 0;
  const uint8_t* m = av_stream_get_side_data(in, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (m && size) {
    uint8_t* dst = av_stream_new_side_data(out, AV_PKT_DATA_DISPLAYMATRIX, size);
    if (dst) memcpy(dst, m, size);
  }
}

int64_t pkt_time(const AVPacket* p) { return p->pts != AV_NOPTS_VALUE ? p->pts : p->dts; }

}  // namespace

std::pair<int64_t, int64_t> copy_span(const std::vector<FrameMeta>& frames, int64_t start, int64_t end) {
  const int64_t n = static_cast<int64_t>(frames.size());
  end = std::min(end, n);
  int64_t k0 = start;
  while (k0 < end && !frames[k0].key) ++k0;
  int64_t k1 = end;
  if (end < n) {
    while (k1 > k0 && !frames[k1].key) --k1;
  }
  return {k0, k1};
}

bool mp4_can_copy(const std::string& codec_name) {
  const AVCodecDescriptor* d = avcodec_descriptor_get_by_name(codec_name.c_str());
  if (!d) return false;
  const AVOutputFormat* mp4 = av_guess_format("mp4", nullptr, nullptr);
  // The mp4 muxer accepts some codecs only under "experimental" compliance; avoid them.
  return mp4 && avformat_query_codec(mp4, d->id, FF_COMPLIANCE_NORMAL) == 1;
}

ClipResult write_clip_copy(const std::string& source, const SceneResult& scan, int64_t start, int64_t end,
                           const fs::path& out_path) {
  auto [k0, k1] = copy_span(scan.frame_meta, start, end);
  if (k0 >= k1)
    throw Error(Code::InvalidArgument, "span [" + std::to_string(start) + "," + std::to_string(end) +
                                           ") holds no whole GOP for stream copy (use --exact)");
  const int64_t n = static_cast<int64_t>(scan.frame_meta.size());
  const int64_t start_pts = scan.frame_meta[k0].pts;
  const bool to_end = k1 >= n;
  const int64_t end_pts = to_end ? std::numeric_limits<int64_t>::max() : scan.frame_meta[k1].pts;

  AVStream* ist = nullptr;
  av::FormatPtr in = av::open_stream(source, scan.info.stream_index, &ist);

  AtomicPath ap(out_path);
  {
    OutputPtr out = open_output(ap.tmp());
    AVStream* ost = avformat_new_stream(out.get(), nullptr);
    if (!ost) throw Error(Code::OutOfMemory, "avformat_new_stream");
    int err = avcodec_parameters_copy(ost->codecpar, ist->codecpar);
    if (err < 0) av::fail("avcodec_parameters_copy", err);
    ost->codecpar->codec_tag = 0;
    ost->time_base = ist->time_base;
    ost->sample_aspect_ratio = ist->sample_aspect_ratio;
    copy_display_matrix(ist, ost);
    err = avformat_write_header(out.get(), nullptr);
    if (err < 0) av::fail("cannot write mp4 header for " + source, err);

    av::PacketPtr pkt(av_packet_alloc());
    bool started = false;
    const int64_t offset = start_pts;
    int64_t written = 0;
    // Seeking is approximate in some containers (MPEG-PS lands after the target); when the
    // keyframe is not met after the seek, read again from the beginning.
    for (int attempt = 0; attempt < 2 && !started; ++attempt) {
      if (attempt == 1) {
        in = av::open_stream(source, scan.info.stream_index, &ist);
      } else if (k0 > 0) {
        if (av_seek_frame(in.get(), ist->index, start_pts, AVSEEK_FLAG_BACKWARD) < 0) continue;
      }
      while ((err = av_read_frame(in.get(), pkt.get())) >= 0) {
        if (pkt->stream_index != ist->index) {
          av_packet_unref(pkt.get());
          continue;
        }
        const bool key = pkt->flags & AV_PKT_FLAG_KEY;
        const int64_t t = pkt_time(pkt.get());
        if (!started) {
          if (!(key && t == start_pts)) {
            av_packet_unref(pkt.get());
            continue;
          }
          started = true;
        } else if (!to_end && t >= end_pts && (key || t == end_pts)) {
          av_packet_unref(pkt.get());
          break;
        }
        if (pkt->pts != AV_NOPTS_VALUE) pkt->pts -= offset;
        if (pkt->dts != AV_NOPTS_VALUE) pkt->dts -= offset;
        pkt->stream_index = 0;
        pkt->pos = -1;
        av_packet_rescale_ts(pkt.get(), ist->time_base, ost->time_base);
        err = av_interleaved_write_frame(out.get(), pkt.get());
        if (err < 0) av::fail("writing clip of " + source, err);
        ++written;
      }
    }
    if (!started || written == 0)
      throw Error(Code::InvalidData, "keyframe at pts " + std::to_string(start_pts) + " not found again in " + source);
    if (!to_end && written != k1 - k0)  // the record would promise frames the file does not hold
      throw Error(Code::InvalidData, "stream copy of [" + std::to_string(k0) + "," + std::to_string(k1) + ") from " + source +
                                         " took " + std::to_string(written) + " packets; use --exact");
    err = av_write_trailer(out.get());
    if (err < 0) av::fail("cannot finish mp4 for " + source, err);
  }
  ClipResult r;
  r.start = k0;
  r.end = k1;
  r.mode = "copy";
  r.codec = scan.info.codec;
  r.bytes = static_cast<int64_t>(fs::file_size(ap.tmp()));
  if (k0 != start || k1 != std::min(end, n))
    r.note = "span moved inward to keyframes for stream copy: requested [" + std::to_string(start) + "," +
             std::to_string(std::min(end, n)) + ")";
  ap.commit();
  return r;
}

std::vector<std::string> available_encoders() {
  std::vector<std::string> out;
  for (const char* name : {"libx264", "libopenh264", "libvpx-vp9", "mpeg4"})
    if (avcodec_find_encoder_by_name(name)) out.push_back(name);
  return out;
}

ClipResult write_clip_encode(const std::string& source, const SceneResult& scan, int64_t start, int64_t end,
                             const EncodeOptions& options, const fs::path& out_path) {
  const int64_t n = static_cast<int64_t>(scan.frame_meta.size());
  end = std::min(end, n);
  if (start < 0 || start >= end)
    throw Error(Code::InvalidArgument, "empty span [" + std::to_string(start) + "," + std::to_string(end) + ")");

  std::string enc_name = options.encoder;
  if (enc_name == "auto") {
    auto encs = available_encoders();
    auto it = std::find_if(encs.begin(), encs.end(), [](const std::string& e) { return e != "libvpx-vp9"; });
    if (it == encs.end()) throw Error(Code::NotFound, "no H.264 or MPEG-4 encoder in this FFmpeg build");
    enc_name = *it;
  }
  const AVCodec* enc = avcodec_find_encoder_by_name(enc_name.c_str());
  if (!enc) throw Error(Code::InvalidArgument, "encoder '" + enc_name + "' is not available");

  AVStream* ist = nullptr;
  av::FormatPtr in = av::open_stream(source, scan.info.stream_index, &ist);
  const AVCodec* dcodec = avcodec_find_decoder(ist->codecpar->codec_id);
  if (!dcodec) throw Error(Code::InvalidData, source + ": no decoder for its video codec");
  av::CodecPtr dec(avcodec_alloc_context3(dcodec));
  if (!dec) throw Error(Code::OutOfMemory, "avcodec_alloc_context3");
  int perr = avcodec_parameters_to_context(dec.get(), ist->codecpar);
  if (perr < 0) av::fail("avcodec_parameters_to_context for " + source, perr);
  dec->thread_count = options.threads;
  // Slice threads only: after the seek below, FFmpeg 5.1's frame-threaded decoders (H.264 with
  // an open GOP, Theora, Cinepak) gave different pixels for the first frames from run to run,
  // so a clip, its resume and its Slurm shard differed in bytes.
  dec->thread_type = FF_THREAD_SLICE;
  dec->pkt_timebase = ist->time_base;
  int err = avcodec_open2(dec.get(), dcodec, nullptr);
  if (err < 0) av::fail("cannot open decoder for " + source, err);

  // Start decoding at the last keyframe at or before `start`; frames are then counted
  // from that keyframe's index and checked against the scan by PTS.
  int64_t k = start;
  while (k > 0 && !scan.frame_meta[k].key) --k;
  if (k > 0) {
    err = av_seek_frame(in.get(), ist->index, scan.frame_meta[k].pts, AVSEEK_FLAG_BACKWARD);
    if (err < 0) k = 0;
  }

  const int w = scan.info.width & ~1, h = scan.info.height & ~1;  // 4:2:0 needs even sizes
  AtomicPath ap(out_path);
  av::CodecPtr ec(avcodec_alloc_context3(enc));
  ec->width = w;
  ec->height = h;
  ec->pix_fmt = AV_PIX_FMT_YUV420P;
  ec->time_base = ist->time_base;
  AVRational fr = {scan.info.fps_num, scan.info.fps_den};
  if (fr.num > 0) ec->framerate = fr;
  ec->sample_aspect_ratio = {scan.info.sar_num, scan.info.sar_den};
  // One encoder thread per clip: x264's frame and slice threads gave different bytes for the same
  // frames about one run in ten (a resumed split then differed from an uninterrupted one); clips
  // are short, so --workers (clips in parallel) uses the cores instead.
  ec->thread_count = 1;
  ec->color_range = AVCOL_RANGE_MPEG;
  if (enc_name == "libx264") {
    av_opt_set(ec->priv_data, "preset", options.preset.c_str(), 0);
    av_opt_set(ec->priv_data, "crf", std::to_string(options.crf).c_str(), 0);
  } else if (enc_name == "mpeg4") {
    ec->flags |= AV_CODEC_FLAG_QSCALE;
    ec->global_quality = FF_QP2LAMBDA * 3;
  } else {
    ec->bit_rate = std::max<int64_t>(500000, int64_t(w) * h * 4);
  }
  OutputPtr out = open_output(ap.tmp());
  if (out->oformat->flags & AVFMT_GLOBALHEADER) ec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  err = avcodec_open2(ec.get(), enc, nullptr);
  if (err < 0) av::fail("cannot open encoder " + enc_name, err);
  AVStream* ost = avformat_new_stream(out.get(), nullptr);
  if (!ost) throw Error(Code::OutOfMemory, "avformat_new_stream");
  err = avcodec_parameters_from_context(ost->codecpar, ec.get());
  if (err < 0) av::fail("avcodec_parameters_from_context", err);
  ost->time_base = ec->time_base;
  ost->sample_aspect_ratio = ec->sample_aspect_ratio;
  copy_display_matrix(ist, ost);
  err = avformat_write_header(out.get(), nullptr);
  if (err < 0) av::fail("cannot write mp4 header", err);

  av::PacketPtr pkt(av_packet_alloc()), opkt(av_packet_alloc());
  av::FramePtr frame(av_frame_alloc()), yuv(av_frame_alloc());
  yuv->format = AV_PIX_FMT_YUV420P;
  yuv->width = w;
  yuv->height = h;
  if (av_frame_get_buffer(yuv.get(), 0) < 0) throw Error(Code::OutOfMemory, "av_frame_get_buffer");
  av::SwsPtr sws;
  int64_t idx = k;
  const int64_t start_pts = scan.frame_meta[start].pts;
  int64_t written = 0;
  bool restarted = false;

  // Packets need a duration, or the mp4 edit list cuts the last frame off.
  const int64_t frame_dur = fr.num > 0 ? std::max<int64_t>(1, av_rescale_q(1, av_inv_q(fr), ec->time_base)) : 1;
  auto drain_encoder = [&]() {
    while (avcodec_receive_packet(ec.get(), opkt.get()) == 0) {
      if (opkt->duration <= 0) opkt->duration = frame_dur;
      opkt->stream_index = 0;
      av_packet_rescale_ts(opkt.get(), ec->time_base, ost->time_base);
      int e = av_interleaved_write_frame(out.get(), opkt.get());
      if (e < 0) av::fail("writing clip", e);
    }
  };
  auto encode_frame = [&](AVFrame* f) {
    if (!sws) {
      sws.reset(sws_getContext(f->width, f->height, (AVPixelFormat)f->format, w, h, AV_PIX_FMT_YUV420P,
                               SWS_BICUBIC | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
      if (!sws) throw Error(Code::InvalidData, "unsupported pixel format");
    }
    av_frame_make_writable(yuv.get());
    sws_scale(sws.get(), f->data, f->linesize, 0, f->height, yuv->data, yuv->linesize);
    // The scan's PTS are monotonic (repaired where the file's are not); use them.
    yuv->pts = scan.frame_meta[idx].pts - start_pts;
    int e = avcodec_send_frame(ec.get(), yuv.get());
    if (e < 0) av::fail("encoding", e);
    drain_encoder();
    ++written;
  };
  // Returns false once the span is complete.
  auto on_frame = [&](AVFrame* f) -> bool {
    if (idx == k && k > 0 && !restarted) {
      int64_t pts = f->best_effort_timestamp;
      if (pts != scan.frame_meta[k].pts) {
        // The seek landed elsewhere: fall back to decoding from the first frame.
        restarted = true;
        return false;
      }
    }
    if (idx >= start && idx < end) encode_frame(f);
    ++idx;
    return idx < end;
  };

  auto run = [&]() -> bool {  // returns true if a restart from 0 is needed
    bool more = true;
    while (more && (err = av_read_frame(in.get(), pkt.get())) >= 0) {
      if (pkt->stream_index != ist->index) {
        av_packet_unref(pkt.get());
        continue;
      }
      const int sent = avcodec_send_packet(dec.get(), pkt.get());
      av_packet_unref(pkt.get());
      // A corrupt packet is skipped (the frame check by PTS below catches what it costs);
      // anything else is a real failure.
      if (sent < 0 && sent != AVERROR(EAGAIN) && sent != AVERROR_INVALIDDATA) av::fail("decoding " + source, sent);
      while (more && avcodec_receive_frame(dec.get(), frame.get()) == 0) {
        more = on_frame(frame.get());
        av_frame_unref(frame.get());
        if (restarted && written == 0 && idx == k) return true;
      }
    }
    if (more) {
      const int flushed = avcodec_send_packet(dec.get(), nullptr);
      if (flushed < 0 && flushed != AVERROR_EOF) av::fail("flushing the decoder of " + source, flushed);
      while (more && avcodec_receive_frame(dec.get(), frame.get()) == 0) {
        more = on_frame(frame.get());
        av_frame_unref(frame.get());
      }
    }
    return false;
  };
  if (run()) {
    // Reopen rather than seek to the start: some demuxers seek there inexactly.
    in = av::open_stream(source, scan.info.stream_index, &ist);
    avcodec_flush_buffers(dec.get());
    k = 0;
    idx = 0;
    run();
  }
  err = avcodec_send_frame(ec.get(), nullptr);
  if (err < 0 && err != AVERROR_EOF) av::fail("flushing encoder " + enc_name, err);
  drain_encoder();
  if (written == 0) throw Error(Code::InvalidData, "no frame of the span could be decoded from " + source);
  err = av_write_trailer(out.get());
  if (err < 0) av::fail("cannot finish mp4", err);
  out.reset();

  ClipResult r;
  r.start = start;
  r.end = start + written;
  r.mode = "encode";
  r.codec = enc->name;
  r.bytes = static_cast<int64_t>(fs::file_size(ap.tmp()));
  if (r.end != end) r.note = "only " + std::to_string(written) + " frames of the span decoded";
  ap.commit();
  return r;
}

}  // namespace reel
