// The whole loop with the real processes: `trustbase serve` on loopback, signatures
// imported, hosts deployed with planted deviations and scanned by `trustbase-scan
// --server`, whose exit status and printed verdict are what a deployment job sees.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_test_support.h"

extern char** environ;

namespace fs = std::filesystem;

namespace {

using clitest::slurp;
using clitest::write;

struct Ran {
  int status = -1;
  std::string out;
};

// Runs `cmd` with stdout (and stderr, unless the command redirects it) into `scratch`.
Ran run(const std::string& cmd, const fs::path& scratch) {
  const int raw = std::system((cmd + " >" + scratch.string() + (cmd.find("2>") == std::string::npos ? " 2>&1" : "")).c_str());
  return Ran{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(scratch)};
}

class ServerFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-server-flow-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = fs::canonical(tmpl);
    db_ = dir_ / "store.db";
    app_ = dir_ / "opt/app";
    write(dir_ / "pkg/app-1.0/bin/app", "app 1.0");
    write(dir_ / "pkg/app-1.0/lib/libcore.so", "libcore 1.0");
    write(dir_ / "pkg/app-1.0/etc/app.conf", "port=8080");
    write(dir_ / "pkg/fix1/bin/app", "app 1.0 + fix 1");
    write(dir_ / "pkg/fix1/lib/libfix.so", "libfix 1");
    ASSERT_EQ(tb("import --name app --version 1.0 --install-root " + app_.string() + " " +
                  (dir_ / "pkg/app-1.0").string()).status, 0);
    ASSERT_EQ(tb("import --name app-fix1 --version 1 --kind patch --patches app@1.0 --install-root " + app_.string() +
                  " " + (dir_ / "pkg/fix1").string()).status, 0);
    // The token is the only line on stdout (the notice goes to stderr).
    const Ran token = run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() +
                              " token add --name deployer --role admin 2>/dev/null",
                          dir_ / "token");
    ASSERT_EQ(token.status, 0) << token.out;
    ASSERT_EQ(std::count(token.out.begin(), token.out.end(), '\n'), 1) << token.out;
    start_server();
  }
  void TearDown() override {
    if (server_pid_ > 0) {
      ::kill(server_pid_, SIGTERM);
      int st = 0;
      ::waitpid(server_pid_, &st, 0);
    }
    fs::remove_all(dir_);
  }

  Ran tb(const std::string& args) {
    return run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() + " " + args, dir_ / "tb.out");
  }

  void start_server() {
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    const std::string log = (dir_ / "server.log").string();
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const std::string db = db_.string();
    const char* argv[] = {TB_TRUSTBASE_BINARY, "--db", db.c_str(), "serve", "--listen", "127.0.0.1:0", nullptr};
    ASSERT_EQ(::posix_spawn(&server_pid_, TB_TRUSTBASE_BINARY, &fa, nullptr, const_cast<char**>(argv), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    // First stdout line: "listening on 127.0.0.1:PORT".
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    const auto colon = line.rfind(':');
    ASSERT_NE(colon, std::string::npos) << "server said: '" << line << "' log: " << slurp(log);
    url_ = "http://127.0.0.1:" + line.substr(colon + 1);
  }

  void deploy(const std::string& scenario) {
    fs::remove_all(app_);
    fs::create_directories(app_.parent_path());
    fs::copy(dir_ / "pkg/app-1.0", app_, fs::copy_options::recursive);
    if (scenario == "patched") {
      fs::copy(dir_ / "pkg/fix1", app_, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    } else if (scenario == "broken") {
      fs::copy_file(dir_ / "pkg/fix1/lib/libfix.so", app_ / "lib/libfix.so");  // patch half applied
      write(app_ / "etc/app.conf", "port=9090");                                // edited by hand
      fs::remove(app_ / "lib/libcore.so");                                      // removed
      write(app_ / "notes.txt", "todo");                                        // unknown file
    }
  }

  Ran scan_to_server(const std::string& host) {
    return run(std::string(TB_SCAN_BINARY) + " -q --server " + url_ + " --token-file " + (dir_ / "token").string() +
                   " --host " + host + " " + app_.string(),
               dir_ / "scan.out");
  }

  fs::path dir_, db_, app_;
  std::string url_;
  pid_t server_pid_ = -1;
};

TEST_F(ServerFlow, CorrectlyPatchedHostPassesTheGate) {
  deploy("patched");
  const Ran r = scan_to_server("alpha");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("stored for host alpha"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result: clean"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deviations: none\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signatures: 2 complete\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("report: " + url_ + "/api/v1/hosts/alpha/report\n"), std::string::npos) << r.out;
}

// The verdict printed with --server is short whatever the host: the counts and where the
// whole report is, never the deviations one by one; exit 0 clean, 1 deviations, 2 not
// delivered. The counts are read from the answer's fields, which the report agrees with.
TEST_F(ServerFlow, TheScannerPrintsAShortVerdictAndExitsByIt) {
  deploy("broken");
  const Ran r = scan_to_server("beta");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(r.out, "scan " + r.out.substr(5, r.out.find(' ', 5) - 5) +
                       " stored for host beta\n"
                       "result: DEVIATIONS\n"
                       "deviations: 1 added, 1 removed, 2 modified\n"
                       "signatures: 2 partial\n"
                       "report: " +
                       url_ + "/api/v1/hosts/beta/report\n");
  EXPECT_EQ(r.out.find("notes.txt"), std::string::npos) << "no deviation listed one by one: " << r.out;
  // The URL it prints serves the whole report.
  const Ran rep = tb("report host beta --format json");
  const auto report = nlohmann::json::parse(rep.out);
  EXPECT_EQ(report["deviations"].size(), 4u) << rep.out;

  // Not delivered: nobody listens at the URL (one attempt), or the server refuses it.
  deploy("patched");
  const Ran away = run(std::string(TB_SCAN_BINARY) + " -q --attempts 1 --server http://127.0.0.1:1 --token-file " +
                           (dir_ / "token").string() + " --host beta " + app_.string(),
                       dir_ / "scan.out");
  EXPECT_EQ(away.status, 2) << away.out;
  EXPECT_EQ(away.out.find("result:"), std::string::npos) << away.out;
  const Ran clean = scan_to_server("beta");
  EXPECT_EQ(clean.status, 0) << clean.out;
  EXPECT_NE(clean.out.find("result: clean\n"), std::string::npos) << clean.out;
}

// trustbase-scan --verify: the end of a deployment job asks the server's gate, which
// judges the host from its (just refreshed) cached analysis.
TEST_F(ServerFlow, ScannerVerifyAsksTheDeploymentGate) {
  const std::string scan = std::string(TB_SCAN_BINARY) + " -q --server " + url_ + " --token-file " +
                           (dir_ / "token").string() + " --host gamma --verify --expect-patch app-fix1@1 " +
                           app_.string();
  deploy("patched");
  Ran r = run(scan, dir_ / "scan.out");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("host gamma"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("): OK"), std::string::npos) << r.out;

  deploy("broken");
  r = run(scan, dir_ / "scan.out");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("): FAILED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("app-fix1@1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("partial"), std::string::npos) << r.out;

  // An unknown patch is refused by the server, and the scanner says so (status 2).
  r = run(std::string(TB_SCAN_BINARY) + " -q --server " + url_ + " --token-file " + (dir_ / "token").string() +
              " --host gamma --verify --expect-patch nosuch@1 " + app_.string(),
          dir_ / "scan.out");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("no signature nosuch@1"), std::string::npos) << r.out;
}

TEST_F(ServerFlow, EveryPlantedDeviationIsReportedAttributedAndNothingElse) {
  deploy("broken");
  const Ran r = scan_to_server("beta");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("result: DEVIATIONS"), std::string::npos) << r.out;

  // The stored report, read while the server runs (SQLite WAL: readers do not block).
  const Ran rep = tb("report host beta --format json");
  ASSERT_EQ(rep.status, 1) << rep.out;
  const auto report = nlohmann::json::parse(rep.out);
  std::map<std::string, std::string> states;
  for (const auto& s : report["signatures"]) states[s["signature"]] = s["state"];
  EXPECT_EQ(states, (std::map<std::string, std::string>{{"app@1.0", "partial"}, {"app-fix1@1", "partial"}}));

  std::vector<std::string> lines;
  for (const auto& d : report["deviations"]) {
    std::string owners;
    for (const auto& o : d["owners"]) owners += (owners.empty() ? "" : ",") + o.get<std::string>();
    lines.push_back(d["change"].get<std::string>() + " " +
                    fs::path(d["path"].get<std::string>()).lexically_relative(app_).string() + " [" + owners + "]");
  }
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "modified bin/app [app@1.0,app-fix1@1]",  // still the base's binary: patch not applied
                       "modified etc/app.conf [app@1.0]",
                       "removed lib/libcore.so [app@1.0]",
                       "added notes.txt []",
                   }));
}

