// The writers: exact output (pinned), the rules they enforce, buffering, and FdSink.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "format/byte_sink.h"
#include "format/scan_writer.h"
#include "format_test_util.h"

namespace tb {
namespace {

using test::make_dir;
using test::make_file;
using test::make_other;
using test::make_symlink;
using test::sample_header;
using test::sample_summary;

ScanDocument small_document() {
  ScanDocument doc;
  doc.header = sample_header();
  doc.header.roots = {"/usr"};
  doc.header.excludes = {"*.log"};
  FileRecord ls = make_file("/usr/bin/ls", "ls");
  ls.size = 138208;
  FileRecord link = make_symlink("/usr/bin/x", "ls");
  link.uid = 0;
  FileRecord odd = make_file("/usr/bin/\xff", "odd");
  odd.present = Attr::type | Attr::size;  // only what a signature would carry
  doc.manifest =
      test::sorted({make_dir("/usr/bin"), ls, link, odd, make_other("/usr/dev-null", FileType::char_device)});
  doc.errors = {{"/root/secret", ScanErrorKind::open, 13, "Permission denied"}};
  doc.summary = sample_summary();
  return doc;
}

// The exact bytes of version 1. A change here changes the wire format: it must be
// deliberate (and the schema and readers follow).
constexpr std::string_view kSmallXml =
    R"xml(<?xml version="1.0" encoding="UTF-8"?>
<scan xmlns="urn:trustbase:scan:1" version="1" scanner="trustbase-scan 0.1.0" started="2026-11-26T05:55:09.123456789Z">
  <host name="web01" os-id="debian" os-version="12" os-pretty="Debian GNU/Linux 12 (bookworm)" kernel="6.1.0-18-amd64" arch="x86_64"/>
  <options one-file-system="false" skip-pseudo-fs="true"/>
  <root path="/usr"/>
  <exclude glob="*.log"/>
  <entries>
    <dir path="/usr/bin" size="4096" mode="0755" uid="0" gid="0" mtime="1700000000.000000000"/>
    <file path="/usr/bin/ls" size="138208" mode="0644" uid="0" gid="0" mtime="1700000000.123456789" sha256="c7b68ac37f364473e922936708e7f43c293dd07b295171566c07ff5fe024fab9"/>
    <symlink path="/usr/bin/x" target="ls" size="2" mode="0777" uid="0" gid="0" mtime="1600000000.000000000"/>
    <file path-b64="L3Vzci9iaW4v/w==" size="3"/>
    <other path="/usr/dev-null" kind="chardev" mode="0666" uid="0" gid="5" mtime="0.000000000"/>
  </entries>
  <errors>
    <error path="/root/secret" kind="open" errno="13">Permission denied</error>
  </errors>
  <summary finished="2026-11-26T05:55:51.123456790Z" files="3" directories="2" symlinks="1" others="4" bytes-hashed="123456789012" errors="3" errors-dropped="1"/>
</scan>
)xml";

constexpr std::string_view kSmallJson =
    R"json({"format":"trustbase-scan","version":1,"scanner":"trustbase-scan 0.1.0","started":"2026-11-26T05:55:09.123456789Z",
"host":{"name":"web01","os_id":"debian","os_version":"12","os_pretty":"Debian GNU/Linux 12 (bookworm)","kernel":"6.1.0-18-amd64","arch":"x86_64"},
"options":{"one_file_system":false,"skip_pseudo_fs":true},
"roots":[{"path":"/usr"}],
"excludes":[{"glob":"*.log"}],
"entries":[
{"type":"dir","path":"/usr/bin","size":4096,"mode":"0755","uid":0,"gid":0,"mtime":"1700000000.000000000"},
{"type":"file","path":"/usr/bin/ls","size":138208,"mode":"0644","uid":0,"gid":0,"mtime":"1700000000.123456789","sha256":"c7b68ac37f364473e922936708e7f43c293dd07b295171566c07ff5fe024fab9"},
{"type":"symlink","path":"/usr/bin/x","target":"ls","size":2,"mode":"0777","uid":0,"gid":0,"mtime":"1600000000.000000000"},
{"type":"file","path_b64":"L3Vzci9iaW4v/w==","size":3},
{"type":"chardev","path":"/usr/dev-null","mode":"0666","uid":0,"gid":5,"mtime":"0.000000000"}
],
"errors":[
{"path":"/root/secret","kind":"open","errno":13,"message":"Permission denied"}
],
"summary":{"finished":"2026-11-26T05:55:51.123456790Z","files":3,"directories":2,"symlinks":1,"others":4,"bytes_hashed":123456789012,"errors":3,"errors_dropped":1}}
)json";

TEST(XmlWriter, WritesTheDocumentedFormat) {
  EXPECT_EQ(test::write_to_string(ScanFormat::xml, small_document()), kSmallXml);
}

TEST(JsonWriter, WritesTheDocumentedFormat) {
  EXPECT_EQ(test::write_to_string(ScanFormat::json, small_document()), kSmallJson);
}

