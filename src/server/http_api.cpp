#include "server/http_api.h"

#include <httplib.h>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/analysis.h"
#include "format/analysis_report.h"
#include "format/byte_sink.h"
#include "server/auth.h"
#include "server/request_log.h"

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
};
thread_local RequestState t_state;

// JSON text of any byte string: invalid UTF-8 (host names are raw bytes) is replaced,
// never thrown about.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void reply(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply(res, status, dump(json{{"error", message}}));
}

// The request body was left unread: the connection cannot carry another request.
void reply_error_and_close(httplib::Response& res, int status, const std::string& message) {
  reply_error(res, status, message);
  res.set_header("Connection", "close");
}

int status_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::not_found: return 404;
    case ErrorCode::invalid_argument:
    case ErrorCode::parse: return 400;
    case ErrorCode::limit: return 413;
    case ErrorCode::io: return 503;  // database busy or disk trouble: worth a retry
    case ErrorCode::changed:
    case ErrorCode::internal: return 500;
  }
  return 500;
}

void reply_store_error(httplib::Response& res, const Error& e) {
  write_log_line(fmt::format("trustbase serve: {}\n", e.message));
  reply_error(res, status_for(e), e.message);
}

void reply_refusal(httplib::Response& res, const Refusal& r, bool close = false) {
  if (close) reply_error_and_close(res, r.status, r.message);
  else reply_error(res, r.status, r.message);
}

const char* reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "authentication required";
    case 403: return "forbidden";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 415: return "unsupported content encoding";
    case 416: return "range not satisfiable";
    case 503: return "service unavailable";
    default: return status >= 500 ? "internal server error" : "request refused";
  }
}

// The analysis of `scan` as `trustbase report host --format json` prints it.
struct Judged {
  std::string report;
  bool clean = false;
};

