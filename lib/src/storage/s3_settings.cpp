// SPDX-License-Identifier: Apache-2.0
// Where S3 credentials, region and endpoint come from: the AWS CLI's rules (s3.h).
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "reel/core/status.h"
#include "reel/storage/s3.h"

namespace reel {

namespace {
std::mutex g_mu;
std::string g_endpoint, g_profile;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

using Ini = std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>;

const std::vector<std::pair<std::string, std::string>>* section(const Ini& ini, const std::string& name) {
  for (const auto& s : ini)
    if (s.first == name) return &s.second;
  return nullptr;
}

std::string value(const std::vector<std::pair<std::string, std::string>>* sec, const std::string& key) {
  if (!sec) return "";
  for (const auto& kv : *sec)
    if (kv.first == key) return kv.second;
  return "";
}

Ini read_ini(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_aws_ini(ss.str(), path);
}

std::string home_file(const char* env_value, const char* rel, const std::function<const char*(const char*)>& getenv) {
  if (env_value && *env_value) return env_value;
  const char* home = getenv("HOME");
  return std::string(home && *home ? home : ".") + "/" + rel;
}
}  // namespace

void set_s3_overrides(const std::string& endpoint, const std::string& profile) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_endpoint = endpoint;
  g_profile = profile;
}

Ini parse_aws_ini(const std::string& text, const std::string& path) {
  Ini ini;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']') throw Error(Code::InvalidData, path + ":" + std::to_string(n) + ": a section header must end with ']'");
      ini.push_back({trim(line.substr(1, line.size() - 2)), {}});
      continue;
    }
    const size_t eq = line.find('=');
    // The AWS CLI's nested settings ("s3 =" and indented "key = value" lines) read as plain keys.
    if (eq == std::string::npos) throw Error(Code::InvalidData, path + ":" + std::to_string(n) + ": expected 'key = value'");
    if (ini.empty()) throw Error(Code::InvalidData, path + ":" + std::to_string(n) + ": a setting before any [section]");
    std::string key = trim(line.substr(0, eq));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ini.back().second.push_back({key, trim(line.substr(eq + 1))});
  }
  return ini;
}

S3Settings s3_settings(const std::function<const char*(const char*)>& getenv_in) {
  const std::function<const char*(const char*)> getenv = getenv_in ? getenv_in : [](const char* k) { return std::getenv(k); };
  auto env = [&](const char* k) {
    const char* v = getenv(k);
    return std::string(v ? v : "");
  };
  S3Settings s;
  std::string endpoint_override, profile_override;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    endpoint_override = g_endpoint;
    profile_override = g_profile;
  }
  s.profile = !profile_override.empty() ? profile_override : !env("AWS_PROFILE").empty() ? env("AWS_PROFILE") : "default";
  const std::string cred_path = home_file(getenv("AWS_SHARED_CREDENTIALS_FILE"), ".aws/credentials", getenv);
  const std::string conf_path = home_file(getenv("AWS_CONFIG_FILE"), ".aws/config", getenv);
  const Ini creds = read_ini(cred_path), conf = read_ini(conf_path);
  const auto* cred_sec = section(creds, s.profile);
  const auto* conf_sec = section(conf, s.profile == "default" ? "default" : "profile " + s.profile);
  const bool named = s.profile != "default" && (!profile_override.empty() || !env("AWS_PROFILE").empty());
  if (named && !cred_sec && !conf_sec)
    throw Error(Code::InvalidArgument, "S3 profile '" + s.profile + "' is in neither " + cred_path + " nor " + conf_path);

  if (!env("AWS_ACCESS_KEY_ID").empty() && !named) {
    s.access_key = env("AWS_ACCESS_KEY_ID");
    s.secret_key = env("AWS_SECRET_ACCESS_KEY");
    s.session_token = env("AWS_SESSION_TOKEN");
    s.credentials_from = "environment";
  } else if (!value(cred_sec, "aws_access_key_id").empty()) {
    s.access_key = value(cred_sec, "aws_access_key_id");
    s.secret_key = value(cred_sec, "aws_secret_access_key");
    s.session_token = value(cred_sec, "aws_session_token");
    s.credentials_from = cred_path + " [" + s.profile + "]";
  } else if (!value(conf_sec, "aws_access_key_id").empty()) {
    s.access_key = value(conf_sec, "aws_access_key_id");
    s.secret_key = value(conf_sec, "aws_secret_access_key");
    s.session_token = value(conf_sec, "aws_session_token");
    s.credentials_from = conf_path + " [" + s.profile + "]";
  } else {
    s.credentials_from = "none";
  }
  if (!env("AWS_REGION").empty()) s.region = env("AWS_REGION");
  else if (!env("AWS_DEFAULT_REGION").empty()) s.region = env("AWS_DEFAULT_REGION");
  else if (!value(conf_sec, "region").empty()) s.region = value(conf_sec, "region");
  if (!endpoint_override.empty()) s.endpoint = endpoint_override;
  else if (!env("AWS_ENDPOINT_URL_S3").empty()) s.endpoint = env("AWS_ENDPOINT_URL_S3");
  else if (!env("AWS_ENDPOINT_URL").empty()) s.endpoint = env("AWS_ENDPOINT_URL");
  else s.endpoint = value(conf_sec, "endpoint_url");
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (!s.endpoint.empty() && s.endpoint.rfind("http://", 0) != 0 && s.endpoint.rfind("https://", 0) != 0)
    throw Error(Code::InvalidArgument, "S3 endpoint must be an http:// or https:// URL, got '" + s.endpoint + "'");
  if (!env("REEL_S3_PART_MB").empty()) {
    const long mb = std::atol(env("REEL_S3_PART_MB").c_str());
    if (mb < 5 || mb > 5120) throw Error(Code::InvalidArgument, "REEL_S3_PART_MB must be 5..5120 (S3's part sizes)");
    s.part_size = static_cast<uint64_t>(mb) << 20;
  }
  return s;
}

}  // namespace reel
