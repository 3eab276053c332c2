#include "server/response_compression.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace tb::server {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// q=0, q=0.0, q=0.000: the coding is refused. Anything else (absent, malformed) accepts.
bool refused_by_q(std::string_view params) noexcept {
  while (!params.empty()) {
    const auto semicolon = params.find(';');
    const std::string_view param = trim(params.substr(0, semicolon));
    params = semicolon == std::string_view::npos ? std::string_view{} : params.substr(semicolon + 1);
    if (param.size() < 2 || std::tolower(static_cast<unsigned char>(param[0])) != 'q' || param[1] != '=') continue;
    const std::string_view value = trim(param.substr(2));
    return !value.empty() && value.find_first_not_of("0.") == std::string_view::npos;
  }
  return false;
}

bool is_textual(std::string_view content_type) noexcept {
  return istarts_with(content_type, "text/") || istarts_with(content_type, "application/json") ||
         istarts_with(content_type, "application/xml") || istarts_with(content_type, "application/javascript") ||
         istarts_with(content_type, "image/svg+xml");
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) noexcept {
  bool star = false;
  std::optional<bool> gzip_listed;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    const auto semicolon = item.find(';');
    const std::string_view coding = trim(item.substr(0, semicolon));
    const bool refused = semicolon != std::string_view::npos && refused_by_q(item.substr(semicolon + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) gzip_listed = !refused;
    else if (coding == "*") star = !refused;
  }
  return gzip_listed.value_or(star);
}

bool take_accept_encoding(const httplib::Request& request) {
  // The Request is the server's own mutable object (httplib::Server::process_request).
  auto& headers = const_cast<httplib::Request&>(request).headers;
  bool gzip_ok = false;
  for (auto it = headers.begin(); it != headers.end();) {
    if (iequals(it->first, "Accept-Encoding")) {
      gzip_ok = gzip_ok || accepts_gzip(it->second);
      it = headers.erase(it);
    } else {
      ++it;
    }
  }
  return gzip_ok;
}

std::string gzip(std::string_view data, int level) {
  z_stream z{};
  // 15 window bits + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const auto written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return {};
  out.resize(written);
  return out;
}

void compress_response(bool client_accepts_gzip, httplib::Response& response) {
  if (!client_accepts_gzip || response.body.size() < kMinCompressedBody || response.status == 206 ||
      response.has_header("Content-Encoding") || !is_textual(response.get_header_value("Content-Type")))
    return;
  // Bodies above 4 GiB cannot be given to zlib in one call; no answer of ours is that big.
  if (response.body.size() > 0xffff'ffffu) return;
  std::string compressed = gzip(response.body);
  if (compressed.empty()) return;
  response.body = std::move(compressed);
  response.set_header("Content-Encoding", "gzip");
  response.set_header("Vary", "Accept-Encoding");
  // httplib set Content-Length for the plain body before the post-routing handler runs.
  response.headers.erase("Content-Length");
  response.set_header("Content-Length", std::to_string(response.body.size()));
}

}  // namespace tb::server
