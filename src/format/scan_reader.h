// Parsing scan documents. Input is untrusted: every path is normalised and bounded,
// every number range-checked, every hash validated; the reader streams records to a
// visitor so a 1,000,000-file document is never held as a DOM.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "core/error.h"
#include "core/path.h"
#include "core/scan_document.h"

namespace tb {

struct ReadLimits {
  std::size_t max_document_bytes = std::size_t{4} << 30;  // 4 GiB of XML
  std::size_t max_records = 20'000'000;
  std::size_t max_errors = 1'000'000;
  std::size_t max_text_bytes = 64 * 1024;  // any single attribute or text value
  PathLimits paths;
};

struct ScanVisitor {
  std::function<Expected<void>(const ScanHeader&)> header;
  std::function<Expected<void>(FileRecord&&)> record;   // in path order (checked)
  std::function<Expected<void>(ScanError&&)> error;
  std::function<Expected<void>(const ScanSummary&)> summary;
};

// Streaming parse of an XML scan document held in memory or read from a file.
Expected<void> read_scan_xml(std::string_view document, const ScanVisitor& visitor,
                             const ReadLimits& limits = {});
Expected<void> read_scan_xml_file(const std::string& path, const ScanVisitor& visitor,
                                  const ReadLimits& limits = {});

// Parses a JSON scan document (the --format json output).
Expected<void> read_scan_json(std::string_view document, const ScanVisitor& visitor,
                              const ReadLimits& limits = {});

// Collects a whole document (tests, small scans).
Expected<ScanDocument> parse_scan(std::string_view document, const ReadLimits& limits = {});  // sniffs XML vs JSON

}  // namespace tb
