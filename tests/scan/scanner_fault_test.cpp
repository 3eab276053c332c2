// Entries the scanner cannot read or that change under it: unreadable files and
// directories (real permissions and injected failures), entries vanishing or changing
// type between readdir and open, files growing, shrinking or rewritten while hashed.
// None of them may crash or stop the scan; none may yield a hash of unstable bytes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/path.h"
#include "core/sha256.h"
#include "scan/scanner.h"
#include "scan_test_support.h"

namespace tb {
namespace {

using namespace std::chrono_literals;
using scantest::FaultySys;
using scantest::ScanFixture;
using scantest::Watchdog;

using ScannerFaults = ScanFixture;

bool has_line(const std::string& report, const std::string& line) {
  return report.find(line + "\n") != std::string::npos;
}

// Scans `tree` as an unprivileged user: in a child as nobody when we are root, else here.
// Returns the describe_scan() text, or nullopt with `why` when it cannot be done.
std::optional<std::string> scan_unprivileged(const ScanOptions& o, std::string* why) {
  if (::geteuid() != 0) return scantest::describe_scan(scan_to_manifest(o));
  return scantest::run_as_nobody([&o] { return scantest::describe_scan(scan_to_manifest(o)); }, why);
}

// ----------------------------------------------------------------------------- unreadable

TEST_F(ScannerFaults, UnreadableFileRealPermission) {
  tree.write("a.txt", "a");
  tree.write("locked", "secret", 0000);
  tree.write("z.txt", "z");
  std::string why;
  auto report = scan_unprivileged(options(), &why);
  if (!report) GTEST_SKIP() << why;
  SCOPED_TRACE(*report);
  EXPECT_TRUE(has_line(*report, "R file nohash " + tree.path("locked"))) << "listed, without a hash";
  EXPECT_TRUE(has_line(*report, "E open 13 " + tree.path("locked")));
  EXPECT_TRUE(has_line(*report, "R file hash " + tree.path("a.txt")));
  EXPECT_TRUE(has_line(*report, "R file hash " + tree.path("z.txt")));
}

TEST_F(ScannerFaults, UnreadableFileInjected) {
  tree.write("a.txt", "a");
  const std::string locked = tree.write("locked", "secret");
  tree.write("z.txt", "z");
  FaultySys sys;
  sys.fail_open("locked", -EACCES);
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  const FileRecord* r = find(*scan, locked);
  ASSERT_NE(r, nullptr) << "an unreadable file is still listed";
  EXPECT_EQ(r->type, FileType::file);
  EXPECT_FALSE(r->has(Attr::sha256));
  EXPECT_TRUE(r->has(Attr::size) && r->has(Attr::mode) && r->has(Attr::uid) && r->has(Attr::mtime));
  EXPECT_EQ(r->size, 6u);
  EXPECT_EQ(r->mode, 0644u);
  ASSERT_EQ(scan->outcome.errors.size(), 1u);
  EXPECT_EQ(scan->outcome.errors[0].path, locked);
  EXPECT_EQ(scan->outcome.errors[0].kind, ScanErrorKind::open);
  EXPECT_EQ(scan->outcome.errors[0].sys_errno, EACCES);
  EXPECT_EQ(scan->outcome.errors[0].message, "Permission denied");
  EXPECT_EQ(find(*scan, tree.path("a.txt"))->sha256, Sha256::of("a"));
  EXPECT_EQ(find(*scan, tree.path("z.txt"))->sha256, Sha256::of("z"));
  EXPECT_EQ(scan->outcome.summary.errors, 1u);
}

TEST_F(ScannerFaults, UnreadableDirectoryRealPermission) {
  tree.write("a.txt", "a");
  tree.write("closed/inner.txt", "hidden");
  ::chmod(tree.path("closed").c_str(), 0000);
  tree.write("z/f", "z");
  std::string why;
  auto report = scan_unprivileged(options(), &why);
  if (!report) GTEST_SKIP() << why;
  SCOPED_TRACE(*report);
  EXPECT_TRUE(has_line(*report, "R dir nohash " + tree.path("closed")));
  EXPECT_TRUE(has_line(*report, "E open 13 " + tree.path("closed")));
  EXPECT_EQ(report->find("inner.txt"), std::string::npos);
  EXPECT_TRUE(has_line(*report, "R file hash " + tree.path("a.txt")));
  EXPECT_TRUE(has_line(*report, "R file hash " + tree.path("z/f")));
}

TEST_F(ScannerFaults, UnreadableDirectoryInjected) {
  tree.write("a.txt", "a");
  tree.write("closed/inner.txt", "hidden");
  tree.write("closed/sub/x", "hidden");
  tree.write("z/f", "z");
  FaultySys sys;
  sys.fail_open("closed", -EACCES);
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  const FileRecord* d = find(*scan, tree.path("closed"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, FileType::directory);
  EXPECT_EQ(count_under(*scan, tree.path("closed")), 0u);
  auto errs = errors_at(*scan, tree.path("closed"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].kind, ScanErrorKind::open);
  EXPECT_EQ(errs[0].sys_errno, EACCES);
  EXPECT_NE(find(*scan, tree.path("a.txt")), nullptr);
  EXPECT_NE(find(*scan, tree.path("z/f")), nullptr);
  EXPECT_EQ(scan->outcome.errors.size(), 1u);
}

TEST_F(ScannerFaults, UnreadableRootIsRecordedWithAnError) {
  tree.write("a.txt", "a");
  FaultySys sys;
  sys.fail_open(tree.root(), -EACCES);
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_EQ(scan->outcome.errors.size(), 1u);
  EXPECT_EQ(scan->outcome.errors[0].path, tree.root());
  EXPECT_EQ(scan->outcome.errors[0].kind, ScanErrorKind::open);
  EXPECT_EQ(scan->outcome.errors[0].sys_errno, EACCES);
  // Like any unreadable directory: listed with its metadata, children absent.
  ASSERT_EQ(scan->manifest.size(), 1u);
  EXPECT_EQ(scan->manifest[0].path, tree.root());
  EXPECT_EQ(scan->manifest[0].type, FileType::directory);
}

TEST_F(ScannerFaults, DirectoryListingFailureKeepsWhatWasRead) {
  tree.write("broken/a", "a");
  tree.write("broken/b", "b");
  tree.write("broken/c", "c");
  tree.write("empty-on-error/x", "x");
  tree.write("z", "z");
  FaultySys sys;
  sys.on_list_dir("broken", [&sys](int fd, std::vector<DirEntry>& out) {
    const int rc = sys.real_list_dir(fd, out);
    if (rc < 0) return rc;
    std::erase_if(out, [](const DirEntry& e) { return e.name == "b"; });  // lost to the failure
    return -EIO;
  });
  sys.on_list_dir("empty-on-error", [](int, std::vector<DirEntry>&) { return -EIO; });
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_NE(find(*scan, tree.path("broken")), nullptr);
  EXPECT_NE(find(*scan, tree.path("broken/a")), nullptr);
  EXPECT_EQ(find(*scan, tree.path("broken/b")), nullptr);
  EXPECT_NE(find(*scan, tree.path("broken/c")), nullptr);
  ASSERT_NE(find(*scan, tree.path("empty-on-error")), nullptr);
  EXPECT_EQ(count_under(*scan, tree.path("empty-on-error")), 0u);
  EXPECT_NE(find(*scan, tree.path("z")), nullptr);
  ASSERT_EQ(scan->outcome.errors.size(), 2u);
  for (const ScanError& e : scan->outcome.errors) {
    EXPECT_EQ(e.kind, ScanErrorKind::read);
    EXPECT_EQ(e.sys_errno, EIO);
  }
  EXPECT_EQ(scan->outcome.errors[0].path, tree.path("broken"));
  EXPECT_EQ(scan->outcome.errors[1].path, tree.path("empty-on-error"));
}

// ----------------------------------------------------------------------------- vanishing

TEST_F(ScannerFaults, EntriesVanishingBetweenReaddirAndOpen) {
  tree.write("a", "a");
  tree.write("ghost", "soon gone");
  tree.write("ghostdir/inner", "soon gone");
  tree.symlink("ghostlink", "a");
  tree.write("injected", "still here, but the seam says ENOENT");
  tree.write("z", "z");
  FaultySys sys;
  // Really remove the entries just before the scanner opens (or lstats) them.
  sys.on_open("ghost", [&sys](int dirfd, const char* name, int flags) {
    ::unlinkat(dirfd, name, 0);
    return sys.real_open_at(dirfd, name, flags);
  });
  sys.on_open("ghostdir", [&sys](int dirfd, const char* name, int flags) {
    const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY);
    ::unlinkat(fd, "inner", 0);
    ::close(fd);
    ::unlinkat(dirfd, name, AT_REMOVEDIR);
    return sys.real_open_at(dirfd, name, flags);
  });
  sys.on_fstat_at("ghostlink", [&sys](int dirfd, const char* name, struct stat* st, int flags) {
    ::unlinkat(dirfd, name, 0);
    return sys.real_fstat_at(dirfd, name, st, flags);
  });
  sys.fail_open("injected", -ENOENT);
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  for (const char* name : {"ghost", "ghostdir", "ghostdir/inner", "ghostlink", "injected"})
    EXPECT_EQ(find(*scan, tree.path(name)), nullptr) << name << " is recorded although it vanished";
  std::vector<std::string> vanished;
  for (const ScanError& e : scan->outcome.errors) {
    EXPECT_EQ(e.kind, ScanErrorKind::vanished) << e.path;
    EXPECT_EQ(e.sys_errno, ENOENT) << e.path;
    vanished.push_back(e.path);
  }
  EXPECT_EQ(vanished, (std::vector<std::string>{tree.path("ghost"), tree.path("ghostdir"), tree.path("ghostlink"),
                                                tree.path("injected")}));
  EXPECT_NE(find(*scan, tree.path("a")), nullptr);
  EXPECT_NE(find(*scan, tree.path("z")), nullptr);
  EXPECT_EQ(scan->outcome.summary.files, 2u);
}

// ----------------------------------------------------------------------------- changing

// A FaultySys whose read() of `name` calls `mutate` (once) after the first chunk.
struct MutateAfterFirstChunk {
  MutateAfterFirstChunk(FaultySys& sys, const std::string& name, std::function<void()> mutate) {
    sys.on_read(name, [&sys, this, mutate = std::move(mutate)](int fd, void* buf, std::size_t len) {
      const ssize_t n = sys.real_read(fd, buf, len);
      if (calls.fetch_add(1) == 0) mutate();
      return n;
    });
  }
  std::atomic<int> calls{0};
};

class ScannerChanging : public ScanFixture {
 protected:
  void SetUp() override {
    content_ = scantest::random_bytes(3 * 4096 + 100, 7);
    path_ = tree.write("moving", content_);
    // An old mtime, so that a rewrite is visible even within one timestamp tick.
    const timespec old[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path_.c_str(), old, 0), 0);
    tree.write("steady", "steady");
  }
  Expected<CollectedScan> run() {
    ScanOptions o = options();
    o.sys = &sys_;
    o.read_buffer_bytes = 4096;  // several chunks
    return scan_to_manifest(o);
  }
  void expect_changed(const Expected<CollectedScan>& scan, std::uint64_t size_now) {
    ASSERT_TRUE(scan) << scan.error().message;
    const FileRecord* r = find(*scan, path_);
    ASSERT_NE(r, nullptr) << "a changing file is still listed";
    EXPECT_EQ(r->type, FileType::file);
    EXPECT_FALSE(r->has(Attr::sha256)) << "hash of unstable bytes reported: " << r->sha256.hex();
    EXPECT_EQ(r->size, size_now);
    ASSERT_EQ(scan->outcome.errors.size(), 1u);
    EXPECT_EQ(scan->outcome.errors[0].path, path_);
    EXPECT_EQ(scan->outcome.errors[0].kind, ScanErrorKind::changed);
    EXPECT_EQ(scan->outcome.errors[0].sys_errno, 0);
    const FileRecord* steady = find(*scan, tree.path("steady"));
    ASSERT_NE(steady, nullptr);
    EXPECT_EQ(steady->sha256, Sha256::of("steady"));
  }
  FaultySys sys_;
  std::string content_, path_;
};

TEST_F(ScannerChanging, FileGrowingWhileRead) {
  MutateAfterFirstChunk m(sys_, "moving", [this] {
    const int w = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(w, 0);
    ASSERT_EQ(::write(w, "appended!", 9), 9);
    ::close(w);
  });
  auto scan = run();
  EXPECT_GE(m.calls.load(), 2);
  expect_changed(scan, content_.size() + 9);
}

TEST_F(ScannerChanging, FileTruncatedWhileRead) {
  MutateAfterFirstChunk m(sys_, "moving", [this] { ASSERT_EQ(::truncate(path_.c_str(), 5000), 0); });
  auto scan = run();
  expect_changed(scan, 5000);
}

TEST_F(ScannerChanging, FileRewrittenInPlaceWhileRead) {
  // Same size, different bytes after the first chunk: only mtime/ctime tell.
  MutateAfterFirstChunk m(sys_, "moving", [this] {
    const int w = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(w, 0);
    ASSERT_EQ(::pwrite(w, "XXXX", 4, 8192), 4);
    ::close(w);
  });
  auto scan = run();
  expect_changed(scan, content_.size());
}

TEST_F(ScannerChanging, ReadErrorMidFile) {
  std::atomic<int> calls{0};
  sys_.on_read("moving", [this, &calls](int fd, void* buf, std::size_t len) -> ssize_t {
    if (calls.fetch_add(1) == 1) return -EIO;
    return sys_.real_read(fd, buf, len);
  });
  auto scan = run();
  ASSERT_TRUE(scan) << scan.error().message;
  const FileRecord* r = find(*scan, path_);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->has(Attr::sha256));
  EXPECT_EQ(r->size, content_.size());
  ASSERT_EQ(scan->outcome.errors.size(), 1u);
  EXPECT_EQ(scan->outcome.errors[0].kind, ScanErrorKind::read);
  EXPECT_EQ(scan->outcome.errors[0].sys_errno, EIO);
  EXPECT_EQ(sys_.open_fds(), 0u) << "a descriptor was leaked";
}

