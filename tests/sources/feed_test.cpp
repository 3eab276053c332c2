// The feed directory: FeedWatcher against a real SQLite store and real .deb packages
// built with dpkg-deb; `trustbase import --watch --once`; and `trustbase serve --feed`
// picking up a package dropped into the feed of a running server.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "sources/feed.h"
#include "sources/source_test_support.h"
#include "store/sqlite_store.h"

extern char** environ;

namespace tb {
namespace {

using namespace srctest;

class Feed : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    feed_ = dir_ / "feed";
    fs::create_directories(feed_);
    auto store = open_sqlite_store((dir_ / "store.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }
  static FeedOptions no_settle() {
    FeedOptions o;
    o.settle = std::chrono::milliseconds(0);
    return o;
  }
  // Builds app_VERSION_all.deb outside the feed and returns its path.
  fs::path deb(const std::string& version, const std::string& content, const std::string& package = "app") {
    DebSpec spec;
    spec.package = package;
    spec.version = version;
    spec.files = {{"/usr/bin/" + package, content}};
    return build_deb(dir_ / ("build-" + package + "-" + version), spec);
  }
  std::vector<SignatureInfo> infos() {
    auto list = store_->signature_infos();
    EXPECT_TRUE(list) << list.error().message;
    return list ? *list : std::vector<SignatureInfo>{};
  }
  fs::path feed_;
  std::unique_ptr<Store> store_;
};

TEST_F(Feed, ImportsANewPackageOnceAndNothingOnTheNextPoll) {
  const fs::path pkg = deb("1.0-1", "v1");
  fs::copy_file(pkg, feed_ / pkg.filename());
  FeedWatcher watcher(*store_, feed_.string(), no_settle());

  auto first = watcher.poll_once();
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->imported.size(), 1u);
  EXPECT_TRUE(first->failed.empty());
  EXPECT_EQ(first->imported[0].ref.id(), "app@1.0-1");
  EXPECT_EQ(first->imported[0].path, (feed_ / pkg.filename()).string());
  EXPECT_FALSE(first->imported[0].already_stored);
  ASSERT_EQ(infos().size(), 1u);
  EXPECT_EQ(infos()[0].source_sha256, file_sha256(pkg));

  auto second = watcher.poll_once();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->imported.empty());
  EXPECT_TRUE(second->failed.empty());
  EXPECT_EQ(second->duplicates, 0u);  // not even read again: unchanged since it was handled
  EXPECT_EQ(infos().size(), 1u);

