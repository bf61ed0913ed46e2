// SPDX-License-Identifier: Apache-2.0
#include "reel/storage/s3.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "reel/core/log.h"
#include "reel/core/status.h"
#include "reel/storage/remote_file.h"
#include "storage/curl_call.h"

namespace reel {

namespace {
bool unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

// SigV4's URI encoding: every byte but the unreserved ones, '/' kept in paths.
std::string uri_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c) || (keep_slash && c == '/')) out += static_cast<char>(c);
    else out += {'%', hex[c >> 4], hex[c & 15]};
  }
  return out;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) throw Error(Code::Internal, "SHA-256 failed");
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) s += {hex[md[i] >> 4], hex[md[i] & 15]};
  return s;
}

bool valid_bucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (unsigned char c : b)
    if (!(std::islower(c) || std::isdigit(c) || c == '.' || c == '-')) return false;
  return std::isalnum(static_cast<unsigned char>(b.front())) && std::isalnum(static_cast<unsigned char>(b.back()));
}

// An output that cannot be written stops the run (OutputError); an input is that input's error.
[[noreturn]] void fail(const std::string& what, const S3Location& loc, const storage::Reply& r, const S3Settings& s,
                       Code output = Code::Ok) {
  const Code code = output != Code::Ok ? output : r.status == 404 ? Code::NotFound : Code::IoError;
  std::string hint;
  if (r.status == 403)  // a HEAD answer has no body to say why
    hint = s.access_key.empty() ? " (no credentials were found: set AWS_ACCESS_KEY_ID or a profile)"
                                : " (access denied to the credentials from " + s.credentials_from + ")";
  throw Error(code, what + " " + loc.url() + ": " + storage::describe(r) + hint);
}
}  // namespace

bool parse_s3_url(const std::string& url, S3Location* out) {
  if (url.rfind("s3://", 0) != 0) return false;
  const std::string rest = url.substr(5);
  const size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = rest.substr(0, slash);
  loc.key = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (!valid_bucket(loc.bucket) || loc.key.find('\0') != std::string::npos || loc.key.size() > 1024) return false;
  *out = loc;
  return true;
}

struct S3Client::Impl {
  storage::Handle handle;

  storage::Reply call(const storage::Call& c) { return storage::perform_retrying(handle, c); }
};

S3Client::S3Client(S3Settings settings) : s_(std::move(settings)), impl_(std::make_unique<Impl>()) {}
S3Client::~S3Client() = default;

std::string S3Client::http_url(const S3Location& loc, const std::string& query) const {
  std::string u;
  if (!s_.endpoint.empty()) u = s_.endpoint + "/" + loc.bucket + "/" + uri_encode(loc.key, true);
  else if (loc.bucket.find('.') != std::string::npos)  // a dotted name breaks the TLS wildcard
    u = "https://s3." + s_.region + ".amazonaws.com/" + loc.bucket + "/" + uri_encode(loc.key, true);
  else u = "https://" + loc.bucket + ".s3." + s_.region + ".amazonaws.com/" + uri_encode(loc.key, true);
  return query.empty() ? u : u + "?" + query;
}

S3Client::Signing S3Client::signing() const {
  Signing g;
  if (s_.access_key.empty()) return g;  // anonymous: a public bucket
  g.sigv4 = "aws:amz:" + s_.region + ":s3";
  g.userpwd = s_.access_key + ":" + s_.secret_key;
  if (!s_.session_token.empty()) g.headers.push_back("x-amz-security-token: " + s_.session_token);
  return g;
}

namespace {
storage::Call make_call(const S3Client& c, const std::string& method, const S3Location& loc, const std::string& query,
                        const std::string* body) {
  storage::Call call;
  call.method = method;
  call.url = c.http_url(loc, query);
  call.body = body;
  const S3Client::Signing g = c.signing();
  call.sigv4 = g.sigv4;
  call.userpwd = g.userpwd;
  call.headers = g.headers;
  static const std::string empty_hash = sha256_hex("");
  call.headers.push_back("x-amz-content-sha256: " + (body ? sha256_hex(*body) : empty_hash));
  return call;
}
}  // namespace

uint64_t S3Client::size(const S3Location& loc) {
  const storage::Reply r = impl_->call(make_call(*this, "HEAD", loc, "", nullptr));
  if (r.status != 200) fail("cannot open", loc, r, s_);
  const auto it = r.headers.find("content-length");
  if (it == r.headers.end()) throw Error(Code::IoError, "no Content-Length for " + loc.url());
  return std::strtoull(it->second.c_str(), nullptr, 10);
}

