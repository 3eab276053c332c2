// Signed imports with real parts: a throwaway GnuPG home with two keys (the publisher's,
// trusted, and a stranger's), .deb files built with dpkg-deb, a Packages index from
// dpkg-scanpackages, a Release file written here and signed with gpg (clear-signed
// InRelease and detached Release.gpg), rpms built with rpmbuild and signed with rpmsign.
// The good chain is recorded with the signer's fingerprint; every broken link (tampered
// .deb, tampered Packages, unknown signer, unsigned or altered Release, rpm by an unknown
// key, unsigned rpm under --require-signed) is refused with a clear error and stores
// nothing. Plus the deb822 and gpgv-status parsers on hostile text.
#include <chrono>
#include <thread>

#include <httplib.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server_process.h"
#include "sources/apt_repository.h"
#include "sources/feed.h"
#include "sources/openpgp.h"
#include "sources/package_verifier.h"
#include "sources/source_test_support.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

using namespace srctest;

bool have(const std::string& tool) { return run("command -v " + tool) == 0; }

// ---- the parsers on hostile text (no tools needed) -----------------------------------

const std::string kSha = std::string(64, 'a');

TEST(AptReleaseParser, ReadsFieldsAndTheSha256Section) {
  auto r = parse_apt_release("Origin: Test\nLabel: L\nSuite: stable\nCodename: trixie\nMD5Sum:\n " + std::string(32, 'b') +
                             " 10 main/binary-all/Packages\nSHA256:\n " + kSha + " 10 main/binary-all/Packages\n " +
                             kSha + "   7   main/binary-all/Packages.gz\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->origin, "Test");
  EXPECT_EQ(r->suite, "stable");
  EXPECT_EQ(r->codename, "trixie");
  ASSERT_EQ(r->sha256.size(), 2u);
  EXPECT_EQ(r->sha256[1].path, "main/binary-all/Packages.gz");
  EXPECT_EQ(r->sha256[1].size, 7u);
}

TEST(AptReleaseParser, HostileTextGetsAClearError) {
  const std::string sums = "SHA256:\n " + kSha + " 10 main/binary-all/Packages\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {std::string("Origin: a\0b\n", 12) + sums, "NUL byte"},
      {"Origin: Test\nMD5Sum:\n " + std::string(32, 'b') + " 1 Packages\n", "no SHA256 section"},
      {"SHA256:\n " + std::string(63, 'a') + " 10 Packages\n", "invalid SHA256"},
      {"SHA256:\n " + kSha + " -1 Packages\n", "invalid size"},
      {"SHA256:\n " + kSha + " 99999999999999999999999 Packages\n", "invalid size"},
      {"SHA256:\n " + kSha + " 10\n", "HASH SIZE PATH"},
      {"SHA256: " + kSha + " 10 Packages\n", "lines below"},
      {"SHA256:\n", "lists no file"},
      {"Suite: a\nSuite: b\n" + sums, "given twice"},
      {" continued\n" + sums, "continuation line before any field"},
      {"no colon here\n" + sums, "not a 'Field: value' line"},
      {"Bad Name: x\n" + sums, "invalid field name"},
      {sums + "\nOrigin: second\n", "second paragraph"},
      {"Origin: " + std::string(300, 'x') + "\n" + sums, "invalid Origin"},
      {"Origin: " + std::string(2u << 20, 'x') + "\n" + sums, "line too long"},
  };
  for (const auto& [text, expected] : cases) {
    auto r = parse_apt_release(text);
    ASSERT_FALSE(r) << "accepted: " << text.substr(0, 80);
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
  }
}

