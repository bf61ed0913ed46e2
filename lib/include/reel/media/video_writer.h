// SPDX-License-Identifier: Apache-2.0
// Encodes packed RGB24 frames into an mp4 (libx264 when available), atomically: the file
// appears under its final name only after close() succeeds.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace reel {

class VideoWriter {
 public:
  // fps as a rational; encoder "auto" = libx264, else libopenh264, else mpeg4.
  VideoWriter(const std::filesystem::path& path, int width, int height, int fps_num, int fps_den,
              const std::string& encoder = "auto", int crf = 18);
  ~VideoWriter();
  void write(const uint8_t* rgb);  // width * height * 3 bytes
  void close();                    // flushes, finishes the file and renames it into place
  int64_t frames() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reel
