#include "driver/sigv4.h"

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

namespace coldlab::driver {
namespace {

std::string hex(const unsigned char* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 15]);
  }
  return out;
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex(digest, sizeof digest);
}

std::string hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

struct Canonical {
  std::string signed_headers;
  std::string request;
};

// The headers a request carries besides those it is given: X-Amz-Date and the session token.
std::vector<std::pair<std::string, std::string>> added_headers(const SigningRequest& r, const AwsCredentials& c) {
  std::vector<std::pair<std::string, std::string>> out = {{"X-Amz-Date", r.amz_date}};
  if (!c.session_token.empty()) out.emplace_back("X-Amz-Security-Token", c.session_token);
  return out;
}

Canonical canonical_request(const SigningRequest& r, const AwsCredentials& c) {
  std::vector<std::pair<std::string, std::string>> headers = {{"host", r.host}};
  for (const auto& [name, value] : r.headers) headers.emplace_back(lower(name), trim(value));
  for (const auto& [name, value] : added_headers(r, c)) headers.emplace_back(lower(name), value);
  std::sort(headers.begin(), headers.end());
  Canonical out;
  std::string lines;
  for (const auto& [name, value] : headers) {
    lines += name + ":" + value + "\n";
    out.signed_headers += (out.signed_headers.empty() ? "" : ";") + name;
  }
  // Services other than S3 sign the path encoded once more.
  std::string path;
  for (char ch : r.path) path += ch == '/' ? std::string("/") : uri_encode(std::string(1, ch));
  out.request = r.method + "\n" + (path.empty() ? "/" : path) + "\n" + r.query + "\n" + lines + "\n" +
                out.signed_headers + "\n" + sha256_hex(r.payload);
  return out;
}

std::string scope(const SigningRequest& r) {
  return r.amz_date.substr(0, 8) + "/" + r.region + "/" + r.service + "/aws4_request";
}

}  // namespace

std::optional<AwsCredentials> credentials_from_environment() {
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (!id || !secret || !*id || !*secret) return std::nullopt;
  const char* token = std::getenv("AWS_SESSION_TOKEN");
  return AwsCredentials{id, secret, token ? token : ""};
}

std::string uri_encode(const std::string& text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(digits[ch >> 4]);
      out.push_back(digits[ch & 15]);
    }
  }
  return out;
}

std::string signature_v4(const SigningRequest& r, const AwsCredentials& c) {
  const Canonical canonical = canonical_request(r, c);
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + r.amz_date + "\n" + scope(r) + "\n" + sha256_hex(canonical.request);
  const std::string key = hmac(hmac(hmac(hmac("AWS4" + c.secret_access_key, r.amz_date.substr(0, 8)), r.region),
                                    r.service),
                               "aws4_request");
  const std::string sig = hmac(key, to_sign);
  return hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

std::vector<std::pair<std::string, std::string>> sign_v4(const SigningRequest& r, const AwsCredentials& c) {
  auto headers = added_headers(r, c);
  headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + c.access_key_id + "/" + scope(r) +
                                            ", SignedHeaders=" + canonical_request(r, c).signed_headers +
                                            ", Signature=" + signature_v4(r, c));
  return headers;
}

std::string amz_date_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<std::string> lambda_endpoint_region(const std::string& endpoint) {
  std::string host = endpoint;
  for (const char* scheme : {"https://", "http://"})
    if (host.rfind(scheme, 0) == 0) host = host.substr(std::string(scheme).size());
  if (!host.empty() && host.back() == '/') host.pop_back();
  if (const auto colon = host.find(':'); colon != std::string::npos) host = host.substr(0, colon);
  std::string rest;
  for (const char* prefix : {"lambda.", "lambda-fips."})
    if (host.rfind(prefix, 0) == 0) rest = host.substr(std::string(prefix).size());
  for (const char* suffix : {".amazonaws.com.cn", ".amazonaws.com"}) {
    const std::string s(suffix);
    if (rest.size() > s.size() && rest.compare(rest.size() - s.size(), s.size(), s) == 0) {
      const std::string region = rest.substr(0, rest.size() - s.size());
      const bool valid = std::all_of(region.begin(), region.end(), [](unsigned char c) {
        return std::islower(c) || std::isdigit(c) || c == '-';
      });
      if (valid) return region;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace coldlab::driver
