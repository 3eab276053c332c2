// Hostile input: every malformed, oversized or malicious document is rejected with the
// right error code and a message naming the problem, quickly, and without a crash.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "format/encoding.h"
#include "format_test_util.h"

namespace tb {
namespace {

using test::fails_with;
using test::make_dir;
using test::make_file;
using test::make_symlink;
using test::write_to_string;

ScanDocument base_document() {
  ScanDocument doc;
  doc.header = test::sample_header();
  doc.manifest = test::sorted({make_dir("/etc"), make_file("/etc/hosts", "127.0.0.1"), make_file("/etc/passwd", "root"),
                               make_symlink("/etc/rc", "rc.d"), make_file("/usr", "u")});
  doc.errors = {{"/root", ScanErrorKind::open, 13, "Permission denied"}};
  doc.summary = test::sample_summary();
  return doc;
}

// The base document with the first occurrence of `from` replaced by `to`.
std::string edited(ScanFormat format, std::string_view from, std::string_view to) {
  std::string text = write_to_string(format, base_document());
  const std::size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("test edit not found: " + std::string(from));
  text.replace(at, from.size(), to);
  return text;
}

std::string xml_with(std::string_view from, std::string_view to) { return edited(ScanFormat::xml, from, to); }
std::string json_with(std::string_view from, std::string_view to) { return edited(ScanFormat::json, from, to); }

constexpr std::string_view kHostsXml = "<file path=\"/etc/hosts\"";

TEST(XmlReader, BaseDocumentIsAccepted) {
  auto doc = parse_scan(write_to_string(ScanFormat::xml, base_document()));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->manifest.size(), 5u);
}

// Every offset of the small document, every 7th of the large one (keeps Debug runs fast).
void truncated_documents_fail(ScanFormat format) {
  for (const ScanDocument& doc : {base_document(), test::tricky_document()}) {
    const std::string text = write_to_string(format, doc);
    const std::size_t complete = format == ScanFormat::xml ? text.rfind("</scan>") + 7 : text.rfind("}}") + 2;
    const std::size_t step = doc.manifest.size() > 10 ? 7 : 1;
    for (std::size_t n = 0; n < complete; n += step) {
      auto parsed = parse_scan(std::string_view(text).substr(0, n));
      ASSERT_FALSE(parsed) << "prefix of " << n << " bytes accepted";
      ASSERT_EQ(parsed.error().code, ErrorCode::parse) << n << ": " << parsed.error().message;
    }
    EXPECT_TRUE(parse_scan(std::string_view(text).substr(0, complete)));
  }
}

TEST(XmlReader, TruncatedAtEveryOffsetFailsCleanly) { truncated_documents_fail(ScanFormat::xml); }
TEST(JsonReader, TruncatedAtEveryOffsetFailsCleanly) { truncated_documents_fail(ScanFormat::json); }

// Random byte corruption: the reader either rejects the document or returns one that
// is itself valid (written again, it reads back equal). Never a crash or a hang.
void corrupt_bytes(ScanFormat format) {
  const std::string good = write_to_string(format, test::tricky_document());
  std::mt19937_64 rng(format == ScanFormat::xml ? 1 : 2);
  int accepted = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string bad = good;
    for (std::size_t k = 1 + rng() % 3; k > 0; --k) bad[rng() % bad.size()] = static_cast<char>(rng());
    auto doc = parse_scan(bad);
    if (!doc) {
      ASSERT_FALSE(doc.error().message.empty());
      continue;
    }
    ++accepted;
    std::string again;
    StringSink sink(again);
    ASSERT_TRUE(write_scan(format, *doc, sink));
    auto back = parse_scan(again);
    ASSERT_TRUE(back) << back.error().message;
    test::expect_same_document(*doc, *back);
  }
  ::testing::Test::RecordProperty("accepted", accepted);
}

TEST(XmlReader, CorruptBytesNeverCrash) { corrupt_bytes(ScanFormat::xml); }
TEST(JsonReader, CorruptBytesNeverCrash) { corrupt_bytes(ScanFormat::json); }

// An input libxml2 could not convert ("<" and three NULs, read as UCS-4) is refused
// before libxml2 sees it (a scan document is UTF-8); whoever refuses it, it must come
// back as the parse error, never be printed to stderr (the server's log, JSON lines
// with --log-format json), twice in a row.
TEST(XmlReader, AnUnconvertibleEncodingIsAnErrorNotALogLine) {
  const std::string text("<\0\0\0\n<scan/>\n", 13);
  for (int i = 0; i < 2; ++i) {
    testing::internal::CaptureStderr();
    auto doc = parse_scan(text);
    const std::string printed = testing::internal::GetCapturedStderr();
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().code, ErrorCode::parse);
    EXPECT_NE(doc.error().message.find("NUL byte"), std::string::npos) << doc.error().message;
    EXPECT_EQ(printed, "");
  }
  // libxml2's messages end in a newline: dropped, not shown as a replacement character.
  for (const std::string& bad : {text, std::string("<scan version=\"1\"><host")}) {
    auto doc = parse_scan(bad);
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().message.find("\xEF\xBF\xBD"), std::string::npos) << doc.error().message;
  }
}

TEST(XmlReader, WrongVersion) {
  EXPECT_TRUE(fails_with(parse_scan(xml_with("version=\"1\"", "version=\"2\"")), ErrorCode::parse,
                         "unsupported scan format version '2'"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("version=\"1\"", "version=\"01\"")), ErrorCode::parse, "version"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(" version=\"1\"", "")), ErrorCode::parse, "lacks attribute 'version'"));
}

