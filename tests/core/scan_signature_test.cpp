// Signed scans: Ed25519 through OpenSSL, the signed message, the header's strict syntax,
// and interoperation with the openssl command (keys and signatures it makes and checks).
#include "core/scan_signature.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tb {
namespace {

namespace fs = std::filesystem;

std::string run(const std::string& cmd, int* status) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int raw = ::pclose(f);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

const Sha256Digest kBody = Sha256::of("<scan/>");

TEST(ScanSignature, SignedMessagesVerifyAndAnyChangedFieldDoesNot) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  const std::string pub = key->public_key();
  ASSERT_EQ(pub.size(), 32u);
  const std::string nonce(32, 'a');
  const std::string message = scan_signature_message("web1", 1'790'000'000, nonce, kBody);
  const std::string sig = key->sign(message);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(verify_ed25519(pub, message, sig));

  EXPECT_FALSE(verify_ed25519(pub, scan_signature_message("web2", 1'790'000'000, nonce, kBody), sig));
  EXPECT_FALSE(verify_ed25519(pub, scan_signature_message("web1", 1'790'000'001, nonce, kBody), sig));
  EXPECT_FALSE(verify_ed25519(pub, scan_signature_message("web1", 1'790'000'000, std::string(32, 'b'), kBody), sig));
  EXPECT_FALSE(verify_ed25519(pub, scan_signature_message("web1", 1'790'000'000, nonce, Sha256::of("<scan />")), sig));
  auto other = SigningKey::generate();
  ASSERT_TRUE(other);
  EXPECT_FALSE(verify_ed25519(other->public_key(), message, sig));
  std::string flipped = sig;
  flipped[10] = static_cast<char>(flipped[10] ^ 1);
  EXPECT_FALSE(verify_ed25519(pub, message, flipped));
  EXPECT_FALSE(verify_ed25519(pub.substr(1), message, sig));
  EXPECT_FALSE(verify_ed25519(pub, message, sig.substr(1)));
}

TEST(ScanSignature, HeaderRoundTripsAndMalformedOnesAreNamed) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  ScanSignature s{1'790'000'000, "0123456789abcdef0123456789abcdef", key->sign("x")};
  const std::string header = format_signature_header(s);
  EXPECT_EQ(header.rfind("v1 t=1790000000 n=0123456789abcdef0123456789abcdef s=", 0), 0u) << header;
  auto parsed = parse_signature_header(header);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, s);

  const std::string sig64 = header.substr(header.find("s=") + 2);
  const std::pair<std::string, std::string> bad[] = {
      {"", "v1"},
      {"v2 t=1 n=0123456789abcdef0123456789abcdef s=" + sig64, "v1"},
      {"v1 t=-5 n=0123456789abcdef0123456789abcdef s=" + sig64, "t="},
      {"v1 t=12x n=0123456789abcdef0123456789abcdef s=" + sig64, "t="},
      {"v1 t=1 n=0123456789ABCDEF0123456789abcdef s=" + sig64, "n="},
      {"v1 t=1 n=0123 s=" + sig64, "n="},
      {"v1 t=1 n=0123456789abcdef0123456789abcdef s=" + sig64.substr(4), "s="},
      {"v1 t=1 n=0123456789abcdef0123456789abcdef s=" + sig64 + " x=1", "after s="},
      {"v1 t=1 n=0123456789abcdef0123456789abcdef", "s="},
      {std::string(300, 'v'), "too long"},
  };
  for (const auto& [text, why] : bad) {
    auto r = parse_signature_header(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, ErrorCode::parse);
    EXPECT_NE(r.error().message.find(why), std::string::npos) << text << " -> " << r.error().message;
  }
}

TEST(ScanSignature, PublicKeysAreStrictBase64OfThirtyTwoBytes) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  const std::string text = encode_public_key(key->public_key());
  EXPECT_EQ(text.size(), 44u);
  auto back = decode_public_key(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, key->public_key());
  EXPECT_FALSE(decode_public_key(text.substr(0, 43)));
  EXPECT_FALSE(decode_public_key(text + "="));
  EXPECT_FALSE(decode_public_key(std::string(44, '!')));
  EXPECT_FALSE(decode_public_key(""));
}

TEST(ScanSignature, KeysAndSignaturesInteroperateWithTheOpensslCommand) {
  const fs::path dir = fs::temp_directory_path() / ("tb-sig-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int status = 0;
  run("openssl genpkey -algorithm ed25519 -out " + (dir / "key.pem").string() + " 2>&1", &status);
  ASSERT_EQ(status, 0);
  std::stringstream pem;
  pem << std::ifstream(dir / "key.pem").rdbuf();
  auto key = SigningKey::from_pem(pem.str());
  ASSERT_TRUE(key) << key.error().message;
  // Our PEM is what OpenSSL reads back; our signature is what openssl pkeyutl accepts.
  auto again = SigningKey::from_pem(key->to_pem());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key(), key->public_key());
  const std::string message = scan_signature_message("db7", 1'800'000'000, std::string(32, 'f'), kBody);
  std::ofstream(dir / "msg", std::ios::binary) << message;
  std::ofstream(dir / "sig", std::ios::binary) << key->sign(message);
  const std::string out = run("openssl pkeyutl -verify -rawin -inkey " + (dir / "key.pem").string() + " -in " +
                                  (dir / "msg").string() + " -sigfile " + (dir / "sig").string() + " 2>&1",
                              &status);
  EXPECT_EQ(status, 0) << out;
  // And what openssl signs, we verify.
  run("openssl pkeyutl -sign -rawin -inkey " + (dir / "key.pem").string() + " -in " + (dir / "msg").string() +
          " -out " + (dir / "sig2").string() + " 2>&1",
      &status);
  ASSERT_EQ(status, 0);
  std::stringstream sig2;
  sig2 << std::ifstream(dir / "sig2", std::ios::binary).rdbuf();
  EXPECT_TRUE(verify_ed25519(key->public_key(), message, sig2.str()));

  EXPECT_FALSE(SigningKey::from_pem("not a key"));
  run("openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out " + (dir / "ec.pem").string() + " 2>&1",
      &status);
  std::stringstream ec;
  ec << std::ifstream(dir / "ec.pem").rdbuf();
  auto wrong = SigningKey::from_pem(ec.str());
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("not Ed25519"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tb