TEST(AptPackagesParser, NeedsEveryFieldOfTheChain) {
  const std::string good = "Package: app\nVersion: 1:1.0-1\nArchitecture: amd64\nFilename: pool/app.deb\nSize: 12\nSHA256: " +
                           kSha + "\nDescription: x\n long\n .\n more\n";
  auto ok = parse_apt_packages(good + "\n" + good);
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].version, "1:1.0-1");
  EXPECT_EQ((*ok)[0].size, 12u);
  for (const std::string field : {"Package", "Version", "Architecture", "Filename", "Size", "SHA256"}) {
    std::string text;
    std::size_t pos = 0;
    while (pos < good.size()) {  // drop the line of `field`
      const std::size_t end = good.find('\n', pos);
      const std::string line = good.substr(pos, end - pos + 1);
      if (line.rfind(field + ":", 0) != 0) text += line;
      pos = end + 1;
    }
    auto r = parse_apt_packages(text);
    ASSERT_FALSE(r) << field;
    EXPECT_NE(r.error().message.find("no " + field + " field"), std::string::npos) << r.error().message;
  }
  auto bad_size = parse_apt_packages("Package: a\nVersion: 1\nArchitecture: all\nFilename: f\nSize: 1x\nSHA256: " + kSha + "\n");
  ASSERT_FALSE(bad_size);
  EXPECT_NE(bad_size.error().message.find("invalid size"), std::string::npos);
  auto binary = parse_apt_packages(std::string("\x1f\x8b\x08\0garbage", 12));
  ASSERT_FALSE(binary);
  EXPECT_NE(binary.error().message.find("NUL byte"), std::string::npos);
}

TEST(ClearSignedLayout, RefusesWhatAptRefuses) {
  const std::string msg = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nSuite: x\n-----BEGIN PGP SIGNATURE-----\n\nabc\n"
                          "-----END PGP SIGNATURE-----\n";
  EXPECT_TRUE(check_clear_signed_layout(msg, "InRelease"));
  EXPECT_TRUE(check_clear_signed_layout(msg + "\n\n", "InRelease"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Suite: x\n", "not a clear-signed file"},
      {"junk\n" + msg, "not a clear-signed file"},
      {msg + "Suite: injected\n", "text after the signature"},
      {msg + msg, "text after the signature"},
      {"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nSuite: x\n", "missing or cut short"},
      {"", "empty"},
  };
  for (const auto& [text, expected] : cases) {
    auto r = check_clear_signed_layout(text, "InRelease");
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
  }
}

TEST(GpgvStatus, TrustsOnlyAGoodAndValidSignature) {
  const std::string fpr = "853A91AAE26899F4584E5D39CEF75B42582806CF";
  const std::string good = "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG CEF75B42582806CF Repo <r@x>\n[GNUPG:] VALIDSIG " + fpr +
                           " 2026-11-26 1795707693 0 4 0 22 8 01 " + fpr + "\n";
  auto s = judge_gpgv_status(good, 0, "InRelease");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->fingerprint, fpr);
  EXPECT_EQ(s->key_id, "CEF75B42582806CF");
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {good, 1, "gpgv failed"},
      {"", 2, "not signed"},
      {"[GNUPG:] GOODSIG CEF75B42582806CF x\n", 0, "no good signature"},
      {"[GNUPG:] VALIDSIG " + fpr + " d 1 0 4 0 22 8 01 " + fpr + "\n", 0, "no good signature"},
      {"[GNUPG:] BADSIG CEF75B42582806CF x\n" + good, 0, "BAD signature"},
      {"[GNUPG:] ERRSIG CEF75B42582806CF 22 8 01 1795707693 9 " + fpr + "\n[GNUPG:] NO_PUBKEY CEF75B42582806CF\n", 2,
       "not in the keyring"},
      {"[GNUPG:] EXPKEYSIG CEF75B42582806CF x\n" + good, 0, "expired"},
      {"[GNUPG:] REVKEYSIG CEF75B42582806CF x\n" + good, 0, "revoked"},
      {"[GNUPG:] GOODSIG CEF75B42582806CF x\n[GNUPG:] VALIDSIG " + fpr + " d 1 0 4 0 1 2 01 " + fpr + "\n", 0,
       "weak hash"},
      {"[GNUPG:] GOODSIG CEF75B42582806CF x\n[GNUPG:] VALIDSIG zz\n", 0, "malformed VALIDSIG"},
  };
  for (const auto& [status, code, expected] : cases) {
    auto r = judge_gpgv_status(status, code, "InRelease");
    ASSERT_FALSE(r) << status;
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
  }
}

TEST(Keyring, GarbageAndEmptyFilesAreRefused) {
  char tmpl[] = "/tmp/tb-keyring-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  write(dir / "empty.gpg", "");
  write(dir / "garbage.gpg", "this is not a key\n");
  write(dir / "armor.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n");
  write(dir / "cut.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ\n");
  for (const auto& [name, expected] : std::vector<std::pair<std::string, std::string>>{
           {"empty.gpg", "empty keyring"},
           {"garbage.gpg", "not an OpenPGP public key"},
           {"armor.asc", "corrupt armored"},
           {"cut.asc", "without its END line"},
           {"missing.gpg", "missing.gpg"}}) {
    auto r = OpenPgpKeyring::load({(dir / name).string()});
    ASSERT_FALSE(r) << name;
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
  }
  fs::remove_all(dir);
}

