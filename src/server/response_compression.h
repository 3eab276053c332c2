// gzip for the server's answers, done by the server rather than by httplib.
//
// Why: Debian's cpp-httplib 0.11 is built with brotli and compresses every textual answer
// with brotli at its default quality (11) whenever the client accepts "br", which every
// browser does. Quality 11 is an archival setting: the dashboard's 2 MiB fleet page took
// 16 s of one core to compress on the 2-core test VM (gzip: 30 ms), which made a page
// that the server builds in 0.2 s render in 15-30 s, and let any client pin a worker
// thread for seconds per request. So the pre-routing handler takes Accept-Encoding away
// from httplib (take_accept_encoding) and the post-routing handler gzips the finished
// answer itself (compress_response).
#pragma once

#include <string>
#include <string_view>

#include <httplib.h>

namespace tb::server {

// Whether an Accept-Encoding value accepts gzip: "gzip" or "*" listed without q=0
// (RFC 9110 12.5.3). Tokens and parameters are case-insensitive.
bool accepts_gzip(std::string_view accept_encoding) noexcept;

// Removes Accept-Encoding from the request so that httplib compresses nothing, and
// returns whether the client accepts gzip. httplib hands handlers a const Request that it
// owns as a mutable object; this is the one place that relies on that.
bool take_accept_encoding(const httplib::Request& request);

// The smallest body worth compressing: below it, gzip's 18-byte frame and the CPU cost
// buy nothing.
inline constexpr std::size_t kMinCompressedBody = 1024;

// gzips `response`'s body in place when the client accepts gzip, the body is textual
// (text/*, JSON, XML, JavaScript, SVG), at least kMinCompressedBody bytes, not already
// encoded, and not a partial (206) answer; sets Content-Encoding, Vary and Content-Length.
// Leaves the answer as it is if compression fails.
void compress_response(bool client_accepts_gzip, httplib::Response& response);

// gzip (RFC 1952) of `data` at zlib level `level`; empty on failure.
std::string gzip(std::string_view data, int level = 6);

}  // namespace tb::server
