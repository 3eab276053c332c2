#include "client/upload.h"

#include <unistd.h>

#include <openssl/rand.h>

#include <cerrno>
#include <optional>
#include <set>
#include <random>
#include <thread>
#include <utility>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "format/chunked_scan.h"

namespace tb {

namespace {

bool retryable(int status) { return status == 408 || status == 429 || status >= 500; }

Expected<Sha256Digest> file_sha256(int fd, std::uint64_t size) {
  Sha256 hasher;
  std::string buf(std::size_t{1} << 16, '\0');
  for (std::uint64_t offset = 0; offset < size;) {
    const ssize_t n = ::pread(fd, buf.data(), std::min<std::uint64_t>(buf.size(), size - offset), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::io, "cannot read the compressed scan back to sign it");
    hasher.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    offset += static_cast<std::uint64_t>(n);
  }
  return hasher.finish();
}

// The X-Trustbase-Signature value for one attempt: now, a random nonce, the body's hash.
Expected<std::string> sign_upload(const SigningKey& key, const std::string& host, const Sha256Digest& body) {
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) return fail(ErrorCode::internal, "no randomness for the scan's nonce");
  static constexpr char hex[] = "0123456789abcdef";
  ScanSignature s;
  for (unsigned char c : random) {
    s.nonce += hex[c >> 4];
    s.nonce += hex[c & 0xF];
  }
  s.time = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  s.signature = key.sign(scan_signature_message(host, s.time, s.nonce, body));
  if (s.signature.empty()) return fail(ErrorCode::internal, "cannot sign the scan");
  return format_signature_header(s);
}

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

// The server connection every request of the scanner uses: its token and timeouts.
Expected<ServerConnection> authenticated_connection(const UploadOptions& options) {
  auto connection = ServerConnection::open(options.server, options.tls);
  if (!connection) return tl::unexpected(connection.error());
  httplib::Client& client = connection->client();
  client.set_bearer_token_auth(options.token.c_str());
  client.set_connection_timeout(std::chrono::seconds(10));
  client.set_read_timeout(options.timeout);
  client.set_write_timeout(options.timeout);
  return connection;
}

}  // namespace

namespace {

std::string scans_path(const UploadOptions& options) {
  std::string query;
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"host", options.host},
                                    {"cluster", options.cluster},
                                    {"role", options.role}})
    if (!value.empty()) query += (query.empty() ? "?" : "&") + std::string(name) + "=" + query_escape(value);
  return "/api/v1/scans" + query;
}

// POSTs a gzip-compressed body of `size` bytes, read through `provider` from the start on
// every attempt, signed per attempt when a key is set; retries what retryable() says.
Expected<UploadResponse> post_with_retries(const UploadOptions& options, httplib::Client& client,
                                           const std::string& path, std::size_t size,
                                           const httplib::ContentProvider& provider, const Sha256Digest* body_sha256,
                                           const char* content_type,
                                           const std::function<void(const std::string&)>& log) {
  const httplib::Headers headers{{"Content-Encoding", "gzip"}};
  std::mt19937 jitter(std::random_device{}());
  auto wait = options.first_wait;
  for (unsigned attempt = 1;; ++attempt) {
    httplib::Headers attempt_headers = headers;
    if (options.signing_key != nullptr) {
      // A fresh time and nonce per attempt: a retry is a new upload, not a replay.
      auto signature = sign_upload(*options.signing_key, options.host, *body_sha256);
      if (!signature) return tl::unexpected(signature.error());
      attempt_headers.emplace(std::string(kScanSignatureHeader), *signature);
      if (options.offer_key)
        attempt_headers.emplace(std::string(kHostKeyHeader), encode_public_key(options.signing_key->public_key()));
    }
    auto res = client.Post(path.c_str(), attempt_headers, size, provider, content_type);
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
      return UploadResponse{res->status, std::move(res->body)};
    }
    if (attempt >= options.attempts) return fail(ErrorCode::io, problem + " (gave up after " + std::to_string(attempt) + " attempts)");
    // Jitter spreads 10,000 hosts that lost the server at once over the retry window.
    const auto pause = wait + std::chrono::milliseconds(std::uniform_int_distribution<long>(0, wait.count() / 4)(jitter));
    log(problem + "; retrying in " + std::to_string(pause.count()) + " ms");
    std::this_thread::sleep_for(pause);
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::minutes(1));
  }
}

