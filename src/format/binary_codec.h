// The primitives of trustbase's compact binary encodings (format/manifest_chunks.h, the
// store's blobs in store/chunk_codec.h, chunked uploads in format/chunked_scan.h):
// unsigned LEB128 varints, zigzag for signed values, length-prefixed byte strings, and a
// bounds-checked reader for input that may be hostile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tb::binary {

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

inline void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

// Bounds-checked reader: after the first overrun every read returns zero/empty and ok()
// stays false, so decoders check once at the end instead of after every field.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return overrun();
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return overrun();  // more than 10 bytes: not a varint we wrote
  }
  std::uint8_t byte() {
    if (pos_ >= in_.size()) return static_cast<std::uint8_t>(overrun());
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::string_view raw(std::uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      overrun();
      return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view bytes() { return raw(varint()); }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::size_t position() const { return pos_; }
  // A count read from input can never exceed the bytes left (each item takes >= 1 byte):
  // checked before reserving, so a corrupt count cannot trigger a huge allocation.
  bool plausible_count(std::uint64_t n) const { return n <= in_.size() - pos_; }

 private:
  std::uint64_t overrun() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace tb::binary
