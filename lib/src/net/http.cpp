// SPDX-License-Identifier: Apache-2.0
#include "reel/net/http.h"

#include <curl/curl.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "reel/core/cancel.h"
#include "reel/core/status.h"

namespace reel {

namespace {
constexpr size_t kMaxBody = size_t{64} << 20;  // an answer larger than this is not a caption

size_t on_body(char* p, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxBody) return 0;  // aborts the transfer
  body->append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  const std::string line(p, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "retry-after") {
      std::string v = line.substr(colon + 1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      static_cast<HttpResponse*>(user)->retry_after_s = parse_retry_after(v);
    }
  }
  return size * n;
}
}  // namespace

double parse_retry_after(const std::string& value) {
  if (value.empty()) return -1;
  char* end = nullptr;
  const double s = std::strtod(value.c_str(), &end);
  if (end && *end == '\0' && s >= 0 && std::isfinite(s)) return s;
  const time_t when = curl_getdate(value.c_str(), nullptr);
  if (when < 0) return -1;
  return std::max(0.0, static_cast<double>(when - std::time(nullptr)));
}

bool retryable_status(long status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

void CircuitBreaker::failure(const std::string& why) {
  if (++failures_ >= trip_after_ && why_.empty()) why_ = why;
}

struct HttpEngine::Impl {
  struct Job {
    HttpRequest req;
    std::promise<HttpResponse> done;
  };
  struct Active {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::promise<HttpResponse> done;
    HttpResponse resp;
    std::string body;  // the request body (curl reads it from here)
    char error[CURL_ERROR_SIZE] = {0};
  };

  int max_in_flight;
  CURLM* multi = nullptr;
  std::mutex mu;
  std::deque<Job> queue;
  bool stop = false;
  std::unordered_map<CURL*, std::unique_ptr<Active>> active;
  std::thread thread;

  void start(Job job) {
    auto a = std::make_unique<Active>();
    a->easy = curl_easy_init();
    a->done = std::move(job.done);
    a->body = std::move(job.req.body);
    CURL* e = a->easy;
    curl_easy_setopt(e, CURLOPT_URL, job.req.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(job.req.timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(job.req.timeout_s, 30.0) * 1000));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &a->resp.body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &a->resp);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->error);
    for (const auto& h : job.req.headers) a->headers = curl_slist_append(a->headers, h.c_str());
    if (!a->body.empty()) {
      a->headers = curl_slist_append(a->headers, "Expect:");  // no 100-continue round trip
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(a->body.size()));
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
    curl_multi_add_handle(multi, e);
    active.emplace(e, std::move(a));
  }

  void finish(CURL* e, CURLcode code) {
    auto it = active.find(e);
    if (it == active.end()) return;
    std::unique_ptr<Active> a = std::move(it->second);
    active.erase(it);
    curl_multi_remove_handle(multi, e);
    if (code == CURLE_OK) {
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->resp.status);
    } else {
      a->resp.status = 0;
      a->resp.error = std::string(curl_easy_strerror(code)) + (a->error[0] ? std::string(": ") + a->error : "");
    }
    curl_slist_free_all(a->headers);
    curl_easy_cleanup(e);
    a->done.set_value(std::move(a->resp));
  }

  void loop() {
    for (;;) {
      {
        std::lock_guard<std::mutex> lk(mu);
        if (stop) break;
        while (!queue.empty() && static_cast<int>(active.size()) < max_in_flight) {
          start(std::move(queue.front()));
          queue.pop_front();
        }
      }
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0, finished = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &left))
        if (m->msg == CURLMSG_DONE) finish(m->easy_handle, m->data.result), ++finished;
      if (finished) continue;  // a slot came free: start the next queued request before waiting
      curl_multi_poll(multi, nullptr, 0, 200, nullptr);
    }
    std::vector<CURL*> handles;
    for (auto& [e, a] : active) handles.push_back(e);
    for (CURL* e : handles) finish(e, CURLE_ABORTED_BY_CALLBACK);
    for (auto& j : queue) {
      HttpResponse r;
      r.error = "cancelled";
      j.done.set_value(std::move(r));
    }
    queue.clear();
  }
};

HttpEngine::HttpEngine(int max_in_flight) : impl_(std::make_unique<Impl>()) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->max_in_flight = std::max(1, max_in_flight);
  impl_->multi = curl_multi_init();
  if (!impl_->multi) throw Error(Code::Internal, "curl_multi_init failed");
  impl_->thread = std::thread([this] { impl_->loop(); });
}

HttpEngine::~HttpEngine() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stop = true;
  }
  curl_multi_wakeup(impl_->multi);
  impl_->thread.join();
  curl_multi_cleanup(impl_->multi);
}

std::future<HttpResponse> HttpEngine::submit(HttpRequest request) {
  Impl::Job job{std::move(request), {}};
  std::future<HttpResponse> f = job.done.get_future();
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->queue.push_back(std::move(job));
  }
  curl_multi_wakeup(impl_->multi);
  return f;
}

namespace {
void sleep_cancellable(double seconds) {
  using clock = std::chrono::steady_clock;
  const auto until = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  for (auto now = clock::now(); now < until; now = clock::now()) {
    throw_if_cancelled();
    std::this_thread::sleep_for(std::min<clock::duration>(std::chrono::milliseconds(50), until - now));
  }
}

std::string describe(const HttpResponse& r) {
  return r.status ? "HTTP " + std::to_string(r.status) : r.error.empty() ? std::string("no answer") : r.error;
}
}  // namespace

HttpResponse send(HttpEngine& engine, const HttpRequest& request, const RetryPolicy& policy, CircuitBreaker* breaker) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  auto stop_if_open = [breaker] {
    if (breaker && breaker->open())
      throw Error(Code::ServiceUnavailable, "the endpoint is not answering (circuit breaker open after repeated failures: " +
                                                breaker->why() + ")");
  };
  HttpResponse r;
  for (int attempt = 0;; ++attempt) {
    stop_if_open();
    throw_if_cancelled();
    std::future<HttpResponse> f = engine.submit(request);
    while (f.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) throw_if_cancelled();
    r = f.get();
    r.attempts = attempt + 1;
    if (r.status >= 200 && r.status < 300) {
      if (breaker) breaker->success();
      return r;
    }
    const bool again = r.status == 0 || retryable_status(r.status);
    if (!again) {
      if (breaker) breaker->success();  // the server answered: it is up
      return r;
    }
    if (attempt >= policy.retries) {
      if (breaker) breaker->failure(request.url + ": " + describe(r) + " after " + std::to_string(r.attempts) + " attempts");
      stop_if_open();
      return r;
    }
    const double cap = std::min(policy.max_s, policy.base_s * std::pow(2.0, attempt));
    double wait = std::uniform_real_distribution<double>(0, cap)(rng);
    if (r.retry_after_s >= 0) wait = std::max(wait, std::min(r.retry_after_s, 600.0));
    sleep_cancellable(wait);
  }
}

}  // namespace reel
