// SPDX-License-Identifier: Apache-2.0
// A tar file written through libarchive (POSIX pax-restricted format: plain ustar headers for
// short names, what every tar reader and Python's tarfile read), member by member, with the
// byte offset and size of each member's data (a shard index lets readers seek to a sample).
// Written under a temporary name and renamed over the final one by commit(): a killed writer
// leaves no file under the final name.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace reel {

struct TarMember {
  std::string name;
  uint64_t offset = 0;  // where the data starts in the tar
  uint64_t size = 0;
};

class TarWriter {
 public:
  explicit TarWriter(std::filesystem::path final_path);
  ~TarWriter();  // removes the temporary file unless committed
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  TarMember add(const std::string& name, const std::string& data);
  // Streams a file's bytes in; throws IoError (naming it) when it cannot be read whole.
  TarMember add_file(const std::string& name, const std::filesystem::path& path);
  uint64_t bytes() const;  // written so far
  // Ends the archive, fsyncs and renames; returns the tar's final size.
  uint64_t commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reel
