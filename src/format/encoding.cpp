#include "format/encoding.h"

#include "core/path.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>

#include <openssl/evp.h>

namespace tb {

namespace {

constexpr std::int64_t kNsPerSec = 1'000'000'000;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Decodes the UTF-8 character at s[i]. Returns its length, or 0 when the bytes there
// are not well-formed UTF-8 (overlong, surrogate, out of range, truncated).
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = byte(i);
  std::size_t len;
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
  else return 0;
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// The same set of characters tb::is_plain_text() accepts.
bool is_plain_char(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp >= 0x80 && cp <= 0x9F) return false;
  return cp != 0xFFFE && cp != 0xFFFF;
}

void append_digits(std::string& out, std::uint64_t value, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

// Exactly `text.size()` decimal digits (leading zeros allowed: fixed-width fields).
std::optional<std::uint64_t> parse_fixed_digits(std::string_view text) {
  std::uint64_t v = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// Splits ns into floor seconds and a remainder in [0, 10^9).
void split_ns(std::int64_t ns, std::int64_t& sec, std::int64_t& sub) {
  sec = ns / kNsPerSec;
  sub = ns % kNsPerSec;
  if (sub < 0) {
    sub += kNsPerSec;
    sec -= 1;
  }
}

// sec * 10^9 + sub without intermediate overflow (sec may be the floor of INT64_MIN).
std::optional<std::int64_t> join_ns(std::int64_t sec, std::int64_t sub) {
  std::int64_t scaled, result;
  if (sec < 0) {
    // (sec + 1) * 10^9 + (sub - 10^9): both terms stay in range at the bottom edge.
    if (__builtin_mul_overflow(sec + 1, kNsPerSec, &scaled)) return std::nullopt;
    if (__builtin_add_overflow(scaled, sub - kNsPerSec, &result)) return std::nullopt;
    return result;
  }
  if (__builtin_mul_overflow(sec, kNsPerSec, &scaled)) return std::nullopt;
  if (__builtin_add_overflow(scaled, sub, &result)) return std::nullopt;
  return result;
}

}  // namespace

void append_xml_escaped(std::string& out, std::string_view text) {
  std::size_t run = 0;  // start of the pending stretch that needs no escaping
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string_view entity;
    switch (text[i]) {
      case '&': entity = "&amp;"; break;
      case '<': entity = "&lt;"; break;
      case '>': entity = "&gt;"; break;
      case '"': entity = "&quot;"; break;
      default: continue;
    }
    out.append(text.data() + run, i - run);
    out.append(entity);
    run = i + 1;
  }
  out.append(text.data() + run, text.size() - run);
}

void append_json_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(text.data() + run, text.size() - run);
}

std::string sanitize_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(bytes, i, cp);
    if (len == 0) {
      out += kReplacement;  // one replacement per ill-formed byte
      ++i;
      continue;
    }
    if (is_plain_char(cp)) out.append(bytes.substr(i, len));
    else out += kReplacement;
    i += len;
  }
  return out;
}

std::string excerpt(std::string_view bytes, std::size_t max_bytes) {
  const bool cut = bytes.size() > max_bytes;
  std::string out = "'" + sanitize_text(bytes.substr(0, std::min(bytes.size(), max_bytes)));
  out += cut ? "'..." : "'";
  return out;
}

void append_base64(std::string& out, std::string_view bytes) {
  // EVP_EncodeBlock takes an int length; encode in chunks that are a multiple of 3
  // so the concatenation equals one encoding of the whole input.
  constexpr std::size_t kChunk = 3 << 20;
  for (std::size_t pos = 0; pos < bytes.size(); pos += kChunk) {
    const std::size_t n = std::min(kChunk, bytes.size() - pos);
    const std::size_t start = out.size();
    out.resize(start + 4 * ((n + 2) / 3) + 1);  // +1: EVP writes a terminating NUL
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + start),
                                        reinterpret_cast<const unsigned char*>(bytes.data() + pos),
                                        static_cast<int>(n));
    out.resize(start + static_cast<std::size_t>(written));
  }
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  append_base64(out, bytes);
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  // EVP_DecodeBlock skips whitespace and does not report padding, so check the
  // shape here and subtract the padding from its result.
  std::size_t pad = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' || c == '/';
    if (alpha && pad == 0) continue;
    if (c != '=' || i + 2 < text.size()) return std::nullopt;  // '=' only in the last two places
    ++pad;
  }
  std::string out;
  constexpr std::size_t kChunk = 4 << 20;
  for (std::size_t pos = 0; pos < text.size(); pos += kChunk) {
    const std::size_t n = std::min(kChunk, text.size() - pos);
    const std::size_t start = out.size();
    out.resize(start + n / 4 * 3);
    const int got = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + start),
                                    reinterpret_cast<const unsigned char*>(text.data() + pos),
                                    static_cast<int>(n));
    if (got < 0) return std::nullopt;
  }
  out.resize(out.size() - pad);
  return out;
}

