// A one-line progress display on stderr (entries, bytes, rate, errors), refreshed a few
// times a second by its own thread, for interactive runs only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "scan/scanner.h"

namespace tb {

class ProgressLine {
 public:
  // Starts the display thread; does nothing when `enabled` is false.
  ProgressLine(const ScanProgress& progress, bool enabled);
  // Stops the thread and clears the line.
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void run();
  void draw(bool final_line);

  const ScanProgress& progress_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace tb
