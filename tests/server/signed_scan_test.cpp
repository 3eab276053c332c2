// Signed scans end to end: the real scanner enrolling with a new Ed25519 key, signing its
// uploads, and the real server refusing unsigned, altered, misdirected, stale and replayed
// uploads (the last with the exact request sent twice).
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/scan_signature.h"
#include "server_process.h"

namespace {

namespace fs = std::filesystem;
using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
using servertest::write;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class SignedScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tb-signed-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write(dir_ / "tree" / "app" / "bin", "binary\n");
    db_ = dir_ / "store.db";
    admin_ = tb("token add --name ci --role admin 2>/dev/null");
    enrol_ = tb("token add --name bootstrap --role enrol 2>/dev/null");
    write(dir_ / "enrol", enrol_ + "\n");
    ::chmod((dir_ / "enrol").c_str(), 0600);
    int status = 0;
    run(std::string(TB_SCAN_BINARY) + " -q " + (dir_ / "tree").string() + " -o " + (dir_ / "scan.xml").string(),
        &status);
    ASSERT_EQ(status, 0);
    body_ = slurp(dir_ / "scan.xml");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string tb(const std::string& args, int* status = nullptr) {
    return run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() + " " + args, status);
  }

  // The scanner, uploading the tree as `host` with `args`; exit status, stderr in *err.
  int scan(const std::string& host, const std::string& args, std::string* err) {
    int status = 0;
    run(std::string(TB_SCAN_BINARY) + " -q --attempts 2 --host " + host +
            " --server http://127.0.0.1:" + std::to_string(server_->port()) + " " + args + " " +
            (dir_ / "tree").string() + " >/dev/null 2>" + (dir_ / "scan.err").string(),
        &status);
    *err = slurp(dir_ / "scan.err");
    return status;
  }

  // POST body as `host` with a host token, signed by `key` as given.
  httplib::Result post(const std::string& token, const std::string& host, const std::string& body,
                       const std::string& signature_header) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_bearer_token_auth(token.c_str());
    httplib::Headers headers;
    if (!signature_header.empty()) headers.emplace(std::string(tb::kScanSignatureHeader), signature_header);
    return client.Post(("/api/v1/scans?host=" + host).c_str(), headers, body, "application/xml");
  }

  std::string sign(const tb::SigningKey& key, const std::string& host, const std::string& body, std::int64_t time,
                   const std::string& nonce) {
    tb::ScanSignature s{time, nonce, key.sign(tb::scan_signature_message(host, time, nonce, tb::Sha256::of(body)))};
    return tb::format_signature_header(s);
  }

  fs::path dir_, db_;
  std::string admin_, enrol_, body_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SignedScanTest, AHostEnrolsWithItsNewKeyAndFromThenOnMustSign) {
  server_ = std::make_unique<ServerProcess>(db_, dir_ / "server.log");
  ASSERT_GT(server_->port(), 0);
  const std::string key = (dir_ / "host.key").string(), token = (dir_ / "host.token").string();
  std::string err;
  // Enrolment makes the key (0600) and the server registers it.
  EXPECT_EQ(scan("web1",
                 "--enrol-token-file " + (dir_ / "enrol").string() + " --token-file " + token + " --signing-key " + key,
                 &err),
            1)
      << err;
  ASSERT_TRUE(fs::exists(key));
  EXPECT_EQ(fs::status(key).permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  // Signed with the key: accepted. Unsigned, or signed by another key: refused.
  EXPECT_EQ(scan("web1", "--token-file " + token + " --signing-key " + key, &err), 1) << err;
  EXPECT_EQ(scan("web1", "--token-file " + token, &err), 2);
  EXPECT_NE(err.find("unsigned scan refused"), std::string::npos) << err;
  run(std::string(TB_SCAN_BINARY) + " --signing-key " + (dir_ / "other.key").string() + " --print-public-key");
  EXPECT_EQ(scan("web1", "--token-file " + token + " --signing-key " + (dir_ / "other.key").string(), &err), 2);
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;
  // Two accepted scans stored (enrolment + one), nothing from the refused ones.
  const std::string history = tb("report history web1 --format json");
  EXPECT_EQ(nlohmann::json::parse(history)["scans"].size(), 2u) << history;
  // The registration is in the log of who did what.
  EXPECT_NE(slurp(dir_ / "server.log").find("refused"), std::string::npos);
}

TEST_F(SignedScanTest, AlteredMisdirectedStaleAndReplayedUploadsAreRefused) {
  server_ = std::make_unique<ServerProcess>(db_, dir_ / "server.log");
  ASSERT_GT(server_->port(), 0);
  const std::string host_token = tb("token add --name web2 --role host --host web2 2>/dev/null");
  // The admin registers a key the host made (trustbase host key).
  const std::string key_file = (dir_ / "web2.key").string();
  const std::string pub = run(std::string(TB_SCAN_BINARY) + " --signing-key " + key_file + " --print-public-key");
  int status = 0;
  tb("host key web2 --public-key " + pub, &status);
  ASSERT_EQ(status, 0);
  auto key = tb::SigningKey::from_pem(slurp(key_file));
  ASSERT_TRUE(key);
  ASSERT_EQ(tb::encode_public_key(key->public_key()), pub);

  const std::string nonce = "00112233445566778899aabbccddeeff";
  const std::string good = sign(*key, "web2", body_, now_s(), nonce);
  auto first = post(host_token, "web2", body_, good);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 201) << first->body;
  // The same request again: a replay.
  auto again = post(host_token, "web2", body_, good);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << again->body;

  // Another body under a valid signature; a signature made for another host; out of the
  // time window; no signature at all; a malformed header.
  std::string altered = body_;
  altered.insert(altered.find("</"), "<!-- x -->");
  for (const auto& [body, header, status_wanted] : std::vector<std::tuple<std::string, std::string, int>>{
           {altered, sign(*key, "web2", body_, now_s(), "10112233445566778899aabbccddeeff"), 403},
           {body_, sign(*key, "web3", body_, now_s(), "20112233445566778899aabbccddeeff"), 403},
           {body_, sign(*key, "web2", body_, now_s() - 3600, "30112233445566778899aabbccddeeff"), 403},
           {body_, sign(*key, "web2", body_, now_s() + 3600, "40112233445566778899aabbccddeeff"), 403},
           {body_, "", 403},
           {body_, "v1 t=1 n=zz s=abc", 400},
       }) {
    auto res = post(host_token, "web2", body, header);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status_wanted) << header << " -> " << res->body;
  }
  const std::string history = tb("report history web2 --format json");
  EXPECT_EQ(nlohmann::json::parse(history)["scans"].size(), 1u) << history;
}

