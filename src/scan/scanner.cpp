// The scan pipeline: one walker thread fills a ring of slots in path order, hashing
// threads complete the slots that hold regular files, and the calling thread hands the
// slots to the callback strictly in ring order. Memory is bounded by the ring size.
#include "scan/scanner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "core/path.h"
#include "scan/exclude.h"
#include "scan/file_hasher.h"
#include "scan/throttle.h"
#include "scan/walker.h"

namespace tb {

namespace {

}  // namespace

// Roots inside other roots are folded away so that concatenated walks stay in path
// order and nothing is listed twice.
Expected<std::vector<std::string>> canonical_roots(const std::vector<std::string>& roots) {
  if (roots.empty()) return fail(ErrorCode::invalid_argument, "no root to scan");
  std::vector<std::string> out;
  for (const std::string& r : roots) {
    char* real = ::realpath(r.c_str(), nullptr);
    if (real == nullptr) {
      const int err = errno;
      return fail(ErrorCode::io, "cannot use root '" + r + "': " + ::strerrordesc_np(err));
    }
    out.emplace_back(real);
    std::free(real);
  }
  std::sort(out.begin(), out.end(), path_less);
  std::vector<std::string> folded;
  for (std::string& r : out) {
    if (!folded.empty() && (folded.back() == r || path_is_under(r, folded.back()))) continue;
    folded.push_back(std::move(r));
  }
  return folded;
}

namespace {

class Pipeline {
 public:
  Pipeline(const ScanOptions& options, Sys& sys, std::size_t window)
      : options_(options), sys_(sys), slots_(window), limiter_(options.max_rate_mb_s * 1e6) {}

  // Runs the whole scan on the given roots; returns the callback's error if it failed.
  Expected<void> run(const std::vector<std::string>& roots, const RecordCallback& on_record, ScanProgress* progress,
                     ScanOutcome& outcome);

 private:
  struct Slot {
    WalkItem item;
    bool done = false;  // GUARDED_BY(mutex_)
  };

  bool cancelled() const { return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed); }
  bool push(WalkItem&& item);     // walker thread
  void hash_loop();               // hashing threads
  void walk(const std::vector<std::string>& roots);
  void consume(WalkItem& item, const RecordCallback& on_record, ScanProgress* progress, ScanOutcome& outcome,
               Expected<void>& status);

  const ScanOptions& options_;
  Sys& sys_;
  std::mutex mutex_;
  std::condition_variable work_cv_;   // hashing threads: work_ non-empty or stopping
  std::condition_variable ready_cv_;  // consumer: head slot done or walk finished
  std::condition_variable space_cv_;  // walker: a slot is free
  std::vector<Slot> slots_;           // ring; slot i holds sequence number head_ + k
  std::uint64_t head_ = 0;            // GUARDED_BY(mutex_) next sequence to consume
  std::uint64_t tail_ = 0;            // GUARDED_BY(mutex_) next sequence to fill
  std::deque<std::uint64_t> work_;    // GUARDED_BY(mutex_) sequences waiting for a hash
  bool walk_done_ = false;            // GUARDED_BY(mutex_)
  bool stopping_ = false;             // GUARDED_BY(mutex_) consumer gave up; everyone leave
  RateLimiter limiter_;
};

bool Pipeline::push(WalkItem&& item) {
  std::unique_lock lock(mutex_);
  space_cv_.wait(lock, [&] { return stopping_ || tail_ - head_ < slots_.size(); });
  if (stopping_) return false;
  const std::uint64_t seq = tail_++;
  Slot& slot = slots_[seq % slots_.size()];
  slot.item = std::move(item);
  slot.done = !slot.item.needs_hash;
  if (slot.done) {
    if (seq == head_) ready_cv_.notify_one();
  } else {
    work_.push_back(seq);
    work_cv_.notify_one();
  }
  return true;
}

void Pipeline::hash_loop() {
  std::vector<std::byte> buffer(std::max<std::size_t>(options_.read_buffer_bytes, 4096));
  for (;;) {
    std::uint64_t seq;
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] { return stopping_ || !work_.empty() || walk_done_; });
      if (stopping_ || work_.empty()) return;
      seq = work_.front();
      work_.pop_front();
    }
    // The slot is ours alone until marked done: the walker never reuses a slot that
    // has not been consumed, and the consumer waits for `done`.
    Slot& slot = slots_[seq % slots_.size()];
    WalkItem& item = slot.item;
    if (cancelled()) {
      // Queued files are dropped unread once cancelled: the consumer is about to stop,
      // and with a large window and a rate cap, hashing them could take minutes.
      item.has_record = false;
      item.error.reset();
    } else {
      Captured c = capture_file(sys_, item.dir->fd(), item.name, std::move(item.record.path), buffer, limiter_,
                                options_.cancel);
      item.has_record = c.has_record;
      item.record = std::move(c.record);
      item.error = std::move(c.error);
      item.bytes_hashed = c.bytes_hashed;
    }
    item.dir.reset();  // close the directory as soon as its last file is read
    std::lock_guard lock(mutex_);
    slot.done = true;
    if (seq == head_) ready_cv_.notify_one();
  }
}