  // A new watcher (a restart) reads the file again and finds its content already stored.
  FeedWatcher restarted(*store_, feed_.string(), no_settle());
  auto third = restarted.poll_once();
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_TRUE(third->imported.empty());
  EXPECT_EQ(third->duplicates, 1u);
  EXPECT_EQ(infos().size(), 1u);
}

TEST_F(Feed, ReleasesAreLinkedInVersionOrderInOnePollAndAcrossPolls) {
  // One poll: u15 sorts first by file name, u5 first by version.
  for (const char* v : {"1.0-10+deb12u15", "1.0-10+deb12u5"}) {
    const fs::path pkg = deb(v, v);
    fs::copy_file(pkg, feed_ / pkg.filename());
  }
  FeedWatcher watcher(*store_, feed_.string(), no_settle());
  auto poll = watcher.poll_once();
  ASSERT_TRUE(poll) << poll.error().message;
  ASSERT_EQ(poll->imported.size(), 2u);
  EXPECT_EQ(poll->imported[0].ref.version, "1.0-10+deb12u5");
  EXPECT_EQ(poll->imported[0].kind, SignatureKind::product);
  EXPECT_EQ(poll->imported[1].patches, (SignatureRef{"app", "1.0-10+deb12u5"}));
  EXPECT_TRUE(poll->imported[1].relinked.empty());

  // A later poll brings an older release: the stored ones are re-linked to it.
  const fs::path older = deb("1.0-10+deb12u4", "u4");
  fs::copy_file(older, feed_ / older.filename());
  poll = watcher.poll_once();
  ASSERT_TRUE(poll) << poll.error().message;
  ASSERT_EQ(poll->imported.size(), 1u);
  EXPECT_EQ(poll->imported[0].kind, SignatureKind::product);
  EXPECT_EQ(poll->imported[0].relinked,
            (std::vector<SignatureRef>{{"app", "1.0-10+deb12u5"}, {"app", "1.0-10+deb12u15"}}));  // store order
  for (const SignatureInfo& i : infos()) {
    if (i.ref.version == "1.0-10+deb12u4") continue;
    EXPECT_EQ(i.patches, (SignatureRef{"app", "1.0-10+deb12u4"})) << i.ref.id();
  }
}

TEST_F(Feed, ACorruptFileFailsAndTheNextPackageIsStillImported) {
  const fs::path good = deb("1.0-1", "v1");
  const std::string bytes = slurp(good);
  write(feed_ / "a_truncated.deb", bytes.substr(0, bytes.size() / 2));
  write(feed_ / "b_garbage.deb", "not a package at all");
  fs::copy_file(good, feed_ / "c_good.deb");
  FeedWatcher watcher(*store_, feed_.string(), no_settle());

  auto poll = watcher.poll_once();
  ASSERT_TRUE(poll) << poll.error().message;
  ASSERT_EQ(poll->failed.size(), 2u);
  EXPECT_EQ(poll->failed[0].path, (feed_ / "a_truncated.deb").string());
  EXPECT_FALSE(poll->failed[0].reason.empty());
  EXPECT_EQ(poll->failed[1].path, (feed_ / "b_garbage.deb").string());
  EXPECT_NE(poll->failed[1].reason.find("not a package"), std::string::npos) << poll->failed[1].reason;
  ASSERT_EQ(poll->imported.size(), 1u);
  EXPECT_EQ(poll->imported[0].ref.id(), "app@1.0-1");
  EXPECT_EQ(infos().size(), 1u);

  // A failure is reported once, not on every poll; a fixed file is looked at again.
  auto again = watcher.poll_once();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->failed.empty());
  const fs::path newer = deb("1.1-1", "v1.1");
  fs::copy_file(newer, feed_ / "a_truncated.deb", fs::copy_options::overwrite_existing);
  auto fixed = watcher.poll_once();
  ASSERT_TRUE(fixed) << fixed.error().message;
  ASSERT_EQ(fixed->imported.size(), 1u);
  EXPECT_EQ(fixed->imported[0].ref.id(), "app@1.1-1");
  // Relations as `trustbase import` infers them: a newer release is a patch of the first.
  EXPECT_EQ(fixed->imported[0].kind, SignatureKind::patch);
  ASSERT_TRUE(fixed->imported[0].patches);
  EXPECT_EQ(fixed->imported[0].patches->id(), "app@1.0-1");
}

TEST_F(Feed, TheSamePackageUnderAnotherNameIsNotDuplicated) {
  const fs::path pkg = deb("2.0-1", "v2");
  fs::copy_file(pkg, feed_ / "one.deb");
  fs::copy_file(pkg, feed_ / "two.deb");
  FeedWatcher watcher(*store_, feed_.string(), no_settle());
  auto poll = watcher.poll_once();
  ASSERT_TRUE(poll) << poll.error().message;
  EXPECT_EQ(poll->imported.size(), 1u);
  EXPECT_EQ(poll->duplicates, 1u);
  EXPECT_TRUE(poll->failed.empty());

  fs::copy_file(pkg, feed_ / "three.deb");  // dropped later, by another name
  auto later = watcher.poll_once();
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_TRUE(later->imported.empty());
  EXPECT_EQ(later->duplicates, 1u);
  EXPECT_EQ(infos().size(), 1u);
  EXPECT_EQ(store_->stats()->signatures, 1u);
}

