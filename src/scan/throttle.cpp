#include "scan/throttle.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace tb {

RateLimiter::RateLimiter(double bytes_per_second)
    : rate_(bytes_per_second), tokens_(bytes_per_second), last_(Clock::now()) {}

void RateLimiter::acquire(std::uint64_t bytes) {
  if (unlimited()) return;
  double wait_s;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(rate_, tokens_ + elapsed * rate_);  // at most one second of burst
    tokens_ -= static_cast<double>(bytes);
    wait_s = tokens_ < 0 ? -tokens_ / rate_ : 0.0;
  }
  // Sleep outside the lock: the debt is already booked, so other threads queue behind it.
  if (wait_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
}

bool lower_process_priority() {
  bool ok = ::setpriority(PRIO_PROCESS, 0, 19) == 0;
  // ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0)); glibc has no wrapper.
  constexpr int kWhoProcess = 1, kClassIdle = 3, kClassShift = 13;
  ok = ::syscall(SYS_ioprio_set, kWhoProcess, 0, kClassIdle << kClassShift) == 0 && ok;
  return ok;
}

}  // namespace tb
