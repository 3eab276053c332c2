// Accept-Encoding parsing and the gzip the server applies itself (server/response_compression.h).
#include "server/response_compression.h"

#include <gtest/gtest.h>

#include <string>

namespace tb::server {
namespace {

TEST(AcceptsGzip, ListedOrStarWithoutQZero) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br, zstd"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZip;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("br, *;q=0.1"));
  EXPECT_TRUE(accepts_gzip(" gzip ; q=0.001 "));
}

TEST(AcceptsGzip, RefusedOrAbsent) {
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("br"));
  EXPECT_FALSE(accepts_gzip("deflate, br"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000, br"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0, *"));  // an explicit refusal beats the wildcard
  EXPECT_FALSE(accepts_gzip("gzipx, xgzip"));
  EXPECT_FALSE(accepts_gzip(",,;;=q"));
}

TEST(CompressResponse, GzipsLargeTextualBodiesOnly) {
  const std::string json = "[" + std::string(4000, ' ') + "]";
  httplib::Response large;
  large.status = 200;
  large.set_content(json, "application/json");
  compress_response(true, large);
  EXPECT_EQ(large.get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(large.get_header_value("Content-Length"), std::to_string(large.body.size()));
  EXPECT_LT(large.body.size(), json.size());
  EXPECT_EQ(large.body.substr(0, 2), std::string("\x1f\x8b"));  // the gzip magic

  httplib::Response declined;
  declined.set_content(json, "application/json");
  compress_response(false, declined);
  EXPECT_EQ(declined.body, json);
  EXPECT_FALSE(declined.has_header("Content-Encoding"));

  httplib::Response small;
  small.set_content("{}", "application/json");
  compress_response(true, small);
  EXPECT_EQ(small.body, "{}");

  httplib::Response binary;
  binary.set_content(json, "application/octet-stream");
  compress_response(true, binary);
  EXPECT_EQ(binary.body, json);

  httplib::Response partial;
  partial.status = 206;
  partial.set_content(json, "text/plain");
  compress_response(true, partial);
  EXPECT_EQ(partial.body, json);
}

}  // namespace
}  // namespace tb::server
