// Internals shared by the XML and JSON writers (not part of the module's interface):
// the output buffer, and the checks that keep a writer from emitting a document its
// own reader would reject.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/scan_document.h"
#include "format/byte_sink.h"
#include "format/scan_writer.h"

namespace tb {

// Accumulates output and hands it to the sink in blocks of about `kBlockBytes`, so a
// sink (a syscall, a compressor) sees a few large writes instead of one per record.
// Errors are sticky: after the sink fails, output is dropped and status() keeps the
// first error. Not thread-safe.
class OutputBuffer {
 public:
  static constexpr std::size_t kBlockBytes = 64 * 1024;

  explicit OutputBuffer(ByteSink& sink) : sink_(sink) { buf_.reserve(kBlockBytes + 4096); }

  // Appending goes straight into this string (escapers append to it). Call
  // maybe_flush() after each logical unit (a record) to keep the buffer bounded.
  std::string& text() { return buf_; }

  void maybe_flush() {
    if (buf_.size() >= kBlockBytes) write_out();
  }
  // Writes everything buffered and flushes the sink.
  Expected<void> finish() {
    write_out();
    if (status_) status_ = sink_.flush();
    return status_;
  }
  const Expected<void>& status() const { return status_; }

 private:
  void write_out() {
    if (status_ && !buf_.empty()) status_ = sink_.write(buf_);
    buf_.clear();  // keeps the capacity
  }

  ByteSink& sink_;
  std::string buf_;
  Expected<void> status_;
};

// The call-order and content rules both writers enforce (begin, record*, end; records
// in strict path order with canonical paths; a hash only on a regular file, a target
// only on a symlink; at least one canonical root). Cheap: one comparison and one copy
// of the previous path per record.
class WriteSequence {
 public:
  Expected<void> begin(const ScanHeader& header);
  Expected<void> record(const FileRecord& record);
  Expected<void> end(std::span<const ScanError> errors);

 private:
  enum class Phase { fresh, records, ended };
  Phase phase_ = Phase::fresh;
  bool have_last_ = false;
  std::string last_path_;
};

std::unique_ptr<ScanWriter> make_xml_scan_writer(ByteSink& sink);
std::unique_ptr<ScanWriter> make_json_scan_writer(ByteSink& sink);

}  // namespace tb