bool S3Client::exists(const S3Location& loc) {
  try {
    size(loc);
    return true;
  } catch (const Error& e) {
    if (e.code() == Code::NotFound) return false;
    throw;
  }
}

std::vector<S3Object> S3Client::list(const std::string& bucket, const std::string& prefix) {
  std::vector<S3Object> all;
  std::string token;
  const S3Location where{bucket, ""};
  for (int pages = 0;; ++pages) {
    if (pages > 1000000) throw Error(Code::IoError, "listing " + where.url() + prefix + ": too many pages");
    // Query parameters in SigV4's order (sorted by name), values encoded.
    std::string q = token.empty() ? "" : "continuation-token=" + uri_encode(token, false) + "&";
    q += "list-type=2";
    if (!prefix.empty()) q += "&prefix=" + uri_encode(prefix, false);
    const storage::Reply r = impl_->call(make_call(*this, "GET", where, q, nullptr));
    if (r.status != 200) fail("cannot list", S3Location{bucket, prefix}, r, s_);
    S3ListPage page = parse_list_objects_v2(r.body);
    for (auto& o : page.objects) all.push_back(std::move(o));
    if (!page.truncated) break;
    token = page.next_token;
  }
  return all;
}

uint64_t S3Client::read(const S3Location& loc, uint64_t offset, uint64_t n, const std::function<void(const char*, size_t)>& sink) {
  const storage::RangeRead rr = storage::ranged_get(impl_->handle, make_call(*this, "GET", loc, "", nullptr), offset, n, sink);
  if (rr.gave_up) fail("cannot read (gave up after " + std::to_string(rr.attempts) + " tries)", loc, rr.last, s_);
  if (rr.failed) fail("cannot read", loc, rr.last, s_);
  return rr.delivered;
}

void S3Client::put_bytes(const std::string& bytes, const S3Location& loc) {
  const storage::Reply r = impl_->call(make_call(*this, "PUT", loc, "", &bytes));
  if (r.status != 200) fail("cannot upload to", loc, r, s_, Code::OutputError);
}

void S3Client::remove(const S3Location& loc) {
  const storage::Reply r = impl_->call(make_call(*this, "DELETE", loc, "", nullptr));
  if (r.status != 204 && r.status != 200 && r.status != 404) fail("cannot delete", loc, r, s_);
}

void S3Client::put_file(const std::string& path, const S3Location& loc) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw Error(Code::IoError, "cannot read " + path + " to upload it");
  const uint64_t total = static_cast<uint64_t>(f.tellg());
  f.seekg(0);
  auto read_part = [&](uint64_t n) {
    std::string buf(static_cast<size_t>(n), '\0');
    if (!f.read(buf.data(), static_cast<std::streamsize>(n))) throw Error(Code::IoError, "cannot read " + path + " to upload it");
    return buf;
  };
  if (total <= s_.part_size) return put_bytes(read_part(total), loc);

  static const std::string empty;
  storage::Reply r = impl_->call(make_call(*this, "POST", loc, "uploads=", &empty));
  if (r.status != 200) fail("cannot start an upload to", loc, r, s_, Code::OutputError);
  const std::string id = parse_upload_id(r.body);
  const std::string qid = "uploadId=" + uri_encode(id, false);
  try {
    std::string done = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    int part = 0;
    for (uint64_t at = 0; at < total; at += s_.part_size) {
      const std::string bytes = read_part(std::min(s_.part_size, total - at));
      ++part;
      r = impl_->call(make_call(*this, "PUT", loc, "partNumber=" + std::to_string(part) + "&" + qid, &bytes));
      const auto etag = r.headers.find("etag");
      if (r.status != 200 || etag == r.headers.end()) fail("cannot upload part " + std::to_string(part) + " of", loc, r, s_, Code::OutputError);
      std::string e = etag->second;
      std::string esc;
      for (char ch : e) esc += ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;" : std::string(1, ch);
      done += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" + esc + "</ETag></Part>";
    }
    done += "</CompleteMultipartUpload>";
    r = impl_->call(make_call(*this, "POST", loc, qid, &done));
    // S3 may answer 200 and still fail the completion in the body.
    if (r.status != 200 || !parse_s3_error(r.body).empty()) fail("cannot complete the upload to", loc, r, s_, Code::OutputError);
  } catch (...) {
    try {  // readers never see a partial object, and S3 stops keeping the parts
      impl_->call(make_call(*this, "DELETE", loc, qid, nullptr));
    } catch (const Error&) {
    }
    throw;
  }
}

S3Client& s3_client() {
  thread_local std::unique_ptr<S3Client> c;
  if (!c) c = std::make_unique<S3Client>(s3_settings());
  return *c;
}

}  // namespace reel
