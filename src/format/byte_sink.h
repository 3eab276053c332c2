// Where serialised bytes go: a file descriptor, a string (tests), later a compressed
// HTTP upload. Writers buffer; sinks see large writes.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace tb {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Expected<void> write(std::string_view bytes) = 0;
  virtual Expected<void> flush() { return {}; }
};

// Appends to a string it does not own.
class StringSink final : public ByteSink {
 public:
  explicit StringSink(std::string& out) : out_(out) {}
  Expected<void> write(std::string_view bytes) override {
    out_.append(bytes);
    return {};
  }

 private:
  std::string& out_;
};

// Writes to a file descriptor it does not own; retries short writes and EINTR.
class FdSink final : public ByteSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  Expected<void> write(std::string_view bytes) override;
  Expected<void> flush() override;

 private:
  int fd_;
};

}  // namespace tb
