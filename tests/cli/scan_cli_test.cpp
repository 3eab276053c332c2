// End-to-end tests of the trustbase-scan executable: exit codes, output files, the
// documents it writes (valid against the XSD, parsed back to the tree's contents).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cli_test_support.h"
#include "core/sha256.h"
#include "format/scan_reader.h"

namespace fs = std::filesystem;

namespace {

using clitest::slurp;
using clitest::write;

struct RunResult {
  int status = -1;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class ScanCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    tree_ = dir_ / "tree";
    fs::create_directories(tree_ / "bin");
    fs::create_directories(tree_ / "etc");
    write(tree_ / "bin" / "app", "#!/bin/sh\necho app\n");
    write(tree_ / "etc" / "app.conf", "port=8080\n");
    write(tree_ / "etc" / "empty", "");
    fs::create_symlink("../bin/app", tree_ / "etc" / "link");
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::all, ec);
    fs::remove_all(dir_, ec);
  }
  RunResult run(const std::string& args) {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string cmd = std::string(TB_SCAN_BINARY) + " " + args + " >" + quote(out) + " 2>" + quote(err);
    RunResult r;
    const int raw = std::system(cmd.c_str());
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  fs::path dir_, tree_;
};

TEST_F(ScanCli, WritesCompleteDocumentAndExitsZero) {
  const RunResult r = run("--root " + quote(tree_) + " -o " + quote(dir_ / "scan.xml"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "scan.xml.partial"));
  auto doc = tb::parse_scan(slurp(dir_ / "scan.xml"));
  ASSERT_TRUE(doc) << doc.error().message;
  ASSERT_EQ(doc->header.roots.size(), 1u);
  EXPECT_EQ(doc->header.roots[0], fs::canonical(tree_).string());
  const std::string root = doc->header.roots[0];
  // root, bin, bin/app, etc, etc/app.conf, etc/empty, etc/link
  EXPECT_EQ(doc->manifest.size(), 7u);
  const tb::FileRecord* app = doc->manifest.find(root + "/bin/app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->sha256, tb::Sha256::of("#!/bin/sh\necho app\n"));
  const tb::FileRecord* empty = doc->manifest.find(root + "/etc/empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->sha256.hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const tb::FileRecord* link = doc->manifest.find(root + "/etc/link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, tb::FileType::symlink);
  EXPECT_EQ(link->link_target, "../bin/app");
  EXPECT_EQ(doc->summary.files, 3u);
  EXPECT_EQ(doc->summary.directories, 3u);
  EXPECT_EQ(doc->summary.symlinks, 1u);
  EXPECT_EQ(doc->summary.errors, 0u);
  EXPECT_FALSE(doc->header.host.hostname.empty());
  EXPECT_FALSE(doc->header.host.kernel.empty());
  EXPECT_NE(doc->header.scanner.find("trustbase-scan"), std::string::npos);
}

// -o to a FIFO (or a device such as /dev/null) writes into it: it is never replaced by
// a renamed regular file (a root scan with -o /dev/null once turned /dev/null into one).
TEST_F(ScanCli, OutputToAFifoWritesIntoItAndLeavesItAFifo) {
  const fs::path fifo = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const fs::path copy = dir_ / "copy.xml";
  const std::string reader = "cat " + quote(fifo) + " >" + quote(copy) + " &";
  ASSERT_EQ(std::system(reader.c_str()), 0);
  const RunResult r = run("-q " + quote(tree_) + " -o " + quote(fifo));
  EXPECT_EQ(r.status, 0) << r.err;
  for (int i = 0; i < 500 && slurp(copy).find("</scan>") == std::string::npos; ++i) ::usleep(10'000);
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_FALSE(fs::exists(dir_ / "pipe.partial"));
  EXPECT_NE(slurp(copy).find("</scan>"), std::string::npos);
  // A directory is refused, not replaced.
  const RunResult d = run("-q " + quote(tree_) + " -o " + quote(dir_));
  EXPECT_EQ(d.status, 2);
  EXPECT_NE(d.err.find("is a directory"), std::string::npos) << d.err;
  EXPECT_TRUE(fs::is_directory(dir_));
}

TEST_F(ScanCli, OutputValidatesAgainstTheSchema) {
  ASSERT_EQ(run("--root " + quote(tree_) + " -o " + quote(dir_ / "scan.xml")).status, 0);
  const std::string cmd = "xmllint --noout --schema " + quote(std::string(TB_SOURCE_DIR) + "/schema/scan-v1.xsd") +
                          " " + quote(dir_ / "scan.xml") + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST_F(ScanCli, StdoutIsTheDefaultAndProgressStaysOffInPipes) {
  const RunResult r = run(quote(tree_));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("<?xml", 0), 0u);
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "progress line written to a pipe";
  EXPECT_TRUE(tb::parse_scan(r.out));
}

TEST_F(ScanCli, ProgressFlagForcesTheProgressLine) {
  const RunResult r = run("--progress --root " + quote(tree_));
  ASSERT_EQ(r.status, 0) << r.err;
  // The final line is always drawn: entries, bytes, rate, errors.
  EXPECT_NE(r.err.find("\r\033[K"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("7 entries"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0 errors"), std::string::npos) << r.err;
}

TEST_F(ScanCli, QuietPrintsNothingOnStderr) {
  const RunResult r = run("--quiet --root " + quote(tree_));
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
}

TEST_F(ScanCli, JsonFormatHoldsTheSameManifest) {
  const RunResult xml = run("-q --root " + quote(tree_));
  const RunResult json = run("-q --format json --root " + quote(tree_));
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(json.out.front(), '{');
  auto a = tb::parse_scan(xml.out);
  auto b = tb::parse_scan(json.out);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(a->manifest, b->manifest);
}

TEST_F(ScanCli, ExcludeGlobs) {
  const RunResult r = run("-q --exclude '*.conf' --exclude " + quote(fs::canonical(tree_).string() + "/bin") + " " + quote(tree_));
  ASSERT_EQ(r.status, 0);
  auto doc = tb::parse_scan(r.out);
  ASSERT_TRUE(doc);
  const std::string root = doc->header.roots[0];
  EXPECT_EQ(doc->manifest.find(root + "/etc/app.conf"), nullptr);
  EXPECT_EQ(doc->manifest.find(root + "/bin"), nullptr);
  EXPECT_EQ(doc->manifest.find(root + "/bin/app"), nullptr);
  EXPECT_NE(doc->manifest.find(root + "/etc/empty"), nullptr);
  EXPECT_EQ(doc->header.excludes.size(), 2u);
}

TEST_F(ScanCli, UnreadableEntriesGiveExitOneAndAreListed) {
  // Drop to nobody when running as root, so permissions apply.
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(tree_, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec, fs::perm_options::replace);
  for (auto& sub : {tree_ / "bin", tree_ / "etc"})
    fs::permissions(sub, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  write(tree_ / "secret", "top secret");
  fs::permissions(tree_ / "secret", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  const std::string prefix = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const fs::path out = dir_ / "out.xml", err = dir_ / "err.txt";
  // nobody cannot create files in dir_: write to stdout, captured by root's shell.
  const std::string cmd = prefix + TB_SCAN_BINARY + std::string(" -q ") + quote(tree_) + " >" + quote(out) + " 2>" + quote(err);
  const int raw = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  ASSERT_EQ(WEXITSTATUS(raw), 1) << slurp(err);
  auto doc = tb::parse_scan(slurp(out));
  ASSERT_TRUE(doc) << doc.error().message;
  const std::string secret = doc->header.roots[0] + "/secret";
  ASSERT_EQ(doc->errors.size(), 1u);
  EXPECT_EQ(doc->errors[0].path, secret);
  EXPECT_EQ(doc->errors[0].kind, tb::ScanErrorKind::open);
  EXPECT_EQ(doc->errors[0].sys_errno, EACCES);
  const tb::FileRecord* rec = doc->manifest.find(secret);
  ASSERT_NE(rec, nullptr) << "unreadable file must still be listed";
  EXPECT_FALSE(rec->has(tb::Attr::sha256));
  EXPECT_EQ(doc->summary.errors, 1u);
}

// --host names the document's host with -o too, not only the scan the server files
// (it once wrote the machine's own name there, and `ingest` filed the scan under it).
TEST_F(ScanCli, HostOptionNamesTheDocumentsHost) {
  const RunResult r = run("-q --host web-07.example " + quote(tree_) + " -o " + quote(dir_ / "scan.xml"));
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = tb::parse_scan(slurp(dir_ / "scan.xml"));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->header.host.hostname, "web-07.example");
  EXPECT_FALSE(doc->header.host.kernel.empty());  // the other facts are still this machine's

  const RunResult j = run("-q --format json --host web-08 " + quote(tree_) + " -o " + quote(dir_ / "scan.json"));
  ASSERT_EQ(j.status, 0) << j.err;
  auto json_doc = tb::parse_scan(slurp(dir_ / "scan.json"));
  ASSERT_TRUE(json_doc) << json_doc.error().message;
  EXPECT_EQ(json_doc->header.host.hostname, "web-08");
}

// --sysroot without a root scans the whole image: "/" inside it, recorded as "/".
TEST_F(ScanCli, SysrootAloneScansTheImageAsRoot) {
  const RunResult r = run("-q --no-inventory --sysroot " + quote(tree_) + " -o " + quote(dir_ / "scan.xml"));
  ASSERT_EQ(r.status, 0) << r.err;
  auto doc = tb::parse_scan(slurp(dir_ / "scan.xml"));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->header.roots, std::vector<std::string>{"/"});
  // /, /bin, /bin/app, /etc, /etc/app.conf, /etc/empty, /etc/link: the tree, nothing of the live system.
  EXPECT_EQ(doc->manifest.size(), 7u);
  const tb::FileRecord* app = doc->manifest.find("/bin/app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->sha256, tb::Sha256::of("#!/bin/sh\necho app\n"));
  ASSERT_NE(doc->manifest.find("/etc/link"), nullptr);

  // A root given with it is still a path inside the image.
  const RunResult etc =
      run("-q --no-inventory --sysroot " + quote(tree_) + " --root /etc -o " + quote(dir_ / "etc.xml"));
  ASSERT_EQ(etc.status, 0) << etc.err;
  auto only_etc = tb::parse_scan(slurp(dir_ / "etc.xml"));
  ASSERT_TRUE(only_etc) << only_etc.error().message;
  EXPECT_EQ(only_etc->header.roots, std::vector<std::string>{"/etc"});
  EXPECT_EQ(only_etc->manifest.size(), 4u);
}

// The README's option table ("Using the scanner") names every option --help lists.
TEST_F(ScanCli, ReadmeListsEveryOption) {
  const RunResult help = run("--help");
  ASSERT_EQ(help.status, 0);
  const std::string readme = slurp(fs::path(TB_SOURCE_DIR) / "README.md");
  const auto begin = readme.find("## Using the scanner");
  ASSERT_NE(begin, std::string::npos);
  const std::string section = readme.substr(begin, readme.find("\n## ", begin + 1) - begin);
  const std::regex long_option(R"((?:^|[\s,])(--[a-z][a-z0-9-]*))");
  std::size_t seen = 0;
  for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), long_option); it != std::sregex_iterator();
       ++it) {
    const std::string option = (*it)[1];
    ++seen;
    // Whole option names only: `--root` must not be found inside `--root-dir`.
    const std::regex listed("`" + option + "[ `=]|[ ,]" + option + "[ `]");
    EXPECT_TRUE(std::regex_search(section, listed)) << option << " is not in README.md's option table";
  }
  EXPECT_GT(seen, 30u) << help.out;
}

TEST_F(ScanCli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("--no-such-flag " + quote(tree_)).status, 2);
  EXPECT_EQ(run("--format yaml " + quote(tree_)).status, 2);
  const RunResult missing = run(quote(dir_ / "does-not-exist"));
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("does-not-exist"), std::string::npos);
}

TEST_F(ScanCli, ServerOptionsAreChecked) {
  const RunResult both = run("-q --server http://127.0.0.1:9 --token t -o x.xml " + quote(tree_));
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.err.find("exclusive"), std::string::npos) << both.err;
  const RunResult no_token = run("-q --server http://127.0.0.1:9 " + quote(tree_));
  EXPECT_EQ(no_token.status, 2);
  EXPECT_NE(no_token.err.find("token"), std::string::npos) << no_token.err;
  const RunResult unreachable = run("-q --server http://127.0.0.1:9 --token t --attempts 1 " + quote(tree_));
  EXPECT_EQ(unreachable.status, 2);
  EXPECT_NE(unreachable.err.find("cannot reach"), std::string::npos) << unreachable.err;
}

