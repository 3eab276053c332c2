// The shape of what is walked: symlinks never followed, names as raw bytes, trees
// deeper than PATH_MAX, depth and length limits, exclusions, special files, and how
// several roots combine.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
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
using scantest::TempTree;
using scantest::Watchdog;

using ScannerTree = ScanFixture;

// ----------------------------------------------------------------------------- symlinks

TEST_F(ScannerTree, SymlinksAreRecordedNeverFollowed) {
  TempTree outside;
  outside.write("secret/inside-outside.txt", "must not be listed");
  tree.write("sub/real.txt", "real");
  tree.symlink("to-outside", outside.path("secret"));
  tree.symlink("to-sub", "sub");
  tree.symlink("self-loop", "self-loop");
  tree.symlink("dangling", "does/not/exist");
  const std::string raw_target = std::string("\xff\xfe/t\x80rg\n et\"'\\");
  tree.symlink("raw", raw_target);
  const std::string long_target(4000, 'x');  // near PATH_MAX
  tree.symlink("long", long_target);

  Watchdog dog(30s, "symlink scan");
  auto scan = scan_to_manifest(options());
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->outcome.errors.empty());
  for (const FileRecord& r : scan->manifest) {
    EXPECT_EQ(r.path.find("inside-outside"), std::string::npos) << "followed a symlink out of the root: " << r.path;
    EXPECT_FALSE(path_is_under(r.path, tree.path("to-sub"))) << "followed a symlink: " << r.path;
    EXPECT_FALSE(path_is_under(r.path, tree.path("to-outside"))) << "followed a symlink: " << r.path;
  }
  const std::vector<std::pair<std::string, std::string>> links = {{"to-outside", outside.path("secret")},
                                                                   {"to-sub", "sub"},
                                                                   {"self-loop", "self-loop"},
                                                                   {"dangling", "does/not/exist"},
                                                                   {"raw", raw_target},
                                                                   {"long", long_target}};
  for (const auto& [name, target] : links) {
    const FileRecord* r = find(*scan, tree.path(name));
    ASSERT_NE(r, nullptr) << name;
    EXPECT_EQ(r->type, FileType::symlink) << name;
    ASSERT_TRUE(r->has(Attr::link_target)) << name;
    EXPECT_EQ(r->link_target, target) << name;
    EXPECT_EQ(r->size, target.size()) << name;
    EXPECT_FALSE(r->has(Attr::sha256)) << name;
  }
  EXPECT_EQ(scan->outcome.summary.symlinks, links.size());
  // root, sub, sub/real.txt and the links: nothing else.
  EXPECT_EQ(scan->manifest.size(), 3 + links.size());
}

// A file system that reports symlink sizes as 0 (like /proc): the target is still read whole.
TEST_F(ScannerTree, SymlinkTargetReadWhenSizeIsUnknown) {
  const std::string target(1000, 't');
  tree.symlink("zero-size", target);
  FaultySys sys;
  sys.on_fstat_at("zero-size", [&sys](int dirfd, const char* name, struct stat* st, int flags) {
    const int rc = sys.real_fstat_at(dirfd, name, st, flags);
    if (rc == 0) st->st_size = 0;
    return rc;
  });
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  const FileRecord* r = find(*scan, tree.path("zero-size"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->link_target, target);
  EXPECT_EQ(r->size, target.size());
}

// ----------------------------------------------------------------------------- names

TEST_F(ScannerTree, NamesAreRecordedAsExactBytes) {
  const std::vector<std::string> names = {
      "\xff\xfe",     "caf\xe9",          "new\nline",        "with space",      " leading",   "trailing ",
      "quote\"s",     "apos'trophe",      "back\\slash",      "tab\there",       "<xml>&amp;", "\x01\x1f\x7f",
      "-dash",        "..dots",           "...",              "\xc3\xa9t\xc3\xa9",  std::string(255, 'n'),
      std::string(253, 'm') + "\xc3\xa9"};
  for (std::size_t i = 0; i < names.size(); ++i) tree.write(names[i], "content " + std::to_string(i));
  tree.mkdir("dir \xff\n");
  tree.write(std::string("dir \xff\n/") + std::string(255, 'z'), "deep name");

  auto scan = scan_to_manifest(options());
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->outcome.errors.empty());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const FileRecord* r = find(*scan, tree.path(names[i]));
    ASSERT_NE(r, nullptr) << "missing name #" << i;
    EXPECT_EQ(r->type, FileType::file);
    ASSERT_TRUE(r->has(Attr::sha256));
    EXPECT_EQ(r->sha256, Sha256::of("content " + std::to_string(i))) << "name #" << i;
  }
  const FileRecord* deep = find(*scan, tree.path(std::string("dir \xff\n/") + std::string(255, 'z')));
  ASSERT_NE(deep, nullptr);
  EXPECT_EQ(deep->sha256, Sha256::of("deep name"));
  EXPECT_EQ(scan->manifest.size(), 1 + names.size() + 2);
}