TEST_F(SignedScanTest, RequireSignedScansRefusesHostsWithoutAKey) {
  server_ =
      std::make_unique<ServerProcess>(db_, dir_ / "server.log", std::vector<std::string>{"--require-signed-scans"});
  ASSERT_GT(server_->port(), 0);
  const std::string host_token = tb("token add --name web4 --role host --host web4 2>/dev/null");
  auto res = post(host_token, "web4", body_, "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_NE(res->body.find("signed scans only"), std::string::npos) << res->body;
  // An enrolment must bring a key and sign with it.
  std::string err;
  EXPECT_EQ(
      scan("web5",
           "--enrol-token-file " + (dir_ / "enrol").string() + " --token-file " + (dir_ / "web5.token").string(), &err),
      2);
  EXPECT_EQ(scan("web5",
                 "--enrol-token-file " + (dir_ / "enrol").string() + " --token-file " + (dir_ / "web5.token").string() +
                     " --signing-key " + (dir_ / "web5.key").string(),
                 &err),
            1)
      << err;
}

}  // namespace

namespace {

// Issue 21: an enrolment token could re-enrol a host an admin had given a key, replacing
// the key (the real host's signed scans then refused, the attacker's accepted), and could
// post unsigned scans for it.
TEST_F(SignedScanTest, AnEnrolmentCannotTakeOverAHostWithARegisteredKey) {
  server_ = std::make_unique<ServerProcess>(db_, dir_ / "server.log");
  ASSERT_GT(server_->port(), 0);
  const std::string key = (dir_ / "db1.key").string();
  std::string public_key = run(std::string(TB_SCAN_BINARY) + " --signing-key " + key + " --print-public-key");
  while (!public_key.empty() && (public_key.back() == '\n' || public_key.back() == ' ')) public_key.pop_back();
  int status = 0;
  tb("host key db1 --public-key " + public_key, &status);
  ASSERT_EQ(status, 0);
  const std::string host_token = tb("token add --name db1 --role host --host db1 2>/dev/null");
  write(dir_ / "db1.token", host_token + "\n");
  std::string err;
  ASSERT_EQ(scan("db1", "--token-file " + (dir_ / "db1.token").string() + " --signing-key " + key, &err), 1) << err;

  // The attacker: an enrolment token, its own key, and an unsigned upload.
  EXPECT_EQ(scan("db1",
                 "--enrol-token-file " + (dir_ / "enrol").string() + " --token-file " + (dir_ / "evil.token").string() +
                     " --signing-key " + (dir_ / "evil.key").string(),
                 &err),
            2);
  EXPECT_NE(err.find("registered signing key"), std::string::npos) << err;
  auto unsigned_post = post(enrol_, "db1", body_, "");
  ASSERT_TRUE(unsigned_post);
  EXPECT_EQ(unsigned_post->status, 409) << unsigned_post->body;
  // The real host's key still holds; only its own two scans are stored.
  EXPECT_EQ(scan("db1", "--token-file " + (dir_ / "db1.token").string() + " --signing-key " + key, &err), 1) << err;
  const std::string history = tb("report history db1 --format json");
  EXPECT_EQ(nlohmann::json::parse(history)["scans"].size(), 2u) << history;
}

// Issue 21: a document dated 2262 froze its host's reported state (later scans, one with a
// planted rootkit, were ignored as older). A start beyond the allowed clock skew is refused.
TEST_F(SignedScanTest, AScanDatedInTheFutureIsRefused) {
  server_ = std::make_unique<ServerProcess>(db_, dir_ / "server.log");
  ASSERT_GT(server_->port(), 0);
  std::string future = body_;
  const auto at = future.find("started=\"");
  ASSERT_NE(at, std::string::npos) << future.substr(0, 400);
  const auto end = future.find('"', at + 9);
  future.replace(at + 9, end - at - 9, "2262-01-01T00:00:00.000000000Z");
  auto res = post(admin_, "web9", future, "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  EXPECT_NE(res->body.find("in the future"), std::string::npos) << res->body;
  auto ok = post(admin_, "web9", body_, "");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  // The same rule for documents ingested offline.
  write(dir_ / "future.xml", future);
  int status = 0;
  const std::string out = tb("ingest --host web9 " + (dir_ / "future.xml").string() + " 2>&1", &status);
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("in the future"), std::string::npos) << out;
}

}  // namespace
