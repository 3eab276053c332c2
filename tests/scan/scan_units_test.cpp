// Unit tests of the scanner's small parts: --exclude matching, os-release parsing,
// the read-rate limiter and the host facts.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "scan/exclude.h"
#include "scan/host_facts.h"
#include "scan/throttle.h"

namespace tb {
namespace {

// ---------------------------------------------------------------------------- ExcludeSet

TEST(ExcludeSet, EmptySetExcludesNothing) {
  ExcludeSet none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.excludes("/var/log/x.log", "x.log"));
  ExcludeSet only_empty({""});
  EXPECT_TRUE(only_empty.empty()) << "an empty pattern must be ignored, not match everything";
}

TEST(ExcludeSet, NamePatternMatchesTheLastComponentAtAnyDepth) {
  ExcludeSet set({"*.log", "lost+found", "core.[0-9]*"});
  EXPECT_FALSE(set.empty());
  EXPECT_TRUE(set.excludes("/x.log", "x.log"));
  EXPECT_TRUE(set.excludes("/var/log/deep/down/app.log", "app.log"));
  EXPECT_TRUE(set.excludes("/lost+found", "lost+found"));
  EXPECT_TRUE(set.excludes("/srv/core.1234", "core.1234"));
  EXPECT_FALSE(set.excludes("/srv/core.x", "core.x"));
  EXPECT_FALSE(set.excludes("/var/log/app.log.1", "app.log.1"));
  EXPECT_FALSE(set.excludes("/var/log.d/app", "app")) << "a name pattern never looks at parent components";
  EXPECT_FALSE(set.excludes("/var/xlost+found", "xlost+found"));
}

TEST(ExcludeSet, WildcardsMatchALeadingDot) {
  // As find -name, rsync and fd: "*.pyc" must not leave ".x.pyc" in the scan.
  ExcludeSet set({"*.pyc", "*"});
  EXPECT_TRUE(set.excludes("/a/.x.pyc", ".x.pyc"));
  EXPECT_TRUE(set.excludes("/a/.hidden", ".hidden"));
  ExcludeSet path({"/home/*"});
  EXPECT_TRUE(path.excludes("/home/.profile", ".profile"));
}

TEST(ExcludeSet, PathPatternMatchesTheWholePathAndStarCrossesSlashes) {
  ExcludeSet set({"/var/log/*", "/home/*/.cache"});
  EXPECT_TRUE(set.excludes("/var/log/syslog", "syslog"));
  EXPECT_TRUE(set.excludes("/var/log/nginx/access.log", "access.log")) << "'*' must cross '/'";
  EXPECT_FALSE(set.excludes("/var/log", "log")) << "'/var/log/*' excludes the content, not the directory";
  EXPECT_FALSE(set.excludes("/var/logs/x", "x"));
  EXPECT_TRUE(set.excludes("/home/alice/.cache", ".cache"));
  EXPECT_TRUE(set.excludes("/home/a/b/.cache", ".cache")) << "'*' crosses '/' in path patterns";
  EXPECT_FALSE(set.excludes("/home/alice/.cache/x", "x")) << "a path pattern is anchored at both ends";
  EXPECT_FALSE(set.excludes("/srv/var/log/x", "x")) << "a path pattern is anchored at the start";
}

TEST(ExcludeSet, TrailingSlashIsIgnored) {
  ExcludeSet set({"/var/cache/", "tmp/"});
  EXPECT_TRUE(set.excludes("/var/cache", "cache"));
  EXPECT_TRUE(set.excludes("/a/b/tmp", "tmp")) << "'tmp/' is the name pattern 'tmp'";
  EXPECT_FALSE(set.excludes("/a/b/tmpx", "tmpx"));
  ExcludeSet root_only({"/"});
  EXPECT_TRUE(root_only.excludes("/", ""));
  EXPECT_FALSE(root_only.excludes("/etc", "etc"));
}

TEST(ExcludeSet, NamesAreBytes) {
  ExcludeSet set({"\xff*", "*\n*"});
  EXPECT_TRUE(set.excludes("/d/\xff\xfe", "\xff\xfe"));
  EXPECT_TRUE(set.excludes("/d/new\nline", "new\nline"));
  EXPECT_FALSE(set.excludes("/d/plain", "plain"));
}

// ---------------------------------------------------------------------------- os-release

TEST(ParseOsRelease, UnquotedQuotedAndCommented) {
  HostFacts f;
  parse_os_release(
      "# a comment with ID=evil\n"
      "NAME=\"Debian GNU/Linux\"\n"
      "\n"
      "ID=debian\n"
      "VERSION_ID='12'\n"
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
      "garbage line without equals\n"
      "HOME_URL=\"https://www.debian.org/\"",
      f);
  EXPECT_EQ(f.os_id, "debian");
  EXPECT_EQ(f.os_version, "12");
  EXPECT_EQ(f.os_pretty, "Debian GNU/Linux 12 (bookworm)");
}

TEST(ParseOsRelease, LastLineWithoutNewlineAndEmptyValues) {
  HostFacts f;
  parse_os_release("ID=\nVERSION_ID=\"\"\nPRETTY_NAME=x", f);
  EXPECT_EQ(f.os_id, "");
  EXPECT_EQ(f.os_version, "");
  EXPECT_EQ(f.os_pretty, "x");
}

TEST(ParseOsRelease, ShellEscapesInDoubleQuotes) {
  HostFacts f;
  parse_os_release(R"(PRETTY_NAME="My \"quoted\" \\ OS costs \$5 \`now\`")", f);
  EXPECT_EQ(f.os_pretty, R"(My "quoted" \ OS costs $5 `now`)");
  // Shell style: inside double quotes a backslash before any other character is kept.
  parse_os_release(R"(PRETTY_NAME="C:\dir\n")", f);
  EXPECT_EQ(f.os_pretty, R"(C:\dir\n)");
  // A value ending in an escaped backslash.
  parse_os_release(R"(ID="a\\")", f);
  EXPECT_EQ(f.os_id, R"(a\)");
}

TEST(ParseOsRelease, NoEscapesInSingleQuotes) {
  HostFacts f;
  parse_os_release(R"(PRETTY_NAME='back\slash \$x')", f);
  EXPECT_EQ(f.os_pretty, R"(back\slash \$x)") << "single quotes are literal in the shell";
}

TEST(ParseOsRelease, LaterAssignmentWins) {
  HostFacts f;
  parse_os_release("ID=first\nID=second\n", f);
  EXPECT_EQ(f.os_id, "second");
}

TEST(HostFacts, KernelAndArchFromUname) {
  const HostFacts f = collect_host_facts();
  utsname u{};
  ASSERT_EQ(::uname(&u), 0);
  EXPECT_EQ(f.kernel, u.release);
  EXPECT_EQ(f.arch, u.machine);
  EXPECT_FALSE(f.hostname.empty());
}

// ---------------------------------------------------------------------------- RateLimiter

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

TEST(RateLimiter, ZeroRateIsUnlimited) {
  RateLimiter unlimited(0);
  EXPECT_TRUE(unlimited.unlimited());
  const auto t0 = Clock::now();
  for (int i = 0; i < 1000; ++i) unlimited.acquire(1'000'000'000);
  EXPECT_LT(seconds_since(t0), 5.0);  // would be 10^6 s if it throttled
}

TEST(RateLimiter, OneSecondBurstThenBlocksForTheDebt) {
  constexpr double kRate = 1'000'000;  // bytes per second
  RateLimiter limiter(kRate);
  EXPECT_FALSE(limiter.unlimited());
  const auto t0 = Clock::now();
  limiter.acquire(1'000'000);  // the whole one-second burst
  limiter.acquire(200'000);    // 0.2 s of debt
  // Lower bound only: the machine is noisy, a slow run proves nothing.
  EXPECT_GE(seconds_since(t0), 0.2 - 0.002);
}

TEST(RateLimiter, DebtIsSharedBetweenThreads) {
  constexpr double kRate = 4'000'000;
  RateLimiter limiter(kRate);
  const auto t0 = Clock::now();
  limiter.acquire(4'000'000);  // burst spent
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { limiter.acquire(250'000); });
  for (std::thread& t : threads) t.join();
  // 1 MB beyond the burst at 4 MB/s: the last thread returns after >= 0.25 s.
  EXPECT_GE(seconds_since(t0), 0.25 - 0.002);
}

TEST(RateLimiter, BurstIsCappedAtOneSecond) {
  RateLimiter limiter(1'000'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // idle time must not bank more than 1 s
  const auto t0 = Clock::now();
  limiter.acquire(1'150'000);
  EXPECT_GE(seconds_since(t0), 0.15 - 0.002);
}

TEST(LowerProcessPriority, SetsNiceNineteenInAChild) {
  // In a child: the priority is process-wide and inherited, it must not slow the suite.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    lower_process_priority();
    errno = 0;
    const int prio = ::getpriority(PRIO_PROCESS, 0);
    ::_exit(prio == 19 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "nice value is not 19";
}

}  // namespace
}  // namespace tb
