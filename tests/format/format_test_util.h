// Documents, generators and comparisons shared by the format tests.
#pragma once

#include <cstdint>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/manifest.h"
#include "core/path.h"
#include "core/scan_document.h"
#include "core/sha256.h"
#include "format/byte_sink.h"
#include "format/scan_reader.h"
#include "format/scan_writer.h"
#include "format/manifest_chunks.h"

namespace tb {
// Names the format in test output instead of dumping its bytes (found by ADL).
inline void PrintTo(ScanFormat format, std::ostream* os) { *os << (format == ScanFormat::xml ? "xml" : "json"); }
}  // namespace tb

namespace tb::test {

inline constexpr std::int64_t kSec = 1'000'000'000;
inline constexpr std::int64_t kStarted = 1'795'672'509'123'456'789;  // 2026-11-26T05:55:09.123456789Z

inline const AttrSet kStatAttrs = Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime;

inline FileRecord make_file(std::string path, std::string_view content, std::uint32_t mode = 0644) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::file;
  r.present = kStatAttrs | Attr::sha256;
  r.size = content.size();
  r.mode = mode;
  r.mtime_ns = 1'700'000'000 * kSec + 123'456'789;
  r.sha256 = Sha256::of(content);
  return r;
}

inline FileRecord make_dir(std::string path, std::uint32_t mode = 0755) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::directory;
  r.present = kStatAttrs;
  r.size = 4096;
  r.mode = mode;
  r.mtime_ns = 1'700'000'000 * kSec;
  return r;
}

inline FileRecord make_symlink(std::string path, std::string target) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::symlink;
  r.present = kStatAttrs | Attr::link_target;
  r.size = target.size();
  r.mode = 0777;
  r.mtime_ns = 1'600'000'000 * kSec;
  r.link_target = std::move(target);
  return r;
}

inline FileRecord make_other(std::string path, FileType type) {
  FileRecord r;
  r.path = std::move(path);
  r.type = type;
  r.present = Attr::type | Attr::mode | Attr::uid | Attr::gid | Attr::mtime;
  r.mode = 0666;
  r.gid = 5;
  r.mtime_ns = 0;
  return r;
}

inline Manifest sorted(std::vector<FileRecord> records) {
  auto m = Manifest::from_records(std::move(records));
  if (!m) throw std::runtime_error("test manifest rejected: " + m.error().message);
  return std::move(*m);
}

inline ScanHeader sample_header() {
  ScanHeader h;
  h.scanner = "trustbase-scan 0.1.0";
  h.host = {"web01", "debian", "12", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "x86_64"};
  h.roots = {"/"};
  h.excludes = {"*.log", "/proc/*"};
  h.one_file_system = false;
  h.skip_pseudo_fs = true;
  h.started_ns = kStarted;
  return h;
}

inline ScanSummary sample_summary() {
  ScanSummary s;
  s.finished_ns = kStarted + 42 * kSec + 1;
  s.files = 3;
  s.directories = 2;
  s.symlinks = 1;
  s.others = 4;
  s.bytes_hashed = 123'456'789'012ull;
  s.errors = 3;
  s.errors_dropped = 1;
  return s;
}