// Creates `levels` nested directories named by `name_of(level)` below `root` using
// descriptors (the path soon exceeds PATH_MAX), and a file "leaf" at the bottom.
// Returns the absolute path of the deepest directory.
std::string make_deep_tree(const std::string& root, int levels, const std::function<std::string(int)>& name_of) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  std::string path = root;
  for (int level = 0; level < levels; ++level) {
    const std::string name = name_of(level);
    EXPECT_EQ(::mkdirat(fd, name.c_str(), 0755), 0) << "level " << level << ": " << scantest::errno_text(errno);
    const int child = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    EXPECT_GE(child, 0);
    ::close(fd);
    fd = child;
    path += "/" + name;
  }
  const int leaf = ::openat(fd, "leaf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_GE(leaf, 0);
  EXPECT_EQ(::write(leaf, "bottom", 6), 6);
  ::close(leaf);
  ::close(fd);
  return path;
}

TEST_F(ScannerTree, TreeDeeperThanPathMax) {
  const std::string deepest =
      make_deep_tree(tree.root(), 30, [](int level) { return std::to_string(level) + std::string(198, 'd'); });
  ASSERT_GT(deepest.size(), static_cast<std::size_t>(PATH_MAX));
  tree.write("zz-after", "sibling after the deep tree");

  auto scan = scan_to_manifest(options());
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->outcome.errors.empty()) << scan->outcome.errors.front().message;
  EXPECT_EQ(scan->manifest.size(), 1u + 30u + 1u + 1u);
  const FileRecord* leaf = find(*scan, deepest + "/leaf");
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(leaf->type, FileType::file);
  ASSERT_TRUE(leaf->has(Attr::sha256));
  EXPECT_EQ(leaf->sha256, Sha256::of("bottom"));
  EXPECT_EQ(leaf->size, 6u);
  EXPECT_NE(find(*scan, tree.path("zz-after")), nullptr);
}

TEST_F(ScannerTree, PathLongerThanTheScannerLimitIsALimitError) {
  // 85 levels of 200-byte names: beyond PathLimits::max_path_bytes (16 KiB).
  const std::string deepest =
      make_deep_tree(tree.root(), 85, [](int level) { return std::to_string(level) + std::string(197, 'q'); });
  ASSERT_GT(deepest.size(), PathLimits{}.max_path_bytes);
  tree.write("zz-after", "x");
  auto scan = scan_to_manifest(options());
  ASSERT_TRUE(scan) << scan.error().message;  // the manifest accepted every recorded path
  ASSERT_EQ(scan->outcome.errors.size(), 1u);
  const ScanError& e = scan->outcome.errors[0];
  EXPECT_EQ(e.kind, ScanErrorKind::limit);
  // Reported on the last directory that fits, so a document can carry the error.
  EXPECT_LE(e.path.size(), PathLimits{}.max_path_bytes);
  EXPECT_EQ(deepest.rfind(e.path + "/", 0), 0u) << e.path;
  EXPECT_NE(e.message.find("longer than"), std::string::npos);
  for (const FileRecord& r : scan->manifest) EXPECT_LE(r.path.size(), PathLimits{}.max_path_bytes);
  EXPECT_NE(find(*scan, tree.path("zz-after")), nullptr) << "the scan goes on after the limit";
}

