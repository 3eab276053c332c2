// Helpers of the PostgreSQL store (libpqxx): the error that carries a tb::Error out of a
// store method's body, conversions of fields and parameters, and the mapping of libpqxx's
// exceptions to trustbase errors. Internal to the store: exceptions never leave it
// (PostgresStore catches them at each method's edge).
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/sha256.h"

namespace tb::pg {

// Thrown inside the store to return `error` from the current Store method.
struct Failure {
  Error error;
};
[[noreturn]] inline void raise(ErrorCode code, std::string message) { throw Failure{Error{code, std::move(message)}}; }

// A bytea parameter (sent in binary: no escaping).
inline pqxx::binarystring bin(std::string_view bytes) { return pqxx::binarystring(bytes.data(), bytes.size()); }
inline std::string_view digest_bytes(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size()};
}
inline pqxx::binarystring bin(const Sha256Digest& d) { return bin(digest_bytes(d)); }

// A text field as its bytes ("" for NULL).
inline std::string text(const pqxx::field& f) { return std::string(f.c_str(), f.size()); }
// A bytea field, unescaped.
inline std::string bytes(const pqxx::field& f) { return f.is_null() ? std::string() : pqxx::binarystring(f).str(); }
inline std::int64_t integer(const pqxx::field& f) { return f.is_null() ? 0 : f.as<std::int64_t>(); }
inline std::uint64_t uinteger(const pqxx::field& f) { return static_cast<std::uint64_t>(integer(f)); }
Sha256Digest digest(const pqxx::field& f);  // raises parse unless 32 bytes

// Whether a failure of this SQLSTATE goes away when the transaction is run again:
// serialization failures and deadlocks between replicas.
bool retryable(const std::string& sqlstate) noexcept;
// A libpqxx (or other standard) exception as a trustbase error, prefixed with `context`:
// constraint and data errors are the caller's (invalid_argument), connection trouble and
// everything the server refuses otherwise io, conversion errors parse (a corrupt store).
Error to_error(const std::exception& e, std::string_view context);

}  // namespace tb::pg
