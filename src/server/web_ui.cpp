#include "server/web_ui.h"

#include <httplib.h>

#include <string>
#include <vector>

namespace tb::server {
namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const EmbeddedAsset* find_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const EmbeddedAsset& a : embedded_web_assets())
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace

std::string_view web_content_type(std::string_view path) noexcept {
  if (ends_with(path, ".html")) return "text/html; charset=utf-8";
  if (ends_with(path, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(path, ".css")) return "text/css; charset=utf-8";
  if (ends_with(path, ".svg")) return "image/svg+xml";
  if (ends_with(path, ".png")) return "image/png";
  if (ends_with(path, ".ico")) return "image/x-icon";
  return "application/octet-stream";
}

void install_web_ui(httplib::Server& server) {
  // One route per asset: anything else falls through to the API's JSON 404.
  std::vector<std::string> paths{"/"};
  for (const EmbeddedAsset& a : embedded_web_assets()) paths.emplace_back(a.path);
  for (const std::string& path : paths) {
    const EmbeddedAsset* asset = find_asset(path);
    if (asset == nullptr) continue;
    const std::string type(web_content_type(asset->path));
    // Literal match: escape the regex metacharacters a file name may hold (the dot).
    std::string pattern;
    for (char c : path) {
      if (std::string_view(".+*?^$()[]{}|\\").find(c) != std::string_view::npos) pattern += '\\';
      pattern += c;
    }
    server.Get(pattern, [asset, type](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_header("Content-Security-Policy", kContentSecurityPolicy);
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("Cache-Control", "no-cache");
      res.set_content(asset->body.data(), asset->body.size(), type.c_str());
    });
  }
}

}  // namespace tb::server
