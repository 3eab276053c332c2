// One small interface for every scan-document output format (XML, JSON).
// Writers stream: memory does not grow with the number of records.
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