Expected<Judged> judge(const ScanDocument& scan, const std::string& host, const SignatureIndex& index,
                       bool include_absent) {
  const Analysis analysis = analyze(scan.manifest, index);
  Judged out;
  StringSink sink(out.report);
  const AnalysisContext context{&scan.header, host, include_absent};
  if (auto r = write_analysis_report(ReportFormat::json, context, analysis, sink); !r) return tl::unexpected(r.error());
  out.clean = analysis_is_clean(analysis);
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

class Api {
 public:
  Api(SharedStore& store, ApiOptions options) : store_(store), options_(std::move(options)) {
    options_.limits.max_document_bytes = std::min(options_.limits.max_document_bytes, options_.max_body_bytes);
  }

  httplib::Server::HandlerResponse authenticate(const httplib::Request& req, httplib::Response& res);
  void post_scan(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void host_report(const httplib::Request& req, httplib::Response& res);
  void host_scans(const httplib::Request& req, httplib::Response& res);
  void signatures(const httplib::Request& req, httplib::Response& res);
  void hosts(const httplib::Request& req, httplib::Response& res);

 private:
  SharedStore& store_;
  ApiOptions options_;
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

void Api::post_scan(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const TokenInfo* authenticated = current_token(res);
  if (authenticated == nullptr) return;
  const TokenInfo& token = *authenticated;
  const std::string requested = req.get_param_value("host");
  // Refuse before reading what may be hundreds of megabytes.
  if (auto refused = may_post_scans(token)) return reply_refusal(res, *refused, true);
  if (!requested.empty()) {
    auto host = scan_host_for(token, requested, {});
    if (!host) return reply_refusal(res, host.error(), true);
  }

  // httplib decodes gzip, deflate and br and passes any other coding through as if it
  // were none: refuse those rather than parse compressed bytes as a document.
  if (const std::string coding = req.get_header_value("Content-Encoding");
      !coding.empty() && coding != "identity" && coding != "gzip" && coding != "deflate" && coding != "br")
    return reply_error_and_close(res, 415, "unsupported Content-Encoding '" + coding + "' (send identity or gzip)");

  std::string body;
  bool too_big = false;
  const bool read = reader([&](const char* data, std::size_t size) {
    if (size > options_.max_body_bytes - body.size()) {
      too_big = true;
      return false;
    }
    body.append(data, size);
    return true;
  });
  if (too_big || res.status == 413)
    return reply_error_and_close(
        res, 413, fmt::format("the scan document exceeds {} bytes (after decompression)", options_.max_body_bytes));
  if (!read) {
    const int status = res.status == 415 ? 415 : 400;
    return reply_error_and_close(res, status,
                                 status == 415 ? "unsupported Content-Encoding (send identity or gzip)"
                                               : "the request body could not be read or decompressed");
  }

  auto doc = parse_scan(body, options_.limits);
  std::string().swap(body);  // the document is parsed: free the text before analysing
  if (!doc)
    return reply_error(res, doc.error().code == ErrorCode::limit ? 413 : 400,
                       "invalid scan document: " + doc.error().message);
  auto host = scan_host_for(token, requested, doc->header.host.hostname);
  if (!host) return reply_refusal(res, host.error());

  // The index first: a scan is acknowledged (stored) only when it can also be judged.
  auto index = store_.index();
  if (!index) return reply_store_error(res, index.error());
  auto id = store_.with([&](Store& s) { return s.put_scan(*host, *doc); });
  if (!id) return reply_store_error(res, id.error());
  auto judged = judge(*doc, *host, **index, flag(req, "all"));
  if (!judged) return reply_store_error(res, judged.error());
  std::string out = "{\"scan_id\":" + std::to_string(*id) + ",\"host\":" + dump(json(*host)) +
                    ",\"clean\":" + (judged->clean ? "true" : "false") + ",\"report\":";
  out += judged->report;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  out += "}";
  reply(res, 201, std::move(out));
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
  auto judged = judge(*scan, host, **index, flag(req, "all"));
  if (!judged) return reply_store_error(res, judged.error());
  reply(res, 200, std::move(judged->report));
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

void Api::signatures(const httplib::Request&, httplib::Response& res) {
  const TokenInfo* token = current_token(res);
  if (token == nullptr) return;
  if (auto refused = may_read_fleet(*token)) return reply_refusal(res, *refused);
  auto index = store_.index();
  if (!index) return reply_store_error(res, index.error());
  json list = json::array();
  for (const Signature& s : (*index)->signatures())
    list.push_back({{"name", s.info.ref.name},
                    {"version", s.info.ref.version},
                    {"kind", std::string(to_string(s.info.kind))},
                    {"records", s.manifest.size()}});
  reply(res, 200, dump(json{{"signatures", std::move(list)}}));
}

}  // namespace

void install_api(httplib::Server& server, SharedStore& store, const ApiOptions& options) {
  auto api = std::make_shared<Api>(store, options);
  // Bounds the compressed body as announced by Content-Length (httplib answers 413);
  // the decompressed size is bounded while reading (Api::post_scan).
  server.set_payload_max_length(options.max_body_bytes);

  server.set_pre_routing_handler([api](const httplib::Request& req, httplib::Response& res) {
    t_state = RequestState{true, Clock::now(), std::nullopt};
    return api->authenticate(req, res);
  });
  server.Get("/api/v1/health", [](const httplib::Request&, httplib::Response& res) {
    reply(res, 200, R"({"status":"ok"})");
  });
  server.Post("/api/v1/scans",
              [api](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                api->post_scan(req, res, reader);
              });
  server.Get(R"(/api/v1/hosts/([^/]+)/report)",
             [api](const httplib::Request& req, httplib::Response& res) { api->host_report(req, res); });
  server.Get(R"(/api/v1/hosts/([^/]+)/scans)",
             [api](const httplib::Request& req, httplib::Response& res) { api->host_scans(req, res); });
  server.Get("/api/v1/hosts", [api](const httplib::Request& req, httplib::Response& res) { api->hosts(req, res); });
  server.Get("/api/v1/signatures",
             [api](const httplib::Request& req, httplib::Response& res) { api->signatures(req, res); });

  // Every error response without a body of its own (unknown route, httplib's own 413
  // or 400) gets a JSON one.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
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
    write_log_line(fmt::format("trustbase serve: internal error: {}\n", what));
    reply_error(res, 500, "internal server error");
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
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
    write_log_line(format_log_line(e));
    t_state = RequestState{};
  });
}

}  // namespace tb::server