void Pipeline::walk(const std::vector<std::string>& roots) {
  ExcludeSet excludes(options_.excludes);
  Walker walker(options_, sys_, excludes, [this](WalkItem&& item) { return push(std::move(item)); });
  for (const std::string& root : roots)
    if (!walker.walk_root(root)) break;
  std::lock_guard lock(mutex_);
  walk_done_ = true;
  work_cv_.notify_all();
  ready_cv_.notify_one();
}

void Pipeline::consume(WalkItem& item, const RecordCallback& on_record, ScanProgress* progress, ScanOutcome& outcome,
                       Expected<void>& status) {
  ScanSummary& s = outcome.summary;
  if (item.error) {
    ++s.errors;
    if (outcome.errors.size() < options_.max_listed_errors) outcome.errors.push_back(std::move(*item.error));
    else ++s.errors_dropped;
    if (progress != nullptr) progress->errors.fetch_add(1, std::memory_order_relaxed);
  }
  if (!item.has_record) return;
  switch (item.record.type) {
    case FileType::file: ++s.files; break;
    case FileType::directory: ++s.directories; break;
    case FileType::symlink: ++s.symlinks; break;
    default: ++s.others; break;
  }
  s.bytes_hashed += item.bytes_hashed;
  if (progress != nullptr) {
    progress->entries.fetch_add(1, std::memory_order_relaxed);
    progress->bytes.fetch_add(item.bytes_hashed, std::memory_order_relaxed);
  }
  status = on_record(item.record);
}

Expected<void> Pipeline::run(const std::vector<std::string>& roots, const RecordCallback& on_record,
                             ScanProgress* progress, ScanOutcome& outcome) {
  unsigned jobs = options_.jobs != 0 ? options_.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> hashers;
  hashers.reserve(jobs);
  for (unsigned i = 0; i < jobs; ++i) hashers.emplace_back([this] { hash_loop(); });
  std::thread walker([this, &roots] { walk(roots); });

  Expected<void> status;
  std::vector<WalkItem> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      ready_cv_.wait(lock, [&] { return (head_ < tail_ && slots_[head_ % slots_.size()].done) || (walk_done_ && head_ == tail_); });
      if (head_ == tail_) break;  // walk finished and everything consumed
      // Take every consecutive finished slot at once: one lock round per batch.
      while (head_ < tail_ && slots_[head_ % slots_.size()].done) {
        batch.push_back(std::move(slots_[head_ % slots_.size()].item));
        ++head_;
      }
      space_cv_.notify_one();
    }
    // Nothing is delivered after a failed callback, nor once cancellation is seen.
    for (WalkItem& item : batch) {
      if (!status || cancelled()) break;
      consume(item, on_record, progress, outcome, status);
    }
    batch.clear();
    if (!status || cancelled()) {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      work_cv_.notify_all();
      space_cv_.notify_all();
      break;
    }
  }
  walker.join();
  for (std::thread& t : hashers) t.join();
  return status;
}

}  // namespace

Expected<ScanOutcome> scan(const ScanOptions& options, const RecordCallback& on_record, ScanProgress* progress) {
  auto roots = canonical_roots(options.roots);
  if (!roots) return tl::unexpected(roots.error());
  ScanOutcome outcome;
  outcome.roots = *roots;
  const std::size_t window = std::max<std::size_t>(options.window, 16);
  Pipeline pipeline(options, options.sys != nullptr ? *options.sys : real_sys(), window);
  if (auto st = pipeline.run(*roots, on_record, progress, outcome); !st) return tl::unexpected(st.error());
  if (options.cancel != nullptr && options.cancel->load()) return fail(ErrorCode::io, "scan cancelled");
  return outcome;
}

Expected<CollectedScan> scan_to_manifest(const ScanOptions& options) {
  std::vector<FileRecord> records;
  auto outcome = scan(options, [&records](const FileRecord& r) -> Expected<void> {
    records.push_back(r);
    return {};
  });
  if (!outcome) return tl::unexpected(outcome.error());
  auto manifest = Manifest::from_sorted(std::move(records));
  if (!manifest) return fail(ErrorCode::internal, "scanner emitted records out of order: " + manifest.error().message);
  return CollectedScan{std::move(*manifest), std::move(*outcome)};
}

}  // namespace tb
