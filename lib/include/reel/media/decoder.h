// SPDX-License-Identifier: Apache-2.0
// Video decoding on top of FFmpeg's libraries (libavformat/libavcodec/libswscale).
//
// A VideoDecoder opens one source (file path or any URL FFmpeg's protocols read, e.g.
// http(s)://) and yields frames in presentation order. Frame index = 0-based position in
// that output order; timestamps come from the stream's PTS (best effort), reported both as
// raw PTS in the stream time base and as seconds relative to the first frame, so a first
// PTS that is not 0 and variable frame rate are handled. Display-matrix rotation is applied
// (autorotate) and the sample aspect ratio is reported. Only the video stream is decoded:
// audio streams, even undecodable ones, never affect the result.
//
// No FFmpeg types appear here; they stay in lib/src/media.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "reel/core/picture.h"
#include "reel/media/hwaccel.h"

namespace reel {

// LUMA: the decoder's own luma plane at native size, no scaling and no range conversion
// (the cheapest view of a frame; GRAY8 through swscale when the format has no luma plane).
enum class PixelFormat { RGB24, GRAY8, LUMA };

struct DecodeOptions {
  int threads = 0;         // decoder threads, 0 = FFmpeg's automatic choice
  bool convert = true;     // false: decode only (no pixel conversion); Frame::data stays empty
  PixelFormat format = PixelFormat::RGB24;
  int out_width = 0;       // 0 = native display width; if only one of the two is set the
  int out_height = 0;      //     other follows the display aspect ratio (rounded to even)
  bool autorotate = true;  // apply the stream's display matrix (90-degree steps)
  bool downscale_only = false;  // never enlarge: keep the native size if it is smaller
  bool fast_scale = false;  // analysis quality: plain area averaging, no exact rounding
  // The pixels `ffmpeg -i IN -s WxH -pix_fmt rgb24` gives: bicubic, the frame's own colour matrix
  // and range (BT.601 when unspecified), no exact rounding. For networks trained on frames the
  // ffmpeg command line extracted (TransNetV2).
  bool cli_scale = false;
  bool with_gray = false;   // RGB24: also fill Frame::gray (GRAY8 of the same frame; one decode, two conversions)
  bool motion_vectors = false;  // export the codec's motion vectors (MPEG-family codecs; none for intra-only ones)
  int convert_every = 1;        // convert only frames whose index is a multiple (others: empty data)
  int luma_thumb_width = 0;     // > 0: every frame gets Frame::thumb (see there)
  // Analysis-grade frames, faster: no in-loop deblocking (in decoders that honour FFmpeg's
  // skip_loop_filter: H.264, HEVC, VP8 among them). Frames then differ from the true decode by
  // blocking-edge noise that drifts until the next key frame: fine for statistics over coarse
  // cells (shot detection), never for pixels that are kept.
  bool skip_loop_filter = false;
  // LUMA without a copy: Frame::borrowed points at the decoder's own luma plane (8-bit planar
  // YUV, no rotation; otherwise data is filled as usual), valid until the next call of next().
  bool borrow_luma = false;
  HwAccel hwaccel = HwAccel::Default;  // NVDEC or CPU decode (see hwaccel.h: falls back to the CPU)
  int cuda_device = 0;                 // the CUDA device NVDEC decodes on
  // The decoded picture itself instead of RGB24, for a consumer that converts it where it computes
  // (Backend::yuv420_frame): Frame::planes, borrowed until the next call of next(), and for NVDEC
  // in device memory, never copied to the host. Only for native-size RGB24 output; a frame the
  // route does not cover (not 8-bit 4:2:0, rotated, a colour matrix other than BT.601 / BT.709,
  // or views and thumbnails wanted of it) is converted to RGB24 as usual, so a consumer handles both.
  bool planes = false;
  // With planes: NVDEC's pictures stay in device memory (for a consumer computing on that device,
  // cuda_device); otherwise they are copied to the host and handed over as host NV12 planes.
  bool device_planes = false;
};

// One block's motion vector as the codec coded it (FFmpeg's export_mvs side data), in coded
// (not rotated) pixels: the w x h block centred at (dst_x, dst_y) comes from
// dst - (motion_x, motion_y) / motion_scale.
struct MotionVector {
  int16_t w = 0, h = 0, dst_x = 0, dst_y = 0;
  int32_t motion_x = 0, motion_y = 0;
  uint16_t motion_scale = 1;
  int8_t source = -1;  // < 0: from a past reference frame, > 0: from a future one
};

struct VideoInfo {
  std::string source;
  std::string container;          // e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;              // e.g. "h264"
  int width = 0, height = 0;      // coded size
  int display_width = 0, display_height = 0;  // after rotation
  int rotation = 0;               // clockwise degrees applied for display: 0, 90, 180, 270
  int sar_num = 1, sar_den = 1;   // sample aspect ratio (1:1 when unknown)
  int fps_num = 0, fps_den = 1;   // average frame rate (falls back to r_frame_rate)
  double fps = 0.0;
  int tb_num = 1, tb_den = 1;     // stream time base
  double duration_s = -1.0;       // container/stream duration, -1 if the file has none
  int64_t frames_hint = 0;        // frame count stored in the container, 0 if unknown
  bool has_audio = false;
  int stream_index = -1;
};

// One extra conversion of a decoded frame (VideoDecoder::add_view).
struct FrameView {
  int id = 0;
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> data;  // packed rows
};

struct Frame {
  int64_t index = 0;      // 0-based, presentation order
  int64_t pts = 0;        // stream time base (synthesised from the previous frame if missing)
  double time_s = 0.0;    // seconds since the first frame
  bool key = false;       // a keyframe (stream copy may start here)
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> data;  // packed rows (stride = width * channels); empty if !convert
  std::vector<uint8_t> gray;  // with_gray: the GRAY8 view, width x height
  char pict_type = '?';       // 'I', 'P', 'B', ... as the decoder reports it
  int coded_width = 0, coded_height = 0;       // the decoded picture before rotation and scaling
  std::vector<MotionVector> motion_vectors;    // with motion_vectors
  // With luma_thumb_width: the decoded luma plane averaged down to that width (aspect kept),
  // in coded orientation, from a regular sample of its pixels: a cheap view of every frame
  // for black and frozen-frame detection. Empty when the format has no 8-bit luma plane.
  std::vector<uint8_t> thumb;
  int thumb_width = 0, thumb_height = 0;
  std::vector<FrameView> views;  // the views (add_view) that want this frame
  const uint8_t* borrowed = nullptr;  // borrow_luma: width x height luma, rows borrowed_stride apart
  int borrowed_stride = 0;
  Yuv420 planes;  // DecodeOptions::planes: the picture (then data is empty), valid until next()
};

class VideoDecoder {
 public:
  // Opens `url`; throws Error(NotFound|InvalidData|IoError) with FFmpeg's reason.
  static std::unique_ptr<VideoDecoder> open(const std::string& url, const DecodeOptions& options = {});
  virtual ~VideoDecoder() = default;