TEST(VerifyOptions, OptionsThatDoNotGoTogether) {
  VerifyOptions o;
  o.require_signed = true;
  auto r = PackageVerifier::open(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("needs the publishers' keys"), std::string::npos);
  VerifyOptions p;
  p.apt_packages = {"Packages"};
  ASSERT_FALSE(PackageVerifier::open(p));
  EXPECT_TRUE(PackageVerifier::open(VerifyOptions{}));
}

// ---- real keys, repositories and packages ---------------------------------------------

// One GnuPG home per test binary run: key generation is the slow part.
struct Keys {
  fs::path home;
  std::string repo_fpr, other_fpr;
  fs::path repo_asc, repo_gpg;  // the publisher's public key, armored and binary
};

class Signed : public TempDirTest {
 protected:
  static void SetUpTestSuite() {
    if (!have("gpg") || !have("gpgv") || !have("rpmsign") || !have("dpkg-scanpackages")) return;
    char tmpl[] = "/tmp/tb-gnupg-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return;
    keys_ = new Keys;
    keys_->home = tmpl;
    keys_->repo_fpr = make_key("Trustbase Test Archive <archive@example.test>");
    keys_->other_fpr = make_key("Stranger <stranger@example.test>");
    keys_->repo_asc = keys_->home / "repo.asc";
    keys_->repo_gpg = keys_->home / "repo.gpg";
    gpg("--armor --output " + quote(keys_->repo_asc.string()) + " --export " + keys_->repo_fpr);
    gpg("--output " + quote(keys_->repo_gpg.string()) + " --export " + keys_->repo_fpr);
  }
  static void TearDownTestSuite() {
    if (keys_ == nullptr) return;
    run("gpgconf --homedir " + quote(keys_->home.string()) + " --kill all");
    fs::remove_all(keys_->home);
    delete keys_;
    keys_ = nullptr;
  }
  void SetUp() override {
    if (keys_ == nullptr) GTEST_SKIP() << "gpg, gpgv, rpmsign or dpkg-scanpackages is not installed";
    TempDirTest::SetUp();
  }

  static int gpg(const std::string& args, std::string* out = nullptr) {
    return run("gpg --homedir " + quote(keys_ != nullptr ? keys_->home.string() : "") +
                   " --batch --yes --pinentry-mode loopback --passphrase '' " + args,
               out);
  }
  static std::string make_key(const std::string& uid) {
    std::string out;
    if (gpg("--quick-gen-key " + quote(uid) + " ed25519 sign never", &out) != 0)
      throw std::runtime_error("gpg --quick-gen-key failed: " + out);
    gpg("--with-colons --list-keys " + quote(uid), &out);
    const auto at = out.find("\nfpr:");
    if (at == std::string::npos) throw std::runtime_error("no fingerprint: " + out);
    const auto start = out.find_first_not_of(':', at + 5);
    return out.substr(start, out.find(':', start) - start);
  }

  int tb(const std::string& args, std::string* out) {
    return run(std::string(TB_TRUSTBASE_BINARY) + " --db " + quote((dir_ / "store.db").string()) + " " + args, out);
  }
  std::vector<SignatureInfo> infos() {
    auto store = open_sqlite_store((dir_ / "store.db").string());
    if (!store) throw std::runtime_error(store.error().message);
    auto list = (*store)->signature_infos();
    if (!list) throw std::runtime_error(list.error().message);
    return *list;
  }

