// The threaded pipeline: callback errors and cancellation stop the scan promptly and
// without deadlock (small windows, many files, slow reads), and concurrent runs give the
// same manifest. These are the tests to run with --gtest_repeat and under TSan.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/sha256.h"
#include "scan/scanner.h"
#include "scan_test_support.h"

namespace tb {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using scantest::FaultySys;
using scantest::ScanFixture;
using scantest::Watchdog;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

class ScannerPipeline : public ScanFixture {
 protected:
  // `n` small files spread over `dirs` directories.
  void many_files(int n, int dirs) {
    for (int i = 0; i < n; ++i)
      tree.write("d" + std::to_string(i % dirs) + "/f" + std::to_string(i), std::to_string(i));
  }
};

// Read hooks that sleep a little at random: hashing finishes out of order.
class JitterSys : public FaultySys {
 public:
  ssize_t read(int fd, void* buf, std::size_t len) override {
    thread_local std::mt19937 rng(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    if (rng() % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
    return FaultySys::read(fd, buf, len);
  }
};

TEST_F(ScannerPipeline, CallbackErrorStopsTheScanAndIsReturned) {
  many_files(600, 25);
  for (unsigned jobs : {1u, 4u}) {
    for (std::size_t fail_at : {std::size_t{1}, std::size_t{100}, std::size_t{500}}) {
      SCOPED_TRACE("jobs " + std::to_string(jobs) + ", failing at record " + std::to_string(fail_at));
      JitterSys sys;
      ScanOptions o = options();
      o.jobs = jobs;
      o.window = 16;
      o.sys = &sys;
      std::size_t calls = 0;
      Watchdog dog(60s, "callback error scan");
      auto result = scan(o, [&](const FileRecord&) -> Expected<void> {
        if (++calls == fail_at) return fail(ErrorCode::io, "sink is full");
        return {};
      });
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error().code, ErrorCode::io);
      EXPECT_EQ(result.error().message, "sink is full");
      EXPECT_EQ(calls, fail_at) << "records were delivered after the callback failed";
      EXPECT_EQ(sys.open_fds(), 0u) << "descriptors leaked after a stopped scan";
    }
  }
}

TEST_F(ScannerPipeline, CancelFromTheCallbackStopsTheScan) {
  many_files(600, 25);
  for (unsigned jobs : {1u, 4u}) {
    SCOPED_TRACE("jobs " + std::to_string(jobs));
    std::atomic<bool> cancel{false};
    JitterSys sys;
    ScanOptions o = options();
    o.jobs = jobs;
    o.window = 16;
    o.cancel = &cancel;
    o.sys = &sys;
    std::size_t calls = 0;
    Watchdog dog(60s, "cancelled scan");
    auto result = scan(o, [&](const FileRecord&) -> Expected<void> {
      if (++calls == 50) cancel = true;
      return {};
    });
    ASSERT_FALSE(result) << "a cancelled scan must not look complete";
    EXPECT_NE(result.error().message.find("cancel"), std::string::npos) << result.error().message;
    EXPECT_EQ(calls, 50u) << "records were delivered after the callback set the cancel flag";
    EXPECT_EQ(sys.open_fds(), 0u);
  }
}

TEST_F(ScannerPipeline, CancelIsPromptWithALargeWindowAndThrottledReads) {
  // 40 files of 256 KiB read at 1 MB/s: ~10 s to finish, so waiting for queued files
  // to be hashed before honouring the flag is visible.
  for (int i = 0; i < 40; ++i) tree.write("f" + std::to_string(100 + i), scantest::random_bytes(256 * 1024, i));
  std::atomic<bool> cancel{false};
  ScanOptions o = options();
  o.jobs = 2;
  o.max_rate_mb_s = 1.0;
  o.cancel = &cancel;  // default window: every file is queued at once
  std::size_t calls = 0;
  Watchdog dog(60s, "throttled cancelled scan");
  const auto t0 = Clock::now();
  auto result = scan(o, [&](const FileRecord& r) -> Expected<void> {
    ++calls;
    if (r.type == FileType::file) cancel = true;  // by now every file is queued
    return {};
  });
  const double took = seconds_since(t0);
  ASSERT_FALSE(result);
  EXPECT_LT(took, 4.0) << "cancellation waited for the queued files to be hashed";
  EXPECT_EQ(calls, 2u);  // the root, then the first file
}

TEST_F(ScannerPipeline, CancelInterruptsALargeThrottledFile) {
  const std::string big = tree.path("big");
  {
    const int fd = ::open(big.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 24 << 20), 0);  // 24 MiB: 23 s at 1 MB/s
    ::close(fd);
  }
  std::atomic<bool> cancel{false};
  ScanOptions o = options({big});
  o.jobs = 1;
  o.max_rate_mb_s = 1.0;
  o.cancel = &cancel;
  Watchdog dog(60s, "throttled large file");
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    cancel = true;
  });
  const auto t0 = Clock::now();
  auto result = scan(o, [](const FileRecord&) -> Expected<void> { return {}; });
  const double took = seconds_since(t0);
  canceller.join();
  ASSERT_FALSE(result);
  EXPECT_LT(took, 5.0) << "cancellation waited for a whole throttled file";
}