  virtual const VideoInfo& info() const = 0;
  // Decodes the next frame into *out. Returns false at the end of the stream.
  virtual bool next(Frame* out) = 0;
  // Seeks to the keyframe at or before `pts` (stream time base); following next() calls
  // return frames from there, with index continuing from `first_index`.
  virtual void seek(int64_t pts, int64_t first_index) = 0;
  // Changes DecodeOptions::convert_every from the next frame on (a stage that samples by frame
  // rate learns the rate from info() after opening).
  virtual void set_convert_every(int n) = 0;
  // Converts only the frames with these indices (sorted) from the next frame on; empty goes
  // back to convert_every (a stage that picks frames from a plan, such as reel embed).
  virtual void set_convert_frames(std::vector<int64_t> indices) = 0;
  // Also converts the frames with these indices as `view` says (format, out_width/out_height,
  // downscale_only, fast_scale, with_gray; autorotate must match the decoder's), into
  // Frame::views: one decode serving several consumers, each getting exactly the pixels its
  // own decoder would give. Returns the view's id.
  virtual int add_view(const DecodeOptions& view, std::vector<int64_t> indices) = 0;
  // The same for every frame the decoder yields.
  virtual int add_view_every_frame(const DecodeOptions& view) = 0;
  // Stops exporting motion vectors (they cost decode time; a scorer that has its frames says so).
  virtual void stop_motion_vectors() = 0;
  // First PTS of the stream (the PTS that maps to time 0).
  virtual int64_t first_pts() const = 0;
  // Problems tolerated while decoding (corrupt packets, read errors after some frames).
  virtual const std::vector<std::string>& warnings() const = 0;
  // Whether the frames so far came from NVDEC (DecodeOptions::hwaccel was honoured).
  virtual bool decodes_on_gpu() const = 0;
};

// Frames the stream should have: the container's count, else duration (the stream's, else
// `fallback_duration_s`) x fps; at least 1.
int64_t expected_frames(const VideoInfo& info, double fallback_duration_s = 0);

struct PickedFrames {
  std::vector<Frame> frames;  // those of `indices` the stream had, in order
  int64_t decoded = 0;        // frames decoded before stopping
};
// Decodes up to the last of `indices` (sorted), converting only those frames (a stage that
// samples a plan: reel embed, reel caption). Checks for cancellation between frames.
PickedFrames decode_indices(VideoDecoder& decoder, const std::vector<int64_t>& indices);

}  // namespace reel
