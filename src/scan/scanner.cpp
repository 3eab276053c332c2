// The scan pipeline: one walker thread fills a ring of slots in path order, hashing
// threads complete the slots that hold regular files, and the calling thread hands the
// slots to the callback strictly in ring order. Memory is bounded by the ring size.
#include "scan/scanner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>

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

SysrootMapper::SysrootMapper(std::string sysroot) : prefix_(sysroot == "/" ? std::string{} : std::move(sysroot)) {}

void SysrootMapper::strip(std::string& path) const {
  if (prefix_.empty()) return;
  if (path.size() == prefix_.size()) path = "/";
  else path.erase(0, prefix_.size());
}

std::string SysrootMapper::apply(std::string_view path) const {
  if (prefix_.empty() || path.empty() || path.front() != '/') return std::string(path);
  return path == "/" ? prefix_ : prefix_ + std::string(path);
}

namespace {

// fnmatch() treats these as pattern syntax: a sysroot path put in front of a pattern
// must match itself only.
std::string escape_glob(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Resolves the sysroot and the roots inside it; a root that resolves outside the sysroot
// (through an absolute symlink, say) is refused rather than scanned on the live system.
Expected<std::pair<std::string, std::vector<std::string>>> roots_in_sysroot(const ScanOptions& options) {
  char* real = ::realpath(options.sysroot.c_str(), nullptr);
  if (real == nullptr) {
    const int err = errno;
    return fail(ErrorCode::io, "cannot use sysroot '" + options.sysroot + "': " + ::strerrordesc_np(err));
  }
  std::string sysroot(real);
  std::free(real);
  const SysrootMapper map(sysroot);
  std::vector<std::string> inside;
  for (const std::string& r : options.roots) {
    if (r.empty() || r.front() != '/')
      return fail(ErrorCode::invalid_argument, "root '" + r + "' must be absolute with --sysroot");
    inside.push_back(map.apply(r));
  }
  auto roots = canonical_roots(inside);
  if (!roots) return tl::unexpected(roots.error());
  for (const std::string& r : *roots)
    if (map.active() && r != sysroot && !path_is_under(r, sysroot))
      return fail(ErrorCode::invalid_argument, "root '" + r + "' resolves outside the sysroot '" + sysroot + "'");
  return std::pair{std::move(sysroot), std::move(*roots)};
}

// Threads: the calling thread walks, hands out files and delivers records; `jobs`
// hashing threads complete the slots that hold regular files. The calling thread hands
// items over in batches and is woken for batches of finished slots: on a 2-core VM the
// per-file futex traffic of a naive queue cost more than the syscalls of the scan
// itself. While the ring is full the calling thread hashes queued files itself.
class Pipeline {
 public:
  Pipeline(const ScanOptions& options, Sys& sys, std::size_t window, const RecordCallback& on_record,
           ScanProgress* progress, ScanOutcome& outcome, SysrootMapper sysroot)
      : options_(options),
        sysroot_(std::move(sysroot)),
        sys_(sys),
        on_record_(on_record),
        progress_(progress),
        outcome_(outcome),
        slots_(window),
        limiter_(options.max_rate_mb_s * 1e6),
        own_hasher_(sys, limiter_, options.read_buffer_bytes, options.cancel) {}

  // Runs the whole scan on the given roots; returns the callback's error if it failed.
  Expected<void> run(const std::vector<std::string>& roots);

 private:
  static constexpr std::size_t kHandOff = 32;  // walk items per lock round
  static constexpr std::uint64_t kWakeBatch = 64;  // finished slots that wake the calling thread

  struct Slot {
    WalkItem item;
    bool done = false;  // GUARDED_BY(mutex_)
  };

  bool cancelled() const { return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed); }
  bool stopped() const { return !status_ || cancelled(); }
  bool add(WalkItem&& item);                 // calling thread, from the walker
  bool flush();                              // calling thread
  bool drain();                              // calling thread: deliver finished head slots
  bool make_progress();                      // calling thread: drain, or hash, or wait
  bool deliverable() const;                  // REQUIRES(mutex_)
  void hash_loop();                          // hashing threads
  void hash_slot(FileHasher& hasher, Slot& slot);
  void deliver(WalkItem& item);
  std::vector<std::string> sysroot_excludes() const;  // path patterns moved under the sysroot
  void stop_all();

  const ScanOptions& options_;
  SysrootMapper sysroot_;
  Sys& sys_;
  const RecordCallback& on_record_;
  ScanProgress* progress_;
  ScanOutcome& outcome_;
  Expected<void> status_;                    // calling thread only

  std::mutex mutex_;
  std::condition_variable work_cv_;          // hashing threads: work_ non-empty, or finishing
  std::condition_variable ready_cv_;         // calling thread: a slot finished
  std::vector<Slot> slots_;                  // ring; sequence number s lives in slot s % size
  std::uint64_t head_ = 0;                   // GUARDED_BY(mutex_) next sequence to deliver
  std::uint64_t tail_ = 0;                   // GUARDED_BY(mutex_) next sequence to fill
  std::deque<std::uint64_t> work_;           // GUARDED_BY(mutex_) sequences waiting for a hash
  bool finishing_ = false;                   // GUARDED_BY(mutex_) no more work will come
  bool main_waiting_ = false;                // GUARDED_BY(mutex_) calling thread sleeps on ready_cv_

  std::vector<WalkItem> pending_;            // calling thread: walked, not yet in the ring
  std::vector<WalkItem> ready_;              // calling thread: taken from the ring, to deliver
  RateLimiter limiter_;
  FileHasher own_hasher_;                    // the calling thread's, for helping out
  bool walk_over_ = false;                   // calling thread only
};

bool Pipeline::add(WalkItem&& item) {
  pending_.push_back(std::move(item));
  if (pending_.size() >= kHandOff) return flush();
  return !stopped();
}

bool Pipeline::flush() {
  std::size_t next = 0;
  while (next < pending_.size()) {
    {
      std::lock_guard lock(mutex_);
      const std::size_t room = slots_.size() - static_cast<std::size_t>(tail_ - head_);
      const std::size_t n = std::min(room, pending_.size() - next);
      std::size_t queued = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const std::uint64_t seq = tail_++;
        Slot& slot = slots_[seq % slots_.size()];
        slot.item = std::move(pending_[next++]);
        slot.done = !slot.item.needs_hash;
        if (!slot.done) {
          work_.push_back(seq);
          ++queued;
        }
      }
      if (queued > 1) work_cv_.notify_all();
      else if (queued == 1) work_cv_.notify_one();
    }
    if (next < pending_.size() && !make_progress()) return false;  // ring full
  }
  pending_.clear();
  return drain();
}

