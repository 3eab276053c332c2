// Package signatures through the store and the analysis: a .deb installed with dpkg-deb
// into a host tree, the host scanned by the real scanner, its conffile edited: the
// package is complete with one config_changed file, before and after a round trip
// through the SQLite store (config paths, architecture and tag ids persist).
#include <gtest/gtest.h>

#include "core/analysis.h"
#include "core/signature_index.h"
#include "format/analysis_report.h"
#include "scan/scanner.h"
#include "sources/deb_source.h"
#include "sources/rpm_source.h"
#include "sources/source_test_support.h"
#include "sources/swid_source.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

using namespace srctest;

class PackageAnalysisTest : public TempDirTest {
 protected:
  Signature app_deb() {
    DebSpec spec;
    spec.files = {{"/usr/bin/app", "#!/bin/sh\necho app\n"}, {"/etc/app/app.conf", "port=8080\n"}};
    spec.executables = {"/usr/bin/app"};
    spec.conffiles = {"/etc/app/app.conf"};
    deb_ = build_deb(dir_, spec);
    auto pkg = read_deb(deb_.string());
    if (!pkg) throw std::runtime_error(pkg.error().message);
    return std::move(pkg->signature);
  }

  // The host: the package unpacked as dpkg would, then scanned as if it were "/".
  Manifest install_and_scan(const std::function<void(const fs::path&)>& admin) {
    const fs::path host = dir_ / "host";
    fs::create_directories(host);
    if (run("dpkg-deb -x " + quote(deb_.string()) + " " + quote(host.string())) != 0) throw std::runtime_error("dpkg-deb -x");
    admin(host);
    ScanOptions options;
    options.sysroot = host.string();
    options.roots = {"/etc", "/usr"};
    auto scanned = scan_to_manifest(options);
    if (!scanned) throw std::runtime_error(scanned.error().message);
    return std::move(scanned->manifest);
  }

  fs::path deb_;
};

const SignatureVerdict& only_verdict(const Analysis& a) {
  if (a.verdicts.size() != 1) throw std::runtime_error("expected one verdict");
  return a.verdicts.front();
}

TEST_F(PackageAnalysisTest, EditedConffileIsConfigChangedAndThePackageStaysComplete) {
  Signature sig = app_deb();
  const Manifest pristine = install_and_scan([](const fs::path&) {});
  auto index = SignatureIndex::build({sig});
  ASSERT_TRUE(index);
  const Analysis clean = analyze(pristine, *index);
  EXPECT_EQ(only_verdict(clean).state, SignatureState::complete);
  EXPECT_EQ(only_verdict(clean).counts.matching, only_verdict(clean).counts.expected);

  fs::remove_all(dir_ / "host");
  const Manifest edited = install_and_scan([](const fs::path& host) { write(host / "etc/app/app.conf", "port=9090\n"); });
  const Analysis a = analyze(edited, *index);
  const SignatureVerdict& v = only_verdict(a);
  EXPECT_EQ(v.state, SignatureState::complete);
  EXPECT_EQ(v.counts.config_changed, 1u);
  EXPECT_EQ(v.counts.modified, 0u);
  ASSERT_EQ(v.issues.size(), 1u);
  EXPECT_EQ(v.issues[0].path, "/etc/app/app.conf");
  EXPECT_EQ(v.issues[0].kind, IssueKind::config_changed);
  EXPECT_TRUE(a.deviations.empty());
  EXPECT_TRUE(is_clean(a));

  std::string text, json;
  StringSink text_sink(text), json_sink(json);
  ASSERT_TRUE(write_analysis_report(ReportFormat::text, AnalysisContext{nullptr, "web01", false}, a, text_sink));
  ASSERT_TRUE(write_analysis_report(ReportFormat::json, AnalysisContext{nullptr, "web01", false}, a, json_sink));
  EXPECT_NE(text.find("complete   product  app@1.0-1  (5/6 files match; 1 config changed)"), std::string::npos) << text;
  EXPECT_NE(text.find("config_changed /etc/app/app.conf  (content)"), std::string::npos) << text;
  EXPECT_NE(text.find("result: clean"), std::string::npos) << text;
  EXPECT_NE(json.find("\"config_changed\":1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"kind\":\"config_changed\""), std::string::npos) << json;
  // The XML form carries it too, and still validates against its schema.
  std::string xml;
  StringSink xml_sink(xml);
  ASSERT_TRUE(write_analysis_report(ReportFormat::xml, AnalysisContext{nullptr, "web01", false}, a, xml_sink));
  EXPECT_NE(xml.find("config-changed=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("kind=\"config_changed\""), std::string::npos) << xml;
  write(dir_ / "report.xml", xml);
  std::string log;
  EXPECT_EQ(run("xmllint --noout --schema " + quote(std::string(TB_SOURCE_DIR) + "/schema/report-v1.xsd") + " " +
                quote((dir_ / "report.xml").string()), &log),
            0)
      << log << xml;

  // The binary edited as well: that one is tampering.
  fs::remove_all(dir_ / "host");
  const Manifest trojan = install_and_scan([](const fs::path& host) {
    write(host / "etc/app/app.conf", "port=9090\n");
    write(host / "usr/bin/app", "#!/bin/sh\nsteal\n", 0755);
  });
  const Analysis bad = analyze(trojan, *index);
  EXPECT_EQ(only_verdict(bad).state, SignatureState::tampered);
  ASSERT_EQ(bad.deviations.size(), 1u);
  EXPECT_EQ(bad.deviations[0].path, "/usr/bin/app");
}

