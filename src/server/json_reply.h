// JSON answers of the API routes (http_api.cpp, fleet_api.cpp): one body shape for every
// error ({"error": "..."}), one mapping from error codes to HTTP statuses.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "server/auth.h"

namespace httplib {
struct Response;
}

namespace tb::server {

// JSON text of any value: invalid UTF-8 (host names are raw bytes) is replaced, never
// thrown about.
std::string dump(const nlohmann::json& j);

void reply(httplib::Response& res, int status, std::string body);
void reply_error(httplib::Response& res, int status, const std::string& message);
// The request body was left unread: the connection cannot carry another request.
void reply_error_and_close(httplib::Response& res, int status, const std::string& message);
void reply_refusal(httplib::Response& res, const Refusal& r, bool close = false);

// 404 not found, 400 bad input, 413 over a bound, 503 store busy or disk trouble (worth a
// retry), 500 a bug.
int status_for(const Error& e);

}  // namespace tb::server
