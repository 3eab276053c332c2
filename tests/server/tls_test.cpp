// HTTPS: `trustbase serve --tls-cert/--tls-key` and the scanner's --ca-file / --pin, with
// certificates made by the openssl command for each test run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <httplib.h>

#include "server_process.h"

namespace {

namespace fs = std::filesystem;
using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
using servertest::write;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tb-tls-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string d = dir_.string();
    write(dir_ / "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    int status = 0;
    run("cd " + d + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.pem -subj /CN=trustbase-test-ca -days 2 2>&1 && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
        "-subj /CN=localhost 2>&1 && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
        "-extfile san.ext 2>&1 && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key "
        "-out other.pem -subj /CN=localhost -days 2 2>&1",
        &status);
    ASSERT_EQ(status, 0);
    write(dir_ / "tree" / "app" / "bin", "binary\n");
    db_ = dir_ / "store.db";
    admin_ = run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() + " token add --name ci --role admin 2>/dev/null");
    ASSERT_FALSE(admin_.empty());
    write(dir_ / "token", admin_ + "\n");
    ::chmod((dir_ / "token").c_str(), 0600);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<ServerProcess> start_tls() {
    auto server = std::make_unique<ServerProcess>(
        db_, dir_ / "server.log",
        std::vector<std::string>{"--tls-cert", (dir_ / "server.pem").string(), "--tls-key", (dir_ / "server.key").string()});
    return server;
  }

  // trustbase-scan of the test tree to the server with `tls_args`; its exit status, stderr in *err.
  int scan_to(int port, const std::string& tls_args, std::string* err) {
    const fs::path log = dir_ / "scan.err";
    int status = 0;
    run(std::string(TB_SCAN_BINARY) + " -q --attempts 3 --host web1 --server https://127.0.0.1:" + std::to_string(port) +
            " --token-file " + (dir_ / "token").string() + " " + tls_args + " " + (dir_ / "tree").string() + " 2>" +
            log.string() + " >/dev/null",
        &status);
    *err = slurp(log);
    return status;
  }

  std::string pin_by_openssl(const std::string& cert) {
    return "sha256//" + run("openssl x509 -in " + (dir_ / cert).string() +
                            " -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
  }

  fs::path dir_, db_;
  std::string admin_;
};

TEST_F(TlsTest, ServesHttpsOnlyWithTheCertificateAndLogsItsKeyPin) {
  auto server = start_tls();
  ASSERT_GT(server->port(), 0) << slurp(dir_ / "server.log");

  httplib::Client verified("https://127.0.0.1:" + std::to_string(server->port()));
  verified.set_ca_cert_path((dir_ / "ca.pem").c_str());
  verified.enable_server_certificate_verification(true);
  auto res = verified.Get("/api/v1/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);

  // Without the CA the certificate does not verify.
  httplib::Client untrusting("https://127.0.0.1:" + std::to_string(server->port()));
  untrusting.enable_server_certificate_verification(true);
  untrusting.set_ca_cert_path((dir_ / "other.pem").c_str());
  EXPECT_FALSE(untrusting.Get("/api/v1/health"));

  // Plain HTTP on the TLS port gets no answer.
  httplib::Client plain("http://127.0.0.1:" + std::to_string(server->port()));
  auto refused = plain.Get("/api/v1/health");
  EXPECT_TRUE(!refused || refused->status == 400);

  // The pin in the log is the one openssl computes from the certificate.
  const std::string pin = pin_by_openssl("server.pem");
  EXPECT_NE(slurp(dir_ / "server.log").find("certificate key pin " + pin), std::string::npos) << slurp(dir_ / "server.log");
}

TEST_F(TlsTest, ScannerTrustsTheServerThroughItsCaOrItsPinAndNothingElse) {
  auto server = start_tls();
  ASSERT_GT(server->port(), 0) << slurp(dir_ / "server.log");
  // Stored and analysed: status 1, as the tree's files are in no signature (0 would be clean).
  std::string err;
  EXPECT_EQ(scan_to(server->port(), "--ca-file " + (dir_ / "ca.pem").string(), &err), 1) << err;
  EXPECT_EQ(scan_to(server->port(), "--pin " + pin_by_openssl("server.pem"), &err), 1) << err;
  // A pin rotation lists both keys.
  EXPECT_EQ(scan_to(server->port(), "--pin " + pin_by_openssl("other.pem") + " --pin " + pin_by_openssl("server.pem"), &err),
            1)
      << err;

  // The wrong CA, the wrong pin: refused at the handshake, at once (no retries), status 2.
  EXPECT_EQ(scan_to(server->port(), "--ca-file " + (dir_ / "other.pem").string(), &err), 2);
  EXPECT_NE(err.find("TLS"), std::string::npos) << err;
  EXPECT_EQ(err.find("retrying"), std::string::npos) << err;
  EXPECT_EQ(scan_to(server->port(), "--pin " + pin_by_openssl("other.pem"), &err), 2);
  EXPECT_NE(err.find("TLS"), std::string::npos) << err;
  EXPECT_EQ(err.find("retrying"), std::string::npos) << err;

  // Only the trusted uploads were stored: three scans of web1.
  const std::string scans = run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() + " report history web1 2>&1");
  std::size_t count = 0;
  for (std::size_t at = scans.find("scan "); at != std::string::npos; at = scans.find("scan ", at + 1)) ++count;
  EXPECT_EQ(count, 3u) << scans;
}

TEST_F(TlsTest, MistakesAreClearErrorsBeforeAnythingIsScannedOrServed) {
  std::string err;
  int status = 0;
  // A malformed pin, a missing CA file, TLS options with an http:// URL: refused up front.
  EXPECT_EQ(scan_to(1, "--pin sha256//short", &err), 2);
  EXPECT_NE(err.find("44 base64"), std::string::npos) << err;
  EXPECT_EQ(scan_to(1, "--ca-file " + (dir_ / "missing.pem").string(), &err), 2);
  EXPECT_NE(err.find("missing.pem"), std::string::npos) << err;
  const std::string out = run(std::string(TB_SCAN_BINARY) + " -q --server http://127.0.0.1:1 --token x --pin " +
                                  pin_by_openssl("server.pem") + " " + (dir_ / "tree").string() + " 2>&1",
                              &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("https://"), std::string::npos) << out;

  // A key that is not the certificate's: the server does not start.
  const std::string served = run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() +
                                     " serve --listen 127.0.0.1:0 --tls-cert " + (dir_ / "server.pem").string() +
                                     " --tls-key " + (dir_ / "other.key").string() + " 2>&1",
                                 &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(served.find("server.pem"), std::string::npos) << served;
  run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() + " serve --listen 127.0.0.1:0 --tls-cert " +
          (dir_ / "server.pem").string() + " 2>&1",
      &status);
  EXPECT_EQ(status, 2);
}

}  // namespace
