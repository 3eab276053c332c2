// Fuzz target: a scan document (XML or JSON, sniffed) as the server receives it.
// Any input must give a document or a clean error: no crash, no leak, no unbounded use.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/scan_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tb::ReadLimits limits;
  limits.max_document_bytes = 1 << 20;
  limits.max_records = 10'000;
  limits.max_errors = 1'000;
  limits.max_text_bytes = 4096;
  auto doc = tb::parse_scan(std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (doc) (void)doc->manifest.size();
  return 0;
}