// A new host enrols itself on its first run: the enrolment token gets it a host token,
// saved (0600) where --token-file says, and used from then on; a second machine claiming
// the same name is refused and gets nothing.
TEST_F(ServerFlow, ANewHostEnrolsOnceAndThenUsesItsOwnToken) {
  const Ran enrol_token = run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db_.string() +
                                  " token add --name bootstrap --role enrol 2>/dev/null",
                              dir_ / "enrol-token");
  ASSERT_EQ(enrol_token.status, 0) << enrol_token.out;
  ASSERT_EQ(tb("cluster add payments").status, 0);
  deploy("patched");
  const fs::path host_token = dir_ / "etc/trustbase/host-token";
  fs::create_directories(host_token.parent_path());
  auto scan = [&](const fs::path& token_file, const std::string& extra) {
    return run(std::string(TB_SCAN_BINARY) + " --server " + url_ + " --enrol-token-file " +
                   (dir_ / "enrol-token").string() + " --token-file " + token_file.string() +
                   " --host delta " + extra + " " + app_.string(),
               dir_ / "scan.out");
  };

  const Ran first = scan(host_token, "--cluster payments --role active");
  EXPECT_EQ(first.status, 0) << first.out;
  EXPECT_NE(first.out.find("enrolled host delta; its token is in " + host_token.string()), std::string::npos)
      << first.out;
  EXPECT_NE(first.out.find("result: clean"), std::string::npos) << first.out;
  ASSERT_TRUE(fs::exists(host_token));
  EXPECT_EQ(fs::status(host_token).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  const std::string saved = slurp(host_token);
  EXPECT_EQ(saved.size(), 68u) << saved;  // tb_ + 64 hex digits + newline
  EXPECT_FALSE(fs::exists(host_token.string() + ".tmp"));
  EXPECT_EQ(first.out.find(saved.substr(0, 67)), std::string::npos) << "the token must not be printed";

  // The second run uses the saved token (no enrolment; --cluster/--role are not needed).
  const Ran second = scan(host_token, "");
  EXPECT_EQ(second.status, 0) << second.out;
  EXPECT_EQ(second.out.find("enrolled"), std::string::npos) << second.out;
  EXPECT_EQ(slurp(host_token), saved);
  // The server logs a request after answering it: give the line a moment to arrive.
  std::string log = slurp(dir_ / "server.log");
  for (int i = 0; i < 100 && log.find("token=enrolled:delta POST") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = slurp(dir_ / "server.log");
  }
  EXPECT_NE(log.find("token=bootstrap POST /api/v1/scans 201"), std::string::npos) << log;
  EXPECT_NE(log.find("token=enrolled:delta POST /api/v1/scans 201"), std::string::npos) << log;

  // Another machine calling itself delta: refused, no token file.
  const fs::path impostor = dir_ / "impostor/host-token";
  fs::create_directories(impostor.parent_path());
  const Ran third = scan(impostor, "");
  EXPECT_EQ(third.status, 2) << third.out;
  EXPECT_NE(third.out.find("409"), std::string::npos) << third.out;
  EXPECT_FALSE(fs::exists(impostor));

  // Options that make no sense alone are usage errors.
  const Ran alone = run(std::string(TB_SCAN_BINARY) + " --server " + url_ + " --token-file " + host_token.string() +
                            " --cluster c " + app_.string(),
                        dir_ / "scan.out");
  EXPECT_EQ(alone.status, 2) << alone.out;
  EXPECT_NE(alone.out.find("--enrol-token-file"), std::string::npos) << alone.out;

  const Ran rep = tb("report host delta --format json");
  EXPECT_EQ(rep.status, 0) << rep.out;
  const Ran hosts = tb("host list");
  EXPECT_NE(hosts.out.find("payments"), std::string::npos) << hosts.out;
  EXPECT_NE(hosts.out.find("active"), std::string::npos) << hosts.out;
}