TEST(XmlReader, WrongNamespace) {
  EXPECT_TRUE(fails_with(parse_scan(xml_with("urn:trustbase:scan:1", "urn:trustbase:scan:2")), ErrorCode::parse,
                         "namespace 'urn:trustbase:scan:2'"));
  EXPECT_TRUE(
      fails_with(parse_scan(xml_with(" xmlns=\"urn:trustbase:scan:1\"", "")), ErrorCode::parse, "no namespace"));
  // A prefixed but correct namespace is the same document.
  std::string prefixed = write_to_string(ScanFormat::xml, base_document());
  for (std::size_t at = 0; (at = prefixed.find('<', at)) != std::string::npos; ++at) {
    if (prefixed[at + 1] == '?') continue;
    prefixed.insert(prefixed[at + 1] == '/' ? at + 2 : at + 1, "t:");
  }
  prefixed.replace(prefixed.find("xmlns="), 6, "xmlns:t=");
  EXPECT_TRUE(parse_scan(prefixed)) << prefixed;
  // An element from another namespace among the entries.
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file xmlns=\"urn:other\" path=\"/etc/hosts\"")),
                         ErrorCode::parse, "unexpected element <{urn:other}file>"));
}

TEST(XmlReader, RejectsBadPaths) {
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc/../hosts\"")), ErrorCode::parse, "'..'"));
  EXPECT_TRUE(
      fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"etc/hosts\"")), ErrorCode::parse, "not absolute"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc//hosts\"")), ErrorCode::parse,
                         "not canonical"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc/./hosts\"")), ErrorCode::parse,
                         "not canonical"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc/hosts/\"")), ErrorCode::parse,
                         "not canonical"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"\"")), ErrorCode::parse, "empty path"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file")), ErrorCode::parse, "missing path"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path-b64=\"L2V0Yy9ob3N0cw==\" path=\"/etc/hosts\"")),
                         ErrorCode::parse, "both"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path-b64=\"L2V0Yy9ob3N0cw\"")), ErrorCode::parse,
                         "base64"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path-b64=\"" + base64_encode("/etc/../x") + "\"")),
                         ErrorCode::parse, "'..'"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path-b64=\"" + base64_encode("rel") + "\"")),
                         ErrorCode::parse, "not absolute"));
  // Same path spelled as base64: accepted, equal.
  auto b64 = parse_scan(xml_with(kHostsXml, "<file path-b64=\"L2V0Yy9ob3N0cw==\""));
  ASSERT_TRUE(b64) << b64.error().message;
  EXPECT_NE(b64->manifest.find("/etc/hosts"), nullptr);
  // Root and error paths go through the same check.
  EXPECT_TRUE(
      fails_with(parse_scan(xml_with("<root path=\"/\"", "<root path=\"/a/..\"")), ErrorCode::parse, "root path"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<error path=\"/root\"", "<error path=\"root\"")), ErrorCode::parse,
                         "error path"));
}

TEST(XmlReader, RejectsNulInEveryForm) {
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc/ho&#0;sts\"")), ErrorCode::parse, "line"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc/ho&#x0;sts\"")), ErrorCode::parse, "line"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, std::string("<file path=\"/etc/ho\0sts\"", 24))),
                         ErrorCode::parse, "line"));
  EXPECT_TRUE(fails_with(
      parse_scan(xml_with(kHostsXml, "<file path-b64=\"" + base64_encode(std::string("/etc/h\0", 7)) + "\"")),
      ErrorCode::parse, "NUL"));
  EXPECT_TRUE(
      fails_with(parse_scan(xml_with("target=\"rc.d\"", "target-b64=\"" + base64_encode(std::string("r\0", 2)) + "\"")),
                 ErrorCode::parse, "NUL"));
}

TEST(XmlReader, RejectsOverlongNames) {
  const std::string huge = "/etc/" + std::string(64 * 1024, 'h');
  EXPECT_TRUE(
      fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"" + huge + "\"")), ErrorCode::limit, "longer than"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path-b64=\"" + base64_encode(huge) + "\"")),
                         ErrorCode::limit, "longer than"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc/" + std::string(256, 'h') + "\"")),
                         ErrorCode::limit, "component longer than 255"));
  // 255 bytes is the largest legal name.
  auto longest = parse_scan(xml_with(kHostsXml, "<file path=\"/etc/" + std::string(255, 'h') + "\""));
  ASSERT_TRUE(longest) << longest.error().message;
  EXPECT_NE(longest->manifest.find("/etc/" + std::string(255, 'h')), nullptr);
  // A message or attribute over max_text_bytes.
  ReadLimits small;
  small.max_text_bytes = 16;
  EXPECT_TRUE(fails_with(parse_scan(write_to_string(ScanFormat::xml, base_document()), small), ErrorCode::limit,
                         "longer than 16 bytes"));
}

TEST(XmlReader, RejectsDuplicateAndUnorderedPaths) {
  EXPECT_TRUE(
      fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc\"")), ErrorCode::parse, "duplicated path '/etc'"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc/zzz\"")), ErrorCode::parse,
                         "'/etc/passwd' out of order: it must sort after '/etc/zzz'"));
  // Byte order would put "/etc-x" before "/etc/hosts"; path order does not.
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file path=\"/etc-x\"")), ErrorCode::parse, "out of order"));
}

