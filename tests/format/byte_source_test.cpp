// Reading scan documents from pull sources: files, gzip/zlib streams (the server's spooled
// uploads), and sources that fail; the decompressed-size bound (gzip bombs).
#include "format/byte_source.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "format/scan_reader.h"
#include "format_test_util.h"

namespace tb {
namespace {

using test::expect_same_document;
using test::tricky_document;
using test::write_to_string;

// zlib's compress with a gzip (window 15 + 16) or zlib (15) wrapper.
std::string deflate_to(std::string_view text, int window_bits) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
std::string gzip(std::string_view text) {
  return deflate_to(text, 15 + 16);
}

// Hands out at most `step` bytes per read, then fails after `fail_after` bytes if set.
class DribbleSource final : public ByteSource {
 public:
  DribbleSource(std::string bytes, std::size_t step, std::size_t fail_after = SIZE_MAX)
      : bytes_(std::move(bytes)), step_(step), fail_after_(fail_after) {}
  Expected<std::size_t> read(char* buffer, std::size_t size) override {
    if (offset_ >= fail_after_) return fail(ErrorCode::io, "the disk went away");
    const std::size_t n = std::min({size, step_, bytes_.size() - offset_, fail_after_ - offset_});
    std::copy_n(bytes_.data() + offset_, n, buffer);
    offset_ += n;
    return n;
  }

 private:
  std::string bytes_;
  std::size_t step_, fail_after_, offset_ = 0;
};

std::string drain(ByteSource& source) {
  std::string out;
  char buf[1000];
  for (;;) {
    auto got = source.read(buf, sizeof buf);
    EXPECT_TRUE(got) << got.error().message;
    if (!got || *got == 0) return out;
    out.append(buf, *got);
  }
}

TEST(ByteSource, GunzipReadsGzipZlibAndConcatenatedMembers) {
  const std::string text(300'000, 'x');
  const std::string gzipped = gzip(text), zlibbed = deflate_to(text, 15), members = gzip("first ") + gzip("second");
  MemorySource gz(gzipped);
  GunzipSource a(gz);
  EXPECT_EQ(drain(a), text);
  MemorySource z(zlibbed);  // HTTP's "deflate": the zlib format
  GunzipSource b(z);
  EXPECT_EQ(drain(b), text);
  MemorySource two(members);
  GunzipSource c(two);
  EXPECT_EQ(drain(c), "first second");
}

TEST(ByteSource, GunzipRejectsCorruptAndTruncatedData) {
  const std::string packed = gzip(std::string(100'000, 'a') + "tail");
  char buf[4096];
  MemorySource truncated(std::string_view(packed).substr(0, packed.size() / 2));
  GunzipSource t(truncated);
  Expected<std::size_t> got;
  while ((got = t.read(buf, sizeof buf)) && *got > 0) {
  }
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::parse);
  EXPECT_NE(got.error().message.find("truncated"), std::string::npos) << got.error().message;

  MemorySource garbage("\x1f\x8bnot really gzip at all");
  GunzipSource g(garbage);
  auto bad = g.read(buf, sizeof buf);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::parse);

  MemorySource empty("");
  GunzipSource e(empty);
  EXPECT_FALSE(e.read(buf, sizeof buf));
}

TEST(ByteSource, DocumentsParseThroughGunzipInBothSyntaxes) {
  const ScanDocument doc = tricky_document();
  for (ScanFormat format : {ScanFormat::xml, ScanFormat::json}) {
    // Tiny reads cross every token boundary the readers have.
    DribbleSource packed(gzip(write_to_string(format, doc)), 7);
    GunzipSource text(packed);
    auto parsed = parse_scan(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    expect_same_document(doc, *parsed);
  }
}

TEST(ByteSource, TheDecompressedSizeIsBounded) {
  // 64 MiB of blanks inside a document shrink to ~64 KiB of gzip: a bomb in miniature.
  std::string xml = write_to_string(ScanFormat::xml, tricky_document());
  xml.insert(xml.find("<entries>"), std::string(64u << 20, ' '));
  const std::string packed = gzip(xml);
  ASSERT_LT(packed.size(), 1u << 20);
  ReadLimits limits;
  limits.max_document_bytes = 8u << 20;
  MemorySource source(packed);
  GunzipSource text(source);
  auto parsed = parse_scan(text, limits);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::limit) << parsed.error().message;
  EXPECT_LT(text.compressed_bytes(), packed.size()) << "the reader stopped before the end";

  const std::string json = "{" + std::string(16u << 20, ' ') + "}";
  const std::string json_packed = gzip(json);
  MemorySource json_source(json_packed);
  GunzipSource json_text(json_source);
  auto parsed_json = parse_scan(json_text, limits);
  ASSERT_FALSE(parsed_json);
  EXPECT_EQ(parsed_json.error().code, ErrorCode::limit) << parsed_json.error().message;
}

TEST(ByteSource, ASourceErrorIsReportedAsSuch) {
  const ScanDocument doc = tricky_document();
  for (ScanFormat format : {ScanFormat::xml, ScanFormat::json}) {
    const std::string text = write_to_string(format, doc);
    DribbleSource failing(text, 100, text.size() / 2);
    auto parsed = parse_scan(failing);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, ErrorCode::io);
    EXPECT_NE(parsed.error().message.find("the disk went away"), std::string::npos) << parsed.error().message;
  }
}

TEST(ByteSource, SniffingNeedsADocument) {
  MemorySource blank("   \n\t  ");
  auto parsed = parse_scan(blank);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::parse);
  MemorySource other("hello");
  EXPECT_FALSE(parse_scan(other));
  const std::string with_bom = "\xEF\xBB\xBF  " + write_to_string(ScanFormat::json, tricky_document());
  MemorySource bom(with_bom);
  EXPECT_TRUE(parse_scan(bom));
}

TEST(ByteSource, ParseScanFileAcceptsGzipAndStreamsFromAnOffset) {
  const ScanDocument doc = tricky_document();
  char name[] = "/tmp/tb-byte-source-XXXXXX";
  const int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  const std::string packed = gzip(write_to_string(ScanFormat::json, doc));
  ASSERT_EQ(::write(fd, packed.data(), packed.size()), static_cast<ssize_t>(packed.size()));
  auto parsed = parse_scan_file(name);
  ASSERT_TRUE(parsed) << parsed.error().message;
  expect_same_document(doc, *parsed);

  // FdSource reads with pread from its own offset: the descriptor's position is untouched.
  FdSource again(fd, 0, name);
  GunzipSource text(again);
  auto reparsed = parse_scan(text);
  ASSERT_TRUE(reparsed) << reparsed.error().message;
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), static_cast<off_t>(packed.size()));
  ::close(fd);
  ::unlink(name);

  auto missing = parse_scan_file(name);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace tb