// A document that exercises every corner of the encoding: names that are not UTF-8,
// control characters, newlines, quotes, markup characters, 255-byte names, every file
// type, absent attributes, pre-1970 and nanosecond mtimes, errors with and without errno.
inline ScanDocument tricky_document() {
  std::vector<FileRecord> records;
  records.push_back(make_dir("/etc"));
  records.push_back(make_file("/etc/passwd", "root:x:0:0"));
  records.push_back(make_file("/etc/a&b<c>\"d'e", "markup"));
  records.push_back(make_file("/etc/new\nline", "newline"));
  records.push_back(make_file("/etc/tab\there\rcr", "controls"));
  records.push_back(make_file("/etc/latin1-\xe9t\xe9", "not utf-8"));
  records.push_back(make_file("/etc/\xff\xfe", "invalid bytes"));
  records.push_back(make_file("/etc/caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "utf-8"));
  records.push_back(make_file("/etc/c1-\xc2\x85", "C1 control (NEL)"));
  records.push_back(make_file("/etc/del\x7f", "DEL"));
  records.push_back(make_file("/etc/" + std::string(255, 'n'), "long name"));
  records.push_back(make_file("/etc/" + std::string(254, 'x') + "\xff", "long non-utf-8 name"));
  records.push_back(make_file("/etc/ space ", "spaces"));
  records.push_back(make_file("/etc/]]>", "cdata end"));
  records.push_back(make_symlink("/etc/link", "../usr/bin/\"q\" & <x>"));
  records.push_back(make_symlink("/etc/link-bin", "\xff/\x01target"));
  records.push_back(make_symlink("/etc/link-empty", ""));
  records.push_back(make_other("/dev/null", FileType::char_device));
  records.push_back(make_other("/dev/sda", FileType::block_device));
  records.push_back(make_other("/run/fifo", FileType::fifo));
  records.push_back(make_other("/run/sock", FileType::socket));
  records.push_back(make_other("/run/what", FileType::unknown));

  FileRecord old = make_file("/old/1969", "before the epoch");
  old.mtime_ns = -1;  // one nanosecond before 1970
  records.push_back(old);
  FileRecord older = make_file("/old/1901", "long before");
  older.mtime_ns = -2'147'483'648 * kSec + 999'999'999;
  records.push_back(older);
  FileRecord extreme = make_file("/old/min", "int64 min");
  extreme.mtime_ns = INT64_MIN;
  records.push_back(extreme);
  FileRecord future = make_file("/old/max", "int64 max");
  future.mtime_ns = INT64_MAX;
  future.size = UINT64_MAX;
  future.uid = UINT32_MAX;
  future.gid = UINT32_MAX;
  future.mode = 07777;
  records.push_back(future);

  FileRecord bare;  // only the type: a signature-style record
  bare.path = "/pkg/bare";
  records.push_back(bare);
  FileRecord no_hash = make_file("/pkg/unhashed", "x");
  no_hash.present = kStatAttrs;  // hash withheld (changed while reading)
  records.push_back(no_hash);
  FileRecord no_target = make_symlink("/pkg/link", "t");
  no_target.present = Attr::type;
  records.push_back(no_target);
  FileRecord no_times = make_dir("/pkg/dir");
  no_times.present = Attr::type | Attr::mode;
  records.push_back(no_times);

  ScanDocument doc;
  doc.header = sample_header();
  doc.header.roots = {"/", "/etc", "/\xff-root"};
  doc.header.excludes = {"*.log", "a&b<\"c\">", "\xfe*", ""};
  doc.header.one_file_system = true;
  doc.header.skip_pseudo_fs = false;
  doc.manifest = sorted(std::move(records));
  doc.errors = {
      {"/root/secret", ScanErrorKind::open, 13, "Permission denied"},
      {"/proc/\xff", ScanErrorKind::vanished, 2, "No such file or directory"},
      {"/var/log/big", ScanErrorKind::changed, 0, "size changed while hashing & <re-read> \"later\""},
      {"/", ScanErrorKind::other, 0, ""},
  };
  doc.summary = sample_summary();
  return doc;
}

// Random bytes for one path component: mostly a small alphabet (so paths share
// prefixes), sometimes any byte but '/' and NUL, sometimes multi-byte UTF-8.
inline std::string random_name(std::mt19937_64& rng) {
  static constexpr std::string_view kNames[] = {"a", "b",        "a-b",  "a.b",     "lib",
                                                "x", "\xc3\xa9", "\xff", ".hidden", "..."};
  switch (rng() % 4) {
    case 0: {
      std::string name(1 + rng() % 20, 'x');
      for (char& c : name) {
        c = static_cast<char>(1 + rng() % 255);
        if (c == '/') c = '_';
      }
      if (name == "." || name == "..") name += "x";
      return name;
    }
    case 1: return std::string(1 + rng() % 255, static_cast<char>('a' + rng() % 26));
    default: return std::string(kNames[rng() % std::size(kNames)]);
  }
}

inline FileRecord random_record(std::string path, std::mt19937_64& rng) {
  FileRecord r;
  r.path = std::move(path);
  r.type = static_cast<FileType>(rng() % 8);
  r.present = Attr::type;
  const Attr optional[] = {Attr::size, Attr::mode, Attr::uid, Attr::gid, Attr::mtime};
  for (Attr a : optional)
    if (rng() % 5 != 0) r.present |= a;
  r.size = rng() % 3 == 0 ? rng() : rng() % 100'000;
  r.mode = static_cast<std::uint32_t>(rng() % 010000);
  r.uid = static_cast<std::uint32_t>(rng());
  r.gid = static_cast<std::uint32_t>(rng() % 2000);
  r.mtime_ns = static_cast<std::int64_t>(rng());  // anywhere in the int64 range, negative too
  if (r.type == FileType::file && rng() % 5 != 0) {
    r.present |= Attr::sha256;
    r.sha256 = Sha256::of(std::to_string(rng()));
  }
  if (r.type == FileType::symlink && rng() % 5 != 0) {
    r.present |= Attr::link_target;
    r.link_target = random_name(rng) + (rng() % 2 ? "/" + random_name(rng) : "");
  }
  return r;
}

inline std::string random_plain_text(std::mt19937_64& rng) {
  static constexpr std::string_view kWords[] = {"a", "&", "<", ">", "\"", "'", " ", "\xc3\xa9", "\xe2\x82\xac", "z"};
  std::string s;
  for (std::size_t i = rng() % 12; i > 0; --i) s += kWords[rng() % std::size(kWords)];
  return s;
}

inline ScanDocument random_document(std::mt19937_64& rng) {
  std::set<std::string, decltype(&path_less)> paths(&path_less);
  const std::size_t n = rng() % 40;
  while (paths.size() < n) {
    std::string p;
    for (std::size_t depth = 1 + rng() % 4; depth > 0; --depth) p += "/" + random_name(rng);
    paths.insert(std::move(p));
  }
  std::vector<FileRecord> records;
  for (const std::string& p : paths) records.push_back(random_record(p, rng));

  ScanDocument doc;
  doc.header = sample_header();
  doc.header.scanner = random_plain_text(rng);
  doc.header.host.hostname = random_plain_text(rng);
  doc.header.roots = {"/" + random_name(rng)};
  doc.header.excludes.clear();
  for (std::size_t i = rng() % 3; i > 0; --i) doc.header.excludes.push_back(random_name(rng));
  doc.header.one_file_system = rng() % 2 == 0;
  doc.header.skip_pseudo_fs = rng() % 2 == 0;
  doc.header.started_ns = static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 62)) - (std::int64_t{1} << 61);
  doc.manifest = sorted(std::move(records));
  for (std::size_t i = rng() % 4; i > 0; --i)
    doc.errors.push_back({"/" + random_name(rng), static_cast<ScanErrorKind>(rng() % 8),
                          static_cast<int>(rng() % 200), random_plain_text(rng)});
  doc.summary = sample_summary();
  doc.summary.files = rng();
  doc.summary.finished_ns = -static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 62));
  return doc;
}

