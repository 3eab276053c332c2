// write -> parse gives back the same ScanDocument, for both formats, for hand-picked
// hard cases and for a few hundred random documents; XML output is valid against
// schema/scan-v1.xsd, and the schema rejects what the reader rejects.
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "format/encoding.h"
#include "format_test_util.h"

namespace tb {
namespace {

using test::expect_same_document;
using test::tricky_document;
using test::write_to_string;

// schema/scan-v1.xsd loaded once for the whole suite.
class Schema {
 public:
  Schema() {
    xmlSchemaParserCtxtPtr ctxt = xmlSchemaNewParserCtxt(TB_SOURCE_DIR "/schema/scan-v1.xsd");
    xmlSchemaSetParserStructuredErrors(ctxt, &Schema::collect, &load_errors_);
    schema_ = xmlSchemaParse(ctxt);
    xmlSchemaFreeParserCtxt(ctxt);
  }
  ~Schema() { xmlSchemaFree(schema_); }
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  bool loaded() const { return schema_ != nullptr; }
  const std::string& load_errors() const { return load_errors_; }

  // "" when `xml` is valid, else the validator's messages.
  std::string validate(std::string_view xml) const {
    std::string errors;
    xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "scan.xml", nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == nullptr) return "not well-formed";
    xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema_);
    xmlSchemaSetValidStructuredErrors(v, &Schema::collect, &errors);
    const int rc = xmlSchemaValidateDoc(v, doc);
    xmlSchemaFreeValidCtxt(v);
    xmlFreeDoc(doc);
    if (rc != 0 && errors.empty()) errors = "invalid (rc " + std::to_string(rc) + ")";
    return errors;
  }

 private:
  static void collect(void* out, xmlErrorPtr error) {
    auto& text = *static_cast<std::string*>(out);
    text += "line " + std::to_string(error->line) + ": " + (error->message ? error->message : "?");
  }

  xmlSchemaPtr schema_ = nullptr;
  std::string load_errors_;
};

const Schema& schema() {
  static const Schema instance;
  return instance;
}

ScanDocument parsed(std::string_view text) {
  auto doc = parse_scan(text);
  if (!doc) throw std::runtime_error("parse failed: " + doc.error().message);
  return std::move(*doc);
}

TEST(Schema, Loads) { ASSERT_TRUE(schema().loaded()) << schema().load_errors(); }

TEST(RoundTrip, TrickyDocumentXml) {
  const ScanDocument doc = tricky_document();
  const std::string xml = write_to_string(ScanFormat::xml, doc);
  expect_same_document(doc, parsed(xml));
}

TEST(RoundTrip, TrickyDocumentJson) {
  const ScanDocument doc = tricky_document();
  const std::string json = write_to_string(ScanFormat::json, doc);
  expect_same_document(doc, parsed(json));
}

TEST(RoundTrip, TrickyDocumentIsValidAgainstTheSchema) {
  ASSERT_TRUE(schema().loaded());
  EXPECT_EQ(schema().validate(write_to_string(ScanFormat::xml, tricky_document())), "");
}