TEST(XmlWriter, EmptyListsUseEmptyElements) {
  ScanDocument doc;
  doc.header = sample_header();
  doc.header.excludes.clear();
  const std::string xml = test::write_to_string(ScanFormat::xml, doc);
  EXPECT_NE(xml.find("  <entries>\n  </entries>\n  <errors/>\n  <summary"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<exclude"), std::string::npos);
}

TEST(XmlWriter, NonTextHostFactsAreSanitizedNotEncoded) {
  ScanDocument doc;
  doc.header = sample_header();
  doc.header.host.hostname = "web\xff\n01";
  doc.header.scanner = "scan \"1\"";
  const std::string xml = test::write_to_string(ScanFormat::xml, doc);
  EXPECT_NE(xml.find("name=\"web\xef\xbf\xbd\xef\xbf\xbd" "01\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("scanner=\"scan &quot;1&quot;\""), std::string::npos) << xml;
  const std::string json = test::write_to_string(ScanFormat::json, doc);
  EXPECT_NE(json.find("\"name\":\"web\xef\xbf\xbd\xef\xbf\xbd" "01\""), std::string::npos) << json;
}

class WriterRules : public ::testing::TestWithParam<ScanFormat> {
 protected:
  std::string out_;
  StringSink sink_{out_};
  std::unique_ptr<ScanWriter> writer_ = make_scan_writer(GetParam(), sink_);
};

TEST_P(WriterRules, RejectsRecordsOutOfOrderOrRepeated) {
  ASSERT_TRUE(writer_->begin(sample_header()));
  ASSERT_TRUE(writer_->record(make_file("/b", "x")));
  auto again = writer_->record(make_file("/b", "x"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(writer_->record(make_file("/a", "x")));
  EXPECT_FALSE(writer_->record(make_file("/a-b", "x")));  // '/' sorts first: "/a-b" < "/b"
  EXPECT_TRUE(writer_->record(make_file("/b/c", "x")));
  EXPECT_TRUE(writer_->record(make_file("/b-c", "x")));
}

TEST_P(WriterRules, RejectsNonCanonicalPathsAndMisplacedAttributes) {
  ASSERT_TRUE(writer_->begin(sample_header()));
  EXPECT_FALSE(writer_->record(make_file("relative", "x")));
  EXPECT_FALSE(writer_->record(make_file("/a/../b", "x")));
  EXPECT_FALSE(writer_->record(make_file("/a//b", "x")));
  EXPECT_FALSE(writer_->record(make_file("/a/", "x")));
  EXPECT_FALSE(writer_->record(make_file(std::string("/a\0b", 4), "x")));
  FileRecord dir_with_hash = make_dir("/d");
  dir_with_hash.present |= Attr::sha256;
  EXPECT_FALSE(writer_->record(dir_with_hash));
  FileRecord file_with_target = make_file("/f", "x");
  file_with_target.present |= Attr::link_target;
  EXPECT_FALSE(writer_->record(file_with_target));
  EXPECT_FALSE(writer_->record(make_symlink("/l", std::string("a\0b", 3))));
  EXPECT_TRUE(writer_->record(make_file("/ok", "x")));
}

TEST_P(WriterRules, EnforcesCallOrderAndHeaderContent) {
  auto early = writer_->record(make_file("/a", "x"));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ErrorCode::internal);
  EXPECT_FALSE(writer_->end({}, sample_summary()));

  ScanHeader no_roots = sample_header();
  no_roots.roots.clear();
  EXPECT_FALSE(writer_->begin(no_roots));
  ScanHeader bad_root = sample_header();
  bad_root.roots = {"/usr/"};
  EXPECT_FALSE(writer_->begin(bad_root));
  ScanHeader v2 = sample_header();
  v2.format_version = 2;
  EXPECT_FALSE(writer_->begin(v2));

  ASSERT_TRUE(writer_->begin(sample_header()));
  EXPECT_FALSE(writer_->begin(sample_header()));
  const std::vector<ScanError> bad_errors = {{"not/absolute", ScanErrorKind::open, 1, "x"}};
  EXPECT_FALSE(writer_->end(bad_errors, sample_summary()));
  ASSERT_TRUE(writer_->end({}, sample_summary()));
  EXPECT_FALSE(writer_->end({}, sample_summary()));
  EXPECT_FALSE(writer_->record(make_file("/z", "x")));
}

INSTANTIATE_TEST_SUITE_P(BothFormats, WriterRules, ::testing::Values(ScanFormat::xml, ScanFormat::json),
                         [](const auto& info) { return info.param == ScanFormat::xml ? "xml" : "json"; });

// Records each write so the tests can see how output reaches the sink.
class RecordingSink final : public ByteSink {
 public:
  Expected<void> write(std::string_view bytes) override {
    sizes.push_back(bytes.size());
    data.append(bytes);
    if (fail_after && sizes.size() >= *fail_after) return fail(ErrorCode::io, "disk full (test)");
    return {};
  }
  Expected<void> flush() override {
    ++flushes;
    return {};
  }
  std::vector<std::size_t> sizes;
  std::string data;
  int flushes = 0;
  std::optional<std::size_t> fail_after;
};

// Counts and drops bytes, like a fast pipe.
class DiscardSink final : public ByteSink {
 public:
  Expected<void> write(std::string_view bytes) override {
    bytes_ += bytes.size();
    return {};
  }
  std::size_t bytes_ = 0;
};

std::vector<FileRecord> many_records(std::size_t n) {
  std::vector<FileRecord> records;
  records.reserve(n);
  char name[48];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(name, sizeof name, "/usr/lib/file%08zu", i);
    records.push_back(make_file(name, name));
  }
  return records;
}

TEST(XmlWriter, HandsTheSinkLargeBlocksAndFlushesAtTheEnd) {
  RecordingSink sink;
  auto writer = make_scan_writer(ScanFormat::xml, sink);
  ASSERT_TRUE(writer->begin(sample_header()));
  for (const FileRecord& r : many_records(5000)) ASSERT_TRUE(writer->record(r));
  EXPECT_EQ(sink.flushes, 0);
  ASSERT_TRUE(writer->end({}, sample_summary()));
  EXPECT_EQ(sink.flushes, 1);
  ASSERT_GE(sink.sizes.size(), 2u);
  for (std::size_t i = 0; i + 1 < sink.sizes.size(); ++i) {
    EXPECT_GE(sink.sizes[i], 64u * 1024);
    EXPECT_LT(sink.sizes[i], 65u * 1024);
  }
  EXPECT_TRUE(parse_scan(sink.data));
}

TEST(XmlWriter, ReportsTheFirstSinkErrorAndStops) {
  RecordingSink sink;
  sink.fail_after = 1;
  auto writer = make_scan_writer(ScanFormat::xml, sink);
  ASSERT_TRUE(writer->begin(sample_header()));
  Expected<void> status;
  for (const FileRecord& r : many_records(3000)) {
    status = writer->record(r);
    if (!status) break;
  }
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::io);
  EXPECT_EQ(status.error().message, "disk full (test)");
  EXPECT_EQ(sink.sizes.size(), 1u);
  EXPECT_FALSE(writer->end({}, sample_summary()));
  EXPECT_EQ(sink.sizes.size(), 1u);
}

TEST(FdSink, WritesEverythingToAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string data(200'000, 'x');  // larger than a pipe buffer: needs the reader below
  std::string received;
  FdSink sink(fds[1]);
  // Drain on the fly: the pipe holds 64 KiB, so write in pieces and read between them.
  for (std::size_t pos = 0; pos < data.size(); pos += 32 * 1024) {
    ASSERT_TRUE(sink.write(std::string_view(data).substr(pos, 32 * 1024)));
    char buf[64 * 1024];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    ASSERT_GT(n, 0);
    received.append(buf, static_cast<std::size_t>(n));
  }
  ASSERT_TRUE(sink.flush());
  ::close(fds[1]);
  char buf[64 * 1024];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) received.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  EXPECT_EQ(received, data);
}

// Signals without SA_RESTART interrupt a write blocked on a full pipe: the kernel then
// returns a short count (some bytes went through) or EINTR (none did). Both must be
// retried until every byte is delivered.
TEST(FdSink, RetriesAfterSignalsAndShortWrites) {
  struct sigaction quiet {};
  quiet.sa_handler = [](int) {};
  sigemptyset(&quiet.sa_mask);
  quiet.sa_flags = 0;  // no SA_RESTART: blocked syscalls fail or return short
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &quiet, &previous), 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string data(1 << 20, 'y');  // 16 times the pipe's capacity
  const pthread_t writer = ::pthread_self();
  std::string received;
  std::thread reader([&] {
    char buf[4096];
    int reads = 0;
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0; ++reads) {
      received.append(buf, static_cast<std::size_t>(n));
      if (reads % 8 == 0) ::pthread_kill(writer, SIGUSR1);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::pthread_kill(writer, SIGUSR1);  // harmless before the write; interrupts it once blocked
  FdSink sink(fds[1]);
  const auto ok = sink.write(data);
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  ::sigaction(SIGUSR1, &previous, nullptr);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(received.size(), data.size());
  EXPECT_EQ(received, data);
}

TEST(FdSink, ErrorNamesTheErrno) {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /dev/full";
  FdSink sink(fd);
  auto ok = sink.write("hello");
  ::close(fd);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code, ErrorCode::io);
  EXPECT_NE(ok.error().message.find("No space left on device"), std::string::npos) << ok.error().message;
  EXPECT_NE(ok.error().message.find("errno " + std::to_string(ENOSPC)), std::string::npos) << ok.error().message;
}

TEST(FdSink, BadDescriptorIsAnError) {
  FdSink sink(-1);
  auto ok = sink.write("x");
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("Bad file descriptor"), std::string::npos);
}

TEST(FdSink, EmptyWriteIsANoOp) {
  FdSink sink(-1);
  EXPECT_TRUE(sink.write(""));
}

}  // namespace
}  // namespace tb
