#include "client/upload.h"

#include <unistd.h>

#include <random>
#include <thread>
#include <utility>

#include <httplib.h>

namespace tb {

namespace {

bool retryable(int status) { return status == 408 || status == 429 || status >= 500; }

bool is_tls_failure(httplib::Error e) {
  return e == httplib::Error::SSLConnection || e == httplib::Error::SSLLoadingCerts ||
         e == httplib::Error::SSLServerVerification;
}

std::string query_escape(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

Expected<UploadResponse> upload_scan(const UploadOptions& options, const GzipTempFile& file, ScanFormat format,
                                     const std::function<void(const std::string&)>& log) {
  auto connection = ServerConnection::open(options.server, options.tls);
  if (!connection) return tl::unexpected(connection.error());
  httplib::Client& client = connection->client();
  client.set_bearer_token_auth(options.token.c_str());
  client.set_connection_timeout(std::chrono::seconds(10));
  client.set_read_timeout(options.timeout);
  client.set_write_timeout(options.timeout);

  std::string query;
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"host", options.host},
                                    {"cluster", options.cluster},
                                    {"role", options.role}})
    if (!value.empty()) query += (query.empty() ? "?" : "&") + std::string(name) + "=" + query_escape(value);
  const std::string path = "/api/v1/scans" + query;
  const httplib::Headers headers{{"Content-Encoding", "gzip"}};
  const char* content_type = format == ScanFormat::json ? "application/json" : "application/xml";
  const int fd = file.fd();
  // Read from the file at the provider's offset, so every attempt sends the whole body.
  auto provider = [fd](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
    char buf[64 * 1024];
    const ssize_t n = ::pread(fd, buf, std::min(length, sizeof buf), static_cast<off_t>(offset));
    if (n <= 0) return false;
    sink.write(buf, static_cast<std::size_t>(n));
    return true;
  };

  std::mt19937 jitter(std::random_device{}());
  auto wait = options.first_wait;
  for (unsigned attempt = 1;; ++attempt) {
    auto res = client.Post(path.c_str(), headers, static_cast<std::size_t>(file.compressed_bytes()), provider,
                           content_type);
    std::string problem;
    if (!res && is_tls_failure(res.error())) {
      // A certificate that does not verify will not verify on the next attempt either.
      return fail(ErrorCode::io, "TLS with " + options.server + " failed: " + httplib::to_string(res.error()) +
                                     " (check --ca-file / --pin against the server's certificate)");
    }
    if (!res) {
      problem = "cannot reach " + options.server + ": " + httplib::to_string(res.error());
    } else if (retryable(res->status)) {
      problem = "server answered " + std::to_string(res->status);
    } else {
      return UploadResponse{res->status, res->body};
    }
    if (attempt >= options.attempts) return fail(ErrorCode::io, problem + " (gave up after " + std::to_string(attempt) + " attempts)");
    // Jitter spreads 10,000 hosts that lost the server at once over the retry window.
    const auto pause = wait + std::chrono::milliseconds(std::uniform_int_distribution<long>(0, wait.count() / 4)(jitter));
    log(problem + "; retrying in " + std::to_string(pause.count()) + " ms");
    std::this_thread::sleep_for(pause);
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::minutes(1));
  }
}

Expected<UploadResponse> fetch_verdict(const UploadOptions& options, const std::string& host, const VerifyQuery& query) {
  auto connection = ServerConnection::open(options.server, options.tls);
  if (!connection) return tl::unexpected(connection.error());
  httplib::Client& client = connection->client();
  client.set_bearer_token_auth(options.token.c_str());
  client.set_connection_timeout(std::chrono::seconds(10));
  client.set_read_timeout(options.timeout);
  std::string path = "/api/v1/hosts/" + query_escape(host) + "/verify?format=text";
  for (const std::string& p : query.expect_patches) path += "&expect_patch=" + query_escape(p);
  if (query.cluster_identical) path += "&cluster_identical=1";
  if (query.allow_deviations) path += "&allow_deviations=1";
  auto res = client.Get(path.c_str());
  if (!res) return fail(ErrorCode::io, "cannot reach " + options.server + ": " + httplib::to_string(res.error()));
  return UploadResponse{res->status, res->body};
}

}  // namespace tb
