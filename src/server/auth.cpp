#include "server/auth.h"

#include <cctype>

namespace tb::server {

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return std::nullopt;
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

namespace {

Refusal forbidden(std::string message) { return Refusal{403, std::move(message)}; }

}  // namespace

std::optional<Refusal> may_post_scans(const TokenInfo& token) {
  if (token.role == TokenRole::admin || token.role == TokenRole::host || token.role == TokenRole::enrol)
    return std::nullopt;
  return forbidden("token '" + token.name + "' (" + std::string(to_string(token.role)) + ") may not post scans");
}

tl::expected<std::string, Refusal> scan_host_for(const TokenInfo& token, std::string_view requested,
                                                 std::string_view document_host) {
  if (auto refused = may_post_scans(token)) return tl::unexpected(*refused);
  if (token.role == TokenRole::host && token.host) {
    if (!requested.empty() && requested != *token.host)
      return tl::unexpected(forbidden("token '" + token.name + "' may only post scans of host '" + *token.host + "'"));
    return *token.host;  // a bound token files under its own host, whatever the document says
  }
  // An enrolment names the host it creates: never taken from the document, so the request
  // says plainly which host it claims (and the server refuses a claimed host).
  if (token.role == TokenRole::enrol && requested.empty())
    return tl::unexpected(Refusal{400, "an enrolment token must name the host it enrols: give ?host=NAME"});
  std::string host(requested.empty() ? document_host : requested);
  if (host.empty()) return tl::unexpected(Refusal{400, "the document names no host; give ?host=NAME"});
  return host;
}

std::optional<Refusal> may_read_host(const TokenInfo& token, std::string_view host) {
  if (token.role == TokenRole::admin || token.role == TokenRole::reader) return std::nullopt;
  if (token.host && *token.host == host) return std::nullopt;
  return forbidden("token '" + token.name + "' may not read host '" + std::string(host) + "'");
}

std::optional<Refusal> may_import_signatures(const TokenInfo& token) {
  if (token.role == TokenRole::admin) return std::nullopt;
  return forbidden("token '" + token.name + "' (" + std::string(to_string(token.role)) +
                   ") may not import signatures (admin tokens only)");
}

std::optional<Refusal> may_read_fleet(const TokenInfo& token) {
  if (token.role == TokenRole::admin || token.role == TokenRole::reader) return std::nullopt;
  return forbidden("token '" + token.name + "' (" + std::string(to_string(token.role)) + ") may not read fleet data");
}

}  // namespace tb::server
