// Role rules and header parsing of server/auth.h, without a server.
#include <gtest/gtest.h>

#include "server/auth.h"
#include "server/request_log.h"

namespace tb::server {
namespace {

TokenInfo token(TokenRole role, std::optional<std::string> host = std::nullopt) {
  TokenInfo t;
  t.name = "t";
  t.role = role;
  t.host = std::move(host);
  return t;
}

TEST(Auth, BearerHeader) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer "), std::nullopt);
  EXPECT_EQ(bearer_token(""), std::nullopt);
}

TEST(Auth, ScanHostRules) {
  EXPECT_EQ(*scan_host_for(token(TokenRole::admin), "", "doc"), "doc");
  EXPECT_EQ(*scan_host_for(token(TokenRole::admin), "q", "doc"), "q");
  EXPECT_EQ(*scan_host_for(token(TokenRole::host, "web1"), "", "doc"), "web1");
  EXPECT_EQ(*scan_host_for(token(TokenRole::host, "web1"), "web1", "doc"), "web1");
  EXPECT_EQ(scan_host_for(token(TokenRole::host, "web1"), "web2", "doc").error().status, 403);
  EXPECT_EQ(*scan_host_for(token(TokenRole::host), "", "doc"), "doc");
  EXPECT_EQ(scan_host_for(token(TokenRole::reader), "", "doc").error().status, 403);
  EXPECT_EQ(scan_host_for(token(TokenRole::admin), "", "").error().status, 400);
}

TEST(Auth, ReadRules) {
  EXPECT_FALSE(may_read_host(token(TokenRole::reader), "x"));
  EXPECT_FALSE(may_read_host(token(TokenRole::admin), "x"));
  EXPECT_FALSE(may_read_host(token(TokenRole::host, "x"), "x"));
  EXPECT_TRUE(may_read_host(token(TokenRole::host, "x"), "y"));
  EXPECT_TRUE(may_read_host(token(TokenRole::host), "y"));
  EXPECT_TRUE(may_read_fleet(token(TokenRole::host, "x")));
  EXPECT_FALSE(may_read_fleet(token(TokenRole::reader)));
}

// An enrolment token posts a named host's first scan and does nothing else.
TEST(Auth, EnrolRules) {
  const TokenInfo enrol = token(TokenRole::enrol);
  EXPECT_FALSE(may_post_scans(enrol));
  EXPECT_EQ(*scan_host_for(enrol, "new1", "doc"), "new1");
  EXPECT_EQ(scan_host_for(enrol, "", "doc").error().status, 400);  // never the document's name
  EXPECT_TRUE(may_read_host(enrol, "new1"));
  EXPECT_TRUE(may_read_fleet(enrol));
  EXPECT_TRUE(may_import_signatures(enrol));
  EXPECT_FALSE(may_import_signatures(token(TokenRole::admin)));
  EXPECT_EQ(may_import_signatures(token(TokenRole::reader))->status, 403);
  EXPECT_TRUE(may_import_signatures(token(TokenRole::host, "web1")));
}

TEST(RequestLog, OneLinePrintable) {
  RequestLogEntry e;
  e.time = std::chrono::system_clock::time_point{};
  e.remote_addr = "127.0.0.1";
  e.remote_port = 4242;
  e.token_name = "ci";
  e.method = "GET";
  e.path = "/a b\n";
  e.status = 200;
  e.bytes = 15;
  e.duration = std::chrono::microseconds(1500);
  EXPECT_EQ(format_log_line(e), "1970-01-01T00:00:00.000Z 127.0.0.1:4242 token=ci GET /a%20b%0A 200 15B 1.5ms\n");
}

}  // namespace
}  // namespace tb::server