TEST_F(ScannerChanging, UnchangedFileThroughTheSameSeamIsHashed) {
  // The control: the hooks above only matter because they mutate.
  MutateAfterFirstChunk m(sys_, "moving", [] {});
  auto scan = run();
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->outcome.errors.empty());
  const FileRecord* r = find(*scan, path_);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->sha256, Sha256::of(content_));
  EXPECT_EQ(sys_.open_fds(), 0u) << "a descriptor was leaked";
}

// ----------------------------------------------------------------------------- type swaps

TEST_F(ScannerFaults, FileReplacedByFifoBetweenReaddirAndOpen) {
  tree.write("a", "a");
  tree.write("swapped", "was a file");
  tree.write("z", "z");
  FaultySys sys;
  std::atomic<bool> swapped{false};
  sys.on_open("swapped", [&](int dirfd, const char* name, int flags) {
    if (!swapped.exchange(true)) {
      EXPECT_EQ(::unlinkat(dirfd, name, 0), 0);
      EXPECT_EQ(::mkfifoat(dirfd, name, 0644), 0);
    }
    return sys.real_open_at(dirfd, name, flags);
  });
  ScanOptions o = options();
  o.sys = &sys;
  Watchdog dog(30s, "FIFO swapped in");  // a blocking open or read would hang here
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(swapped.load());
  const FileRecord* r = find(*scan, tree.path("swapped"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type, FileType::fifo);
  EXPECT_FALSE(r->has(Attr::sha256));
  EXPECT_NE(find(*scan, tree.path("z")), nullptr);
  EXPECT_EQ(scan->outcome.summary.others, 1u);
  EXPECT_EQ(sys.open_fds(), 0u) << "a descriptor was leaked";
}

TEST_F(ScannerFaults, FileReplacedBySymlinkOrDirectoryBetweenReaddirAndOpen) {
  tree.write("to-link", "was a file");
  tree.write("to-dir", "was a file");
  FaultySys sys;
  sys.on_open("to-link", [&](int dirfd, const char* name, int flags) {
    if (::unlinkat(dirfd, name, 0) == 0) ::symlinkat("/etc/passwd", dirfd, name);
    return sys.real_open_at(dirfd, name, flags);
  });
  sys.on_open("to-dir", [&](int dirfd, const char* name, int flags) {
    if (::unlinkat(dirfd, name, 0) == 0) ::mkdirat(dirfd, name, 0755);
    return sys.real_open_at(dirfd, name, flags);
  });
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  const FileRecord* l = find(*scan, tree.path("to-link"));
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->type, FileType::symlink) << "O_NOFOLLOW: the link itself, not /etc/passwd";
  EXPECT_EQ(l->link_target, "/etc/passwd");
  EXPECT_FALSE(l->has(Attr::sha256));
  const FileRecord* d = find(*scan, tree.path("to-dir"));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, FileType::directory);
  auto errs = errors_at(*scan, tree.path("to-dir"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].kind, ScanErrorKind::changed);
  EXPECT_EQ(sys.open_fds(), 0u) << "a descriptor was leaked";
}

