// A read-rate cap shared by all hashing threads (token bucket, one-second burst), and
// the "be gentle" process priorities of --nice.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace tb {

// Thread-safe. A rate of 0 means unlimited (acquire() returns at once).
class RateLimiter {
 public:
  explicit RateLimiter(double bytes_per_second);
  // Blocks until `bytes` may be read.
  void acquire(std::uint64_t bytes);
  bool unlimited() const { return rate_ <= 0; }

 private:
  using Clock = std::chrono::steady_clock;
  const double rate_;
  std::mutex mutex_;
  double tokens_;                // GUARDED_BY(mutex_), may go negative (debt)
  Clock::time_point last_;       // GUARDED_BY(mutex_)
};

// Lowest CPU priority (nice 19) and the idle I/O class for the calling thread; threads
// created afterwards inherit both. Returns false if the kernel refused either.
bool lower_process_priority();

}  // namespace tb
