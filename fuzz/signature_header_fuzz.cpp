// Fuzz target: the X-Trustbase-Signature and X-Trustbase-Host-Key header values, which
// reach the server before any authentication of the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/scan_signature.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto s = tb::parse_signature_header(text)) (void)tb::format_signature_header(*s);
  (void)tb::decode_public_key(text);
  return 0;
}