TEST_F(ScanCli, UnwritableOutputExitsTwoAndLeavesNothing) {
  const RunResult r = run("-q --root " + quote(tree_) + " -o " + quote(dir_ / "no-such-dir" / "scan.xml"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("no-such-dir"), std::string::npos);
}

TEST_F(ScanCli, HelpAndVersionExitZero) {
  EXPECT_EQ(run("--help").status, 0);
  const RunResult v = run("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("trustbase-scan"), std::string::npos);
}

TEST_F(ScanCli, InterruptedScanLeavesNoDocument) {
  // A large enough tree that SIGTERM arrives mid-scan, throttled to make sure.
  for (int d = 0; d < 20; ++d) {
    fs::create_directories(tree_ / "big" / std::to_string(d));
    for (int f = 0; f < 50; ++f) write(tree_ / "big" / std::to_string(d) / std::to_string(f), std::string(64 * 1024, 'x'));
  }
  const fs::path out = dir_ / "scan.xml";
  const std::string cmd = std::string(TB_SCAN_BINARY) + " -q --max-rate 5 --root " + quote(tree_) + " -o " + quote(out) +
                          " & pid=$!; " +
                          // Once the partial document exists the handler is in place (it is
                          // set first): a fixed sleep lost that race on a loaded CI machine
                          // under ASan and the default action killed the scanner (143).
                          "for i in $(seq 600); do [ -e " + quote(out.string() + ".partial") +
                          " ] && break; sleep 0.05; done; kill -TERM $pid; wait $pid";
  const int raw = std::system(("bash -c " + quote(cmd)).c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 2);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
}

}  // namespace