bool Pipeline::drain() {
  {
    std::lock_guard lock(mutex_);
    while (head_ < tail_ && slots_[head_ % slots_.size()].done) {
      ready_.push_back(std::move(slots_[head_ % slots_.size()].item));
      ++head_;
    }
  }
  // Nothing is delivered after a failed callback, nor once cancellation is seen.
  for (WalkItem& item : ready_) {
    if (stopped()) break;
    deliver(item);
  }
  ready_.clear();
  return !stopped();
}

bool Pipeline::make_progress() {
  const std::uint64_t before = head_;  // only this thread moves head_
  if (!drain()) return false;
  if (head_ != before) return true;
  std::unique_lock lock(mutex_);
  // Help only while walking (the ring is full: the walk is ahead of the hashing threads).
  // Once the walk is over, a third thread on the same cores hashing one of the last,
  // possibly big, files would only stretch the tail of the scan.
  if (!walk_over_ && !work_.empty()) {
    // The oldest queued file is the one blocking the head: hash it here.
    const std::uint64_t seq = work_.front();
    work_.pop_front();
    lock.unlock();
    Slot& slot = slots_[seq % slots_.size()];
    hash_slot(own_hasher_, slot);
    lock.lock();
    slot.done = true;
    return true;
  }
  // Bounded wait: a batch behind a slow (big or throttled) file must not hold back the
  // records already finished, nor the cancellation check that delivering them allows.
  main_waiting_ = true;
  ready_cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return deliverable(); });
  main_waiting_ = false;
  return true;
}

bool Pipeline::deliverable() const {
  // Wake the calling thread for a batch of finished slots, not for each one: one wake
  // per file is a futex round trip per file.
  const std::uint64_t want = std::min<std::uint64_t>(kWakeBatch, tail_ - head_);
  std::uint64_t run = 0;
  while (run < want && slots_[(head_ + run) % slots_.size()].done) ++run;
  return run == want;
}

void Pipeline::hash_slot(FileHasher& hasher, Slot& slot) {
  // The slot is this thread's alone until marked done: the walker never reuses a slot
  // that has not been delivered, and delivery waits for `done`.
  WalkItem& item = slot.item;
  if (cancelled()) {
    // Queued files are dropped unread once cancelled: the scan is about to stop, and
    // with a large window and a rate cap, hashing them could take minutes.
    item.has_record = false;
    item.error.reset();
  } else {
    Captured c = hasher.capture(item.dir->fd(), item.name, std::move(item.record.path));
    item.has_record = c.has_record;
    item.record = std::move(c.record);
    item.error = std::move(c.error);
    item.bytes_hashed = c.bytes_hashed;
  }
  item.dir.reset();  // close the directory as soon as its last file is read
}

