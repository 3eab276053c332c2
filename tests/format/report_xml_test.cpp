// The XML reports (analysis and drift): valid against schema/report-v1.xsd (xmllint, as
// the scan document is checked against its XSD), exact for raw-byte names, and carrying
// what the JSON form carries.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "core/diff.h"
#include "format/analysis_report.h"
#include "format/drift_report.h"
#include "format/encoding.h"
#include "format_test_util.h"

namespace tb {
namespace {

using test::make_file;
using test::sample_header;
using test::tricky_document;

// 0 when `xml` validates against the report schema (xmllint's messages go to the test log).
int validate(const std::string& xml) {
  char name[] = "/tmp/tb-report-xml-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) return -1;
  const bool written = ::write(fd, xml.data(), xml.size()) == static_cast<ssize_t>(xml.size());
  ::close(fd);
  const std::string cmd = std::string("xmllint --noout --schema ") + TB_SOURCE_DIR + "/schema/report-v1.xsd " + name;
  const int status = written ? std::system(cmd.c_str()) : -1;
  ::unlink(name);
  return status;
}

// The values an XPath expression selects (attributes or text), in document order.
std::vector<std::string> select(const std::string& xml, const char* xpath) {
  std::vector<std::string> out;
  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "report.xml", nullptr, XML_PARSE_NONET);
  if (doc == nullptr) return {"<not well-formed>"};
  xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
  xmlXPathRegisterNs(ctx, BAD_CAST "r", BAD_CAST "urn:trustbase:report:1");
  xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
  if (result != nullptr && result->nodesetval != nullptr) {
    for (int i = 0; i < result->nodesetval->nodeNr; ++i) {
      xmlChar* text = xmlNodeGetContent(result->nodesetval->nodeTab[i]);
      out.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
      xmlFree(text);
    }
  }
  xmlXPathFreeObject(result);
  xmlXPathFreeContext(ctx);
  xmlFreeDoc(doc);
  return out;
}

std::string write(ReportFormat format, const AnalysisContext& context, const Analysis& analysis) {
  std::string out;
  StringSink sink(out);
  EXPECT_TRUE(write_analysis_report(format, context, analysis, sink));
  return out;
}

Analysis sample_analysis() {
  const SignatureRef app{"app", "1.0"}, fix{"app-fix1", "1"}, old{"app", "0.9"};
  Analysis a;
  SignatureVerdict product;
  product.ref = app;
  product.state = SignatureState::partial;
  product.counts = VerdictCounts{3, 1, 1, 1, 0, 0};
  product.issues = {FileIssue{"/opt/app/lib/libcore.so", IssueKind::missing, {}, std::nullopt},
                    FileIssue{"/opt/app/etc/\xff.conf", IssueKind::modified, Attr::size | Attr::sha256, old}};
  product.patched_by = {fix};
  SignatureVerdict patch;
  patch.ref = fix;
  patch.kind = SignatureKind::patch;
  patch.state = SignatureState::complete;
  patch.counts = VerdictCounts{1, 1, 0, 0, 0, 0};
  SignatureVerdict absent;
  absent.ref = SignatureRef{"other", "2"};
  absent.state = SignatureState::absent;
  absent.other_version = {SignatureRef{"other", "1"}};
  a.verdicts = {product, patch, absent};
  a.deviations = {FileDeviation{"/opt/app/etc/\xff.conf", Change::modified, Attr::size | Attr::sha256, {app}, {old}},
                  FileDeviation{"/opt/app/lib/libcore.so", Change::removed, {}, {app}, {}},
                  FileDeviation{"/opt/app/notes & <todo>.txt", Change::added, {}, {}, {}}};
  return a;
}

TEST(ReportXml, AnalysisValidatesAndCarriesTheVerdicts) {
  const ScanHeader header = sample_header();
  const Analysis analysis = sample_analysis();
  const std::string xml = write(ReportFormat::xml,
                                AnalysisContext{&header,
                                                "web\x01"
                                                "01",
                                                false},
                                analysis);
  EXPECT_EQ(validate(xml), 0) << xml;
  EXPECT_EQ(select(xml, "/r:analysis/@clean"), std::vector<std::string>{"false"});
  EXPECT_EQ(select(xml, "/r:analysis/@scan-started"), std::vector<std::string>{"2026-11-26T05:55:09.123456789Z"});
  // Absent signatures are left out unless asked for, as in the other formats.
  EXPECT_EQ(select(xml, "//r:signature/@id"), (std::vector<std::string>{"app@1.0", "app-fix1@1"}));
  EXPECT_EQ(select(xml, "//r:signature[@id='app@1.0']/r:patched-by/@signature"),
            std::vector<std::string>{"app-fix1@1"});
  EXPECT_EQ(select(xml, "//r:signature[@id='app@1.0']/r:issue/@kind"),
            (std::vector<std::string>{"missing", "modified"}));
  EXPECT_EQ(select(xml, "//r:issue[@kind='modified']/@changed"), std::vector<std::string>{"size,content"});
  EXPECT_EQ(select(xml, "//r:issue[@kind='modified']/@other"), std::vector<std::string>{"app@0.9"});
  // A name that is not text survives exactly, as base64.
  EXPECT_EQ(select(xml, "//r:deviation[@change='modified']/@path-b64"),
            std::vector<std::string>{base64_encode("/opt/app/etc/\xff.conf")});
  EXPECT_EQ(select(xml, "//r:deviation[@change='added']/@path"),
            std::vector<std::string>{"/opt/app/notes & <todo>.txt"});
  EXPECT_EQ(select(xml, "//r:deviation[@change='modified']/r:content-owner/@signature"),
            std::vector<std::string>{"app@0.9"});

  const std::string all = write(ReportFormat::xml, AnalysisContext{nullptr, "web01", true}, analysis);
  EXPECT_EQ(validate(all), 0) << all;
  EXPECT_EQ(select(all, "//r:signature[@state='absent']/r:other-version/@signature"),
            std::vector<std::string>{"other@1"});
  EXPECT_TRUE(select(all, "/r:analysis/@scan-started").empty());
}

TEST(ReportXml, CleanAnalysisValidates) {
  Analysis clean;
  SignatureVerdict v;
  v.ref = SignatureRef{"base", "2026.11"};
  v.state = SignatureState::complete;
  clean.verdicts = {v};
  const std::string xml = write(ReportFormat::xml, AnalysisContext{nullptr, "h", false}, clean);
  EXPECT_EQ(validate(xml), 0) << xml;
  EXPECT_EQ(select(xml, "/r:analysis/@clean"), std::vector<std::string>{"true"});
  EXPECT_TRUE(select(xml, "//r:deviation").empty());
}

TEST(ReportXml, DriftValidatesWithEveryKindOfRecord) {
  const ScanDocument reference = tricky_document();
  std::vector<FileRecord> changed;
  for (const FileRecord& r : reference.manifest) {
    if (r.path == "/etc/passwd") continue;  // removed
    FileRecord copy = r;
    if (r.type == FileType::symlink) copy.link_target += "\xfe";       // modified target, not text
    if (r.path == "/etc/ space ") copy = make_file(r.path, "edited");  // modified content
    changed.push_back(std::move(copy));
  }
  changed.push_back(make_file("/etc/zz-new", "added"));
  const Manifest examined = test::sorted(std::move(changed));
  const std::vector<DiffEntry> differences = diff(reference.manifest, examined, kAllAttrs);
  ASSERT_FALSE(differences.empty());
  const ScanHeader header = sample_header();
  std::string xml;
  StringSink sink(xml);
  ASSERT_TRUE(write_drift_report(ReportFormat::xml, DriftContext{&header, &header, kAllAttrs}, differences, sink));
  EXPECT_EQ(validate(xml), 0) << xml;
  const DiffCounts n = count(differences);
  EXPECT_EQ(select(xml, "/r:drift/r:counts/@added"), std::vector<std::string>{std::to_string(n.added)});
  EXPECT_EQ(select(xml, "/r:drift/r:counts/@modified"), std::vector<std::string>{std::to_string(n.modified)});
  EXPECT_EQ(select(xml, "//r:difference[@change='removed']/@path"), std::vector<std::string>{"/etc/passwd"});
  EXPECT_EQ(select(xml, "//r:difference[@path='/etc/link-empty']/r:examined/@target-b64"),
            std::vector<std::string>{base64_encode("\xfe")});
  EXPECT_EQ(select(xml, "//r:difference[@path='/etc/ space ']/@changed"), std::vector<std::string>{"content"});

  // Nothing compared, nothing found, no scan headers: still valid.
  std::string empty;
  StringSink empty_sink(empty);
  ASSERT_TRUE(write_drift_report(ReportFormat::xml, DriftContext{nullptr, nullptr, {}}, {}, empty_sink));
  EXPECT_EQ(validate(empty), 0) << empty;
}

TEST(ReportXml, FormatNames) {
  EXPECT_EQ(report_format_from_string("xml"), ReportFormat::xml);
  EXPECT_EQ(report_format_from_string("json"), ReportFormat::json);
  EXPECT_EQ(report_format_from_string("text"), ReportFormat::text);
  EXPECT_FALSE(report_format_from_string("yaml"));
  EXPECT_FALSE(report_format_from_string("XML"));
}

}  // namespace
}  // namespace tb
