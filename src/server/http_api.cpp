#include "server/http_api.h"

#include <httplib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/analysis.h"
#include "core/path.h"
#include "fleet/fleet_view.h"
#include "format/analysis_report.h"
#include "format/byte_sink.h"
#include "format/byte_source.h"
#include "format/chunked_scan.h"
#include "format/fleet_report.h"
#include "server/auth.h"
#include "server/fleet_api.h"
#include "server/json_reply.h"
#include "server/request_log.h"
#include "server/response_compression.h"
#include "server/spool.h"
#include "server/web_ui.h"
#include "sources/directory_source.h"

namespace tb::server {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// What the access log needs to know about the request being served. httplib serves a
// connection's requests on one pool thread, from the pre-routing handler to the logger,
// and hands handlers a const Request: so the state lives in a thread_local, reset by the
// pre-routing handler and consumed by the logger.
struct RequestState {
  bool routed = false;  // false: the request failed before routing (bad request line...)
  Clock::time_point start;
  std::optional<TokenInfo> token;
  const Logger* logger = nullptr;  // the API's, set with the rest by the pre-routing handler
  bool accepts_gzip = false;       // the client's Accept-Encoding (server/response_compression.h)
};
thread_local RequestState t_state;

// A failure of the server (store, spool, internal) for the operator: through the API's
// logger while a request is being served, as a plain line otherwise.
void log_problem(LogLevel level, const std::string& message) {
  if (t_state.logger != nullptr)
    t_state.logger->log(level, message);
  else
    write_log_line("trustbase serve: " + message + "\n");
}

void reply_store_error(httplib::Response& res, const Error& e) {
  log_problem(LogLevel::error, e.message);
  reply_error(res, status_for(e), e.message);
}

const char* reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 401:
      return "authentication required";
    case 403:
      return "forbidden";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 409:
      return "conflict";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 415:
      return "unsupported content encoding";
    case 416:
      return "range not satisfiable";
    case 503:
      return "service unavailable";
    default:
      return status >= 500 ? "internal server error" : "request refused";
  }
}

// The analysis of `scan` as `trustbase report host --format json` prints it.
struct Judged {
  std::string report;
  bool clean = false;
};

// An analysis of a scan with this header, as a report.
Expected<Judged> render_judgement(const Analysis& analysis, const ScanHeader& header, const std::string& host,
                                  bool include_absent, ReportFormat format = ReportFormat::json) {
  Judged out;
  StringSink sink(out.report);
  const AnalysisContext context{&header, host, include_absent};
  if (auto r = write_analysis_report(format, context, analysis, sink); !r) return tl::unexpected(r.error());
  out.clean = is_clean(analysis);
  return out;
}

// The answer to a posted scan: the verdict in counts, and where the whole report is. The
// report of a real host (100k+ files) runs to tens of megabytes; a scanner wants the
// verdict, and a person reads the report from report_url.
//   "summary": {"signatures": {state: count, ...} (every state met, absent included),
//               "deviations": {"added": a, "removed": r, "modified": m},
//               "inventory_issues": k (those that make the host unclean),
//               "unverified": u (packages listed at a version no signature has)}
std::string verdict_summary_json(const Analysis& analysis) {
  std::array<std::size_t, static_cast<std::size_t>(kLastSignatureState) + 1> states{};
  for (const SignatureVerdict& v : analysis.verdicts) ++states[static_cast<std::size_t>(v.state)];
  std::size_t added = 0, removed = 0, modified = 0;
  for (const FileDeviation& d : analysis.deviations)
    ++(d.change == Change::added ? added : d.change == Change::removed ? removed : modified);
  std::string o = "{\"signatures\":{";
  bool first = true;
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i] == 0) continue;
    o += fmt::format("{}\"{}\":{}", first ? "" : ",", to_string(static_cast<SignatureState>(i)), states[i]);
    first = false;
  }
  const std::size_t blocking = analysis.inventory ? blocking_inventory_issues(*analysis.inventory) : 0;
  const std::size_t unverified = analysis.inventory ? analysis.inventory->unknown_version : 0;
  o += fmt::format("}},\"deviations\":{{\"added\":{},\"removed\":{},\"modified\":{}}}", added, removed, modified);
  o += fmt::format(",\"inventory_issues\":{},\"unverified\":{}}}", blocking, unverified);
  return o;
}