TEST_F(ScannerTree, MaxDepthStopsDescentWithALimitError) {
  tree.write("d1/d2/d3/d4/f", "too deep");
  tree.write("d1/d2/f2", "depth 2 file");
  tree.write("d1/d2/d3/f3", "depth 3 file");
  tree.write("z", "sibling");
  ScanOptions o = options();
  o.max_depth = 3;  // directories at depth >= 3 are recorded, not descended
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_EQ(scan->outcome.errors.size(), 1u);
  EXPECT_EQ(scan->outcome.errors[0].kind, ScanErrorKind::limit);
  EXPECT_EQ(scan->outcome.errors[0].path, tree.path("d1/d2/d3"));
  const FileRecord* d3 = find(*scan, tree.path("d1/d2/d3"));
  ASSERT_NE(d3, nullptr) << "the directory at the limit is recorded";
  EXPECT_EQ(d3->type, FileType::directory);
  EXPECT_NE(find(*scan, tree.path("d1/d2/f2")), nullptr);
  EXPECT_EQ(find(*scan, tree.path("d1/d2/d3/f3")), nullptr);
  EXPECT_EQ(find(*scan, tree.path("d1/d2/d3/d4")), nullptr);
  EXPECT_NE(find(*scan, tree.path("z")), nullptr);
}

// ----------------------------------------------------------------------------- excludes

TEST_F(ScannerTree, ExcludesByNameAndPathAndSkipsExcludedDirectories) {
  tree.write("app.log", "x");
  tree.write("keep.txt", "x");
  tree.write("sub/deep.log", "x");
  tree.write("sub/deep.txt", "x");
  tree.write("cache/x", "x");
  tree.write("cache/y/z", "x");
  tree.write("cachefile", "x");
  tree.write("skipdir/inner-a", "x");
  tree.write("skipdir/inner-b/inner-c", "x");
  FaultySys sys;
  ScanOptions o = options();
  o.sys = &sys;
  o.excludes = {"*.log", tree.path("cache") + "/*", "skipdir"};
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  std::vector<std::string> got;
  for (const FileRecord& r : scan->manifest) got.push_back(r.path.substr(tree.root().size()));
  const std::vector<std::string> want = {"", "/cache", "/cachefile", "/keep.txt", "/sub", "/sub/deep.txt"};
  EXPECT_EQ(got, want);
  // Not descended: nothing under the excluded directory was ever opened or stat'ed.
  for (const std::string& name : sys.opened()) {
    EXPECT_NE(name, "skipdir");
    EXPECT_EQ(name.find("inner"), std::string::npos) << name;
    EXPECT_NE(name, "y");
  }
  for (const std::string& name : sys.statted()) {
    EXPECT_NE(name, "skipdir");
    EXPECT_EQ(name.find("inner"), std::string::npos) << name;
  }
  for (const std::string& name : sys.listed()) EXPECT_NE(name, "skipdir");
}

