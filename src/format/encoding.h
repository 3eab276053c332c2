// The textual encodings shared by the XML and JSON scan formats: escaping, base64 for
// names that are not text, and the exact spelling of numbers, modes and times.
//
// Every parse_* function accepts exactly the spelling its append_* counterpart writes
// (one spelling per value), so a document has one canonical form and the XSD patterns
// in schema/scan-v1.xsd can say precisely what is valid.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/sha256.h"

namespace tb {

// Appends `text` with & < > " replaced by entity references. Enough for attribute
// values and element text as long as `text` is plain text (tb::is_plain_text): no
// control characters that XML would normalise or forbid.
void append_xml_escaped(std::string& out, std::string_view text);

// Appends the body of a JSON string (no quotes): " and \ escaped, C0 controls as
// \u00XX. `text` must be valid UTF-8 (callers pass plain text or sanitize_text()).
void append_json_escaped(std::string& out, std::string_view text);

// A quoted JSON string of informational text (sanitize_text() applied when needed).
void append_json_text(std::string& out, std::string_view text);
// A JSON member for raw bytes (a path, a link target): "key":"text" when they are plain
// text, else "key_b64":"base64", so that any Linux name survives exactly.
void append_json_bytes_member(std::string& out, std::string_view key, std::string_view bytes);

// Returns `bytes` as plain text: every byte that is not part of well-formed UTF-8, and
// every character that is not plain text (C0/C1 controls, DEL, U+FFFE, U+FFFF), becomes
// U+FFFD. For informational strings (hostnames, messages) where loss is acceptable.
std::string sanitize_text(std::string_view bytes);

// A short, quoted, plain-text excerpt of untrusted input for error messages.
std::string excerpt(std::string_view bytes, std::size_t max_bytes = 64);

// Standard base64 (RFC 4648 section 4) with padding, no line breaks.
void append_base64(std::string& out, std::string_view bytes);
std::string base64_encode(std::string_view bytes);
// Strict inverse: length a multiple of 4, alphabet A-Z a-z 0-9 + /, '=' only as the last
// one or two characters; no whitespace. nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

// Decimal without sign or leading zeros ("0", "42"). parse_uint rejects anything else,
// and values above `max`.
void append_uint(std::string& out, std::uint64_t value);
void append_int(std::string& out, std::int64_t value);
std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max = UINT64_MAX);

// Permission bits as exactly four octal digits of mode & 07777 ("0755", "4755").
void append_mode(std::string& out, std::uint32_t mode);
std::optional<std::uint32_t> parse_mode(std::string_view text);

// A modification time as "S.NNNNNNNNN": S = floor(ns / 10^9) in decimal (negative
// before 1970, no leading zeros, never "-0"), then exactly nine digits of the
// remainder, which is always in [0, 10^9). The value is S * 10^9 + N, the struct
// timespec convention: one nanosecond before the epoch is "-1.999999999".
// Covers the whole int64 range: "-9223372037.145224192" .. "9223372036.854775807".
void append_mtime(std::string& out, std::int64_t ns);
std::optional<std::int64_t> parse_mtime(std::string_view text);

// A point in time as RFC 3339 UTC with nine fraction digits:
// "2026-11-26T05:55:09.123456789Z" (always this length; years 1677..2262 fit int64 ns).
void append_timestamp(std::string& out, std::int64_t ns);
std::string format_timestamp(std::int64_t ns);
// Accepts exactly that shape (with a valid calendar date, hour < 24, minute and
// second < 60) and values representable as int64 nanoseconds.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

// A digest as 64 lower-case hex digits; parse accepts lower case only.
void append_sha256(std::string& out, const Sha256Digest& digest);
std::optional<Sha256Digest> parse_sha256(std::string_view text);

}  // namespace tb
