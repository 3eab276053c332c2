// The dashboard: the files of web/ (HTML, JavaScript, CSS), compiled into the binary by
// cmake/embed_files.cmake, served at / without authentication (they hold no data: the
// page asks for a token and calls the JSON API with it). Every static answer carries a
// Content-Security-Policy that allows only the server's own scripts and styles, so data
// shown by the page can never run as code even if an escaping bug let markup through.
#pragma once

#include <span>
#include <string_view>

namespace httplib {
class Server;
}

namespace tb::server {

struct EmbeddedAsset {
  std::string_view path;  // "/index.html", "/app.js"...
  std::string_view body;
};

// Every embedded file (generated source).
std::span<const EmbeddedAsset> embedded_web_assets();

// The Content-Type for an asset path by its extension (application/octet-stream if unknown).
std::string_view web_content_type(std::string_view path) noexcept;

// Serves the embedded assets with GET (and HEAD): "/" is /index.html.
void install_web_ui(httplib::Server& server);

}  // namespace tb::server