TEST_F(PackageAnalysisTest, PackageMetadataSurvivesTheStore) {
  Signature deb = app_deb();
  RpmSpec rpm_spec;
  rpm_spec.name = "rconf";
  rpm_spec.install = "mkdir -p %{buildroot}/etc\nprintf 'a=1\\n' > %{buildroot}/etc/r.conf";
  rpm_spec.files = "%config /etc/r.conf";
  auto rpm = read_rpm(build_rpm(dir_, rpm_spec).string());
  ASSERT_TRUE(rpm) << rpm.error().message;
  write(dir_ / "t.swidtag", R"(<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
      xmlns:h="http://www.w3.org/2001/04/xmlenc#sha256" name="tool" tagId="example.tool-1" version="1">
  <Payload><File root="/opt/tool" name="t" h:hash=")" + Sha256::of("t").hex() + R"("/></Payload></SoftwareIdentity>)");
  auto swid = read_swid_tag((dir_ / "t.swidtag").string());
  ASSERT_TRUE(swid) << swid.error().message;

  auto store = open_sqlite_store((dir_ / "store.db").string());
  ASSERT_TRUE(store) << store.error().message;
  for (const Signature* s : {&deb, &rpm->signature, &swid->signature}) {
    auto id = (*store)->put_signature(*s);
    ASSERT_TRUE(id) << id.error().message;
    auto again = (*store)->put_signature(*s);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *id) << "same package twice: the same signature";
  }
  auto back = (*store)->signatures();
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].info, deb.info);
  EXPECT_EQ((*back)[0].manifest, deb.manifest);
  EXPECT_EQ((*back)[1].info, rpm->signature.info);
  EXPECT_EQ((*back)[1].info.config_paths, std::vector<std::string>{"/etc/r.conf"});
  EXPECT_EQ((*back)[2].info.tag_id, "example.tool-1");
  EXPECT_EQ((*back)[2].info, swid->signature.info);
  auto infos = (*store)->signature_infos();
  ASSERT_TRUE(infos);
  ASSERT_EQ(infos->size(), 3u);
  EXPECT_EQ((*infos)[0], deb.info);
  EXPECT_EQ((*infos)[0].architecture, "all");

  // The analysis of a stored signature still knows the conffile.
  const Manifest edited = install_and_scan([](const fs::path& host) { write(host / "etc/app/app.conf", "mine\n"); });
  auto index = SignatureIndex::build(std::move(*back));
  ASSERT_TRUE(index);
  const Analysis a = analyze(edited, *index);
  EXPECT_EQ(a.verdicts[0].state, SignatureState::complete);
  EXPECT_EQ(a.verdicts[0].counts.config_changed, 1u);
}

}  // namespace
}  // namespace tb