// The digests a 409 answer to a chunked upload lists; nullopt for any other answer.
std::optional<std::set<Sha256Digest>> missing_chunks(const UploadResponse& response) {
  if (response.status != 409) return std::nullopt;
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("missing_chunks") || !body["missing_chunks"].is_array()) return std::nullopt;
  std::set<Sha256Digest> missing;
  for (const auto& hex : body["missing_chunks"]) {
    if (!hex.is_string()) return std::nullopt;
    auto digest = Sha256Digest::from_hex(hex.get<std::string>());
    if (!digest) return std::nullopt;
    missing.insert(*digest);
  }
  return missing;
}

}  // namespace

Expected<UploadResponse> upload_scan(const UploadOptions& options, const GzipTempFile& file, ScanFormat format,
                                     const std::function<void(const std::string&)>& log) {
  auto connection = authenticated_connection(options);
  if (!connection) return tl::unexpected(connection.error());
  const int fd = file.fd();
  // Read from the file at the provider's offset, so every attempt sends the whole body.
  auto provider = [fd](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
    char buf[64 * 1024];
    const ssize_t n = ::pread(fd, buf, std::min(length, sizeof buf), static_cast<off_t>(offset));
    if (n <= 0) return false;
    sink.write(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::optional<Sha256Digest> body_sha256;
  if (options.signing_key != nullptr) {
    auto digest = file_sha256(fd, static_cast<std::uint64_t>(file.compressed_bytes()));
    if (!digest) return tl::unexpected(digest.error());
    body_sha256 = *digest;
  }
  return post_with_retries(options, connection->client(), scans_path(options),
                           static_cast<std::size_t>(file.compressed_bytes()), provider,
                           body_sha256 ? &*body_sha256 : nullptr,
                           format == ScanFormat::json ? "application/json" : "application/xml", log);
}

Expected<UploadResponse> upload_chunked_scan(const UploadOptions& options, std::string_view header_document,
                                             std::span<const EncodedChunk> chunks,
                                             const std::function<void(const std::string&)>& log) {
  auto connection = authenticated_connection(options);
  if (!connection) return tl::unexpected(connection.error());
  const std::string path = scans_path(options);
  const std::string content_type(kChunkedScanMediaType);
  // First every chunk by digest; then, as long as the server names chunks it lacks (a
  // second time only if another upload raced this one), with those chunks' content.
  std::set<Sha256Digest> send;
  for (int round = 0;; ++round) {
    auto body = gzip_bytes(encode_chunked_scan(header_document, chunks,
                                               [&](const Sha256Digest& d) { return send.count(d) > 0; }));
    if (!body) return tl::unexpected(body.error());
    auto provider = [&body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
      sink.write(body->data() + offset, std::min(length, body->size() - offset));
      return true;
    };
    const Sha256Digest body_sha256 = Sha256::of(*body);
    auto response = post_with_retries(options, connection->client(), path, body->size(), provider, &body_sha256,
                                      content_type.c_str(), log);
    if (!response) return response;
    auto missing = missing_chunks(*response);
    if (!missing || round == 2) return response;
    send.insert(missing->begin(), missing->end());
  }
}

Expected<UploadResponse> fetch_verdict(const UploadOptions& options, const std::string& host, const VerifyQuery& query) {
  auto connection = authenticated_connection(options);
  if (!connection) return tl::unexpected(connection.error());
  httplib::Client& client = connection->client();
  std::string path = "/api/v1/hosts/" + query_escape(host) + "/verify?format=json";
  for (const std::string& p : query.expect_patches) path += "&expect_patch=" + query_escape(p);
  if (query.cluster_identical) path += "&cluster_identical=1";
  if (query.allow_deviations) path += "&allow_deviations=1";
  auto res = client.Get(path.c_str());
  if (!res) return fail(ErrorCode::io, "cannot reach " + options.server + ": " + httplib::to_string(res.error()));
  return UploadResponse{res->status, std::move(res->body)};
}

}  // namespace tb
