// Error values returned at module edges. Exceptions never cross a module boundary:
// every adapter (scan, format, store, server) returns tb::Expected<T>.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace tb {

enum class ErrorCode {
  invalid_argument,  // caller gave a value that can never be valid (bad path, bad hash...)
  parse,             // a document could not be read (syntax, schema, limits)
  io,                // the operating system refused (open, read, write...)
  not_found,         // ordinary absence
  limit,             // a configured bound was exceeded
  changed,           // the object changed while it was being read
  internal,          // a bug: an invariant did not hold
};

const char* to_string(ErrorCode code) noexcept;

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;  // human-readable, names the object and the reason

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}
};

template <class T>
using Expected = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace tb