TEST_F(ScannerFaults, DirectoryReplacedByFileBetweenReaddirAndOpen) {
  // A file record without a hash and without an error would hide any content change
  // (diffs compare only attributes both sides carry): it must carry an error.
  tree.write("was-dir/inner", "x");
  tree.write("z", "z");
  FaultySys sys;
  sys.on_open("was-dir", [&](int dirfd, const char* name, int flags) {
    const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::unlinkat(fd, "inner", 0);
      ::close(fd);
      ::unlinkat(dirfd, name, AT_REMOVEDIR);
      const int f = ::openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      EXPECT_EQ(::write(f, "now a file", 10), 10);
      ::close(f);
    }
    return sys.real_open_at(dirfd, name, flags);
  });
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  const FileRecord* r = find(*scan, tree.path("was-dir"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type, FileType::file);
  if (!r->has(Attr::sha256)) {
    auto errs = errors_at(*scan, tree.path("was-dir"));
    ASSERT_EQ(errs.size(), 1u) << "a file listed without a hash needs an error saying why";
    EXPECT_EQ(errs[0].kind, ScanErrorKind::changed);
  }
  EXPECT_EQ(count_under(*scan, tree.path("was-dir")), 0u);
  EXPECT_NE(find(*scan, tree.path("z")), nullptr);
}

