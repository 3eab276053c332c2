// The package inventory in scan documents (<packages>, "packages"): round trips in both
// formats, valid against schema/scan-v1.xsd (xmllint, as report_xml_test does), readers
// bounding and refusing what the writers never produce; and the inventory cross-check in
// the analysis reports (text, JSON, XML against schema/report-v1.xsd).
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "format/analysis_report.h"
#include "format_test_util.h"

namespace tb {
namespace {

using test::tricky_document;
using test::write_to_string;

// 0 when `xml` validates against the schema (xmllint's messages go to the test log).
int validate(const std::string& xml, const char* schema) {
  char name[] = "/tmp/tb-inventory-xml-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) return -1;
  const bool written = ::write(fd, xml.data(), xml.size()) == static_cast<ssize_t>(xml.size());
  ::close(fd);
  const std::string cmd =
      std::string("xmllint --noout --schema ") + TB_SOURCE_DIR + "/schema/" + schema + " " + name + " 2>&1";
  const int status = written ? std::system(cmd.c_str()) : -1;
  ::unlink(name);
  return status;
}

PackageInventory sample_inventory() {
  PackageInventory inv;
  inv.packages = {
      {"libc6", "2.36-9+deb12u3", "amd64", PackageManager::dpkg},
      {"libc6", "2.36-9+deb12u3", "i386", PackageManager::dpkg},
      {"openssl", "3.0.11-1~deb12u2", "amd64", PackageManager::dpkg},
      {"tzdata", "2024a-0+deb12u1", "all", PackageManager::dpkg},
      {"bash", "5.2.15-1.el9", "x86_64", PackageManager::rpm},
      {"kernel", "1:5.14.0-362.8.1.el9_3", "", PackageManager::rpm},
      {"a&b<c>\"d'e", "1.0", "amd64", PackageManager::dpkg},  // escaped in XML, plain in JSON
  };
  inv.warnings = {{PackageManager::dpkg, "status line 40: line 42 is not a 'Field: value' line; entry skipped"},
                  {PackageManager::rpm, "cannot open the rpm database <x> & \"y\""}};
  return inv;
}

ScanDocument with_inventory(PackageInventory inv) {
  ScanDocument doc = tricky_document();
  doc.header.inventory = std::move(inv);
  return doc;
}

Expected<ScanDocument> read_back(ScanFormat format, const ScanDocument& doc, const ReadLimits& limits = {}) {
  return parse_scan(write_to_string(format, doc), limits);
}

class InventoryFormat : public ::testing::TestWithParam<ScanFormat> {};
INSTANTIATE_TEST_SUITE_P(Formats, InventoryFormat, ::testing::Values(ScanFormat::xml, ScanFormat::json));

TEST_P(InventoryFormat, RoundTripsPackagesAndWarnings) {
  const ScanDocument doc = with_inventory(sample_inventory());
  auto back = read_back(GetParam(), doc);
  ASSERT_TRUE(back) << back.error().message;
  test::expect_same_document(doc, *back);
  ASSERT_TRUE(back->header.inventory);
  EXPECT_EQ(back->header.inventory->packages.size(), 7u);
}

TEST_P(InventoryFormat, AnEmptyInventoryIsNotAMissingOne) {
  auto empty = read_back(GetParam(), with_inventory(PackageInventory{}));
  ASSERT_TRUE(empty) << empty.error().message;
  ASSERT_TRUE(empty->header.inventory);
  EXPECT_TRUE(empty->header.inventory->packages.empty());

  auto none = read_back(GetParam(), tricky_document());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->header.inventory);

  PackageInventory only_warnings;
  only_warnings.warnings = {{PackageManager::dpkg, "/var/lib/dpkg/status is larger than 67108864 bytes; not read"}};
  auto warned = read_back(GetParam(), with_inventory(only_warnings));
  ASSERT_TRUE(warned) << warned.error().message;
  EXPECT_EQ(warned->header.inventory, only_warnings);
}

TEST_P(InventoryFormat, ReadersBoundTheNumberOfPackages) {
  ReadLimits limits;
  limits.max_packages = 6;
  auto back = read_back(GetParam(), with_inventory(sample_inventory()), limits);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ErrorCode::limit) << back.error().message;
  limits.max_packages = 7;
  EXPECT_TRUE(read_back(GetParam(), with_inventory(sample_inventory()), limits));
}