  // A repository: two .debs in pool/, dists/stable/main/binary-all/Packages(.gz) from
  // dpkg-scanpackages, a Release listing them, InRelease and Release.gpg signed by `signer`.
  struct Repo {
    fs::path root, dist, packages, packages_gz;
    std::vector<fs::path> debs;
  };
  Repo make_repo(const std::string& signer) {
    Repo r;
    r.root = dir_ / "repo";
    r.dist = r.root / "dists/stable";
    fs::create_directories(r.root / "pool/main");
    fs::create_directories(r.dist / "main/binary-all");
    for (const auto& [name, content] : {std::pair{"hello", "hello v1\n"}, std::pair{"tools", "tools v2\n"}}) {
      DebSpec spec;
      spec.package = name;
      spec.version = "1.0-1";
      spec.files = {{"/usr/bin/" + std::string(name), content}};
      const fs::path built = build_deb(dir_ / ("build-" + std::string(name)), spec);
      r.debs.push_back(r.root / "pool/main" / built.filename());
      fs::copy_file(built, r.debs.back());
    }
    r.packages = r.dist / "main/binary-all/Packages";
    std::string log;
    // In a subshell: run() sends the command's own output elsewhere.
    if (run("(cd " + quote(r.root.string()) + " && dpkg-scanpackages --multiversion pool > " + quote(r.packages.string()) +
                ")",
            &log) != 0 ||
        fs::file_size(r.packages) == 0)
      throw std::runtime_error("dpkg-scanpackages: " + log);
    run("gzip -9nk " + quote(r.packages.string()));
    r.packages_gz = r.packages.string() + ".gz";
    write_release(r, signer);
    return r;
  }
  static void write_release(const Repo& r, const std::string& signer) {
    std::string sums;
    for (const fs::path& p : {r.packages, r.packages_gz})
      sums += " " + file_sha256(p).hex() + " " + std::to_string(fs::file_size(p)) + " main/binary-all/" +
              p.filename().string() + "\n";
    write(r.dist / "Release", "Origin: Trustbase Test\nLabel: Trustbase Test\nSuite: stable\nCodename: testing-1\n"
                              "Date: Thu, 26 Nov 2026 12:00:00 UTC\nArchitectures: all\nComponents: main\nSHA256:\n" +
                                  sums);
    sign_release(r, signer);
  }
  static void sign_release(const Repo& r, const std::string& signer) {
    const std::string release = quote((r.dist / "Release").string());
    ASSERT_EQ(gpg("--local-user " + signer + " --clearsign -o " + quote((r.dist / "InRelease").string()) + " " + release), 0);
    ASSERT_EQ(gpg("--local-user " + signer + " --armor --detach-sign -o " + quote((r.dist / "Release.gpg").string()) +
                  " " + release),
              0);
  }
  std::string chain_args(const Repo& r, const fs::path& keyring) {
    return "--keyring " + quote(keyring.string()) + " --apt-release " + quote((r.dist / "InRelease").string()) +
           " --apt-packages " + quote(r.packages_gz.string());
  }

  fs::path signed_rpm(const std::string& name, const std::optional<std::string>& signer) {
    RpmSpec spec;
    spec.name = name;
    spec.install = "mkdir -p %{buildroot}/opt/" + name + " && printf 'x\\n' > %{buildroot}/opt/" + name + "/f";
    spec.files = "/opt/" + name;
    const fs::path rpm = build_rpm(dir_, spec);
    if (signer) {
      std::string log;
      const int rc = run("rpmsign --define '__gpg /usr/bin/gpg' --define " + quote("_gpg_name " + *signer) +
                             " --define " + quote("_gpg_path " + keys_->home.string()) + " --addsign " + quote(rpm.string()),
                         &log);
      if (rc != 0) throw std::runtime_error("rpmsign failed: " + log);
    }
    return rpm;
  }

  static Keys* keys_;
};

Keys* Signed::keys_ = nullptr;