TEST(XmlReader, RejectsBadNumbers) {
  const std::string_view size = "size=\"9\"";  // of /etc/hosts: "127.0.0.1"
  EXPECT_TRUE(fails_with(parse_scan(xml_with(size, "size=\"-1\"")), ErrorCode::parse, "bad size '-1'"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(size, "size=\"1.5\"")), ErrorCode::parse, "bad size"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(size, "size=\" 9\"")), ErrorCode::parse, "bad size"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(size, "size=\"18446744073709551616\"")), ErrorCode::parse, "bad size"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("uid=\"0\"", "uid=\"4294967296\"")), ErrorCode::parse, "bad uid"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("gid=\"0\"", "gid=\"-5\"")), ErrorCode::parse, "bad gid"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("mode=\"0755\"", "mode=\"10000\"")), ErrorCode::parse, "bad mode"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("mode=\"0755\"", "mode=\"0x1ed\"")), ErrorCode::parse, "bad mode"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("mtime=\"1700000000.000000000\"", "mtime=\"1700000000\"")),
                         ErrorCode::parse, "bad mtime"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("mtime=\"1700000000.000000000\"", "mtime=\"99999999999.000000000\"")),
                         ErrorCode::parse, "bad mtime"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("errno=\"13\"", "errno=\"2147483648\"")), ErrorCode::parse, "bad errno"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("files=\"3\"", "files=\"-3\"")), ErrorCode::parse, "bad summary count"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("2026-11-26T05:55:09.123456789Z", "2026-11-26")), ErrorCode::parse,
                         "bad started time"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("one-file-system=\"false\"", "one-file-system=\"0\"")), ErrorCode::parse,
                         "bad one-file-system"));
}

TEST(XmlReader, RejectsBadHashes) {
  const std::string hash = Sha256::of("127.0.0.1").hex();
  const std::string attr = "sha256=\"" + hash + "\"";
  EXPECT_TRUE(fails_with(parse_scan(xml_with(attr, "sha256=\"" + hash.substr(0, 63) + "\"")), ErrorCode::parse,
                         "bad sha256"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(attr, "sha256=\"" + hash.substr(0, 63) + "g\"")), ErrorCode::parse,
                         "bad sha256"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(attr, "sha256=\"" + hash + "0\"")), ErrorCode::parse, "bad sha256"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(attr, "sha256=\"" + std::string(64, 'A') + "\"")), ErrorCode::parse,
                         "lower-case"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<dir path=\"/etc\"", "<dir sha256=\"" + hash + "\" path=\"/etc\"")),
                         ErrorCode::parse, "unexpected attribute 'sha256' on <dir>"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file target=\"x\" path=\"/etc/hosts\"")), ErrorCode::parse,
                         "unexpected attribute 'target' on <file>"));
}

TEST(XmlReader, RejectsUnknownStructure) {
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<fiel path=\"/etc/hosts\"")), ErrorCode::parse,
                         "unexpected element <fiel> in <entries>"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<entries>", "<entries><entries>")), ErrorCode::parse,
                         "unexpected element <entries> in <entries>"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file owner=\"root\" path=\"/etc/hosts\"")), ErrorCode::parse,
                         "unexpected attribute 'owner' on <file>"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, "<file xmlns:x=\"urn:x\" x:size=\"1\" path=\"/etc/hosts\"")),
                         ErrorCode::parse, "unexpected attribute 'x:size'"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<dir path=\"/etc\"", "<other kind=\"dir\" path=\"/etc\"")),
                         ErrorCode::parse, "must be written <dir>"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<dir path=\"/etc\"", "<other kind=\"door\" path=\"/etc\"")),
                         ErrorCode::parse, "unknown entry type 'door'"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<dir path=\"/etc\"", "<other path=\"/etc\"")), ErrorCode::parse,
                         "<other> lacks attribute 'kind'"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<entries>", "<entries>hello")), ErrorCode::parse,
                         "text is not allowed in <entries>"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<entries>", "<entries><![CDATA[x]]>")), ErrorCode::parse,
                         "text is not allowed"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<dir path=\"/etc\"", "<dir path=\"/etc\"><x/></dir><y")),
                         ErrorCode::parse, "unexpected element <x> in <dir>"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<scan ", "<scans ")), ErrorCode::parse, "line"));  // tag mismatch
  EXPECT_TRUE(fails_with(parse_scan(xml_with("</scan>", "</scan><scan/>")), ErrorCode::parse, "Extra content"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("</scan>", "</scan>trailing")), ErrorCode::parse, "Extra content"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("kind=\"open\"", "kind=\"denied\"")), ErrorCode::parse, "bad error kind"));
  // Comments and processing instructions carry nothing and are allowed.
  EXPECT_TRUE(parse_scan(xml_with("<entries>", "<entries><!-- note --><?pi data?>")));
}

TEST(XmlReader, RejectsMissingOrMisplacedSections) {
  auto fails = [](std::string_view from, std::string_view to, std::string_view needle) {
    return fails_with(parse_scan(xml_with(from, to)), ErrorCode::parse, needle);
  };
  const std::string xml = write_to_string(ScanFormat::xml, base_document());
  const auto block = [&](std::string_view from, std::string_view to) {
    const std::size_t begin = xml.find(from);
    return xml.substr(begin, xml.find(to, begin) + to.size() - begin);
  };
  EXPECT_TRUE(fails(block("  <errors>", "</errors>\n"), "", "<summary> out of place after <entries>"));
  EXPECT_TRUE(fails(block("  <summary", "/>\n"), "", "</scan> before the sections after <errors>"));
  EXPECT_TRUE(fails(block("  <entries>", "</entries>\n"), "", "<errors> out of place after <exclude>"));
  const std::string host = block("  <host", "/>\n");
  EXPECT_TRUE(fails(host, host + host, "<host> out of place after <host>"));
  EXPECT_TRUE(fails(host, "", "<options> out of place as first child of <scan>"));
  EXPECT_TRUE(fails("<root path=\"/\"/>", "", "<exclude> out of place after <options>"));
  EXPECT_TRUE(fails("<options ", "<root path=\"/\"/><options ", "<root> out of place after <host>"));
  EXPECT_TRUE(fails("<entries>", "<root path=\"/x\"/><entries>", "<root> out of place after <exclude>"));
  EXPECT_TRUE(fails("name=\"web01\" ", "", "<host> lacks attribute 'name'"));
  EXPECT_TRUE(fails(" errors-dropped=\"1\"", "", "<summary> lacks attribute 'errors-dropped'"));
  auto root_only = parse_scan(
      "<scan xmlns=\"urn:trustbase:scan:1\" version=\"1\" scanner=\"s\" started=\"2026-11-26T05:55:09.123456789Z\"/>");
  EXPECT_TRUE(fails_with(root_only, ErrorCode::parse, "</scan> before <host>"));
  EXPECT_TRUE(fails_with(parse_scan("<other xmlns=\"urn:trustbase:scan:1\"/>"), ErrorCode::parse,
                         "root element is <other>, not <scan>"));
}