// The scanner uploads in chunks by default (format/chunked_scan.h); the whole document
// with --upload document. Both must store the same scan and get the same verdict.
TEST_F(ServerFlow, ChunkedAndDocumentUploadsStoreTheSameScan) {
  deploy("broken");
  const Ran chunked = scan_to_server("chunked");
  const Ran document = run(std::string(TB_SCAN_BINARY) + " -q --upload document --server " + url_ + " --token-file " +
                               (dir_ / "token").string() + " --host document " + app_.string(),
                           dir_ / "scan.out");
  EXPECT_EQ(chunked.status, 1) << chunked.out;
  EXPECT_EQ(document.status, chunked.status) << document.out;
  const Ran a = tb("report host chunked --format json");
  const Ran b = tb("report host document --format json");
  ASSERT_EQ(a.status, b.status) << a.out << b.out;
  auto without_host = [](std::string text, const std::string& host) {
    for (std::size_t at; (at = text.find("\"" + host + "\"")) != std::string::npos;) text.replace(at, host.size() + 2, "\"H\"");
    const std::size_t started = text.find("\"scan_started\":");  // the two scans ran one after the other
    if (started != std::string::npos) text.erase(started, text.find(',', started) - started);
    return text;
  };
  EXPECT_EQ(without_host(a.out, "chunked"), without_host(b.out, "document"));
  EXPECT_NE(a.out.find("notes.txt"), std::string::npos) << a.out;
  // The server saw a chunked conversation: a 409 naming the chunks, then the 201.
  const std::string log = slurp(dir_ / "server.log");
  EXPECT_NE(log.find("409"), std::string::npos) << log;
}

TEST_F(ServerFlow, ABadTokenIsRefusedAndNothingIsStored) {
  deploy("patched");
  write(dir_ / "token", "not-a-token");
  const Ran r = scan_to_server("gamma");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("401"), std::string::npos) << r.out;
  EXPECT_EQ(tb("report host gamma").status, 2);
}

}  // namespace