TEST_F(Feed, DotfilesAndUnsettledFilesWait) {
  const fs::path pkg = deb("1.0-1", "v1");
  fs::copy_file(pkg, feed_ / ".app.deb.part");  // being written under a hidden name
  fs::copy_file(pkg, feed_ / "app.deb");        // fresh: younger than the settle time
  FeedOptions options;
  options.settle = std::chrono::hours(1);
  FeedWatcher watcher(*store_, feed_.string(), options);

  auto first = watcher.poll_once();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->imported.empty());
  EXPECT_EQ(first->waiting, 1u);

  // Unchanged since the previous poll: complete.
  auto second = watcher.poll_once();
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_EQ(second->imported.size(), 1u);
  EXPECT_EQ(second->imported[0].path, (feed_ / "app.deb").string());
  EXPECT_EQ(second->waiting, 0u);
}

TEST_F(Feed, AMissingDirectoryIsAClearError) {
  FeedWatcher watcher(*store_, (dir_ / "nope").string(), no_settle());
  auto poll = watcher.poll_once();
  ASSERT_FALSE(poll);
  EXPECT_NE(poll.error().message.find("nope"), std::string::npos) << poll.error().message;
}

TEST_F(Feed, ImportWatchOnce) {
  fs::copy_file(deb("1.0-1", "v1"), feed_ / "app.deb");
  write(feed_ / "broken.deb", "garbage");
  const std::string cmd = std::string(TB_TRUSTBASE_BINARY) + " --db " + quote((dir_ / "cli.db").string()) +
                          " import --watch --once --settle 0 " + quote(feed_.string());
  std::string out;
  EXPECT_EQ(run(cmd, &out), 1) << out;  // one failed
  EXPECT_NE(out.find("imported product app@1.0-1"), std::string::npos) << out;
  EXPECT_NE(out.find("failed " + (feed_ / "broken.deb").string() + ": not a package"), std::string::npos) << out;
  EXPECT_NE(out.find("feed poll: imported 1, failed 1"), std::string::npos) << out;

  // A second run (a new process) imports nothing: the content is already stored.
  fs::remove(feed_ / "broken.deb");
  EXPECT_EQ(run(cmd, &out), 0) << out;
  EXPECT_EQ(out.find("imported product"), std::string::npos) << out;
  EXPECT_NE(out.find("feed poll: imported 0, failed 0, already imported 1"), std::string::npos) << out;

  EXPECT_EQ(run(std::string(TB_TRUSTBASE_BINARY) + " --db " + quote((dir_ / "cli.db").string()) +
                    " import --watch --once " + quote((dir_ / "nope").string()), &out), 2) << out;
  EXPECT_NE(out.find("not a directory"), std::string::npos) << out;
}

TEST_F(Feed, ServeFeedPicksUpAPackageDroppedAfterStart) {
  const std::string db = (dir_ / "served.db").string();
  const std::string log = (dir_ / "server.log").string();
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string feed = feed_.string();
  const char* argv[] = {TB_TRUSTBASE_BINARY, "--db", db.c_str(), "serve", "--listen", "127.0.0.1:0",
                        "--feed", feed.c_str(), "--feed-interval", "0.1", nullptr};
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawn(&pid, TB_TRUSTBASE_BINARY, &fa, nullptr, const_cast<char**>(argv), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(out[0]);
  ASSERT_NE(line.find("listening on"), std::string::npos) << line << slurp(log);

  // Dropped after the start, the usual way: written under a dotfile name, then renamed.
  fs::copy_file(deb("3.0-1", "v3"), feed_ / ".app.deb.tmp");
  fs::rename(feed_ / ".app.deb.tmp", feed_ / "app_3.0-1_all.deb");

  auto store = open_sqlite_store(db);
  ASSERT_TRUE(store) << store.error().message;
  bool found = false;
  for (int i = 0; i < 600 && !found; ++i) {  // bounded: 60 s at most
    auto list = (*store)->signature_infos();
    ASSERT_TRUE(list) << list.error().message;
    for (const SignatureInfo& info : *list) found = found || info.ref.id() == "app@3.0-1";
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(found) << slurp(log);

  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << slurp(log);
  const std::string logged = slurp(log);
  EXPECT_NE(logged.find("feed: imported product app@3.0-1"), std::string::npos) << logged;
  EXPECT_NE(logged.find("stopped"), std::string::npos) << logged;
  EXPECT_EQ((*store)->stats()->signatures, 1u);
}

}  // namespace
}  // namespace tb