TEST(XmlReader, ErrorsNameTheLine) {
  // /etc/hosts is the second entry: line 10 (after the XML declaration, <scan>, <host>,
  // <options>, one <root>, two <exclude>, <entries> and the /etc entry).
  const std::string xml = xml_with("size=\"9\"", "size=\"-9\"");
  std::size_t line = 1;
  for (std::size_t i = 0; i < xml.find("size=\"-9\""); ++i) line += xml[i] == '\n';
  ASSERT_EQ(line, 10u);
  const auto doc = parse_scan(xml);
  EXPECT_TRUE(fails_with(doc, ErrorCode::parse, "line 10: entry '/etc/hosts': bad size '-9'"));
  // Structural and libxml2 errors too.
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<errors>", "<errors><oops/>")), ErrorCode::parse, "line 15: "));
  // libxml2 parses ahead of the node being read: a tag mismatch may be reported first.
  EXPECT_TRUE(fails_with(parse_scan(xml_with("<errors>", "<errors><oops>")), ErrorCode::parse,
                         "line 17: XML: Opening and ending tag mismatch: oops line 15 and errors"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("</errors>", "</error>")), ErrorCode::parse, "line 17: "));
}

TEST(XmlReader, BillionLaughsFailsFastWithoutExpanding) {
  std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE scan [\n <!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    xml += " <!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) xml += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    xml += "\">\n";
  }
  xml += "]>\n<scan xmlns=\"urn:trustbase:scan:1\" version=\"1\" scanner=\"&lol9;\" started=\"x\">&lol9;</scan>\n";
  const auto doc = parse_scan(xml);
  // Rejected either by libxml2's entity amplification guard (it checks entity content
  // while parsing ahead) or by the reader on the DOCTYPE node; never expanded.
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, ErrorCode::parse);
  const std::string& message = doc.error().message;
  EXPECT_TRUE(message.find("DOCTYPE") != std::string::npos || message.find("entity") != std::string::npos) << message;
}

TEST(XmlReader, ExternalEntitiesAreNeverRead) {
  char name[] = "/tmp/tb-xxe-XXXXXX";
  const int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  const std::string secret = "TOP-SECRET-7f3a9c";
  ASSERT_EQ(::write(fd, secret.data(), secret.size()), static_cast<ssize_t>(secret.size()));
  ::close(fd);
  const std::string url = std::string("file://") + name;
  const std::vector<std::string> attacks = {
      // a general entity in attribute and in content
      "<!DOCTYPE scan [<!ENTITY x SYSTEM \"" + url + "\">]>\n"
      "<scan xmlns=\"urn:trustbase:scan:1\" version=\"1\" scanner=\"&x;\" started=\"x\">&x;</scan>",
      // a parameter entity in the internal subset
      "<!DOCTYPE scan [<!ENTITY % p SYSTEM \"" + url + "\"> %p;]>\n<scan/>",
      // an external DTD
      "<!DOCTYPE scan SYSTEM \"" + url + "\">\n<scan xmlns=\"urn:trustbase:scan:1\"/>",
      // over the network (must not even be attempted: NONET)
      "<!DOCTYPE scan SYSTEM \"http://127.0.0.1:9/x.dtd\">\n<scan xmlns=\"urn:trustbase:scan:1\"/>",
  };
  for (const std::string& attack : attacks) {
    std::vector<std::string> seen;
    ScanVisitor visitor;
    visitor.header = [&](const ScanHeader& h) -> Expected<void> {
      seen.push_back(h.scanner);
      return {};
    };
    const auto ok = read_scan_xml(attack, visitor);
    ASSERT_FALSE(ok) << attack;
    EXPECT_EQ(ok.error().code, ErrorCode::parse);
    EXPECT_EQ(ok.error().message.find(secret), std::string::npos) << ok.error().message;
    EXPECT_TRUE(seen.empty());
  }
  ::unlink(name);
}

TEST(XmlReader, EnforcesRecordAndErrorLimits) {
  const std::string xml = write_to_string(ScanFormat::xml, base_document());
  ReadLimits limits;
  limits.max_records = 5;
  EXPECT_TRUE(parse_scan(xml, limits));
  limits.max_records = 2;
  EXPECT_TRUE(fails_with(parse_scan(xml, limits), ErrorCode::limit, "more than 2 records"));
  limits = {};
  limits.max_errors = 0;
  EXPECT_TRUE(fails_with(parse_scan(xml, limits), ErrorCode::limit, "more than 0 errors"));
  limits = {};
  limits.max_document_bytes = xml.size() - 1;
  EXPECT_TRUE(fails_with(parse_scan(xml, limits), ErrorCode::limit, "document larger than"));
  limits = {};
  limits.paths.max_name_bytes = 5;
  EXPECT_TRUE(fails_with(parse_scan(xml, limits), ErrorCode::limit, "component longer than 5"));
}