TEST_F(Signed, GoodDebianChainIsRecordedWithTheSignersFingerprint) {
  const Repo repo = make_repo(keys_->repo_fpr);
  std::string out;
  // An armored keyring (gpgv itself reads only binary ones: the importer converts).
  ASSERT_EQ(tb("import --require-signed " + chain_args(repo, keys_->repo_asc) + " " + quote((repo.root / "pool").string()),
               &out),
            0)
      << out;
  EXPECT_NE(out.find("signed by " + keys_->repo_fpr), std::string::npos) << out;
  EXPECT_NE(out.find("imported 2 packages"), std::string::npos) << out;
  const auto list = infos();
  ASSERT_EQ(list.size(), 2u);
  for (const SignatureInfo& info : list) {
    const SignatureProvenance& p = info.provenance;
    EXPECT_EQ(p.method, ProvenanceMethod::deb_release) << info.ref.id();
    EXPECT_EQ(p.signer_fingerprint, keys_->repo_fpr);
    EXPECT_EQ(p.signer_key_id, keys_->repo_fpr.substr(24));
    EXPECT_EQ(p.origin, "Trustbase Test");
    EXPECT_EQ(p.suite, "stable");
    EXPECT_EQ(p.codename, "testing-1");
    EXPECT_EQ(p.release_sha256, file_sha256(repo.dist / "InRelease"));
  }
  // Shown by `trustbase signatures`, text and JSON.
  ASSERT_EQ(tb("signatures", &out), 0) << out;
  EXPECT_NE(out.find("hello@1.0-1"), std::string::npos) << out;
  EXPECT_NE(out.find("deb-release " + keys_->repo_fpr + " (Trustbase Test stable testing-1)"), std::string::npos) << out;
  ASSERT_EQ(tb("signatures --format json", &out), 0) << out;
  EXPECT_NE(out.find("\"signer_fingerprint\": \"" + keys_->repo_fpr + "\""), std::string::npos) << out;
  // And by GET /api/v1/signatures of a real server.
  {
    std::string token;
    ASSERT_EQ(tb("token add --name reader --role reader", &token), 0) << token;
    ASSERT_NE(token.find("tb_"), std::string::npos) << token;
    token = token.substr(token.find("tb_"), 67);  // stderr's note may come first
    servertest::ServerProcess server(dir_ / "store.db", dir_ / "server.log");
    ASSERT_GT(server.port(), 0) << slurp(dir_ / "server.log");
    httplib::Client client("127.0.0.1", server.port());
    auto res = client.Get("/api/v1/signatures", httplib::Headers{{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const auto body = nlohmann::json::parse(res->body);
    ASSERT_EQ(body["signatures"].size(), 2u);
    const auto& p = body["signatures"][0]["provenance"];
    EXPECT_EQ(p["method"], "deb-release");
    EXPECT_EQ(p["signer_fingerprint"], keys_->repo_fpr);
    EXPECT_EQ(p["codename"], "testing-1");
    EXPECT_EQ(p["release_sha256"], file_sha256(repo.dist / "InRelease").hex());
  }
  // Idempotent: the same packages again are the same signatures.
  ASSERT_EQ(tb("import " + chain_args(repo, keys_->repo_gpg) + " " + quote((repo.root / "pool").string()), &out), 0) << out;
  EXPECT_NE(out.find("already stored: hello@1.0-1"), std::string::npos) << out;
  EXPECT_EQ(infos(), list);
}

TEST_F(Signed, DetachedReleaseSignatureAndPlainPackagesWork) {
  const Repo repo = make_repo(keys_->repo_fpr);
  std::string out;
  ASSERT_EQ(tb("import --keyring " + quote(keys_->repo_gpg.string()) + " --apt-release " +
                   quote((repo.dist / "Release").string()) + " --apt-release-gpg " +
                   quote((repo.dist / "Release.gpg").string()) + " --apt-packages " + quote(repo.packages.string()) +
                   " " + quote(repo.debs[0].string()),
               &out),
            0)
      << out;
  const auto list = infos();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].provenance.signer_fingerprint, keys_->repo_fpr);
  EXPECT_EQ(list[0].provenance.release_sha256, file_sha256(repo.dist / "Release"));
}

TEST_F(Signed, TamperedDebIsRefusedAndTheOthersStillImported) {
  const Repo repo = make_repo(keys_->repo_fpr);
  // Same name, other bytes: rebuilt with other content.
  DebSpec spec;
  spec.package = "hello";
  spec.version = "1.0-1";
  spec.files = {{"/usr/bin/hello", "trojan\n"}};
  const fs::path evil = build_deb(dir_ / "evil", spec);
  std::string out;
  EXPECT_EQ(tb("import " + chain_args(repo, keys_->repo_gpg) + " " + quote(evil.string()) + " " +
                   quote(repo.debs[1].string()),
               &out),
            1)
      << out;
  EXPECT_NE(out.find("imported 1 package, 1 failed"), std::string::npos) << out;
  EXPECT_NE(out.find("does not match the signed Packages index"), std::string::npos) << out;
  const auto list = infos();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].ref.name, "tools");
  // A package the index does not list at all.
  spec.package = "unlisted";
  const fs::path other = build_deb(dir_ / "other", spec);
  EXPECT_EQ(tb("import " + chain_args(repo, keys_->repo_gpg) + " " + quote(other.string()), &out), 1) << out;
  EXPECT_NE(out.find("is not listed in the signed Packages index"), std::string::npos) << out;
  EXPECT_EQ(infos().size(), 1u);
}

