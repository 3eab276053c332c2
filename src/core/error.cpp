#include "core/error.h"

namespace tb {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid-argument";
    case ErrorCode::parse: return "parse";
    case ErrorCode::io: return "io";
    case ErrorCode::not_found: return "not-found";
    case ErrorCode::limit: return "limit";
    case ErrorCode::changed: return "changed";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

}  // namespace tb
