// Fuzz target: a chunked scan upload (format/chunked_scan.h) as the server receives it,
// then assembled with the chunks it references served back from the input's own sent
// chunks (as a store would); and the same bytes as one stored chunk (decode_chunk, which
// the store and the assembly run on what they read). Any input must give a scan or a
// clean error: no crash, no leak, no unbounded use.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "format/byte_source.h"
#include "format/chunked_scan.h"
#include "format/manifest_chunks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  tb::ReadLimits limits;
  limits.max_document_bytes = 1 << 20;
  limits.max_records = 10'000;
  limits.max_errors = 1'000;
  limits.max_text_bytes = 4096;

  std::vector<tb::FileRecord> records;
  (void)tb::decode_chunk(input, records);

  // The server's way: the header document parsed only once the chunks are read; it must
  // accept and refuse exactly what the one-pass read does.
  tb::MemorySource deferred_source(input);
  auto deferred = tb::read_chunked_scan(deferred_source, limits, tb::HeaderDocument::deferred);
  const bool deferred_ok = deferred && tb::parse_chunked_header(*deferred, limits).has_value();

  tb::MemorySource source(input);
  auto scan = tb::read_chunked_scan(source, limits);
  if (scan.has_value() != deferred_ok) __builtin_trap();
  if (!scan) return 0;
  // Referenced chunks come back as the input's tail, whatever it holds: the assembly must
  // check stored chunks as it checks sent ones.
  std::vector<std::string> stored(scan->referenced.size(), std::string(input.substr(size / 2)));
  auto doc = tb::assemble_chunked_scan(std::move(*scan), stored, limits);
  if (doc) (void)doc->document.manifest.size();
  return 0;
}