void append_uint(std::string& out, std::uint64_t value) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

void append_int(std::string& out, std::int64_t value) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
  std::uint64_t value = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

void append_mode(std::string& out, std::uint32_t mode) {
  const char digits[4] = {
      static_cast<char>('0' + ((mode >> 9) & 7)), static_cast<char>('0' + ((mode >> 6) & 7)),
      static_cast<char>('0' + ((mode >> 3) & 7)), static_cast<char>('0' + (mode & 7))};
  out.append(digits, 4);
}

std::optional<std::uint32_t> parse_mode(std::string_view text) {
  if (text.size() != 4) return std::nullopt;
  std::uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
  }
  return mode;
}

void append_mtime(std::string& out, std::int64_t ns) {
  std::int64_t sec, sub;
  split_ns(ns, sec, sub);
  append_int(out, sec);
  out += '.';
  append_digits(out, static_cast<std::uint64_t>(sub), 9);
}

std::optional<std::int64_t> parse_mtime(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || text.size() - dot - 1 != 9) return std::nullopt;
  std::string_view whole = text.substr(0, dot);
  const bool negative = !whole.empty() && whole.front() == '-';
  if (negative) whole.remove_prefix(1);
  const auto magnitude = parse_uint(whole, static_cast<std::uint64_t>(INT64_MAX));
  if (!magnitude || (negative && *magnitude == 0)) return std::nullopt;  // "-0" has a twin "0"
  const auto sub = parse_fixed_digits(text.substr(dot + 1));
  if (!sub) return std::nullopt;
  const auto sec = static_cast<std::int64_t>(*magnitude);
  return join_ns(negative ? -sec : sec, static_cast<std::int64_t>(*sub));
}

void append_timestamp(std::string& out, std::int64_t ns) {
  using namespace std::chrono;
  std::int64_t sec, sub;
  split_ns(ns, sec, sub);  // whole seconds first: ns near INT64_MIN would overflow as days
  const sys_seconds tp{seconds{sec}};
  const sys_days day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{tp - day};
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ",
                              static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                              static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                              static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                              static_cast<long long>(sub));
  out.append(buf, static_cast<std::size_t>(n));
}

std::string format_timestamp(std::int64_t ns) {
  std::string out;
  append_timestamp(out, ns);
  return out;
}

std::optional<std::int64_t> parse_timestamp(std::string_view t) {
  using namespace std::chrono;
  // "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ"
  if (t.size() != 30 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
      t[19] != '.' || t[29] != 'Z')
    return std::nullopt;
  const auto y = parse_fixed_digits(t.substr(0, 4));
  const auto mo = parse_fixed_digits(t.substr(5, 2));
  const auto d = parse_fixed_digits(t.substr(8, 2));
  const auto h = parse_fixed_digits(t.substr(11, 2));
  const auto mi = parse_fixed_digits(t.substr(14, 2));
  const auto s = parse_fixed_digits(t.substr(17, 2));
  const auto sub = parse_fixed_digits(t.substr(20, 9));
  if (!y || !mo || !d || !h || !mi || !s || !sub) return std::nullopt;
  if (*h > 23 || *mi > 59 || *s > 59) return std::nullopt;  // no leap seconds: the writer never emits them
  const year_month_day ymd{year{static_cast<int>(*y)}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  const std::int64_t day_count = sys_days{ymd}.time_since_epoch().count();
  const auto secs = day_count * 86'400 + static_cast<std::int64_t>(*h * 3600 + *mi * 60 + *s);
  return join_ns(secs, static_cast<std::int64_t>(*sub));
}

void append_sha256(std::string& out, const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[64];
  for (std::size_t i = 0; i < digest.bytes.size(); ++i) {
    buf[2 * i] = kHex[digest.bytes[i] >> 4];
    buf[2 * i + 1] = kHex[digest.bytes[i] & 0xF];
  }
  out.append(buf, sizeof buf);
}

std::optional<Sha256Digest> parse_sha256(std::string_view text) {
  // One pass that validates and decodes: this runs once per record of every upload.
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // upper case too: one spelling per digest
  };
  Sha256Digest digest;
  if (text.size() != 2 * digest.bytes.size()) return std::nullopt;
  for (std::size_t i = 0; i < digest.bytes.size(); ++i) {
    const int hi = nibble(text[2 * i]);
    const int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    digest.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return digest;
}

void append_json_text(std::string& out, std::string_view text) {
  out += '"';
  if (is_plain_text(text)) append_json_escaped(out, text);
  else append_json_escaped(out, sanitize_text(text));
  out += '"';
}

void append_json_bytes_member(std::string& out, std::string_view key, std::string_view bytes) {
  out += '"';
  out += key;
  if (is_plain_text(bytes)) {
    out += "\":\"";
    append_json_escaped(out, bytes);
  } else {
    out += "_b64\":\"";
    append_base64(out, bytes);
  }
  out += '"';
}

}  // namespace tb