TEST_F(ScannerTree, RootIsNeverExcluded) {
  tree.write("a.txt", "x");
  const std::string base = tree.root().substr(tree.root().rfind('/') + 1);
  ScanOptions o = options();
  o.excludes = {base, tree.root(), tree.root() + "/", "tbscan-*"};
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_NE(find(*scan, tree.root()), nullptr);
  EXPECT_NE(find(*scan, tree.path("a.txt")), nullptr);

  // A file root matching a name pattern is scanned too.
  ScanOptions file_root = options({tree.path("a.txt")});
  file_root.excludes = {"*.txt"};
  auto one = scan_to_manifest(file_root);
  ASSERT_TRUE(one) << one.error().message;
  ASSERT_EQ(one->manifest.size(), 1u);

  // The file-system root itself, with everything below it excluded: "/" is its own path.
  ScanOptions slash = options({"/"});
  slash.excludes = {"*"};
  auto just_slash = scan_to_manifest(slash);
  ASSERT_TRUE(just_slash) << just_slash.error().message;
  ASSERT_EQ(just_slash->manifest.size(), 1u);
  EXPECT_EQ(just_slash->manifest[0].path, "/");
  EXPECT_EQ(just_slash->manifest[0].type, FileType::directory);

  // '*' excludes everything but the root.
  ScanOptions all = options();
  all.excludes = {"*"};
  auto only_root = scan_to_manifest(all);
  ASSERT_TRUE(only_root);
  ASSERT_EQ(only_root->manifest.size(), 1u);
  EXPECT_EQ(only_root->manifest[0].path, tree.root());
}

// ----------------------------------------------------------------------------- special files

TEST_F(ScannerTree, FifoAndSocketAreRecordedWithoutHashAndNeverOpened) {
  tree.fifo("fifo");
  const std::string sock_path = tree.path("socket");
  const int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << scantest::errno_text(errno);
  ASSERT_EQ(::listen(sock, 1), 0);
  tree.write("plain", "x");

  Watchdog dog(30s, "special files scan");  // opening the FIFO for reading would block
  FaultySys sys;
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->outcome.errors.empty());
  for (const char* name : {"fifo", "socket"}) {
    const FileRecord* r = find(*scan, tree.path(name));
    ASSERT_NE(r, nullptr) << name;
    EXPECT_EQ(r->type, std::string_view(name) == "fifo" ? FileType::fifo : FileType::socket) << name;
    EXPECT_FALSE(r->has(Attr::sha256)) << name;
    EXPECT_FALSE(r->has(Attr::size)) << name;
    EXPECT_TRUE(r->has(Attr::mode)) << name;
    EXPECT_EQ(sys.open_count(name), 0u) << name << " was opened";
  }
  EXPECT_EQ(scan->outcome.summary.others, 2u);
  EXPECT_EQ(scan->outcome.summary.files, 1u);
  EXPECT_EQ(scan->outcome.summary.bytes_hashed, 1u);

  // Each of them as a root of its own: captured with lstat, never opened.
  for (const std::string& root : {tree.path("fifo"), sock_path}) {
    auto one = scan_to_manifest(options({root}));
    ASSERT_TRUE(one) << one.error().message;
    ASSERT_EQ(one->manifest.size(), 1u) << root;
    EXPECT_FALSE(one->manifest[0].has(Attr::sha256)) << root;
    EXPECT_NE(one->manifest[0].type, FileType::file) << root;
  }
  ::close(sock);
}

TEST_F(ScannerTree, DeviceNodesAreRecordedWithoutHash) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of device nodes needs root";
  if (::mknod(tree.path("chardev").c_str(), S_IFCHR | 0600, ::makedev(1, 3)) != 0 ||
      ::mknod(tree.path("blockdev").c_str(), S_IFBLK | 0600, ::makedev(7, 0)) != 0)
    GTEST_SKIP() << "mknod not permitted here: " << scantest::errno_text(errno);
  Watchdog dog(30s, "device scan");
  FaultySys sys;
  ScanOptions o = options();
  o.sys = &sys;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->outcome.errors.empty());
  const FileRecord* c = find(*scan, tree.path("chardev"));
  const FileRecord* b = find(*scan, tree.path("blockdev"));
  ASSERT_NE(c, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(c->type, FileType::char_device);
  EXPECT_EQ(b->type, FileType::block_device);
  EXPECT_FALSE(c->has(Attr::sha256));
  EXPECT_FALSE(b->has(Attr::sha256));
  EXPECT_EQ(sys.open_count("chardev") + sys.open_count("blockdev"), 0u) << "a device node was opened";
  EXPECT_EQ(scan->outcome.summary.others, 2u);
  auto as_root = scan_to_manifest(options({tree.path("chardev")}));
  ASSERT_TRUE(as_root) << as_root.error().message;
  ASSERT_EQ(as_root->manifest.size(), 1u);
  EXPECT_EQ(as_root->manifest[0].type, FileType::char_device);
}