// A path segment, percent-encoded (RFC 3986 unreserved characters kept).
std::string path_segment(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

// Where the analysis of a host's latest scan is read (GET, as Api::host_report serves it).
std::string host_report_url(std::string_view host) {
  return "/api/v1/hosts/" + path_segment(host) + "/report";
}

// The analysis of a scan from the analysis of its manifest (which the cache keeps): the
// inventory check depends on the scan alone.
Analysis with_inventory(const Analysis& of_manifest, const ScanHeader& header) {
  Analysis out = of_manifest;
  if (header.inventory) out.inventory = check_inventory(*header.inventory, out.verdicts);
  return out;
}

// The token authenticate() accepted for this request. Every route but health is under
// /api/ and so authenticated; a route added outside it gets a 401 rather than a crash.
const TokenInfo* current_token(httplib::Response& res) {
  if (t_state.token) return &*t_state.token;
  reply_error_and_close(res, 401, "authentication required");
  return nullptr;
}

bool flag(const httplib::Request& req, const char* name) {
  const std::string v = req.get_param_value(name);
  return v == "1" || v == "true" || v == "yes";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The media type of a Content-Type or Accept item, without parameters, in lower case.
std::string media_type(std::string_view value) {
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return lower(std::string(value));
}

// The report format asked for: ?format=json|xml|text, else an Accept header that names
// application/xml or text/xml (and not JSON first), else JSON.
std::optional<ReportFormat> wanted_format(const httplib::Request& req) {
  if (req.has_param("format")) return report_format_from_string(req.get_param_value("format"));
  const std::string accept = lower(req.get_header_value("Accept"));
  const auto xml = std::min(accept.find("application/xml"), accept.find("text/xml"));
  if (xml != std::string::npos && xml < accept.find("application/json")) return ReportFormat::xml;
  return ReportFormat::json;
}

const char* content_type(ReportFormat format) {
  switch (format) {
    case ReportFormat::json:
      return "application/json";
    case ReportFormat::xml:
      return "application/xml";
    case ReportFormat::text:
      return "text/plain; charset=utf-8";
  }
  return "application/json";
}

// A query parameter that names something (a signature, a cluster): plain text of at
// most `max` bytes; empty when absent. nullopt (with `why` set) when it is unusable.
std::optional<std::string> text_param(const httplib::Request& req, const char* name, std::size_t max,
                                      std::string& why) {
  std::string value = req.get_param_value(name);
  if (value.size() > max) {
    why = std::string("?") + name + "= is longer than " + std::to_string(max) + " bytes";
    return std::nullopt;
  }
  if (!is_plain_text(value)) {
    why = std::string("?") + name + "= must be plain text (UTF-8, no control characters)";
    return std::nullopt;
  }
  return value;
}

constexpr std::size_t kMaxNameBytes = 255;

// A body that could not be read as a scan: 413 beyond a bound, 400 when malformed, a
// server error when the spool could not be read.
void reply_bad_upload(httplib::Response& res, const Error& e, const std::string& prefix) {
  if (e.code == ErrorCode::io || e.code == ErrorCode::internal) return reply_store_error(res, e);
  reply_error(res, e.code == ErrorCode::limit ? 413 : 400, prefix + e.message);
}

// A request body as received: spooled (server/spool.h), still compressed if it was sent so.
struct Upload {
  Spool file;
  bool compressed = false;
};

// A spooled body as it was meant: inflated on the way when it came compressed.
class UploadBody {
 public:
  explicit UploadBody(const Upload& upload) : file_(upload.file.source("the spooled request body")) {
    if (upload.compressed) inflated_.emplace(*file_);
  }
  ByteSource& source() { return inflated_ ? static_cast<ByteSource&>(*inflated_) : *file_; }

 private:
  std::unique_ptr<ByteSource> file_;
  std::optional<GunzipSource> inflated_;
};

class Api {
 public:
  Api(SharedStore& store, ApiOptions options) : store_(store), options_(std::move(options)) {
    options_.limits.max_document_bytes = std::min(options_.limits.max_document_bytes, options_.max_body_bytes);
    if (options_.spool_dir.empty()) options_.spool_dir = default_spool_dir();
  }

  httplib::Server::HandlerResponse authenticate(const httplib::Request& req, httplib::Response& res);
  void post_scan(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void post_signature(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void host_report(const httplib::Request& req, httplib::Response& res);
  void host_scans(const httplib::Request& req, httplib::Response& res);
  void host_verify(const httplib::Request& req, httplib::Response& res);
  void signatures(const httplib::Request& req, httplib::Response& res);
  void hosts(const httplib::Request& req, httplib::Response& res);

 private:
  std::optional<Upload> receive(const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader);
  std::optional<ScanDocument> parse_upload(const Upload& upload, httplib::Response& res);
  // A chunked upload read, every chunk at hand. `scan` holds what `assembled.chunks`
  // points into (behind a pointer: it must not move) and the chunks sent, for the cache
  // once stored. Assembled only when needed: a manifest the analysis cache knows is not.
  struct ChunkedUpload {
    std::unique_ptr<ChunkedScan> scan;
    std::vector<SharedChunk> stored;         // scan->referenced, decoded
    std::optional<Sha256Digest> chunk_list;  // chunk_list_of(): names the manifest
    std::optional<AssembledScan> assembled;
  };
  std::optional<ChunkedUpload> parse_chunked_upload(const Upload& upload, httplib::Response& res);
  // Puts the manifest together into upload.assembled; on failure replies (400) and returns false.
  bool assemble(ChunkedUpload& upload, httplib::Response& res);

  SharedStore& store_;
  ApiOptions options_;

 public:
  const ApiOptions& options() const { return options_; }
};

httplib::Server::HandlerResponse Api::authenticate(const httplib::Request& req, httplib::Response& res) {
  using R = httplib::Server::HandlerResponse;
  if (req.path == "/api/v1/health" || req.path.rfind("/api/", 0) != 0) return R::Unhandled;
  const std::string header = req.get_header_value("Authorization");
  const auto token = bearer_token(header);
  if (!token) {
    res.set_header("WWW-Authenticate", "Bearer");
    reply_error_and_close(res, 401, "missing bearer token (Authorization: Bearer <token>)");
    return R::Handled;
  }
  auto found = store_.with([&](Store& s) { return s.find_token(*token); });
  if (!found) {
    reply_store_error(res, found.error());
    res.set_header("Connection", "close");
    return R::Handled;
  }
  if (!*found) {
    res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    reply_error_and_close(res, 401, "unknown or revoked token");
    return R::Handled;
  }
  t_state.token = std::move(**found);
  return R::Unhandled;
}

// Receives the body into a spool (memory, then a file), bounded by max_body_bytes as it arrives (413 at
// once past it, the connection closed). On failure replies and returns nullopt.
std::optional<Upload> Api::receive(const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
  const std::string coding = lower(req.get_header_value("Content-Encoding"));
  bool compressed = false;
  if (coding == "gzip" || coding == "x-gzip" || coding == "deflate") {
    compressed = true;
  } else if (!coding.empty() && coding != "identity") {
    reply_error_and_close(res, 415, "unsupported Content-Encoding '" + coding + "' (send identity, gzip or deflate)");
    return std::nullopt;
  }
  const std::string too_big = fmt::format("the request body exceeds {} bytes", options_.max_body_bytes);
  if (req.has_header("Content-Length")) {  // announced too big: refuse before reading a byte
    const std::string announced = req.get_header_value("Content-Length");
    std::uint64_t length = 0;
    const auto [end, ec] = std::from_chars(announced.data(), announced.data() + announced.size(), length);
    if (ec != std::errc() || end != announced.data() + announced.size()) {
      reply_error_and_close(res, 400, "bad Content-Length");
      return std::nullopt;
    }
    if (length > options_.max_body_bytes) {
      reply_error_and_close(res, 413, too_big);
      return std::nullopt;
    }
  }
  Spool spool(options_.spool_dir);
  // httplib 0.11 inflates a gzip or deflate body before the ContentReader sees it. The
  // spool wants the bytes as sent (several times smaller on disk; inflated later, bounded
  // by the reader's limit), so the coding is hidden from httplib. The Request is
  // httplib's own mutable object, handed to handlers as const.
  if (compressed) const_cast<httplib::Request&>(req).headers.erase("Content-Encoding");
  bool exceeded = false;
  std::optional<Error> write_error;
  const bool read = reader([&](const char* data, std::size_t size) {
    if (size > options_.max_body_bytes - spool.size()) {
      exceeded = true;
      return false;
    }
    if (auto ok = spool.append(std::string_view(data, size)); !ok) {
      write_error = ok.error();
      return false;
    }
    return true;
  });
  if (exceeded || res.status == 413) {
    reply_error_and_close(res, 413, too_big);
    return std::nullopt;
  }
  if (write_error) {  // a large body, and the spool directory gone or full
    log_problem(LogLevel::error, write_error->message);
    reply_error_and_close(res, 503, "the server cannot take uploads now (" + write_error->message + ")");
    return std::nullopt;
  }
  if (!read) {
    reply_error_and_close(res, 400, "the request body could not be read");
    return std::nullopt;
  }
  return Upload{std::move(spool), compressed};
}

// Parses a spooled scan document, inflating it on the way when it came compressed: the
// text is never held whole. On failure replies (400, 413 beyond the size bound) and
// returns nullopt.
std::optional<ScanDocument> Api::parse_upload(const Upload& upload, httplib::Response& res) {
  UploadBody text(upload);
  auto doc = parse_scan(text.source(), options_.limits);
  if (doc) return std::move(*doc);
  reply_bad_upload(res, doc.error(), "invalid scan document: ");
  return std::nullopt;
}

// A chunked upload (format/chunked_scan.h): the chunks it names by digest come from the
// chunk cache or else the store; when some are in neither, 409 with their digests, and
// nothing is stored.
std::optional<Api::ChunkedUpload> Api::parse_chunked_upload(const Upload& upload, httplib::Response& res) {
  UploadBody body(upload);
  // The header document is parsed once the chunks are all there: a 409 needs only them.
  auto scan = read_chunked_scan(body.source(), options_.limits, HeaderDocument::deferred);
  if (!scan) {
    reply_bad_upload(res, scan.error(), "invalid chunked scan: ");
    return std::nullopt;
  }
  const auto reply_missing = [&](json missing) {
    reply(res, 409,
          dump(json{{"error", std::to_string(missing.size()) + " of the chunks are not stored: send them"},
                    {"missing_chunks", std::move(missing)}}));
  };
  std::vector<SharedChunk> chunks = store_.chunk_cache().find(scan->referenced);
  std::vector<Sha256Digest> uncached;
  std::vector<std::size_t> where;  // uncached[k] is scan->referenced[where[k]]
  for (std::size_t i = 0; i < chunks.size(); ++i)
    if (!chunks[i]) {
      uncached.push_back(scan->referenced[i]);
      where.push_back(i);
    }
  // A body with no chunk content is usually a scanner's first round: ask the store which
  // chunks it has (an index look-up) before reading any.
  if (scan->sent.empty() && !uncached.empty()) {
    auto held = store_.with([&](Store& s) { return s.has_chunks(uncached); });
    if (!held) {
      reply_store_error(res, held.error());
      return std::nullopt;
    }
    json missing = json::array();
    for (std::size_t k = 0; k < held->size(); ++k)
      if (!(*held)[k]) missing.push_back(uncached[k].hex());
    if (!missing.empty()) {
      reply_missing(std::move(missing));
      return std::nullopt;
    }
  }
  if (!uncached.empty()) {
    auto stored = store_.with([&](Store& s) { return s.find_chunks(uncached); });
    if (!stored) {
      reply_store_error(res, stored.error());
      return std::nullopt;
    }
    json missing = json::array();
    std::vector<SharedChunk> read;
    for (std::size_t k = 0; k < stored->size(); ++k) {
      if (!(*stored)[k]) {
        missing.push_back(uncached[k].hex());
        continue;
      }
      auto chunk = decode_stored_chunk(uncached[k], *(*stored)[k], options_.limits);
      if (!chunk) {
        reply_bad_upload(res, chunk.error(), "invalid chunked scan: ");
        return std::nullopt;
      }
      chunks[where[k]] = *chunk;
      read.push_back(std::move(*chunk));
    }
    if (!missing.empty()) {
      reply_missing(std::move(missing));
      return std::nullopt;
    }
    store_.chunk_cache().add(read);
  }
  if (auto header = parse_chunked_header(*scan, options_.limits); !header) {
    reply_bad_upload(res, header.error(), "invalid chunked scan: ");
    return std::nullopt;
  }
  ChunkedUpload out;
  out.scan = std::make_unique<ChunkedScan>(std::move(*scan));
  out.chunk_list = chunk_list_of(*out.scan, chunks);
  out.stored = std::move(chunks);
  return out;
}

bool Api::assemble(ChunkedUpload& upload, httplib::Response& res) {
  auto assembled = assemble_chunked_scan(*upload.scan, upload.stored, options_.limits);
  if (!assembled) {
    reply_bad_upload(res, assembled.error(), "invalid chunked scan: ");
    return false;
  }
  upload.assembled = std::move(*assembled);
  return true;
}

void Api::post_scan(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const TokenInfo* authenticated = current_token(res);
  if (authenticated == nullptr) return;
  const TokenInfo& token = *authenticated;
  const bool enrolling = token.role == TokenRole::enrol;
  const std::string requested = req.get_param_value("host");
  const bool chunked = media_type(req.get_header_value("Content-Type")) == kChunkedScanMediaType;
  // Refuse before reading what may be hundreds of megabytes.
  if (auto refused = may_post_scans(token)) return reply_refusal(res, *refused, true);
  if (!requested.empty() || enrolling) {
    auto host = scan_host_for(token, requested, {});
    if (!host) return reply_refusal(res, host.error(), true);
  }
  std::string cluster, role;  // enrolment: where the host says it belongs (both or neither)
  if (enrolling) {
    std::string why;
    auto name = text_param(req, "host", kMaxNameBytes, why);
    auto c = name ? text_param(req, "cluster", kMaxNameBytes, why) : std::nullopt;
    auto r = c ? text_param(req, "role", kMaxNameBytes, why) : std::nullopt;
    if (!r) return reply_error_and_close(res, 400, why);
    if (c->empty() != r->empty()) return reply_error_and_close(res, 400, "give both ?cluster= and ?role=, or neither");
    cluster = std::move(*c);
    role = std::move(*r);
    if (!cluster.empty()) {
      // Enrolment joins a cluster an admin created; it never creates one.
      auto clusters = store_.with([&](Store& s) { return s.list_clusters(); });
      if (!clusters) return reply_store_error(res, clusters.error());
      if (std::none_of(clusters->begin(), clusters->end(), [&](const ClusterListing& l) { return l.name == cluster; }))
        return reply_error_and_close(
            res, 400, "no cluster named '" + cluster + "' (an admin adds it with trustbase cluster add)");
    }
  }

  auto signing = read_signing_headers(req.get_header_value(std::string(kScanSignatureHeader).c_str()),
                                      req.get_header_value(std::string(kHostKeyHeader).c_str()));
  if (!signing) return reply_refusal(res, signing.error(), true);
  if (signing->offered_key && !enrolling)
    return reply_error_and_close(res, 400, "a host key is offered only with an enrolment (an admin sets it otherwise)");

  auto upload = receive(req, res, reader);
  if (!upload) return;
  Sha256Digest body_sha256;
  if (signing->signature) {
    auto digest = upload->file.sha256();
    if (!digest) return reply_store_error(res, digest.error());
    body_sha256 = *digest;
  }
  std::optional<ScanDocument> doc;
  std::optional<ChunkedUpload> chunked_upload;
  if (chunked) {
    chunked_upload = parse_chunked_upload(*upload, res);
    // The header for now; the manifest once assembled (below), unless it is known.
    if (chunked_upload) doc = chunked_upload->scan->document;
  } else {
    doc = parse_upload(*upload, res);
  }
  upload.reset();  // the spool's disk space is not needed any more
  if (!doc) return;
  auto host = scan_host_for(token, requested, doc->header.host.hostname);
  if (!host) return reply_refusal(res, host.error());
  // A document dated in the future would stay its host's latest scan for ever.
  if (auto why = implausible_start(doc->header, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count())) {
    log_problem(LogLevel::warn, fmt::format("scan for {} refused (token {}): {}", *host, token.name, *why));
    return reply_error(res, 400, "scan refused: " + *why);
  }

  // Signed scans: checked against the host's registered key (on enrolment, the key it
  // offers, registered below once the enrolment holds); the nonce is claimed before the
  // scan is stored, so a replay stores nothing.
  std::optional<std::string> host_key = signing->offered_key;
  std::optional<std::int64_t> generation;  // read with the key: the index below needs no look-up of its own
  if (!enrolling) {
    auto context = store_.with([&](Store& s) { return s.scan_context(*host); });
    if (!context) return reply_store_error(res, context.error());
    host_key = std::move(context->host_key);
    generation = context->signature_generation;
  }
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (auto refused = check_signed_scan(options_.signing, *signing, *host, host_key, body_sha256, now_s)) {
    log_problem(LogLevel::warn, fmt::format("scan for {} refused (token {}): {}", *host, token.name, refused->message));
    return reply_refusal(res, *refused);
  }
  if (signing->signature && !enrolling) {
    const ScanSignature& sig = *signing->signature;
    auto fresh = store_.write(
        [&](Store& s) { return s.claim_nonce(*host, sig.nonce, sig.time, now_s - 2 * options_.signing.window_s); });
    if (!fresh) return reply_store_error(res, fresh.error());
    if (!*fresh) {
      log_problem(LogLevel::warn, fmt::format("replayed scan for {} refused (token {})", *host, token.name));
      return reply_error(res, 409, "signed scan refused: this upload (nonce " + sig.nonce + ") was received before");
    }
  }

  // The index first: a scan is acknowledged (stored) only when it can also be judged.
  auto index = store_.index(generation);
  if (!index) return reply_store_error(res, index.error());
  std::int64_t scan_id = 0;
  std::optional<Enrolment> enrolment;
  std::string placement_problem;
  // A chunked scan of a manifest already stored and analysed with this index (a cluster
  // member like another, a host rescanning unchanged files): its row alone is written
  // and the analysis is reused, with nothing put together or judged again.
  std::shared_ptr<const Analysis> known;
  std::size_t records = 0;
  const std::optional<Sha256Digest> inventory_key =
      doc->header.inventory ? std::optional(inventory_digest(*doc->header.inventory)) : std::nullopt;
  if (chunked_upload && chunked_upload->chunk_list && !enrolling) {
    known = store_.analysis_cache().find(*chunked_upload->chunk_list, doc->header.roots, *index, inventory_key);
    if (known) {
      auto id =
          store_.write([&](Store& s) { return s.put_scan_of_manifest(*host, *doc, *chunked_upload->chunk_list); });
      if (!id) return reply_store_error(res, id.error());
      if (*id) {
        scan_id = **id;
        for (const ChunkedScan::Sent& c : chunked_upload->scan->sent) records += c.chunk->records.size();
        for (const SharedChunk& c : chunked_upload->stored) records += c->records.size();
      } else {
        known.reset();  // not in this store after all: stored whole below
      }
    }
  }
  // A new manifest of a chunked scan is stored from its chunks and judged from their
  // records in place: no Manifest is built (no record copied) unless an enrolment needs
  // one or the chunks are not a manifest's split in order.
  std::optional<OrderedChunkedScan> ordered;
  if (!known && chunked_upload && !enrolling) {
    auto o = order_chunked_scan(*chunked_upload->scan, chunked_upload->stored, options_.limits);
    if (!o) return reply_bad_upload(res, o.error(), "invalid chunked scan: ");
    ordered = std::move(*o);
  }
  if (!known && chunked_upload && !ordered) {
    if (!assemble(*chunked_upload, res)) return;
    doc->manifest = std::move(chunked_upload->assembled->document.manifest);
  }
  if (known) {
    // stored above
  } else if (enrolling) {
    // Placed only once enrolled: a refused claim must not move an enrolled host. The
    // shared store's lock keeps the two steps together within this server.
    bool keyed_already = false;
    auto enrolled = store_.with([&](Store& s) -> Expected<std::optional<Enrolment>> {
      // A host with a registered signing key proves itself with that key: an enrolment
      // token must not replace it (nor post unsigned scans for it). An admin removes the
      // key to let the host enrol again.
      auto stored_key = s.host_key(*host);
      if (!stored_key) return tl::unexpected(stored_key.error());
      if (*stored_key) {
        keyed_already = true;
        return std::optional<Enrolment>();
      }
      auto e = s.enrol_host(*host, *doc);
      if (e && *e && !cluster.empty())
        if (auto placed = s.set_host(*host, cluster, role, "enrolment (token " + token.name + ")"); !placed)
          placement_problem = placed.error().message;
      return e;
    });
    if (!enrolled) return reply_store_error(res, enrolled.error());
    if (keyed_already) {
      log_problem(LogLevel::warn,
                  fmt::format("enrolment of {} refused (token {}): the host has a signing key", *host, token.name));
      return reply_error(res, 409,
                         "host '" + *host +
                             "' has a registered signing key: an enrolment cannot replace it (an admin removes the "
                             "key first)");
    }
    if (!*enrolled)
      return reply_error(res, 409,
                         "host '" + *host +
                             "' is enrolled already (it has a live host token): post with that token, or revoke it "
                             "to enrol the host again");
    enrolment = std::move(**enrolled);
    scan_id = enrolment->scan_id;
    if (host_key) {
      auto keyed = store_.with([&](Store& s) -> Expected<bool> {
        if (auto r = s.set_host_key(*host, *host_key, "enrolment (token " + token.name + ")"); !r)
          return tl::unexpected(r.error());
        const ScanSignature& sig = *signing->signature;
        return s.claim_nonce(*host, sig.nonce, sig.time, now_s - 2 * options_.signing.window_s);
      });
      if (!keyed) placement_problem += (placement_problem.empty() ? "" : "; ") + keyed.error().message;
    }
  } else {
    const std::span<const ManifestChunkRef> chunks =
        ordered          ? std::span<const ManifestChunkRef>(ordered->chunks)
        : chunked_upload ? std::span<const ManifestChunkRef>(chunked_upload->assembled->chunks)
                         : std::span<const ManifestChunkRef>();
    auto id = store_.write([&](Store& s) { return s.put_scan(*host, *doc, chunks); });
    if (!id && ordered && id.error().code == ErrorCode::not_found) {
      // A chunk known as stored is not in the store after all (it never deletes one, but a
      // store is a disk): put together, the store encodes it from the manifest.
      ordered.reset();
      if (!assemble(*chunked_upload, res)) return;
      doc->manifest = std::move(chunked_upload->assembled->document.manifest);
      id = store_.write([&](Store& s) { return s.put_scan(*host, *doc, chunked_upload->assembled->chunks); });
    }
    if (!id) return reply_store_error(res, id.error());
    scan_id = *id;
    if (chunked_upload) {  // stored now: the next uploads may name them
      std::vector<SharedChunk> sent;
      for (const ChunkedScan::Sent& c : chunked_upload->scan->sent) sent.push_back(c.chunk);
      store_.chunk_cache().add(sent);
    }
  }
  if (!known) records = ordered ? ordered->records.size() : doc->manifest.size();
  if (options_.metrics != nullptr) options_.metrics->scan_ingested(records);
  const auto analysis_start = Clock::now();
  if (!known) {
    AnalysisOptions analysis_options;
    analysis_options.roots = doc->header.roots;
    if (doc->header.inventory) analysis_options.inventory = &*doc->header.inventory;
    // In place, each record's PathId comes from its chunk's look-ups, kept with the chunk.
    auto of_manifest = std::make_shared<const Analysis>(
        ordered ? analyze(ordered->records, ordered->path_ids(*index), **index, analysis_options)
                : analyze(doc->manifest, **index, analysis_options));
    // Stored under that chunk list (put_scan named it so): the next scan of it may reuse this.
    const bool stored_by_chunks =
        ordered ? !ordered->chunks.empty() : chunked_upload && !chunked_upload->assembled->chunks.empty();
    if (stored_by_chunks && chunked_upload->chunk_list)
      store_.analysis_cache().add(*chunked_upload->chunk_list, doc->header.roots, *index, of_manifest, inventory_key);
    known = std::move(of_manifest);
  }
  // The cached analysis as it is, unless this scan's inventory has to be checked against it.
  std::optional<Analysis> with_scan_inventory;
  if (doc->header.inventory) with_scan_inventory = with_inventory(*known, doc->header);
  const Analysis& analysis = with_scan_inventory ? *with_scan_inventory : *known;
  const bool clean = is_clean(analysis);
  std::string summary = verdict_summary_json(analysis);
  if (options_.metrics != nullptr) options_.metrics->observe_analysis(Clock::now() - analysis_start);
  std::string out = "{\"scan_id\":" + std::to_string(scan_id) + ",\"host\":" + dump(json(*host)) +
                    ",\"clean\":" + (clean ? "true" : "false");
  // The host's own token, this once (it is stored hashed): the scanner keeps it.
  if (enrolment)
    out +=
        ",\"host_token\":" + dump(json(enrolment->token)) + ",\"host_token_name\":" + dump(json(enrolment->token_name));
  if (!placement_problem.empty()) {  // enrolled all the same: the token must reach the host
    log_problem(LogLevel::warn, fmt::format("enrolled {} but could not place it: {}", *host, placement_problem));
    out += ",\"warning\":" + dump(json("enrolled, but cluster and role were not recorded: " + placement_problem));
  }
  out += ",\"summary\":" + summary;
  out += ",\"report_url\":" + dump(json(host_report_url(*host)));
  out += "}";
  reply(res, 201, std::move(out));
}

// POST /api/v1/signatures?name=N&version=V[&kind=product|patch][&patches=N@V]
//   [&supersedes=N@V]...[&vendor=..][&install_root=/]: a signature from the body, which is
// a scan document today; package uploads (.deb, .rpm) will be told apart by Content-Type.
void Api::post_signature(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const TokenInfo* token = current_token(res);
  if (token == nullptr) return;
  if (auto refused = may_import_signatures(*token)) return reply_refusal(res, *refused, true);
  const std::string type = media_type(req.get_header_value("Content-Type"));
  if (!type.empty() && type != "application/xml" && type != "text/xml" && type != "application/json")
    return reply_error_and_close(
        res, 415,
        "unsupported Content-Type '" + type + "': send a scan document as application/xml or application/json");

  SignatureInfo info;
  std::string why;
  auto name = text_param(req, "name", kMaxNameBytes, why);
  auto version = name ? text_param(req, "version", kMaxNameBytes, why) : std::nullopt;
  auto vendor = version ? text_param(req, "vendor", kMaxNameBytes, why) : std::nullopt;
  if (!vendor) return reply_error_and_close(res, 400, why);
  if (name->empty() || version->empty())
    return reply_error_and_close(res, 400, "give the signature's ?name= and ?version=");
  if (version->find('@') != std::string::npos)
    return reply_error_and_close(res, 400, "?version= may not contain '@' (signatures are named name@version)");
  info.ref = SignatureRef{std::move(*name), std::move(*version)};
  info.vendor = std::move(*vendor);
  const std::string kind = req.has_param("kind") ? req.get_param_value("kind") : "product";
  const auto parsed_kind = signature_kind_from_string(kind);
  if (!parsed_kind) return reply_error_and_close(res, 400, "?kind= wants product or patch");
  info.kind = *parsed_kind;
  if (req.has_param("patches")) {
    info.patches = SignatureRef::parse(req.get_param_value("patches"));
    if (!info.patches) return reply_error_and_close(res, 400, "?patches= wants NAME@VERSION");
  }
  if (info.kind == SignatureKind::patch && !info.patches)
    return reply_error_and_close(res, 400, "a patch needs ?patches=NAME@VERSION (the release it applies to)");
  for (std::size_t i = 0; i < req.get_param_value_count("supersedes"); ++i) {
    auto ref = SignatureRef::parse(req.get_param_value("supersedes", i));
    if (!ref) return reply_error_and_close(res, 400, "?supersedes= wants NAME@VERSION");
    info.supersedes.push_back(std::move(*ref));
  }
  info.install_root = req.has_param("install_root") ? req.get_param_value("install_root") : "/";
  info.source = "POST /api/v1/signatures (token '" + token->name + "')";

  auto upload = receive(req, res, reader);
  if (!upload) return;
  // The body as sent identifies the source, as a package file's hash does.
  auto body_sha256 = upload->file.sha256();
  if (!body_sha256) return reply_store_error(res, body_sha256.error());
  info.source_sha256 = *body_sha256;
  auto doc = parse_upload(*upload, res);
  upload.reset();
  if (!doc) return;
  auto signature = signature_from_scan(*doc, std::move(info), "the uploaded document");
  if (!signature) return reply_error(res, status_for(signature.error()), signature.error().message);

  auto imported = store_.import_signature(*signature);
  if (!imported) return reply_store_error(res, imported.error());
  const std::string id = signature->info.ref.id();
  if (imported->outcome == SharedStore::ImportOutcome::conflict)
    return reply_error(res, 409,
                       "signature " + id +
                           " is already stored with different files; signatures are immutable, import it under a "
                           "new version");
  const bool created = imported->outcome == SharedStore::ImportOutcome::created;
  if (created && options_.metrics != nullptr) options_.metrics->signatures_imported(1);
  reply(res, created ? 201 : 200,
        dump(json{{"id", imported->id},
                  {"signature", id},
                  {"kind", std::string(to_string(signature->info.kind))},
                  {"records", signature->manifest.size()},
                  {"created", created}}));
}

void Api::host_report(const httplib::Request& req, httplib::Response& res) {
  const std::string host = req.matches[1];
  const TokenInfo* token = current_token(res);
  if (token == nullptr) return;
  if (auto refused = may_read_host(*token, host)) return reply_refusal(res, *refused);
  auto latest = store_.with([&](Store& s) { return s.latest_scan(host); });
  if (!latest) return reply_store_error(res, latest.error());
  if (!*latest) return reply_error(res, 404, "no scan of host '" + host + "'");
  auto scan = store_.with([&](Store& s) { return s.get_scan(**latest); });
  if (!scan) return reply_store_error(res, scan.error());
  auto index = store_.index();
  if (!index) return reply_store_error(res, index.error());
  const auto format = wanted_format(req);
  if (!format) return reply_error(res, 400, "?format= wants json, xml or text");
  const auto start = Clock::now();
  Analysis analysis = analyze(*scan, **index);
  if (auto r =
          store_.with([&](Store& s) { return fleet::explain_by_cluster_snapshot(s, host, scan->manifest, analysis); });
      !r)
    return reply_store_error(res, r.error());
  auto judged = render_judgement(analysis, scan->header, host, flag(req, "all"), *format);
  if (options_.metrics != nullptr) options_.metrics->observe_analysis(Clock::now() - start);
  if (!judged) return reply_store_error(res, judged.error());
  res.status = 200;
  res.set_content(std::move(judged->report), content_type(*format));
}

// The deployment gate (trustbase verify) over HTTP: ?expect_patch=N@V (repeatable),
// ?cluster_identical=1, ?allow_deviations=1, ?format=json|text. 200 either way: the
// verdict is in the body ("ok"), not in the status.
void Api::host_verify(const httplib::Request& req, httplib::Response& res) {
  const std::string host = req.matches[1];
  const TokenInfo* token = current_token(res);
  if (token == nullptr) return;
  if (auto refused = may_read_host(*token, host)) return reply_refusal(res, *refused);
  VerifyRequest request;
  request.cluster_identical = flag(req, "cluster_identical");
  request.allow_deviations = flag(req, "allow_deviations");
  const std::size_t wanted = req.get_param_value_count("expect_patch");
  if (wanted > 1000) return reply_error(res, 400, "too many ?expect_patch= values");
  for (std::size_t i = 0; i < wanted; ++i) {
    const std::string text = req.get_param_value("expect_patch", i);
    auto ref = SignatureRef::parse(text);
    if (!ref) return reply_error(res, 400, "?expect_patch= wants NAME@VERSION");
    request.expect_complete.push_back(*ref);
  }
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "text") return reply_error(res, 400, "?format= wants json or text");
  // Brings stale cached analyses up to date (this host's newest scan, and any other
  // posted since the last report), then judges the host from them.
  auto verified = store_.with([&](Store& s) -> Expected<fleet::Verification> {
    auto set = fleet::load_signatures(s);
    if (!set) return tl::unexpected(set.error());
    for (const SignatureRef& r : request.expect_complete)
      if (!set->index.find(r)) return fail(ErrorCode::not_found, "no signature " + r.id() + " is stored");
    if (auto refreshed = fleet::refresh(s, *set); !refreshed) return tl::unexpected(refreshed.error());
    return fleet::verify(s, *set, host, request);
  });
  if (!verified) return reply_store_error(res, verified.error());
  res.status = 200;
  if (format == "text")
    res.set_content(verify_report_text(verified->host, verified->verdict), "text/plain; charset=utf-8");
  else
    res.set_content(verify_report_json(verified->host, verified->verdict), "application/json");
}

void Api::host_scans(const httplib::Request& req, httplib::Response& res) {
  const std::string host = req.matches[1];
  const TokenInfo* token = current_token(res);
  if (token == nullptr) return;
  if (auto refused = may_read_host(*token, host)) return reply_refusal(res, *refused);
  auto scans = store_.with([&](Store& s) { return s.list_scans(host); });
  if (!scans) return reply_store_error(res, scans.error());
  if (scans->empty()) return reply_error(res, 404, "no scan of host '" + host + "'");
  json list = json::array();
  for (const ScanListing& s : *scans)
    list.push_back({{"id", s.id},
                    {"started_ns", s.started_ns},
                    {"finished_ns", s.finished_ns},
                    {"manifest_sha256", s.manifest_digest.hex()},
                    {"records", s.records},
                    {"errors", s.errors}});
  reply(res, 200, dump(json{{"host", host}, {"scans", std::move(list)}}));
}

void Api::hosts(const httplib::Request&, httplib::Response& res) {
  const TokenInfo* token = current_token(res);
  if (token == nullptr) return;
  if (auto refused = may_read_fleet(*token)) return reply_refusal(res, *refused);
  auto hosts = store_.with([&](Store& s) { return s.list_hosts(); });
  if (!hosts) return reply_store_error(res, hosts.error());
  json list = json::array();
  for (const HostListing& h : *hosts)
    list.push_back({{"name", h.name},
                    {"cluster", h.cluster},
                    {"role", h.role},
                    {"scans", h.scans},
                    {"latest_scan_id", h.latest_scan_id},
                    {"latest_started_ns", h.latest_started_ns}});
  reply(res, 200, dump(json{{"hosts", std::move(list)}}));
}

// What was verified of a signature's package on import (core/signature.h); null: nothing.
json provenance_json(const SignatureProvenance& p) {
  if (!p.verified()) return json(nullptr);
  return json{{"method", std::string(to_string(p.method))},
              {"signer_fingerprint", p.signer_fingerprint},
              {"signer_key_id", p.signer_key_id},
              {"origin", p.origin},
              {"suite", p.suite},
              {"codename", p.codename},
              {"release_sha256", p.release_sha256 ? json(p.release_sha256->hex()) : json(nullptr)}};
}

void Api::signatures(const httplib::Request&, httplib::Response& res) {
  const TokenInfo* token = current_token(res);
  if (token == nullptr) return;
  if (auto refused = may_read_fleet(*token)) return reply_refusal(res, *refused);
  auto index = store_.index();
  if (!index) return reply_store_error(res, index.error());
  // The relations both ways: what a signature patches and supersedes, and which later
  // signatures patch or supersede it (the dashboard draws the chains from these).
  std::map<std::string, std::vector<std::string>> patched_by, superseded_by;
  for (const Signature& s : (*index)->signatures()) {
    if (s.info.patches) patched_by[s.info.patches->id()].push_back(s.info.ref.id());
    for (const SignatureRef& r : s.info.supersedes) superseded_by[r.id()].push_back(s.info.ref.id());
  }
  json list = json::array();
  for (const Signature& s : (*index)->signatures()) {
    json supersedes = json::array();
    for (const SignatureRef& r : s.info.supersedes) supersedes.push_back(r.id());
    const std::string id = s.info.ref.id();
    list.push_back({{"name", s.info.ref.name},
                    {"version", s.info.ref.version},
                    {"kind", std::string(to_string(s.info.kind))},
                    {"records", s.manifest.size()},
                    {"vendor", s.info.vendor},
                    {"patches", s.info.patches ? json(s.info.patches->id()) : json(nullptr)},
                    {"supersedes", std::move(supersedes)},
                    {"patched_by", patched_by[id]},
                    {"superseded_by", superseded_by[id]},
                    {"provenance", provenance_json(s.info.provenance)}});
  }
  reply(res, 200, dump(json{{"signatures", std::move(list)}}));
}

}  // namespace

void install_api(httplib::Server& server, SharedStore& store, const ApiOptions& options) {
  auto api = std::make_shared<Api>(store, options);
  // Bounds the compressed body as announced by Content-Length (httplib answers 413);
  // the decompressed size is bounded while reading (Api::post_scan).
  server.set_payload_max_length(options.max_body_bytes);
  // One request per connection. httplib 0.11 closes a connection only when the request
  // asks for it: after a refused upload (401, 403, 413, 415 before or while the body
  // arrives) the unread rest of the body would be parsed as further requests on a kept-
  // alive connection, which a proxy in front could turn into request smuggling (even with
  // "Connection: close" in the answer: ApiTest.ARefusedBodyIsNeverTakenForTheNextRequest). The API's
  // clients make one request per run (scanner) or a handful (dashboards): keep-alive buys
  // them little.
  server.set_keep_alive_max_count(1);
  // A client that asks before sending its body (Expect: 100-continue, as curl does for
  // large ones) learns of an oversize body before sending a byte of it.
  const std::size_t max_body = options.max_body_bytes;
  server.set_expect_100_continue_handler([max_body](const httplib::Request& req, httplib::Response& res) {
    std::uint64_t length = 0;
    const std::string announced = req.get_header_value("Content-Length");
    const auto [end, ec] = std::from_chars(announced.data(), announced.data() + announced.size(), length);
    if (ec == std::errc() && end == announced.data() + announced.size() && length > max_body) {
      reply_error(res, 413, fmt::format("the request body exceeds {} bytes", max_body));
      return 413;
    }
    return 100;
  });

  server.set_pre_routing_handler([api](const httplib::Request& req, httplib::Response& res) {
    t_state = RequestState{true, Clock::now(), std::nullopt, &api->options().logger};
    t_state.accepts_gzip = take_accept_encoding(req);
    return api->authenticate(req, res);
  });
  server.set_post_routing_handler(
      [](const httplib::Request&, httplib::Response& res) { compress_response(t_state.accepts_gzip, res); });
  server.Get("/api/v1/health",
             [](const httplib::Request&, httplib::Response& res) { reply(res, 200, R"({"status":"ok"})"); });
  if (options.metrics != nullptr) install_metrics_route(server, store, *options.metrics, options.metrics_role);
  server.Post("/api/v1/scans", [api](const httplib::Request& req, httplib::Response& res,
                                     const httplib::ContentReader& reader) { api->post_scan(req, res, reader); });
  server.Post("/api/v1/signatures",
              [api](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                api->post_signature(req, res, reader);
              });
  server.Get(R"(/api/v1/hosts/([^/]+)/report)",
             [api](const httplib::Request& req, httplib::Response& res) { api->host_report(req, res); });
  server.Get(R"(/api/v1/hosts/([^/]+)/verify)",
             [api](const httplib::Request& req, httplib::Response& res) { api->host_verify(req, res); });
  server.Get(R"(/api/v1/hosts/([^/]+)/scans)",
             [api](const httplib::Request& req, httplib::Response& res) { api->host_scans(req, res); });
  server.Get("/api/v1/hosts", [api](const httplib::Request& req, httplib::Response& res) { api->hosts(req, res); });
  server.Get("/api/v1/signatures",
             [api](const httplib::Request& req, httplib::Response& res) { api->signatures(req, res); });
  install_fleet_api(server, store, [] { return t_state.token ? &*t_state.token : nullptr; });
  install_web_ui(server);

  // Every error response without a body of its own (unknown route, httplib's own 413
  // or 400) gets a JSON one.
  server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) reply_error(res, res.status, reason(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  // Handlers return errors as values; this is only for what escapes anyway (bad_alloc).
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log_problem(LogLevel::error, "internal error: " + what);
    reply_error(res, 500, "internal server error");
  });
  server.set_logger([api](const httplib::Request& req, const httplib::Response& res) {
    RequestLogEntry e;
    e.time = std::chrono::system_clock::now();
    e.remote_addr = req.remote_addr;
    e.remote_port = req.remote_port;
    if (t_state.routed) e.duration = Clock::now() - t_state.start;
    if (t_state.routed && t_state.token) e.token_name = t_state.token->name;
    e.method = req.method;
    e.path = req.path;
    e.status = res.status;
    e.bytes = res.body.size();
    api->options().logger.request(e);
    if (api->options().metrics != nullptr) api->options().metrics->observe_request(req.path, res.status);
    t_state = RequestState{};
  });
}

}  // namespace tb::server