TEST(XmlReader, RejectsDeepNestingQuickly) {
  std::string dirs;
  for (int i = 0; i < 10'000; ++i) dirs += "<dir path=\"/x\">";
  const std::string xml = xml_with("<entries>", "<entries>" + dirs);
  std::string nested =
      "<scan xmlns=\"urn:trustbase:scan:1\" version=\"1\" scanner=\"s\" started=\"2026-11-26T05:55:09.123456789Z\">";
  for (int i = 0; i < 100'000; ++i) nested += "<a>";
  EXPECT_TRUE(fails_with(parse_scan(nested), ErrorCode::parse, "line 1: "));
  EXPECT_TRUE(fails_with(parse_scan(xml), ErrorCode::parse, "unexpected element <dir> in <dir>"));
}

TEST(XmlReader, RejectsInvalidEncoding) {
  EXPECT_TRUE(fails_with(parse_scan(xml_with("web01", "web\xff")), ErrorCode::parse, "line 3: XML: "));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("web01", "web\x01")), ErrorCode::parse, "line 3: XML: "));
}

// ---- bounds on what a document multiplies (issue 21) ---------------------------------

// libxml2's reader holds every comment it meets until the next start tag: 255 MiB of
// "<!---->" (390 KB of gzip) took a server to 7.7 GB. Comments, processing instructions
// and CDATA sections are bounded in count and bytes, wherever they are.
TEST(XmlReader, CommentsAndProcessingInstructionsAreBounded) {
  EXPECT_EQ(ReadLimits{}.max_comments, 10'000u);
  ReadLimits limits;
  limits.max_comments = 3;
  EXPECT_TRUE(parse_scan(xml_with("<entries>", "<entries><!-- a --><?pi b?><![CDATA[ ]]>"), limits));
  for (const std::string fourth : {"<!-- d -->", "<?pi d?>", "<![CDATA[ ]]>"}) {
    const std::string xml = xml_with("<entries>", "<entries><!-- a --><?pi b?><!-- c -->" + fourth);
    EXPECT_TRUE(fails_with(parse_scan(xml, limits), ErrorCode::limit,
                           "line 8: more than 3 comments, processing instructions and CDATA sections"))
        << fourth;
  }
  limits = {};
  limits.max_comment_bytes = 100;
  EXPECT_TRUE(parse_scan(xml_with("</scan>", "</scan><!--" + std::string(90, 'x') + "-->"), limits));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("</scan>", "</scan><!--" + std::string(100, 'x') + "-->"), limits),
                         ErrorCode::limit, "more than 100 bytes of comments"));
  // The attack itself, scaled down: 14 MB of empty comments between two records (and
  // after the document) is refused at the 10,001st, long before the end.
  std::string bomb;
  for (int i = 0; i < 2'000'000; ++i) bomb += "<!---->";
  for (const auto& [from, to] : {std::pair{kHostsXml, bomb + std::string(kHostsXml)}, {"</scan>", "</scan>" + bomb}}) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(fails_with(parse_scan(xml_with(from, to)), ErrorCode::limit, "more than 10000 comments"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  }
}

// Text between two elements (whitespace, say, between comments, where libxml2 keeps a
// node for each run) is bounded too: at most what an escaped error message needs.
TEST(XmlReader, TextBetweenElementsIsBounded) {
  EXPECT_EQ(ReadLimits{}.max_text_run_bytes, std::size_t{8} << 20);
  ReadLimits limits;
  limits.max_text_run_bytes = 100'000;
  ScanDocument doc = base_document();
  doc.errors[0].message = std::string(19'000, '&');  // 95 KB escaped
  EXPECT_TRUE(parse_scan(write_to_string(ScanFormat::xml, doc), limits));
  EXPECT_TRUE(parse_scan(xml_with(kHostsXml, std::string(99'990, ' ') + std::string(kHostsXml)), limits));
  const std::string blanks(100'001, ' ');
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, blanks + std::string(kHostsXml)), limits), ErrorCode::limit,
                         "more than 100000 bytes of text between two elements"));
  EXPECT_TRUE(
      fails_with(parse_scan(xml_with(kHostsXml, "<!---->" + blanks + "<!---->" + std::string(kHostsXml)), limits),
                 ErrorCode::limit, "bytes of text between two elements"));
}

// 60,000 attributes on one element (650 KB) took 38 s of CPU: libxml2 checks them for
// duplicates pairwise before the reader sees the element. They are counted as the bytes
// arrive and refused before the tag is complete.
TEST(XmlReader, AttributesPerElementAreBoundedBeforeLibxml2ParsesThem) {
  EXPECT_EQ(ReadLimits{}.max_attributes, 32u);
  std::string attributes;
  for (int i = 0; i < 60'000; ++i) attributes += " a" + std::to_string(i) + "=\"1\"";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, std::string(kHostsXml) + attributes)), ErrorCode::limit,
                         "line 10: more than 32 attributes on one element"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // Duplicates are libxml2's to find among the few that pass; '=' in a value is no attribute.
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, std::string(kHostsXml) + " a=\"1\" a=\"2\"")), ErrorCode::parse,
                         "XML: Attribute a redefined"));
  ReadLimits limits;
  limits.max_attributes = 8;  // <summary> has 8, a file record 7, <scan> 3 and xmlns
  const auto equals = parse_scan(xml_with("/etc/passwd", "/etc/pass=d"), limits);
  EXPECT_TRUE(equals) << equals.error().message;
  EXPECT_TRUE(fails_with(parse_scan(xml_with(kHostsXml, std::string(kHostsXml) + " xmlns:x=\"urn:x\" a=\"\""), limits),
                         ErrorCode::limit, "more than 8 attributes"));
}