TEST_P(InventoryFormat, WritersRefuseWhatReadersWouldRefuse) {
  for (const InstalledPackage& bad : {InstalledPackage{"", "1", "amd64", PackageManager::dpkg},
                                      InstalledPackage{"x", "", "amd64", PackageManager::dpkg},
                                      InstalledPackage{std::string(kMaxPackageField + 1, 'x'), "1", "", PackageManager::rpm},
                                      InstalledPackage{"x\ny", "1", "", PackageManager::rpm}}) {
    PackageInventory inv;
    inv.packages = {bad};
    ScanDocument doc = with_inventory(inv);
    std::string out;
    StringSink sink(out);
    auto writer = make_scan_writer(GetParam(), sink);
    auto begun = writer->begin(doc.header);
    ASSERT_FALSE(begun) << bad.name;
    EXPECT_EQ(begun.error().code, ErrorCode::invalid_argument);
  }
}

TEST(InventoryXml, IsValidAgainstTheSchema) {
  EXPECT_EQ(validate(write_to_string(ScanFormat::xml, with_inventory(sample_inventory())), "scan-v1.xsd"), 0);
  EXPECT_EQ(validate(write_to_string(ScanFormat::xml, with_inventory(PackageInventory{})), "scan-v1.xsd"), 0);
}

TEST(InventoryXml, SchemaAndReaderRejectTheSameMistakes) {
  const std::string good = write_to_string(ScanFormat::xml, with_inventory(sample_inventory()));
  const std::string package = "<package name=\"openssl\" version=\"3.0.11-1~deb12u2\" arch=\"amd64\" source=\"dpkg\"/>";
  ASSERT_NE(good.find(package), std::string::npos) << good;
  const std::vector<std::pair<std::string, std::string>> mutations = {
      {package, "<package name=\"openssl\" arch=\"amd64\" source=\"dpkg\"/>"},                    // no version
      {package, "<package name=\"\" version=\"1\" arch=\"amd64\" source=\"dpkg\"/>"},             // empty name
      {package, "<package name=\"openssl\" version=\"1\" arch=\"amd64\" source=\"apk\"/>"},       // unknown manager
      {package, "<package name=\"openssl\" version=\"1\" arch=\"amd64\" source=\"dpkg\" x=\"1\"/>"},
      {package, "<package name=\"openssl\" version=\"1\" arch=\"amd64\" source=\"dpkg\">text</package>"},
      {"  <packages>", "  <entries/>\n  <packages>"},                                              // out of place
      {"</packages>", "<package name=\"late\" version=\"1\" arch=\"\" source=\"rpm\"/></packages>"},  // after warnings
  };
  for (const auto& [from, to] : mutations) {
    std::string bad = good;
    const std::size_t at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    EXPECT_NE(validate(bad, "scan-v1.xsd"), 0) << "schema accepted: " << to;
    EXPECT_FALSE(parse_scan(bad)) << "reader accepted: " << to;
  }
}

TEST(InventoryJson, RejectsMistakes) {
  const std::string good = write_to_string(ScanFormat::json, with_inventory(sample_inventory()));
  ASSERT_TRUE(parse_scan(good));
  const std::vector<std::pair<std::string, std::string>> mutations = {
      {"\"source\":\"rpm\"", "\"source\":\"apk\""},
      {"\"name\":\"openssl\"", "\"name\":\"openssl\",\"epoch\":\"1\""},
      {"\"name\":\"openssl\",", ""},
      {"\"packages\":[", "\"packages\":[[],"},
  };
  for (const auto& [from, to] : mutations) {
    std::string bad = good;
    const std::size_t at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    EXPECT_FALSE(parse_scan(bad)) << "reader accepted: " << to;
  }
  // The captured array is bounded while it grows, whatever its items are.
  std::string scalars = write_to_string(ScanFormat::json, tricky_document());
  const std::size_t entries = scalars.find(",\n\"entries\"");
  ASSERT_NE(entries, std::string::npos);
  scalars.insert(entries, ",\"packages\":[1,1,1,1]");
  ReadLimits limits;
  limits.max_packages = 3;
  auto bounded = parse_scan(scalars, limits);
  ASSERT_FALSE(bounded);
  EXPECT_EQ(bounded.error().code, ErrorCode::limit) << bounded.error().message;

  // Warnings without packages: the writer never produces that.
  std::string orphan = write_to_string(ScanFormat::json, tricky_document());
  const std::size_t at = orphan.find(",\n\"entries\"");
  ASSERT_NE(at, std::string::npos);
  orphan.insert(at, ",\"package_warnings\":[{\"source\":\"dpkg\",\"message\":\"m\"}]");
  EXPECT_FALSE(parse_scan(orphan));
}

