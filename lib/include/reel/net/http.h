// SPDX-License-Identifier: Apache-2.0
// HTTP requests for the stages that talk to services (reel caption's OpenAI-compatible
// endpoint): one libcurl multi handle on its own thread keeps up to `max_in_flight` requests
// on the wire; callers on any thread submit and wait for their own future, so a slow request
// never holds back another caller.
//
// send() adds the politeness a shared server needs: retries with exponential backoff and full
// jitter on 429, 500, 502, 503, 504 and transport failures (timeouts, refused connections),
// waiting at least what Retry-After asks (seconds or an HTTP date); and a circuit breaker that
// stops the whole batch (Error(ServiceUnavailable)) after `trip_after` requests in a row failed
// for good, instead of marking every remaining input failed. Header values (the API key) never
// appear in errors or logs.
#pragma once
#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace reel {

struct HttpRequest {
  std::string url;
  std::string body;                  // POST when non-empty, else GET
  std::vector<std::string> headers;  // "Name: value"
  double timeout_s = 120;
};

struct HttpResponse {
  long status = 0;               // 0: no HTTP answer (transport failure)
  std::string body;
  std::string error;             // transport failure, without header values
  double retry_after_s = -1;     // from Retry-After, when the server sent one
  int attempts = 1;
};

class HttpEngine {
 public:
  explicit HttpEngine(int max_in_flight);
  ~HttpEngine();  // stops the thread; requests still pending fail with "cancelled"
  HttpEngine(const HttpEngine&) = delete;
  HttpEngine& operator=(const HttpEngine&) = delete;
  std::future<HttpResponse> submit(HttpRequest request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct RetryPolicy {
  int retries = 5;          // after the first attempt
  double base_s = 1.0;      // backoff: uniform in [0, min(max_s, base_s * 2^attempt)]
  double max_s = 60.0;
};

class CircuitBreaker {
 public:
  explicit CircuitBreaker(int trip_after = 8) : trip_after_(trip_after) {}
  void success() { failures_ = 0; }
  void failure(const std::string& why);
  bool open() const { return failures_.load() >= trip_after_; }
  const std::string& why() const { return why_; }

 private:
  int trip_after_;
  std::atomic<int> failures_{0};
  std::string why_;
};

// True for the statuses worth another try.
bool retryable_status(long status);
// Retry-After: delta seconds or an HTTP date; -1 when absent or unreadable.
double parse_retry_after(const std::string& value);

// One request with retries; throws Error(ServiceUnavailable) when the breaker is (or becomes)
// open, Error(Cancelled) on cancellation. A non-retryable status (400, 401, 404, ...) or one
// still failing after the retries comes back as the response.
HttpResponse send(HttpEngine& engine, const HttpRequest& request, const RetryPolicy& policy, CircuitBreaker* breaker);

}  // namespace reel