TEST_F(ScannerPipeline, ThrottleLimitsTheReadRate) {
  // 1.25 MiB at 1 MB/s with a 1 MB burst: at least ~0.31 s. Lower bound only.
  tree.write("f", scantest::random_bytes(1280 * 1024, 3));
  ScanOptions o = options();
  o.max_rate_mb_s = 1.0;
  const auto t0 = Clock::now();
  auto result = scan_to_manifest(o);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_GE(seconds_since(t0), 0.3);
  EXPECT_EQ(result->outcome.summary.bytes_hashed, 1280u * 1024u);
}

TEST_F(ScannerPipeline, ConcurrentOrderIsDeterministicUnderJitter) {
  many_files(600, 40);
  for (int i = 0; i < 20; ++i) tree.write("big/" + std::to_string(i), scantest::random_bytes(200 * 1024 + i, i));
  ScanOptions serial = options();
  serial.jobs = 1;
  serial.window = 16;
  auto reference = scan_to_manifest(serial);
  ASSERT_TRUE(reference) << reference.error().message;
  ASSERT_EQ(reference->manifest.size(), 1 + 40 + 600 + 1 + 20u);
  for (unsigned jobs : {2u, 4u, 8u}) {
    JitterSys sys;
    ScanOptions o = options();
    o.jobs = jobs;
    o.window = 16;
    o.sys = &sys;
    o.read_buffer_bytes = 64 * 1024;  // several reads per big file
    ScanProgress progress;
    std::atomic<bool> done{false};
    std::uint64_t last_seen = 0;
    std::thread watcher([&] {  // progress is read from another thread while the scan runs
      while (!done.load()) {
        last_seen = std::max<std::uint64_t>(last_seen, progress.entries.load());
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
    Watchdog dog(60s, "jittery scan");
    std::vector<FileRecord> records;
    auto outcome = scan(o, [&](const FileRecord& r) -> Expected<void> {
      records.push_back(r);
      return {};
    }, &progress);
    done = true;
    watcher.join();
    ASSERT_TRUE(outcome) << outcome.error().message;
    auto manifest = Manifest::from_sorted(std::move(records));
    ASSERT_TRUE(manifest) << manifest.error().message;
    EXPECT_TRUE(*manifest == reference->manifest) << "jobs " << jobs;
    EXPECT_EQ(progress.entries.load(), reference->manifest.size());
    EXPECT_LE(last_seen, reference->manifest.size());
    EXPECT_EQ(sys.open_fds(), 0u);
  }
}

TEST_F(ScannerPipeline, DefaultJobsUsesTheMachine) {
  many_files(50, 3);
  ScanOptions o = options();
  o.jobs = 0;
  auto result = scan_to_manifest(o);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->outcome.summary.files, 50u);
}

}  // namespace
}  // namespace tb
