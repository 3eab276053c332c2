#include "server/json_reply.h"

#include <httplib.h>

#include <utility>

namespace tb::server {

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void reply(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply(res, status, dump(nlohmann::json{{"error", message}}));
}

void reply_error_and_close(httplib::Response& res, int status, const std::string& message) {
  reply_error(res, status, message);
  res.set_header("Connection", "close");
}

void reply_refusal(httplib::Response& res, const Refusal& r, bool close) {
  if (close) reply_error_and_close(res, r.status, r.message);
  else reply_error(res, r.status, r.message);
}

int status_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::not_found: return 404;
    case ErrorCode::invalid_argument:
    case ErrorCode::parse: return 400;
    case ErrorCode::limit: return 413;
    case ErrorCode::io: return 503;
    case ErrorCode::changed:
    case ErrorCode::internal: return 500;
  }
  return 500;
}

}  // namespace tb::server