TEST_F(Signed, TamperedPackagesIndexIsRefused) {
  const Repo repo = make_repo(keys_->repo_fpr);
  std::string text = slurp(repo.packages);
  text.replace(text.find("SHA256: ") + 8, 64, std::string(64, '0'));
  write(repo.packages, text);
  std::string out;
  EXPECT_EQ(tb("import --keyring " + quote(keys_->repo_gpg.string()) + " --apt-release " +
                   quote((repo.dist / "InRelease").string()) + " --apt-packages " + quote(repo.packages.string()) +
                   " " + quote(repo.debs[0].string()),
               &out),
            2)
      << out;
  EXPECT_NE(out.find("not listed in the Release file's SHA256 section"), std::string::npos) << out;
  EXPECT_TRUE(infos().empty());
}

TEST_F(Signed, ReleaseByAKeyNotInTheKeyringIsRefused) {
  const Repo repo = make_repo(keys_->other_fpr);
  std::string out;
  EXPECT_EQ(tb("import " + chain_args(repo, keys_->repo_gpg) + " " + quote(repo.debs[0].string()), &out), 2) << out;
  EXPECT_NE(out.find("signed by key " + keys_->other_fpr.substr(24) + ", which is not in the keyring"),
            std::string::npos)
      << out;
  EXPECT_TRUE(infos().empty());
}

TEST_F(Signed, UnsignedOrAlteredReleaseIsRefused) {
  const Repo repo = make_repo(keys_->repo_fpr);
  std::string out;
  // The unsigned Release given as if it were InRelease.
  EXPECT_EQ(tb("import --keyring " + quote(keys_->repo_gpg.string()) + " --apt-release " +
                   quote((repo.dist / "Release").string()) + " --apt-packages " + quote(repo.packages.string()) + " " +
                   quote(repo.debs[0].string()),
               &out),
            2)
      << out;
  EXPECT_NE(out.find("not a clear-signed file"), std::string::npos) << out;
  // A signed text altered after signing: a bad signature.
  std::string text = slurp(repo.dist / "InRelease");
  text.replace(text.find("Suite: stable"), 13, "Suite: stablE");
  write(repo.dist / "InRelease", text);
  EXPECT_EQ(tb("import " + chain_args(repo, keys_->repo_gpg) + " " + quote(repo.debs[0].string()), &out), 2) << out;
  EXPECT_NE(out.find("BAD signature"), std::string::npos) << out;
  // A detached signature of another text.
  write(repo.dist / "Release", slurp(repo.dist / "Release") + "Description: added later\n");
  EXPECT_EQ(tb("import --keyring " + quote(keys_->repo_gpg.string()) + " --apt-release " +
                   quote((repo.dist / "Release").string()) + " --apt-release-gpg " +
                   quote((repo.dist / "Release.gpg").string()) + " --apt-packages " + quote(repo.packages.string()) +
                   " " + quote(repo.debs[0].string()),
               &out),
            2)
      << out;
  EXPECT_NE(out.find("BAD signature"), std::string::npos) << out;
  // Text after the signature block (apt refuses it: it is not what was signed).
  sign_release(repo, keys_->repo_fpr);
  write(repo.dist / "InRelease", slurp(repo.dist / "InRelease") + "Origin: injected\n");
  EXPECT_EQ(tb("import " + chain_args(repo, keys_->repo_gpg) + " " + quote(repo.debs[0].string()), &out), 2) << out;
  EXPECT_NE(out.find("text after the signature"), std::string::npos) << out;
  EXPECT_TRUE(infos().empty());
}

TEST_F(Signed, DebWithoutAChainIsRefusedUnderRequireSigned) {
  const Repo repo = make_repo(keys_->repo_fpr);
  std::string out;
  EXPECT_EQ(tb("import --require-signed --keyring " + quote(keys_->repo_gpg.string()) + " " +
                   quote(repo.debs[0].string()),
               &out),
            1)
      << out;
  EXPECT_NE(out.find("unsigned: a .deb is verified through its repository's signed Release"), std::string::npos) << out;
  EXPECT_EQ(tb("import --require-signed " + quote(repo.debs[0].string()), &out), 2) << out;
  EXPECT_NE(out.find("--require-signed needs the publishers' keys"), std::string::npos) << out;
  EXPECT_TRUE(infos().empty());
  // Without keys at all, the .deb is imported as before, not verified.
  ASSERT_EQ(tb("import " + quote(repo.debs[0].string()), &out), 0) << out;
  ASSERT_EQ(infos().size(), 1u);
  EXPECT_FALSE(infos()[0].provenance.verified());
}