// ---- reports --------------------------------------------------------------------------

Analysis analysis_with_inventory_issue() {
  Analysis a;
  SignatureVerdict v;
  v.ref = SignatureRef{"openssl", "3.0.9"};
  v.state = SignatureState::complete;
  v.counts.expected = v.counts.matching = 12;
  a.verdicts.push_back(v);
  InventoryCheck check;
  check.listed = 3;
  check.confirmed = 1;
  check.without_signature = 1;
  InventoryIssue issue;
  issue.kind = InventoryIssueKind::mismatch;
  issue.package = InstalledPackage{"openssl", "3.0.11", "amd64", PackageManager::dpkg};
  issue.found = {SignatureRef{"openssl", "3.0.9"}};
  issue.state = SignatureState::absent;
  issue.message = "dpkg says openssl 3.0.11 is installed, its files match 3.0.9";
  check.issues.push_back(issue);
  a.inventory = check;
  return a;
}

std::string report(ReportFormat format, const Analysis& a) {
  std::string out;
  StringSink sink(out);
  AnalysisContext context;
  context.host = "web01";
  EXPECT_TRUE(write_analysis_report(format, context, a, sink));
  return out;
}

TEST(InventoryReport, AMismatchMakesTheHostUnclean) {
  Analysis a = analysis_with_inventory_issue();
  EXPECT_FALSE(is_clean(a));
  const std::string text = report(ReportFormat::text, a);
  EXPECT_NE(text.find("inventory_mismatch   dpkg says openssl 3.0.11 is installed, its files match 3.0.9"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("packages: 3 listed, 1 confirmed by their files, 1 without signature"), std::string::npos);
  EXPECT_NE(text.find("result: DEVIATIONS"), std::string::npos);

  a.inventory->issues.clear();
  EXPECT_TRUE(is_clean(a));
  a.inventory.reset();
  EXPECT_EQ(report(ReportFormat::text, a).find("packages:"), std::string::npos);
}

TEST(InventoryReport, JsonCarriesTheIssue) {
  const auto json = nlohmann::json::parse(report(ReportFormat::json, analysis_with_inventory_issue()));
  EXPECT_FALSE(json.at("clean").get<bool>());
  const auto& inv = json.at("inventory");
  EXPECT_EQ(inv.at("listed"), 3);
  EXPECT_EQ(inv.at("without_signature"), 1);
  ASSERT_EQ(inv.at("issues").size(), 1u);
  EXPECT_EQ(inv.at("issues")[0].at("kind"), "inventory_mismatch");
  EXPECT_EQ(inv.at("issues")[0].at("found")[0], "openssl@3.0.9");
  EXPECT_EQ(inv.at("issues")[0].at("state"), "absent");
}

TEST(InventoryReport, XmlIsValidAgainstTheReportSchema) {
  Analysis a = analysis_with_inventory_issue();
  const std::string xml = report(ReportFormat::xml, a);
  EXPECT_NE(xml.find("<inventory-issue kind=\"inventory_mismatch\" source=\"dpkg\" name=\"openssl\""),
            std::string::npos)
      << xml;
  EXPECT_EQ(validate(xml, "report-v1.xsd"), 0) << xml;
  a.inventory->issues.push_back(InventoryIssue{InventoryIssueKind::incomplete,
                                               {"app", "1.1", "", PackageManager::rpm},
                                               {},
                                               SignatureState::partial,
                                               "rpm says app 1.1 is installed, but its files are partly there"});
  EXPECT_EQ(validate(report(ReportFormat::xml, a), "report-v1.xsd"), 0);
}

}  // namespace
}  // namespace tb
