// SPDX-License-Identifier: Apache-2.0
// One blocking HTTP request on a reusable curl handle (keeps its connection alive), and the
// retry rules the object-store requests share. Private to lib/src/storage.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

typedef void CURL;

namespace reel::storage {

struct Call {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::string> headers;
  const std::string* body = nullptr;  // PUT / POST payload
  std::string sigv4, userpwd;         // AWS Signature V4 by libcurl when set
  // Receives the body as it arrives (GET); false aborts the transfer. Unset: collected in body.
  std::function<bool(long status, const char*, size_t)> sink;
  double timeout_s = 300;
};

struct Reply {
  long status = 0;       // 0: no HTTP answer
  std::string body;      // when no sink (capped)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error;     // transport failure
  uint64_t received = 0;
  bool aborted = false;  // the sink stopped it
};

class Handle {
 public:
  Handle();
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Reply perform(const Call& call);

 private:
  CURL* h_;
};

// Worth another try: no answer at all, 500, 502, 503 (SlowDown), 504, 429.
bool transient(const Reply& r);
// Sleeps before attempt `attempt` (1, 2, ...): full jitter up to min(4 s, 0.1 s * 2^attempt);
// throws Error(Cancelled) when the run is cancelled meanwhile.
void backoff(int attempt);
constexpr int kAttempts = 8;

// "HTTP 403 (AccessDenied: ...)" or the transport error, for messages.
std::string describe(const Reply& r);

// One request, tried again on transient failures with backoff (kAttempts in all); the last
// reply. Requests and retries are counted in transfer_stats().
Reply perform_retrying(Handle& h, const Call& call);

struct RangeRead {
  uint64_t delivered = 0;
  Reply last;            // of the last attempt
  bool failed = false;   // a permanent error, or still failing when the tries ran out
  bool gave_up = false;  // failed because the tries ran out
  int attempts = 0;
};
// Bytes [offset, offset + n) of `get` (a GET; a Range header is added per attempt) to `sink`:
// a dropped connection resumes after the bytes already delivered, a server that ignored Range
// has its first bytes skipped, a range that starts past the end (416) ends the read.
RangeRead ranged_get(Handle& h, const Call& get, uint64_t offset, uint64_t n, const std::function<void(const char*, size_t)>& sink);

}  // namespace reel::storage