// A DOCTYPE is refused at "<!", before libxml2 parses and stores an internal subset
// (whose declarations it would otherwise hold until the first element).
TEST(XmlReader, ADoctypeIsRefusedBeforeItsInternalSubsetIsParsed) {
  std::string subset = "<?xml version=\"1.0\"?>\n<!DOCTYPE scan [\n";
  for (int i = 0; i < 200'000; ++i) subset += "<!ENTITY e" + std::to_string(i) + " \"x\">\n";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(
      fails_with(parse_scan(subset + "]>\n<scan/>"), ErrorCode::parse, "line 2: DOCTYPE declarations are not allowed"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

// The guard reads bytes, so markup must be ASCII bytes: UTF-8, or a declared ASCII-
// compatible encoding. UTF-16, UCS-4 (NUL bytes), EBCDIC and other declared encodings
// are refused.
TEST(XmlReader, OnlyAsciiCompatibleEncodingsAreRead) {
  const std::string xml = write_to_string(ScanFormat::xml, base_document());
  EXPECT_TRUE(parse_scan("\xEF\xBB\xBF" + xml));
  EXPECT_TRUE(parse_scan(xml_with("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"")));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("encoding=\"UTF-8\"", "encoding=\"UTF-16\"")), ErrorCode::parse,
                         "line 1: encoding 'UTF-16' is not accepted"));
  EXPECT_TRUE(fails_with(parse_scan(xml_with("encoding=\"UTF-8\"", "encoding='ISO-2022-JP'")), ErrorCode::parse,
                         "is not accepted"));
  std::string utf16 = "\xFF\xFE";
  for (char c : xml) utf16 += std::string{c, '\0'};
  // (parse_scan sniffs for '<' or '{' first; the XML reader is asked directly.)
  for (const auto& [text, needle] :
       {std::pair{utf16, "line 1: a NUL byte"}, std::pair{std::string("\x4C\x6F\xA7\x94\x40") + xml, "EBCDIC"}}) {
    const auto read = read_scan_xml(text, ScanVisitor{});
    ASSERT_FALSE(read) << needle;
    EXPECT_EQ(read.error().code, ErrorCode::parse);
    EXPECT_NE(read.error().message.find(needle), std::string::npos) << read.error().message;
  }
}

// 4M identical roots (109 KB of gzip) were stored. Roots and exclude patterns are each
// listed once, and bounded.
TEST(XmlReader, RootsAndExcludesAreBoundedAndUnique) {
  EXPECT_EQ(ReadLimits{}.max_roots, 4096u);
  EXPECT_EQ(ReadLimits{}.max_excludes, 4096u);
  const ScanDocument base = base_document();
  ASSERT_EQ(base.header.roots.size(), 1u) << "the edits below assume one root";
  ASSERT_EQ(base.header.excludes.size(), 2u) << "and two exclude patterns";
  for (ScanFormat format : {ScanFormat::xml, ScanFormat::json}) {
    SCOPED_TRACE(format == ScanFormat::xml ? "xml" : "json");
    ScanDocument doc = base;
    doc.header.roots.push_back(doc.header.roots[0]);
    EXPECT_TRUE(fails_with(parse_scan(write_to_string(format, doc)), ErrorCode::parse, "root '/' listed twice"));
    doc = base;
    doc.header.excludes = {"*.tmp", "*.log", "*.tmp"};
    EXPECT_TRUE(
        fails_with(parse_scan(write_to_string(format, doc)), ErrorCode::parse, "exclude pattern '*.tmp' listed twice"));
    ReadLimits limits;
    limits.max_roots = 1;
    limits.max_excludes = 2;
    doc = base;
    EXPECT_TRUE(parse_scan(write_to_string(format, doc), limits));
    doc.header.roots.push_back("/var");
    EXPECT_TRUE(fails_with(parse_scan(write_to_string(format, doc), limits), ErrorCode::limit, "more than 1"));
    doc = base;
    doc.header.excludes.push_back("*.tmp");
    EXPECT_TRUE(fails_with(parse_scan(write_to_string(format, doc), limits), ErrorCode::limit, "more than 2"));
  }
  // The attack, scaled down: 1M identical roots are refused at the second.
  std::string roots;
  for (int i = 0; i < 1'000'000; ++i) roots += "<root path=\"/etc\"/>";
  const std::string xml = write_to_string(ScanFormat::xml, base);
  const std::size_t at = xml.find("<root ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_TRUE(
      fails_with(parse_scan(xml.substr(0, at) + roots + xml.substr(at)), ErrorCode::parse, "root '/etc' listed twice"));
}

TEST(ScanReader, RecordsPerScanDefaultToFiveMillion) {
  EXPECT_EQ(ReadLimits{}.max_records, 5'000'000u);
}

// ---- JSON ----------------------------------------------------------------------------

TEST(JsonReader, BaseDocumentIsAccepted) {
  auto doc = parse_scan(write_to_string(ScanFormat::json, base_document()));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->manifest.size(), 5u);
}

TEST(JsonReader, WrongFormatOrVersion) {
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"version\":1", "\"version\":2")), ErrorCode::parse,
                         "unsupported scan format version '2'"));
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"version\":1", "\"version\":\"1\"")), ErrorCode::parse,
                         "'version' must be a number"));
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"version\":1", "\"version\":1.0")), ErrorCode::parse,
                         "unsupported scan format version '1.0'"));
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"trustbase-scan\"", "\"other\"")), ErrorCode::parse,
                         "not a trustbase scan document"));
  EXPECT_TRUE(
      fails_with(parse_scan(json_with("\"version\":1,", "")), ErrorCode::parse, "'version' missing before 'entries'"));
}