// ----------------------------------------------------------------------------- roots

TEST_F(ScannerTree, OverlappingRootsAreFolded) {
  tree.write("sub/f", "x");
  tree.write("g", "y");
  const std::vector<std::string> roots = {tree.path("sub"), tree.root(), tree.root() + "/", tree.path("sub/../sub"),
                                          tree.path("sub/f")};
  auto canon = canonical_roots(roots);
  ASSERT_TRUE(canon) << canon.error().message;
  EXPECT_EQ(*canon, std::vector<std::string>{tree.root()});
  auto scan = scan_to_manifest(options(roots));  // from_sorted: a path listed twice fails
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_EQ(scan->outcome.roots, std::vector<std::string>{tree.root()});
  EXPECT_EQ(scan->manifest.size(), 4u);
}

TEST_F(ScannerTree, DisjointRootsInPathOrder) {
  // "a" and "a-b" as separate roots: "/a/..." must come before "/a-b" although "a-b" was
  // given first, and "/a.b" (a file root) after both.
  tree.write("a/x", "1");
  tree.write("a/y/z", "2");
  tree.write("a-b/x", "3");
  tree.write("a.b", "4");
  tree.write("not-a-root", "5");
  auto scan = scan_to_manifest(options({tree.path("a.b"), tree.path("a-b"), tree.path("a")}));
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_EQ(scan->outcome.roots, (std::vector<std::string>{tree.path("a"), tree.path("a-b"), tree.path("a.b")}));
  std::vector<std::string> got;
  for (const FileRecord& r : scan->manifest) got.push_back(r.path.substr(tree.root().size()));
  EXPECT_EQ(got, (std::vector<std::string>{"/a", "/a/x", "/a/y", "/a/y/z", "/a-b", "/a-b/x", "/a.b"}));
  const FileRecord* file_root = find(*scan, tree.path("a.b"));
  ASSERT_NE(file_root, nullptr);
  EXPECT_EQ(file_root->sha256, Sha256::of("4"));
}

TEST_F(ScannerTree, SingleFileRoot) {
  tree.write("only.bin", "single file root");
  tree.write("other", "not scanned");
  auto scan = scan_to_manifest(options({tree.path("only.bin")}));
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_EQ(scan->manifest.size(), 1u);
  EXPECT_EQ(scan->manifest[0].path, tree.path("only.bin"));
  EXPECT_EQ(scan->manifest[0].sha256, Sha256::of("single file root"));
  EXPECT_EQ(scan->outcome.summary.files, 1u);
  EXPECT_EQ(scan->outcome.summary.directories, 0u);
}

TEST_F(ScannerTree, SymlinkedRootIsScannedAtItsCanonicalPath) {
  tree.write("real/f", "x");
  tree.symlink("alias", "real");
  auto scan = scan_to_manifest(options({tree.path("alias")}));
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_EQ(scan->outcome.roots, std::vector<std::string>{tree.path("real")});
  EXPECT_NE(find(*scan, tree.path("real/f")), nullptr);
}