TEST_F(ScannerFaults, EntriesWithoutDirentTypeAreClassifiedByLstat) {
  // File systems that do not fill d_type (DT_UNKNOWN) must give the same manifest.
  tree.write("f", "file");
  tree.write("d/g", "nested");
  tree.symlink("l", "f");
  tree.fifo("p");
  class NoDtypeSys : public FaultySys {
   public:
    int list_dir(int fd, std::vector<DirEntry>& out) override {
      const int rc = FaultySys::list_dir(fd, out);
      for (DirEntry& e : out) e.d_type = DT_UNKNOWN;
      return rc;
    }
  } sys;
  auto plain = scan_to_manifest(options());
  ScanOptions o = options();
  o.sys = &sys;
  auto unknown = scan_to_manifest(o);
  ASSERT_TRUE(plain) << plain.error().message;
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_EQ(unknown->manifest.size(), 6u);
  EXPECT_TRUE(unknown->manifest == plain->manifest);
  EXPECT_EQ(find(*unknown, tree.path("d/g"))->sha256, Sha256::of("nested"));
}

TEST_F(ScannerFaults, CancelledBeforeTheStart) {
  tree.write("f", "x");
  std::atomic<bool> cancel{true};
  ScanOptions o = options();
  o.cancel = &cancel;
  std::size_t calls = 0;
  auto result = scan(o, [&](const FileRecord&) -> Expected<void> { ++calls; return {}; });
  EXPECT_FALSE(result);
  EXPECT_EQ(calls, 0u);
}

}  // namespace
}  // namespace tb