void Pipeline::hash_loop() {
  FileHasher hasher(sys_, limiter_, options_.read_buffer_bytes, options_.cancel);
  for (;;) {
    std::uint64_t seq;
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] { return !work_.empty() || finishing_; });
      if (work_.empty()) return;
      // One file at a time: taking several would pile big files onto one thread.
      seq = work_.front();
      work_.pop_front();
    }
    Slot& slot = slots_[seq % slots_.size()];
    hash_slot(hasher, slot);
    std::lock_guard lock(mutex_);
    slot.done = true;
    if (main_waiting_ && deliverable()) ready_cv_.notify_one();
  }
}

void Pipeline::deliver(WalkItem& item) {
  ScanSummary& s = outcome_.summary;
  if (item.error) {
    sysroot_.strip(item.error->path);
    ++s.errors;
    if (outcome_.errors.size() < options_.max_listed_errors) outcome_.errors.push_back(std::move(*item.error));
    else ++s.errors_dropped;
    if (progress_ != nullptr) progress_->errors.fetch_add(1, std::memory_order_relaxed);
  }
  if (!item.has_record) return;
  switch (item.record.type) {
    case FileType::file: ++s.files; break;
    case FileType::directory: ++s.directories; break;
    case FileType::symlink: ++s.symlinks; break;
    default: ++s.others; break;
  }
  s.bytes_hashed += item.bytes_hashed;
  if (progress_ != nullptr) {
    progress_->entries.fetch_add(1, std::memory_order_relaxed);
    progress_->bytes.fetch_add(item.bytes_hashed, std::memory_order_relaxed);
  }
  sysroot_.strip(item.record.path);
  status_ = on_record_(item.record);
}

std::vector<std::string> Pipeline::sysroot_excludes() const {
  std::vector<std::string> patterns = options_.excludes;
  if (!sysroot_.active()) return patterns;
  const std::string prefix = escape_glob(sysroot_.prefix());
  for (std::string& p : patterns)
    if (!p.empty() && p.front() == '/') p.insert(0, prefix);
  return patterns;
}

void Pipeline::stop_all() {
  std::lock_guard lock(mutex_);
  finishing_ = true;
  work_cv_.notify_all();
}

Expected<void> Pipeline::run(const std::vector<std::string>& roots) {
  const unsigned jobs = options_.jobs != 0 ? options_.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> hashers;
  hashers.reserve(jobs);
  for (unsigned i = 0; i < jobs; ++i) hashers.emplace_back([this] { hash_loop(); });

  ExcludeSet excludes(sysroot_excludes());
  Walker walker(options_, sys_, excludes, [this](WalkItem&& item) { return add(std::move(item)); });
  bool ok = true;
  for (const std::string& root : roots)
    if (!(ok = walker.walk_root(root))) break;
  if (ok) ok = flush();
  walk_over_ = true;
  // Deliver the rest in order.
  while (ok) {
    ok = drain();
    {
      std::lock_guard lock(mutex_);
      if (head_ == tail_) break;
    }
    if (ok) ok = make_progress();
  }
  if (!ok) {
    // Stopped: files queued but not started are never hashed; those in flight finish
    // before the threads are joined, so no thread touches the ring after this returns.
    std::lock_guard lock(mutex_);
    work_.clear();
  }
  stop_all();
  for (std::thread& t : hashers) t.join();
  return status_;
}

}  // namespace

Expected<ResolvedRoots> resolve_roots(const ScanOptions& options) {
  ResolvedRoots out;
  if (options.sysroot.empty()) {
    auto live = canonical_roots(options.roots);
    if (!live) return tl::unexpected(live.error());
    out.real = std::move(*live);
  } else {
    auto inside = roots_in_sysroot(options);
    if (!inside) return tl::unexpected(inside.error());
    std::tie(out.sysroot, out.real) = std::move(*inside);
  }
  const SysrootMapper map(out.sysroot);
  out.shown = out.real;
  for (std::string& r : out.shown) map.strip(r);
  return out;
}

Expected<ScanOutcome> scan(const ScanOptions& options, const RecordCallback& on_record, ScanProgress* progress) {
  auto roots = resolve_roots(options);
  if (!roots) return tl::unexpected(roots.error());
  ScanOutcome outcome;
  outcome.roots = roots->shown;
  const std::size_t window = std::max<std::size_t>(options.window, 16);
  Pipeline pipeline(options, options.sys != nullptr ? *options.sys : real_sys(), window, on_record, progress, outcome,
                    SysrootMapper(roots->sysroot));
  if (auto st = pipeline.run(roots->real); !st) return tl::unexpected(st.error());
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