inline std::string write_to_string(ScanFormat format, const ScanDocument& doc) {
  std::string out;
  StringSink sink(out);
  auto ok = write_scan(format, doc, sink);
  if (!ok) throw std::runtime_error("write_scan failed: " + ok.error().message);
  return out;
}

inline void expect_same_document(const ScanDocument& expected, const ScanDocument& actual) {
  EXPECT_EQ(expected.header, actual.header);
  ASSERT_EQ(expected.manifest.size(), actual.manifest.size());
  for (std::size_t i = 0; i < expected.manifest.size(); ++i) {
    const FileRecord& e = expected.manifest[i];
    const FileRecord& a = actual.manifest[i];
    EXPECT_EQ(e.path, a.path) << "record " << i;
    EXPECT_EQ(e.type, a.type) << e.path;
    EXPECT_EQ(e.present, a.present) << e.path;
    EXPECT_TRUE(e == a) << "record " << i << " differs in " << describe(changed_attributes(e, a));
  }
  EXPECT_EQ(manifest_digest(expected.manifest), manifest_digest(actual.manifest));
  EXPECT_EQ(expected.errors, actual.errors);
  EXPECT_EQ(expected.summary, actual.summary);
}

// Every error of a failed read: code and message.
inline ::testing::AssertionResult fails_with(const Expected<ScanDocument>& result, ErrorCode code,
                                             std::string_view needle) {
  if (result) return ::testing::AssertionFailure() << "document was accepted";
  if (result.error().code != code)
    return ::testing::AssertionFailure() << "code " << to_string(result.error().code) << " (wanted "
                                         << to_string(code) << "): " << result.error().message;
  if (result.error().message.find(needle) == std::string::npos)
    return ::testing::AssertionFailure() << "message lacks '" << needle << "': " << result.error().message;
  return ::testing::AssertionSuccess();
}

}  // namespace tb::test