TEST_F(ScannerTree, UnusableRootsFailTheScan) {
  const std::string missing = tree.path("no/such/dir");
  auto canon = canonical_roots({tree.root(), missing});
  ASSERT_FALSE(canon);
  EXPECT_NE(canon.error().message.find(missing), std::string::npos) << canon.error().message;
  auto scan = scan_to_manifest(options({tree.root(), missing}));
  EXPECT_FALSE(scan);
  EXPECT_FALSE(canonical_roots({}));
  bool called = false;
  ScanOptions none;
  none.roots = {};
  auto empty = tb::scan(none, [&](const FileRecord&) -> Expected<void> { called = true; return {}; });
  EXPECT_FALSE(empty);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace tb

// ----------------------------------------------------------------------------- sysroot

namespace tb {
namespace {

std::vector<std::string> paths_of(const Manifest& m) {
  std::vector<std::string> out;
  for (const FileRecord& r : m) out.push_back(r.path);
  return out;
}

TEST_F(ScannerTree, SysrootPathsAreRecordedAsInsideIt) {
  tree.write("etc/app.conf", "key=1");
  tree.write("opt/app/bin/run", "binary");
  tree.write("opt/app/cache/tmp", "skip me");
  tree.symlink("opt/app/current", "/opt/app/bin");  // absolute inside the image: recorded, not followed
  ScanOptions o = options({"/"});
  o.sysroot = tree.root();
  o.excludes = {"/opt/app/cache"};
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_EQ(scan->outcome.roots, std::vector<std::string>{"/"});
  EXPECT_EQ(paths_of(scan->manifest),
            (std::vector<std::string>{"/", "/etc", "/etc/app.conf", "/opt", "/opt/app", "/opt/app/bin",
                                      "/opt/app/bin/run", "/opt/app/current"}));
  const FileRecord* run = scan->manifest.find("/opt/app/bin/run");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->sha256, Sha256::of("binary"));
}

TEST_F(ScannerTree, SysrootRootsAreReadInsideIt) {
  tree.write("etc/a", "a");
  tree.write("opt/b", "b");
  ScanOptions o = options({"/opt", "/etc"});
  o.sysroot = tree.root() + "/";
  auto roots = resolve_roots(o);
  ASSERT_TRUE(roots) << roots.error().message;
  EXPECT_EQ(roots->shown, (std::vector<std::string>{"/etc", "/opt"}));
  EXPECT_EQ(roots->real, (std::vector<std::string>{tree.path("etc"), tree.path("opt")}));
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_EQ(paths_of(scan->manifest), (std::vector<std::string>{"/etc", "/etc/a", "/opt", "/opt/b"}));
}

TEST_F(ScannerTree, SysrootRootEscapingThroughASymlinkIsRefused) {
  TempTree outside;
  outside.write("secret", "live system");
  tree.symlink("escape", outside.root());
  ScanOptions o = options({"/escape"});
  o.sysroot = tree.root();
  auto scan = scan_to_manifest(o);
  ASSERT_FALSE(scan);
  EXPECT_NE(scan.error().message.find("outside the sysroot"), std::string::npos) << scan.error().message;
  o.roots = {"relative"};
  scan = scan_to_manifest(o);
  ASSERT_FALSE(scan);
  EXPECT_NE(scan.error().message.find("must be absolute"), std::string::npos) << scan.error().message;
  o.roots = {"/"};
  o.sysroot = tree.path("missing");
  scan = scan_to_manifest(o);
  ASSERT_FALSE(scan);
  EXPECT_NE(scan.error().message.find("cannot use sysroot"), std::string::npos) << scan.error().message;
}

TEST(SysrootMapper, StripsAndApplies) {
  const SysrootMapper map("/srv/img");
  std::string p = "/srv/img";
  map.strip(p);
  EXPECT_EQ(p, "/");
  p = "/srv/img/etc/x";
  map.strip(p);
  EXPECT_EQ(p, "/etc/x");
  EXPECT_EQ(map.apply("/"), "/srv/img");
  EXPECT_EQ(map.apply("/etc"), "/srv/img/etc");
  const SysrootMapper none("/");
  EXPECT_FALSE(none.active());
  p = "/etc";
  none.strip(p);
  EXPECT_EQ(p, "/etc");
}

}  // namespace
}  // namespace tb
