// Builders and seeded random generators shared by the core tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_record.h"
#include "core/manifest.h"
#include "core/sha256.h"

namespace tb::test {

// Every attribute a regular file carries when scanned (no link target).
inline constexpr AttrSet kFileAttrs = AttrSet::from_bits(0x7F);
// Every attribute a symlink carries when scanned (no content hash).
inline const AttrSet kSymlinkAttrs =
    Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime | Attr::link_target;
inline const AttrSet kDirAttrs = Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime;

inline constexpr Attr kEveryAttr[] = {Attr::type, Attr::size,  Attr::mode,   Attr::uid,
                                      Attr::gid,  Attr::mtime, Attr::sha256, Attr::link_target};

inline FileRecord file(std::string path, std::string_view content = "x", std::uint32_t mode = 0644) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::file;
  r.present = kFileAttrs;
  r.size = content.size();
  r.mode = mode;
  r.uid = 0;
  r.gid = 0;
  r.mtime_ns = 1'700'000'000'000'000'000;
  r.sha256 = Sha256::of(content);
  return r;
}

// A file record that carries every attribute, so a change to any field is visible.
inline FileRecord full_record(std::string path) {
  FileRecord r = file(std::move(path), "content");
  r.present = AttrSet::from_bits(0xFF);
  r.link_target = "target";
  r.uid = 1000;
  r.gid = 100;
  return r;
}

inline FileRecord dir(std::string path, std::uint32_t mode = 0755) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::directory;
  r.present = kDirAttrs;
  r.size = 4096;
  r.mode = mode;
  r.mtime_ns = 1'700'000'000'000'000'000;
  return r;
}

inline FileRecord symlink(std::string path, std::string target) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::symlink;
  r.present = kSymlinkAttrs;
  r.size = target.size();
  r.mode = 0777;
  r.mtime_ns = 1'700'000'000'000'000'000;
  r.link_target = std::move(target);
  return r;
}

inline Manifest manifest(std::vector<FileRecord> records) {
  auto m = Manifest::from_records(std::move(records));
  if (!m) throw std::runtime_error("test manifest rejected: " + m.error().message);
  return std::move(*m);
}

// Changes the value of attribute `a` in `r` so that it certainly differs from before.
// For Attr::type it moves between file/dir/symlink/fifo without touching `present`.
inline void mutate(FileRecord& r, Attr a, std::mt19937_64& rng) {
  switch (a) {
    case Attr::type:
      r.type = static_cast<FileType>((static_cast<int>(r.type) + 1 + rng() % 3) % 4);
      break;
    case Attr::size: r.size += 1 + rng() % 1000; break;
    case Attr::mode: r.mode ^= 1u << (rng() % 12); break;
    case Attr::uid: r.uid += 1 + static_cast<std::uint32_t>(rng() % 100); break;
    case Attr::gid: r.gid ^= 1u << (rng() % 32); break;
    case Attr::mtime: r.mtime_ns -= 1 + static_cast<std::int64_t>(rng() % 1'000'000'000); break;
    case Attr::sha256: r.sha256.bytes[rng() % 32] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
    case Attr::link_target: r.link_target += static_cast<char>('a' + rng() % 26); break;
  }
}

// A random record of a random type at `path`, with the attribute set its type carries
// (and now and then one attribute left out, as a package signature would).
inline FileRecord random_record(std::string path, std::mt19937_64& rng) {
  FileRecord r;
  switch (rng() % 4) {
    case 0: r = dir(std::move(path), 0700 | static_cast<std::uint32_t>(rng() % 0100)); break;
    case 1: {
      std::string target = "../lib/t" + std::to_string(rng() % 1000);
      r = symlink(std::move(path), std::move(target));
      break;
    }
    default: r = file(std::move(path), "content-" + std::to_string(rng()), static_cast<std::uint32_t>(rng() % 07777));
  }
  r.uid = static_cast<std::uint32_t>(rng() % 3) * 1000;
  r.gid = static_cast<std::uint32_t>(rng() % 3) * 1000;
  r.mtime_ns += static_cast<std::int64_t>(rng() % 1'000'000'000'000);
  if (rng() % 8 == 0) {
    const Attr drop = kEveryAttr[1 + rng() % 7];  // never `type`
    r.present = AttrSet::from_bits(r.present.bits() & ~static_cast<std::uint16_t>(drop));
  }
  return r;
}

// A random canonical path of 1..depth components drawn from a small alphabet, so that
// random paths share prefixes and whole directories often.
inline std::string random_canonical_path(std::mt19937_64& rng, int depth = 4) {
  static constexpr std::string_view kNames[] = {"a", "b", "a-b", "a.b", "lib", "lib64", "x", "\xc3\xa9", "\xff", "z!"};
  std::string p;
  const int n = 1 + static_cast<int>(rng() % static_cast<unsigned>(depth));
  for (int i = 0; i < n; ++i) {
    p += '/';
    p += kNames[rng() % std::size(kNames)];
  }
  return p;
}

}  // namespace tb::test
