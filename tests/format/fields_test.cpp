// The validation shared by both readers (format/reader_support.h): document strings in,
// validated model values out.
#include "format/reader_support.h"

#include <climits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "format/encoding.h"
#include "format_test_util.h"

namespace tb {
namespace {

const ReadLimits kLimits;

TEST(MakeRecord, EveryFieldGivenSetsEveryAttribute) {
  const std::string hash = Sha256::of("x").hex();
  RawRecord raw;
  raw.type = "file";
  raw.path = "/usr/bin/ls";
  raw.size = "138208";
  raw.mode = "4755";
  raw.uid = "4294967295";
  raw.gid = "0";
  raw.mtime = "-1.999999999";
  raw.sha256 = hash;
  auto r = make_record(raw, kLimits);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->path, "/usr/bin/ls");
  EXPECT_EQ(r->type, FileType::file);
  EXPECT_EQ(r->present, Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime | Attr::sha256);
  EXPECT_EQ(r->size, 138208u);
  EXPECT_EQ(r->mode, 04755u);
  EXPECT_EQ(r->uid, UINT32_MAX);
  EXPECT_EQ(r->mtime_ns, -1);  // -1 s + 0.999999999 s
  EXPECT_EQ(r->sha256, Sha256::of("x"));
}

TEST(MakeRecord, AbsentFieldsAreAbsentAttributes) {
  const std::string path = base64_encode("/a/\xff");  // RawRecord holds views: keep the text alive
  const std::string target = base64_encode(std::string("\x01", 1));
  RawRecord raw;
  raw.type = "symlink";
  raw.path_b64 = path;
  raw.target_b64 = target;
  auto r = make_record(raw, kLimits);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->path, "/a/\xff");
  EXPECT_EQ(r->present, Attr::type | Attr::link_target);
  EXPECT_EQ(r->link_target, "\x01");
}

TEST(MakeRecord, ErrorsNameTheFieldAndKeepTheirCode) {
  const auto code_of = [](const RawRecord& raw) { return make_record(raw, kLimits).error().code; };
  const auto message_of = [](const RawRecord& raw) { return make_record(raw, kLimits).error().message; };
  const std::string zeros(64, '0');  // RawRecord holds views: keep the text alive
  const std::string long_path = "/" + std::string(20'000, 'a');
  RawRecord raw;
  raw.type = "dir";
  raw.path = "/d";
  raw.sha256 = zeros;
  EXPECT_EQ(message_of(raw), "entry '/d': a content hash on a dir entry");
  raw = {};
  raw.type = "file";
  raw.path = "/f";
  raw.target = "x";
  EXPECT_EQ(message_of(raw), "entry '/f': a link target on a file entry");
  raw = {};
  raw.type = "fifo";
  raw.path = "/p";
  raw.path_b64 = "L3A=";
  EXPECT_EQ(message_of(raw), "path given both as text and as base64");
  raw.path = std::nullopt;
  raw.path_b64 = std::nullopt;
  EXPECT_EQ(message_of(raw), "missing path");
  raw.path = long_path;
  EXPECT_EQ(code_of(raw), ErrorCode::limit);
  raw.path = "/p";
  raw.gid = "4294967296";
  EXPECT_EQ(message_of(raw),
            "entry '/p': bad gid '4294967296': expected a decimal integer without sign or leading zeros <= 4294967295");
  EXPECT_EQ(code_of(raw), ErrorCode::parse);
  raw.gid = std::nullopt;
  raw.type = "pipe";
  EXPECT_EQ(message_of(raw), "unknown entry type 'pipe'");
}

TEST(MakeScanError, ValidatesPathKindErrnoAndMessage) {
  auto e = make_scan_error(RawError{"/root", std::nullopt, "open", "13", "Permission denied"}, kLimits);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(*e, (ScanError{"/root", ScanErrorKind::open, 13, "Permission denied"}));
  e = make_scan_error(RawError{"/root", std::nullopt, "open", std::nullopt, ""}, kLimits);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sys_errno, 0);
  EXPECT_FALSE(make_scan_error(RawError{"/root", std::nullopt, "opened", std::nullopt, ""}, kLimits));
  EXPECT_FALSE(make_scan_error(RawError{"/root", std::nullopt, "open", "2147483648", ""}, kLimits));
  EXPECT_FALSE(make_scan_error(RawError{"root", std::nullopt, "open", std::nullopt, ""}, kLimits));
  EXPECT_FALSE(make_scan_error(RawError{"/root", std::nullopt, "open", std::nullopt, std::string("a\0b", 3)}, kLimits));
}

TEST(RecordSequence, StrictPathOrderAndCounts) {
  ReadLimits limits;
  limits.max_records = 3;
  limits.max_errors = 1;
  RecordSequence seq(limits);
  for (const char* path : {"/a", "/a/b", "/a-b"}) {
    ASSERT_TRUE(seq.count_record());
    ASSERT_TRUE(seq.check_order(path)) << path;
  }
  EXPECT_FALSE(seq.check_order("/a-b"));  // repeated
  EXPECT_FALSE(seq.check_order("/a/c"));  // "/a/..." sorts before "/a-b"
  EXPECT_TRUE(seq.check_order("/b"));
  EXPECT_EQ(seq.count_record().error().code, ErrorCode::limit);
  EXPECT_TRUE(seq.count_error());
  EXPECT_EQ(seq.count_error().error().code, ErrorCode::limit);
}

// No shared mutable state: readers and writers on several threads at once.
TEST(Concurrency, ReadersAndWritersRunInParallel) {
  const ScanDocument doc = test::tricky_document();
  const std::string xml = test::write_to_string(ScanFormat::xml, doc);
  const std::string json = test::write_to_string(ScanFormat::json, doc);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const ScanFormat format = (t + i) % 2 == 0 ? ScanFormat::xml : ScanFormat::json;
        auto back = parse_scan(format == ScanFormat::xml ? xml : json);
        if (!back || back->manifest != doc.manifest) ++failures[static_cast<std::size_t>(t)];
        if (test::write_to_string(format, doc) != (format == ScanFormat::xml ? xml : json))
          ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace tb
