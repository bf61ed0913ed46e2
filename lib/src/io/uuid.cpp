// SPDX-License-Identifier: Apache-2.0
#include "reel/io/uuid.h"

extern "C" {
#include <libavutil/mem.h>
#include <libavutil/sha.h>
}

#include <cstdint>
#include <cstdio>
#include <memory>

#include "reel/core/status.h"

namespace reel {

const char* const kReelClipNamespace = "8f3c1f5e-2a6b-5c1d-9e2f-7a4b3c2d1e0f";

namespace {
bool parse_uuid(const std::string& s, uint8_t out[16]) {
  int n = 0;
  for (size_t i = 0; i < s.size() && n < 32; ++i) {
    char c = s[i];
    if (c == '-') continue;
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return false;
    if (n % 2 == 0) out[n / 2] = static_cast<uint8_t>(v << 4);
    else out[n / 2] |= static_cast<uint8_t>(v);
    ++n;
  }
  return n == 32;
}

struct ShaDeleter {
  void operator()(AVSHA* p) const { av_free(p); }
};

void sha(int bits, const void* a, size_t na, const void* b, size_t nb, uint8_t* out) {
  std::unique_ptr<AVSHA, ShaDeleter> ctx(av_sha_alloc());
  if (!ctx) throw Error(Code::OutOfMemory, "av_sha_alloc");
  av_sha_init(ctx.get(), bits);
  if (na) av_sha_update(ctx.get(), static_cast<const uint8_t*>(a), na);
  if (nb) av_sha_update(ctx.get(), static_cast<const uint8_t*>(b), nb);
  av_sha_final(ctx.get(), out);
}
}  // namespace

std::string uuid_v5(const std::string& namespace_uuid, const std::string& name) {
  uint8_t ns[16];
  if (!parse_uuid(namespace_uuid, ns)) throw Error(Code::InvalidArgument, "bad namespace uuid: " + namespace_uuid);
  uint8_t digest[20];
  sha(160, ns, 16, name.data(), name.size(), digest);
  digest[6] = static_cast<uint8_t>((digest[6] & 0x0F) | 0x50);
  digest[8] = static_cast<uint8_t>((digest[8] & 0x3F) | 0x80);
  char buf[37];
  snprintf(buf, sizeof buf,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0], digest[1],
           digest[2], digest[3], digest[4], digest[5], digest[6], digest[7], digest[8], digest[9], digest[10],
           digest[11], digest[12], digest[13], digest[14], digest[15]);
  return buf;
}

std::string sha256_hex(const void* data, size_t size) {
  uint8_t d[32];
  sha(256, data, size, nullptr, 0, d);
  std::string s;
  char b[3];
  for (uint8_t x : d) {
    snprintf(b, sizeof b, "%02x", x);
    s += b;
  }
  return s;
}

}  // namespace reel