TEST_F(Signed, RpmsSignedUnsignedAndByAStranger) {
  const fs::path good = signed_rpm("good", keys_->repo_fpr);
  const fs::path stranger = signed_rpm("stranger", keys_->other_fpr);
  const fs::path plain = signed_rpm("plain", std::nullopt);
  std::string out;
  EXPECT_EQ(tb("import --keyring " + quote(keys_->repo_asc.string()) + " " + quote(good.string()) + " " +
                   quote(stranger.string()) + " " + quote(plain.string()),
               &out),
            1)
      << out;
  EXPECT_NE(out.find("imported 2 packages, 1 failed"), std::string::npos) << out;
  EXPECT_NE(out.find("signed by key " + keys_->other_fpr.substr(24) + ", which is not in the keyring"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("rpm-gpg signed by " + keys_->repo_fpr), std::string::npos) << out;
  auto list = infos();
  ASSERT_EQ(list.size(), 2u);
  const SignatureInfo& g = list[0].ref.name == "good" ? list[0] : list[1];
  const SignatureInfo& p = list[0].ref.name == "good" ? list[1] : list[0];
  EXPECT_EQ(g.provenance.method, ProvenanceMethod::rpm_gpg);
  EXPECT_EQ(g.provenance.signer_fingerprint, keys_->repo_fpr);
  EXPECT_EQ(g.provenance.signer_key_id, keys_->repo_fpr.substr(24));
  EXPECT_EQ(p.ref.name, "plain");
  EXPECT_FALSE(p.provenance.verified());

  // --require-signed: the unsigned one is refused, one error, counted as failed.
  fs::remove(dir_ / "store.db");
  EXPECT_EQ(tb("import --require-signed --keyring " + quote(keys_->repo_gpg.string()) + " " + quote(good.string()) +
                   " " + quote(plain.string()),
               &out),
            1)
      << out;
  EXPECT_NE(out.find("imported 1 package, 1 failed"), std::string::npos) << out;
  EXPECT_NE(out.find("unsigned (no OpenPGP header signature)"), std::string::npos) << out;
  list = infos();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].ref.name, "good");
}

TEST_F(Signed, AlteredRpmHeaderFailsTheSignatureCheck) {
  const fs::path rpm = signed_rpm("good", keys_->repo_fpr);
  auto package = read_rpm(rpm.string());
  ASSERT_TRUE(package) << package.error().message;
  ASSERT_FALSE(package->header_signature.empty());
  auto keys = OpenPgpKeyring::load({keys_->repo_gpg.string()});
  ASSERT_TRUE(keys) << keys.error().message;
  auto ring = RpmKeyring::from(*keys);
  ASSERT_TRUE(ring) << ring.error().message;
  auto ok = ring->verify(package->header_signature, package->header_bytes, "good.rpm");
  ASSERT_TRUE(ok) << ok.error().message;
  std::string altered = package->header_bytes;
  altered[altered.size() - 3] ^= 0x20;
  auto bad = ring->verify(package->header_signature, altered, "good.rpm");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("BAD header signature"), std::string::npos) << bad.error().message;
  auto garbage = ring->verify("not a signature", package->header_bytes, "good.rpm");
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find("cannot be read"), std::string::npos) << garbage.error().message;
}

TEST_F(Signed, FeedChecksSignaturesAndRefusesUnsignedUnderRequireSigned) {
  const fs::path feed = dir_ / "feed";
  fs::create_directories(feed);
  fs::copy_file(signed_rpm("good", keys_->repo_fpr), feed / "good.rpm");
  fs::copy_file(signed_rpm("plain", std::nullopt), feed / "plain.rpm");
  auto store = open_sqlite_store((dir_ / "store.db").string());
  ASSERT_TRUE(store) << store.error().message;
  VerifyOptions v;
  v.keyrings = {keys_->repo_gpg.string()};
  v.require_signed = true;
  auto verifier = PackageVerifier::open(v);
  ASSERT_TRUE(verifier) << verifier.error().message;
  FeedOptions options;
  options.settle = std::chrono::milliseconds(0);
  options.verifier = *verifier;
  FeedWatcher watcher(**store, feed.string(), options);
  auto poll = watcher.poll_once();
  ASSERT_TRUE(poll) << poll.error().message;
  ASSERT_EQ(poll->imported.size(), 1u);
  EXPECT_EQ(poll->imported[0].ref.name, "good");
  ASSERT_EQ(poll->failed.size(), 1u);
  EXPECT_NE(poll->failed[0].reason.find("unsigned"), std::string::npos) << poll->failed[0].reason;
  auto list = (*store)->signature_infos();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].provenance.signer_fingerprint, keys_->repo_fpr);
  // `import --watch --once` takes the same options.
  std::string out;
  fs::remove(feed / "good.rpm");
  EXPECT_EQ(tb("import --watch --once --settle 0 --require-signed --keyring " + quote(keys_->repo_gpg.string()) + " " +
                   quote(feed.string()),
               &out),
            1)
      << out;
  EXPECT_NE(out.find("failed " + (feed / "plain.rpm").string() + ": unsigned"), std::string::npos) << out;
}