TEST(RoundTrip, NamesThatAreNotPlainTextGoAsBase64) {
  const std::string xml = write_to_string(ScanFormat::xml, tricky_document());
  EXPECT_NE(xml.find("path=\"/etc/a&amp;b&lt;c&gt;&quot;d'e\""), std::string::npos);
  EXPECT_NE(xml.find("path-b64=\"" + base64_encode("/etc/new\nline") + "\""), std::string::npos);
  EXPECT_NE(xml.find("path-b64=\"" + base64_encode("/etc/latin1-\xe9t\xe9") + "\""), std::string::npos);
  EXPECT_NE(xml.find("path=\"/etc/caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""), std::string::npos);
  EXPECT_NE(xml.find("target-b64=\"" + base64_encode("\xff/\x01target") + "\""), std::string::npos);
  EXPECT_NE(xml.find("glob-b64=\"" + base64_encode("\xfe*") + "\""), std::string::npos);
  // Every line of both documents is plain text (UTF-8, no control characters).
  for (ScanFormat format : {ScanFormat::xml, ScanFormat::json}) {
    const std::string text = write_to_string(format, tricky_document());
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
      EXPECT_TRUE(is_plain_text(std::string_view(text).substr(start, nl - start))) << text.substr(start, nl - start);
  }
}

TEST(RoundTrip, BothFormatsCarryTheSameDocument) {
  const ScanDocument doc = tricky_document();
  expect_same_document(parsed(write_to_string(ScanFormat::xml, doc)), parsed(write_to_string(ScanFormat::json, doc)));
}

TEST(RoundTrip, RandomDocuments) {
  std::mt19937_64 rng(20261126);
  for (int i = 0; i < 300; ++i) {
    const ScanDocument doc = test::random_document(rng);
    for (ScanFormat format : {ScanFormat::xml, ScanFormat::json}) {
      const std::string text = write_to_string(format, doc);
      auto back = parse_scan(text);
      ASSERT_TRUE(back) << "document " << i << ": " << back.error().message << "\n" << text;
      expect_same_document(doc, *back);
      if (::testing::Test::HasFailure()) FAIL() << "document " << i << ":\n" << text;
    }
  }
}

TEST(RoundTrip, RandomDocumentsAreValidAgainstTheSchema) {
  ASSERT_TRUE(schema().loaded());
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100; ++i) {
    const std::string xml = write_to_string(ScanFormat::xml, test::random_document(rng));
    ASSERT_EQ(schema().validate(xml), "") << xml;
  }
}

TEST(RoundTrip, ReadsFromAFile) {
  const ScanDocument doc = tricky_document();
  char name[] = "/tmp/tb-format-test-XXXXXX";
  const int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  const std::string xml = write_to_string(ScanFormat::xml, doc);
  ASSERT_EQ(::write(fd, xml.data(), xml.size()), static_cast<ssize_t>(xml.size()));
  ::close(fd);

  std::vector<FileRecord> records;
  ScanVisitor visitor;
  visitor.record = [&](FileRecord&& r) -> Expected<void> {
    records.push_back(std::move(r));
    return {};
  };
  const auto ok = read_scan_xml_file(name, visitor);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(records.size(), doc.manifest.size());

  ReadLimits small;
  small.max_document_bytes = xml.size() - 1;
  const auto too_big = read_scan_xml_file(name, visitor, small);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, ErrorCode::limit) << too_big.error().message;
  ::unlink(name);

  const auto missing = read_scan_xml_file(name, visitor);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

// The visitor sees the document in order: header, records, errors, summary; and an
// error it returns stops the read and comes back unchanged.
TEST(RoundTrip, VisitorOrderAndVisitorErrors) {
  for (ScanFormat format : {ScanFormat::xml, ScanFormat::json}) {
    const std::string text = write_to_string(format, tricky_document());
    std::string events;
    ScanVisitor visitor;
    visitor.header = [&](const ScanHeader&) -> Expected<void> {
      events += 'H';
      return {};
    };
    visitor.record = [&](FileRecord&&) -> Expected<void> {
      if (events.back() != 'R') events += 'R';
      return {};
    };
    visitor.error = [&](ScanError&&) -> Expected<void> {
      if (events.back() != 'E') events += 'E';
      return {};
    };
    visitor.summary = [&](const ScanSummary&) -> Expected<void> {
      events += 'S';
      return {};
    };
    const auto ok = format == ScanFormat::xml ? read_scan_xml(text, visitor) : read_scan_json(text, visitor);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(events, "HRES");

    int seen = 0;
    visitor.record = [&](FileRecord&&) -> Expected<void> {
      if (++seen == 3) return fail(ErrorCode::not_found, "stop here");
      return {};
    };
    const auto stopped = format == ScanFormat::xml ? read_scan_xml(text, visitor) : read_scan_json(text, visitor);
    ASSERT_FALSE(stopped);
    EXPECT_EQ(stopped.error().code, ErrorCode::not_found);
    EXPECT_EQ(stopped.error().message, "stop here");
    EXPECT_EQ(seen, 3);
  }
  // Unset callbacks accept everything.
  EXPECT_TRUE(read_scan_xml(write_to_string(ScanFormat::xml, tricky_document()), ScanVisitor{}));
}

TEST(RoundTrip, ParseScanSniffsTheSyntax) {
  const std::string xml = write_to_string(ScanFormat::xml, tricky_document());
  const std::string json = write_to_string(ScanFormat::json, tricky_document());
  EXPECT_TRUE(parse_scan(" \n\t" + json));
  EXPECT_TRUE(parse_scan("\xEF\xBB\xBF" + xml));  // a UTF-8 byte-order mark
  EXPECT_TRUE(parse_scan("\xEF\xBB\xBF" + json));
  EXPECT_TRUE(test::fails_with(parse_scan(""), ErrorCode::parse, "not a scan document"));
  EXPECT_TRUE(test::fails_with(parse_scan("   "), ErrorCode::parse, "not a scan document"));
  EXPECT_TRUE(test::fails_with(parse_scan("[1,2]"), ErrorCode::parse, "not a scan document"));
  EXPECT_TRUE(test::fails_with(parse_scan("scan"), ErrorCode::parse, "not a scan document"));
}

// Mutations of a valid document that the schema must reject, as the reader does.
TEST(Schema, RejectsWhatTheReaderRejects) {
  ASSERT_TRUE(schema().loaded());
  ScanDocument doc = tricky_document();
  const std::string good = write_to_string(ScanFormat::xml, doc);
  ASSERT_EQ(schema().validate(good), "");
  const std::string file = "<file path=\"/etc/passwd\"";
  ASSERT_NE(good.find(file), std::string::npos);
  const std::vector<std::pair<std::string, std::string>> mutations = {
      {"version=\"1\"", "version=\"2\""},
      {"urn:trustbase:scan:1", "urn:trustbase:scan:2"},
      {file, "<file path=\"/etc/../passwd\""},
      {file, "<file path=\"etc/passwd\""},
      {file, "<file path=\"/etc//passwd\""},
      {file, "<file path=\"/etc/passwd/\""},
      {file, "<file path=\"/etc/./passwd\""},
      {file, "<file size=\"-1\" path=\"/etc/passwd\""},
      {file, "<file size=\"01\" path=\"/etc/passwd\""},
      {file, "<file uid=\"4294967296\" path=\"/etc/passwd\""},
      {file, "<file mode=\"755\" path=\"/etc/passwd\""},
      {file, "<file mode=\"0788\" path=\"/etc/passwd\""},
      {file, "<file mtime=\"1.5\" path=\"/etc/passwd\""},
      {file, "<file mtime=\"-0.500000000\" path=\"/etc/passwd\""},
      {file, "<file sha256=\"abc\" path=\"/etc/passwd\""},
      {file, "<file bogus=\"1\" path=\"/etc/passwd\""},
      {file, "<file path-b64=\"L2V0Yy9w YXNzd2Q=\""},
      {file, "<dir sha256=\"" + std::string(64, 'a') + "\" path=\"/etc/passwd\"/><file path=\"/etc/passwd2\""},
      {file, "<other kind=\"file\" path=\"/etc/passwd\"/><file path=\"/etc/passwd2\""},
      {file, "<thing path=\"/x\"/><file path=\"/etc/passwd\""},
      {"one-file-system=\"true\"", "one-file-system=\"yes\""},
      {"started=\"2026-11-26T05:55:09.123456789Z\"", "started=\"2026-11-26T05:55:09Z\""},
      {"kind=\"open\"", "kind=\"opened\""},
      {"errno=\"13\"", "errno=\"-13\""},
  };
  for (const auto& [from, to] : mutations) {
    std::string bad = good;
    const std::size_t at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    EXPECT_NE(schema().validate(bad), "") << "schema accepted: " << to;
    EXPECT_FALSE(parse_scan(bad)) << "reader accepted: " << to;
  }
}

}  // namespace
}  // namespace tb