TEST(JsonReader, RejectsBadPathsAndValues) {
  auto fails = [](std::string_view from, std::string_view to, ErrorCode code, std::string_view needle) {
    return fails_with(parse_scan(json_with(from, to)), code, needle);
  };
  const std::string p = "\"path\":\"/etc/hosts\"";
  EXPECT_TRUE(fails(p, "\"path\":\"/etc/../hosts\"", ErrorCode::parse,
                    "entries[1]: path '/etc/../hosts': path contains a '..'"));
  EXPECT_TRUE(fails(p, "\"path\":\"etc/hosts\"", ErrorCode::parse, "not absolute"));
  EXPECT_TRUE(fails(p, "\"path\":\"/etc/ho\\u0000sts\"", ErrorCode::parse, "NUL"));
  EXPECT_TRUE(fails(p, "\"path\":\"/etc/" + std::string(64 * 1024, 'h') + "\"", ErrorCode::limit, "longer than"));
  EXPECT_TRUE(fails(p, "\"path\":\"/etc\"", ErrorCode::parse, "duplicated path"));
  EXPECT_TRUE(fails(p, "\"path\":\"/etc/zzz\"", ErrorCode::parse, "out of order"));
  EXPECT_TRUE(fails(p, "\"path\":1", ErrorCode::parse, "'path' must be a string"));
  EXPECT_TRUE(fails(p, "\"path\":null", ErrorCode::parse, "'path' must be a string"));
  EXPECT_TRUE(fails(p, "\"path_b64\":\"%%%%\"", ErrorCode::parse, "base64"));
  EXPECT_TRUE(fails(p, p + ",\"path_b64\":\"L2V0Yy9ob3N0cw==\"", ErrorCode::parse, "both"));
  EXPECT_TRUE(fails(p, "\"path\":\"/etc/h\xff\"", ErrorCode::parse, "JSON: "));  // not UTF-8
  EXPECT_TRUE(fails("\"size\":9", "\"size\":-9", ErrorCode::parse, "bad size '-9'"));
  EXPECT_TRUE(fails("\"size\":9", "\"size\":9.5", ErrorCode::parse, "bad size '9.5'"));
  EXPECT_TRUE(fails("\"size\":9", "\"size\":1e3", ErrorCode::parse, "bad size"));
  EXPECT_TRUE(fails("\"size\":9", "\"size\":18446744073709551616", ErrorCode::parse, "bad size"));
  EXPECT_TRUE(fails("\"size\":9", "\"size\":\"9\"", ErrorCode::parse, "'size' must be a number"));
  EXPECT_TRUE(fails("\"uid\":0", "\"uid\":4294967296", ErrorCode::parse, "bad uid"));
  EXPECT_TRUE(fails("\"mode\":\"0755\"", "\"mode\":493", ErrorCode::parse, "'mode' must be a string"));
  EXPECT_TRUE(fails("\"type\":\"dir\"", "\"type\":\"door\"", ErrorCode::parse, "unknown entry type 'door'"));
  const std::string hash = Sha256::of("127.0.0.1").hex();
  EXPECT_TRUE(fails(hash, hash.substr(0, 63), ErrorCode::parse, "bad sha256"));
  EXPECT_TRUE(fails(hash, hash.substr(0, 63) + "x", ErrorCode::parse, "bad sha256"));
  EXPECT_TRUE(fails("\"type\":\"dir\",\"path\":\"/etc\"",
                    "\"type\":\"dir\",\"path\":\"/etc\",\"sha256\":\"" + hash + "\"", ErrorCode::parse,
                    "content hash on a dir entry"));
  EXPECT_TRUE(fails("\"errno\":13", "\"errno\":-13", ErrorCode::parse, "bad errno"));
  EXPECT_TRUE(fails("\"kind\":\"open\"", "\"kind\":\"denied\"", ErrorCode::parse, "bad error kind"));
  EXPECT_TRUE(fails("\"files\":3", "\"files\":-3", ErrorCode::parse, "bad summary count"));
  EXPECT_TRUE(fails("\"one_file_system\":false", "\"one_file_system\":0", ErrorCode::parse, "must be true or false"));
  EXPECT_TRUE(fails("\"roots\":[{\"path\":\"/\"}]", "\"roots\":[]", ErrorCode::parse, "at least one root"));
  EXPECT_TRUE(
      fails("\"roots\":[{\"path\":\"/\"}]", "\"roots\":[\"/\"]", ErrorCode::parse, "roots[0]: expected an object"));
}

TEST(JsonReader, RejectsUnknownOrMissingMembers) {
  auto fails = [](std::string_view from, std::string_view to, std::string_view needle) {
    return fails_with(parse_scan(json_with(from, to)), ErrorCode::parse, needle);
  };
  EXPECT_TRUE(
      fails("\"type\":\"dir\"", "\"type\":\"dir\",\"owner\":\"root\"", "entries[0]: unexpected member 'owner'"));
  EXPECT_TRUE(fails("\"format\"", "\"extra\":1,\"format\"", "document: unexpected member 'extra'"));
  EXPECT_TRUE(fails("\"type\":\"dir\",", "", "entries[0]: missing member 'type'"));
  EXPECT_TRUE(fails("\"errors_dropped\":1", "\"errors_droped\":1", "unexpected member 'errors_droped'"));
  EXPECT_TRUE(fails("\"host\":{", "\"hosts\":{", "unexpected member 'hosts'"));
  EXPECT_TRUE(fails("\"message\":\"Permission denied\"", "\"message\":null", "'message' must be a string"));
  EXPECT_TRUE(fails_with(parse_scan("{}"), ErrorCode::parse, "missing member 'format'"));
  EXPECT_TRUE(fails_with(parse_scan("{\"format\":\"trustbase-scan\",\"version\":1}"), ErrorCode::parse,
                         "missing member 'scanner'"));
}

