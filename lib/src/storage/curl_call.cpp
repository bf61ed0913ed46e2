// SPDX-License-Identifier: Apache-2.0
#include "storage/curl_call.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <strings.h>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "reel/core/cancel.h"
#include "reel/core/log.h"
#include "reel/core/status.h"
#include "reel/storage/remote_file.h"
#include "reel/storage/s3.h"

namespace reel::storage {

namespace {
constexpr size_t kMaxBody = size_t{32} << 20;  // an XML answer, an error page

struct Ctx {
  const Call* call;
  Reply* reply;
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
  auto* c = static_cast<Ctx*>(user);
  const size_t len = size * n;
  c->reply->received += len;
  if (c->call->sink && c->reply->status / 100 == 2) {
    if (!c->call->sink(c->reply->status, p, len)) {
      c->reply->aborted = true;
      return 0;
    }
    return len;
  }
  if (c->reply->body.size() + len > kMaxBody) return 0;
  c->reply->body.append(p, len);
  return len;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  auto* c = static_cast<Ctx*>(user);
  std::string line(p, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a 100 Continue, a redirect)
    c->reply->headers.clear();
    const size_t sp = line.find(' ');
    c->reply->status = sp == std::string::npos ? 0 : std::atol(line.c_str() + sp + 1);
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon), value = line.substr(colon + 1);
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
  while (!value.empty() && value.front() == ' ') value.erase(value.begin());
  c->reply->headers[name] = value;
  return size * n;
}

int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) { return cancel_requested() ? 1 : 0; }
}  // namespace

Handle::Handle() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  h_ = curl_easy_init();
  if (!h_) throw Error(Code::Internal, "curl_easy_init failed");
}

Handle::~Handle() { curl_easy_cleanup(h_); }

Reply Handle::perform(const Call& call) {
  Reply reply;
  Ctx ctx{&call, &reply};
  curl_easy_reset(h_);
  curl_easy_setopt(h_, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout_s * 1000));
  // A stalled transfer (no byte for 30 s) is a dropped connection, retried.
  curl_easy_setopt(h_, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h_, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h_, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h_, CURLOPT_HEADERDATA, &ctx);
  curl_easy_setopt(h_, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h_, CURLOPT_XFERINFOFUNCTION, on_progress);
  if (call.method == "HEAD") {
    curl_easy_setopt(h_, CURLOPT_NOBODY, 1L);
  } else if (call.method != "GET") {
    curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  static const std::string empty;
  if (call.method == "PUT" || call.method == "POST") {
    const std::string& b = call.body ? *call.body : empty;
    // POSTFIELDS (not a read callback): curl hashes the payload into the signature.
    curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(b.size()));
    curl_easy_setopt(h_, CURLOPT_POSTFIELDS, b.data());
  }
  curl_slist* headers = nullptr;
  bool typed = false;
  for (const auto& h : call.headers) {
    headers = curl_slist_append(headers, h.c_str());
    typed = typed || strncasecmp(h.c_str(), "content-type:", 13) == 0;
  }
  // Not curl's form-encoded default: a server would take the body for form fields.
  if ((call.method == "PUT" || call.method == "POST") && !typed)
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  // No "Expect:"/"Content-Type:" removals: curl 7.88 would list the removed names among the
  // signed headers, and the store would reject the signature. A 100-continue wait is kept short.
  curl_easy_setopt(h_, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
  curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers);
  if (!call.sigv4.empty()) {
    curl_easy_setopt(h_, CURLOPT_AWS_SIGV4, call.sigv4.c_str());
    curl_easy_setopt(h_, CURLOPT_USERPWD, call.userpwd.c_str());
  }
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, err);
  const CURLcode rc = curl_easy_perform(h_);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK && !(reply.aborted && rc == CURLE_WRITE_ERROR)) {
    if (rc == CURLE_ABORTED_BY_CALLBACK) throw Error(Code::Cancelled, "cancelled");
    // The status stays what the headers said: a ranged read keeps the bytes it was given.
    reply.error = std::string(curl_easy_strerror(rc)) + (err[0] ? std::string(": ") + err : std::string());
  }
  return reply;
}

bool transient(const Reply& r) {
  if (!r.error.empty()) return true;
  return r.status == 0 || r.status == 429 || r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504;
}

void backoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double cap = std::min(4.0, 0.1 * static_cast<double>(1u << std::min(attempt, 10)));
  const double s = std::uniform_real_distribution<double>(0, cap)(rng);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(s);
  while (std::chrono::steady_clock::now() < until) {
    if (cancel_requested()) throw Error(Code::Cancelled, "cancelled");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string describe(const Reply& r) {
  if (!r.error.empty() && r.status / 100 != 2) return r.error;
  std::string s = "HTTP " + std::to_string(r.status);
  std::string why;
  try {
    why = parse_s3_error(r.body);
  } catch (const Error&) {
  }
  if (!why.empty()) s += " (" + why + ")";
  if (!r.error.empty()) s += ", then " + r.error;
  return s;
}

Reply perform_retrying(Handle& h, const Call& call) {
  for (int attempt = 1;; ++attempt) {
    Reply r = h.perform(call);
    ++transfer_stats().requests;
    if (!transient(r) || attempt >= kAttempts) return r;
    ++transfer_stats().retries;
    REEL_DEBUG("storage", "%s %s: %s, retrying", call.method.c_str(), call.url.c_str(), describe(r).c_str());
    backoff(attempt);
  }
}

RangeRead ranged_get(Handle& h, const Call& get, uint64_t offset, uint64_t n, const std::function<void(const char*, size_t)>& sink) {
  RangeRead rr;
  while (rr.delivered < n) {
    Call c = get;
    const uint64_t start = offset + rr.delivered;
    c.headers.push_back("Range: bytes=" + std::to_string(start) + "-" + std::to_string(offset + n - 1));
    uint64_t skip = 0;
    bool first = true;
    c.sink = [&](long status, const char* p, size_t len) {
      if (first) skip = status == 200 ? start : 0, first = false;  // a server that ignored Range
      const size_t drop = static_cast<size_t>(std::min<uint64_t>(skip, len));
      skip -= drop, p += drop, len -= drop;
      const size_t take = static_cast<size_t>(std::min<uint64_t>(len, n - rr.delivered));
      if (take) sink(p, take);
      rr.delivered += take;
      transfer_stats().bytes += take;
      return rr.delivered < n;
    };
    rr.last = h.perform(c);
    ++rr.attempts;
    ++transfer_stats().requests;
    if (rr.last.status == 416) break;  // the range starts at or past the end
    if (((rr.last.status == 206 || rr.last.status == 200) && rr.last.error.empty()) || (rr.last.aborted && rr.delivered == n)) break;
    if (!transient(rr.last) && rr.last.status / 100 != 2) {
      rr.failed = true;
      break;
    }
    if (rr.attempts >= kAttempts) {
      rr.failed = rr.gave_up = true;
      break;
    }
    ++transfer_stats().retries;
    REEL_DEBUG("storage", "read %s at %llu: %s, retrying", get.url.c_str(), static_cast<unsigned long long>(offset + rr.delivered),
               describe(rr.last).c_str());
    backoff(rr.attempts);
  }
  return rr;
}

}  // namespace reel::storage
