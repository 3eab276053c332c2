// One small interface for every scan-document output format (XML, JSON).
// Writers stream: memory does not grow with the number of records. Output goes to the
// sink in blocks of about 64 KiB; a record costs well under a microsecond.
//
// A writer never emits a document its own reader would reject (ReadLimits aside): it
// refuses, with ErrorCode::invalid_argument and nothing written for that call, a record
// whose path is not canonical or not strictly after the previous one, a content hash on
// a non-file, a link target on a non-symlink, a header without roots, and error paths
// that are not canonical. Calls out of order (record before begin, twice end) fail with
// ErrorCode::internal; sink failures come back as the sink's error and are sticky.
// Raw-byte names that are not plain text are written as base64; informational text
// (hostnames, messages) that is not plain text is made so with U+FFFD; a mode is
// written as its 07777 bits. Not thread-safe: one writer per output stream.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "core/error.h"
#include "core/scan_document.h"
#include "format/byte_sink.h"

namespace tb {

enum class ScanFormat { xml, json };

class ScanWriter {
 public:
  virtual ~ScanWriter() = default;
  // Call order: begin, record*, end. Records must come in path order.
  virtual Expected<void> begin(const ScanHeader& header) = 0;
  virtual Expected<void> record(const FileRecord& record) = 0;
  // Errors are listed after the records; the writer flushes the sink at the end.
  virtual Expected<void> end(std::span<const ScanError> errors, const ScanSummary& summary) = 0;
};

// The sink must outlive the writer.
std::unique_ptr<ScanWriter> make_scan_writer(ScanFormat format, ByteSink& sink);

// Convenience: a whole document in one call.
Expected<void> write_scan(ScanFormat format, const ScanDocument& doc, ByteSink& sink);

}  // namespace tb