TEST(JsonReader, RejectsDuplicateMembersAndStreamingOrder) {
  auto fails = [](std::string_view from, std::string_view to, std::string_view needle) {
    return fails_with(parse_scan(json_with(from, to)), ErrorCode::parse, needle);
  };
  EXPECT_TRUE(fails("\"type\":\"dir\"", "\"type\":\"dir\",\"type\":\"file\"", "entries[0]: duplicate member 'type'"));
  EXPECT_TRUE(fails("\"name\":\"web01\"", "\"name\":\"web01\",\"name\":\"db01\"", "host: duplicate member 'name'"));
  EXPECT_TRUE(fails("\"scanner\"", "\"version\":1,\"scanner\"", "document: duplicate member 'version'"));
  EXPECT_TRUE(fails("\n\"summary\"", "\n\"scanner\":\"again\",\"summary\"", "duplicate member 'scanner'"));
  // Streaming order: header members before entries, then errors, then summary.
  const std::string json = write_to_string(ScanFormat::json, base_document());
  const auto member = [&](std::string_view name, std::string_view next) {
    const std::size_t begin = json.find("\"" + std::string(name) + "\":");
    return json.substr(begin, json.find("\"" + std::string(next) + "\":", begin) - begin);
  };
  const std::string host = member("host", "options");
  const std::string errors = member("errors", "summary");
  EXPECT_TRUE(fails(host, "", "document: 'host' missing before 'entries'"));
  std::string late_host = json;
  late_host.erase(late_host.find(host), host.size());
  late_host.insert(late_host.find("\"errors\":"), host);
  EXPECT_TRUE(fails_with(parse_scan(late_host), ErrorCode::parse, "document: 'host' missing before 'entries'"));
  std::string early_errors = json;
  early_errors.erase(early_errors.find(errors), errors.size());
  early_errors.insert(early_errors.find("\"entries\":"), errors);
  EXPECT_TRUE(fails_with(parse_scan(early_errors), ErrorCode::parse, "'errors' must come after 'entries'"));
  EXPECT_TRUE(fails(errors, "", "'summary' must come after 'errors'"));
  std::string no_summary = json;
  no_summary.erase(no_summary.find(",\n\"summary\":"), no_summary.rfind('}') - no_summary.find(",\n\"summary\":"));
  EXPECT_TRUE(fails_with(parse_scan(no_summary), ErrorCode::parse, "document: missing member 'summary'")) << no_summary;
  EXPECT_TRUE(fails_with(parse_scan("{\"format\":\"trustbase-scan\"} "), ErrorCode::parse, "missing member 'version'"));
  EXPECT_TRUE(fails_with(parse_scan(json + "{}"), ErrorCode::parse, "JSON: "));
}

TEST(JsonReader, SyntaxErrorsAndDeepNesting) {
  EXPECT_TRUE(fails_with(parse_scan("{\"format\":}"), ErrorCode::parse, "JSON: "));
  EXPECT_TRUE(fails_with(parse_scan(json_with("}}", "}},")), ErrorCode::parse, "JSON: "));
  const std::string deep = "{\"host\":" + std::string(1'000'000, '[');
  EXPECT_TRUE(fails_with(parse_scan(deep), ErrorCode::parse, "nested deeper"));
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"size\":9", "\"size\":[[[[9]]]]")), ErrorCode::parse, "nested deeper"));
}

TEST(JsonReader, EnforcesLimits) {
  const std::string json = write_to_string(ScanFormat::json, base_document());
  ReadLimits limits;
  limits.max_records = 2;
  EXPECT_TRUE(fails_with(parse_scan(json, limits), ErrorCode::limit, "entries[2]: more than 2 records"));
  limits = {};
  limits.max_errors = 0;
  EXPECT_TRUE(fails_with(parse_scan(json, limits), ErrorCode::limit, "more than 0 errors"));
  limits = {};
  limits.max_document_bytes = 100;
  EXPECT_TRUE(fails_with(parse_scan(json, limits), ErrorCode::limit, "document larger than 100 bytes"));
  limits = {};
  limits.max_text_bytes = 8;
  EXPECT_TRUE(fails_with(parse_scan(json, limits), ErrorCode::limit, "longer than 8 bytes"));
}

// The JSON form of the attribute bomb: an object with many members, or an array where a
// value belongs, is refused as it grows, not captured whole and rejected afterwards.
TEST(JsonReader, MembersAndItemsAreBoundedWhileTheyArrive) {
  std::string members;
  for (int i = 0; i < 100'000; ++i) members += ",\"m" + std::to_string(i) + "\":0";
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"size\":9", "\"size\":9" + members)), ErrorCode::limit,
                         "entries[1]: more than 32 members in one object"));
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"name\":", members.substr(1) + ",\"name\":")), ErrorCode::limit,
                         "host: more than 32 members"));
  std::string items = "0";
  for (int i = 0; i < 100'000; ++i) items += ",0";
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"version\":1", "\"version\":[" + items + "]")), ErrorCode::limit,
                         "version: more than 32 items"));
  std::string roots;
  for (int i = 0; i < 5'000; ++i) roots += "{\"path\":\"/r" + std::to_string(i) + "\"},";
  EXPECT_TRUE(fails_with(parse_scan(json_with("\"roots\":[", "\"roots\":[" + roots)), ErrorCode::limit,
                         "roots: more than 4096 items"));
}

}  // namespace
}  // namespace tb