TEST_F(Signed, ServeFeedVerifiesWithItsKeyringAndRefusesUnsigned) {
  const fs::path feed = dir_ / "feed";
  fs::create_directories(feed);
  std::string out;
  // Keys are required for --feed-require-signed: the server does not start without them.
  EXPECT_EQ(tb("serve --listen 127.0.0.1:0 --feed " + quote(feed.string()) + " --feed-require-signed", &out), 2) << out;
  EXPECT_NE(out.find("--require-signed needs the publishers' keys"), std::string::npos) << out;

  fs::copy_file(signed_rpm("good", keys_->repo_fpr), feed / "good.rpm");
  fs::copy_file(signed_rpm("plain", std::nullopt), feed / "plain.rpm");
  const fs::path log = dir_ / "server.log";
  servertest::ServerProcess server(dir_ / "store.db", log,
                                   {"--feed", feed.string(), "--feed-interval", "0.1", "--feed-keyring",
                                    keys_->repo_asc.string(), "--feed-require-signed"});
  ASSERT_GT(server.port(), 0) << slurp(log);
  bool done = false;
  for (int i = 0; i < 300 && !done; ++i) {  // bounded: 30 s at most
    done = slurp(log).find("feed poll: imported 1, failed 1") != std::string::npos;
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string logged = slurp(log);
  ASSERT_TRUE(done) << logged;
  EXPECT_NE(logged.find("plain.rpm: unsigned"), std::string::npos) << logged;
  const auto list = infos();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].ref.name, "good");
  EXPECT_EQ(list[0].provenance.method, ProvenanceMethod::rpm_gpg);
}

// ---- the store keeps provenance (migration 8) ------------------------------------------

TEST(ProvenanceStore, RoundTripsAndStaysIdempotent) {
  char tmpl[] = "/tmp/tb-prov-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  auto store = open_sqlite_store((dir / "s.db").string());
  ASSERT_TRUE(store) << store.error().message;
  Signature deb;
  deb.info.ref = {"hello", "1.0-1"};
  deb.info.source = "hello_1.0-1_all.deb";
  deb.info.provenance.method = ProvenanceMethod::deb_release;
  deb.info.provenance.signer_fingerprint = "853A91AAE26899F4584E5D39CEF75B42582806CF";
  deb.info.provenance.signer_key_id = "CEF75B42582806CF";
  deb.info.provenance.origin = "Debian";
  deb.info.provenance.suite = "stable";
  deb.info.provenance.codename = "bookworm";
  deb.info.provenance.release_sha256 = Sha256::of("Release");
  Signature rpm;
  rpm.info.ref = {"app", "1.0-1"};
  rpm.info.provenance.method = ProvenanceMethod::rpm_gpg;
  rpm.info.provenance.signer_key_id = "0123456789ABCDEF";
  Signature plain;
  plain.info.ref = {"plain", "1"};
  for (const Signature* s : {&deb, &rpm, &plain}) ASSERT_TRUE((*store)->put_signature(*s));
  auto again = (*store)->put_signature(deb);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 1);
  auto infos = (*store)->signature_infos();
  ASSERT_TRUE(infos) << infos.error().message;
  ASSERT_EQ(infos->size(), 3u);
  EXPECT_EQ((*infos)[0], deb.info);
  EXPECT_EQ((*infos)[1], rpm.info);
  EXPECT_EQ((*infos)[2], plain.info);
  auto all = (*store)->signatures();
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)[0].info.provenance, deb.info.provenance);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tb
