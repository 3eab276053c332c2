// Fleet reports: the text matrix pinned byte for byte for a small fleet, the JSON parsed
// back (nlohmann) and checked field by field, the HTML parsed by libxml2 (as strict XML,
// and by its HTML parser) with hostile names escaped, and the verify results.
#include "format/fleet_report.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <nlohmann/json.hpp>

namespace tb {
namespace {

using S = SignatureState;
using json = nlohmann::json;

constexpr std::int64_t kScanned = 1'795'672'509'123'456'789;  // 2026-11-26T05:55:09.123456789Z

SignatureRef sig(std::string_view id) {
  return *SignatureRef::parse(id);
}

HostStatus host(std::string name, std::string cluster, std::string role,
                std::vector<std::pair<std::string, S>> observed, std::optional<SnapshotDrift> drift = std::nullopt,
                std::size_t deviations = 0) {
  HostStatus h;
  h.name = std::move(name);
  h.cluster = std::move(cluster);
  h.role = std::move(role);
  h.scan = ScanRef{static_cast<std::int64_t>(h.name.size()), kScanned};
  for (auto& [id, state] : observed) h.observed.push_back({sig(id), state});
  std::sort(h.observed.begin(), h.observed.end(),
            [](const ObservedSignature& a, const ObservedSignature& b) { return a.ref < b.ref; });
  h.drift = drift;
  h.deviations = deviations;
  return h;
}

// Three clusters: alpha identical, beta drifting with problems, gamma not judged at all.
struct SmallFleet {
  std::vector<HostStatus> hosts;
  std::vector<StageAssignment> stages;
  std::vector<FleetColumn> columns;

  SmallFleet() {
    const SnapshotDrift same3{3, 0, 0, 0};
    hosts.push_back(host("a-1", "alpha", "active",
                         {{"app-fix@1.1", S::complete}, {"app-fix@1.2", S::absent}, {"mw-sec@2.0", S::absent}}, same3));
    hosts.push_back(host("a-2", "alpha", "inactive",
                         {{"app-fix@1.1", S::superseded}, {"app-fix@1.2", S::complete}, {"mw-sec@2.0", S::absent}},
                         same3));
    hosts.push_back(host("b-1", "beta", "active",
                         {{"app-fix@1.1", S::absent}, {"app-fix@1.2", S::absent}, {"mw-sec@2.0", S::partial}},
                         SnapshotDrift{2, 0, 0, 0}));
    hosts.push_back(host("b-2", "beta", "inactive",
                         {{"app-fix@1.1", S::complete}, {"app-fix@1.2", S::complete}, {"mw-sec@2.0", S::tampered}},
                         SnapshotDrift{2, 1, 0, 2}, 2));
    HostStatus g1 = host("g-1", "gamma", "active", {});
    g1.scan.reset();
    HostStatus g2 = host("g-2", "gamma", "inactive", {{"app-fix@1.1", S::complete}});
    g2.error = "manifest unreadable";
    hosts.push_back(g2);
    hosts.push_back(g1);
    stages = {{"alpha", sig("app-fix@1.1"), Stage::active},
              {"alpha", sig("app-fix@1.2"), Stage::inactive},
              {"alpha", sig("mw-sec@2.0"), Stage::tested},
              {"beta", sig("app-fix@1.1"), Stage::active},
              {"beta", sig("app-fix@1.2"), Stage::tested}};
    columns = {{sig("app-fix@1.1"), SignatureKind::patch},
               {sig("app-fix@1.2"), SignatureKind::patch},
               {sig("mw-sec@2.0"), SignatureKind::patch}};
  }
  FleetMatrix matrix(const FleetFilter& filter = {}) const {
    return build_fleet_matrix(hosts, stages, columns, filter);
  }
};

// ---- text ------------------------------------------------------------------------------

TEST(FleetReportText, SmallFleetExactly) {
  const SmallFleet f;
  const std::string text = fleet_report_text({}, f.matrix());
  EXPECT_EQ(text,
            "fleet: 6 hosts in 3 clusters, 3 columns; 4 problem cells, 2 hosts not scanned\n"
            "legend: C complete  P partial  - absent  S superseded  T tampered  U unexpected  M missing  ? unscanned  "
            "V unverified\n"
            "columns:\n"
            "  1 app-fix@1.1 (patch)\n"
            "  2 app-fix@1.2 (patch)\n"
            "  3 mw-sec@2.0 (patch)\n"
            "cluster alpha: 2 members, 2 scanned, snapshot v3: identical\n"
            "  stages: 1=active 2=inactive 3=tested\n"
            "                123\n"
            "  a-1  active   C--\n"
            "  a-2  inactive SC-\n"
            "cluster beta: 2 members, 2 scanned, snapshot v2: DRIFT: b-2\n"
            "  stages: 1=active 2=tested\n"
            "                123\n"
            "  b-1  active   M-P\n"
            "  b-2  inactive CUT  drift +1 -0 ~2, 2 deviations\n"
            "cluster gamma: 2 members, 0 scanned: no snapshot\n"
            "                123\n"
            "  g-1  active   ???  not scanned\n"
            "  g-2  inactive ???  scan error: manifest unreadable\n"
            "problems:\n"
            "  b-1  app-fix@1.1 missing (stage active: should be complete; found absent)\n"
            "  b-1  mw-sec@2.0  partial\n"
            "  b-2  app-fix@1.2 unexpected (stage tested: should be absent; found complete)\n"
            "  b-2  mw-sec@2.0  tampered\n"
            "  g-1  not scanned\n"
            "  g-2  scan error: manifest unreadable\n");
}

// A staged cell's problem says what its stage asks on that member and what was found
// (it once read "partial (stage inactive, expected)", as if partial were expected).
TEST(FleetReportText, StageWordingSaysWhatWasExpectedAndWhatWasFound) {
  const std::vector<HostStatus> hosts = {
      host("i-1", "c", "inactive", {{"fix@2", S::partial}, {"fix@3", S::tampered}, {"fix@4", S::partial}})};
  const std::vector<StageAssignment> stages = {
      {"c", sig("fix@2"), Stage::inactive}, {"c", sig("fix@3"), Stage::active}, {"c", sig("fix@4"), Stage::tested}};
  const std::vector<FleetColumn> columns = {{sig("fix@2"), SignatureKind::patch},
                                            {sig("fix@3"), SignatureKind::patch},
                                            {sig("fix@4"), SignatureKind::patch},
                                            {sig("fix@5"), SignatureKind::patch}};
  std::vector<StageAssignment> with_no_result = stages;
  with_no_result.push_back({"c", sig("fix@5"), Stage::inactive});
  const FleetMatrix m = build_fleet_matrix(hosts, with_no_result, columns);
  const std::string text = fleet_report_text({}, m);
  EXPECT_NE(text.find("problems:\n"
                      "  i-1  fix@2 partial (stage inactive: should be complete; found partial)\n"
                      "  i-1  fix@3 tampered (stage active: should be complete; found tampered)\n"
                      "  i-1  fix@4 unexpected (stage tested: should be absent; found partial)\n"
                      "  i-1  fix@5 no result (stage inactive: should be complete; found no analysis result)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("expected)"), std::string::npos) << text;
  // The JSON keeps its fields.
  const json j = json::parse(fleet_report_json({}, m));
  EXPECT_EQ(j["problems"][0], (json{{"problem", "partial"},
                                    {"host", "i-1"},
                                    {"cluster", "c"},
                                    {"signature", "fix@2"},
                                    {"observed", "partial"},
                                    {"stage", "inactive"},
                                    {"expected", true}}));
  // verify says it the same way.
  const std::string verified = verify_report_text(hosts[0], verify_host(hosts[0], stages));
  EXPECT_NE(verified.find("  partial      fix@2  (stage inactive: should be complete; found partial)\n"),
            std::string::npos)
      << verified;
  EXPECT_NE(verified.find("  unexpected   fix@4  (stage tested: should be absent; found partial)\n"), std::string::npos)
      << verified;
}

TEST(FleetReportText, NoProblemsAndGeneratedTime) {
  const SmallFleet f;
  FleetFilter only_alpha;
  only_alpha.cluster = "alpha";
  FleetReportContext context;
  context.title = "cluster alpha";
  context.generated_ns = kScanned;
  const std::string text = fleet_report_text(context, f.matrix(only_alpha));
  EXPECT_EQ(text.substr(0, text.find('\n', text.find('\n') + 1) + 1),
            "cluster alpha: 2 hosts in 1 cluster, 3 columns; 0 problem cells, 0 hosts not scanned\n"
            "generated 2026-11-26T05:55:09.123456789Z\n");
  EXPECT_NE(text.find("\nproblems: none\n"), std::string::npos);
}

TEST(FleetReportText, ColumnNumbersGetOneLinePerDecimalPlace) {
  std::vector<FleetColumn> columns;
  std::vector<std::pair<std::string, S>> observed;
  for (int i = 0; i < 12; ++i) {
    columns.push_back({sig("p" + std::to_string(100 + i) + "@1"), SignatureKind::patch});
    observed.emplace_back("p" + std::to_string(100 + i) + "@1", i % 2 ? S::complete : S::absent);
  }
  const std::vector<HostStatus> hosts = {host("h", "c", "active", observed)};
  const std::string text = fleet_report_text({}, build_fleet_matrix(hosts, {}, columns));
  EXPECT_EQ(text.find("\n  stages:"), std::string::npos);  // no stage set: no stage line
  EXPECT_NE(text.find("                       111\n"
                      "              123456789012\n"
                      "  h    active -C-C-C-C-C-C\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n   1 p100@1 (patch)\n"), std::string::npos);
  EXPECT_NE(text.find("\n  12 p111@1 (patch)\n"), std::string::npos);
}

TEST(FleetReportText, HostileNamesCannotDriveTheTerminal) {
  std::vector<HostStatus> hosts = {host("evil\x1b[2J\x07", "c\n2", "act\rive", {{"x@1", S::partial}})};
  hosts[0].error = std::nullopt;
  const std::vector<FleetColumn> columns = {{sig("x\x1b@1"), SignatureKind::patch}};
  const std::string text = fleet_report_text({}, build_fleet_matrix(hosts, {}, columns));
  for (char c : text) EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << static_cast<int>(c);
  EXPECT_NE(text.find("evil\\x1b[2J\\x07"), std::string::npos);
  EXPECT_NE(text.find("cluster c\\x0a2:"), std::string::npos);
  EXPECT_NE(text.find("x\\x1b@1"), std::string::npos);
}

// ---- JSON ------------------------------------------------------------------------------

TEST(FleetReportJson, ParsesBackWithEveryField) {
  const SmallFleet f;
  FleetReportContext context;
  context.generated_ns = kScanned;
  const json j = json::parse(fleet_report_json(context, f.matrix()));
  EXPECT_EQ(j["title"], "fleet");
  EXPECT_EQ(j["generated"], "2026-11-26T05:55:09.123456789Z");
  ASSERT_EQ(j["columns"].size(), 3u);
  EXPECT_EQ(j["columns"][0], (json{{"signature", "app-fix@1.1"}, {"kind", "patch"}}));
  EXPECT_EQ(j["totals"]["complete"], 3);
  EXPECT_EQ(j["totals"]["unscanned"], 6);
  EXPECT_EQ(j["totals"]["missing"], 1);
  EXPECT_EQ(j["totals"].size(), kFleetCellStateCount);

  ASSERT_EQ(j["clusters"].size(), 3u);
  const json& alpha = j["clusters"][0];
  EXPECT_EQ(alpha["name"], "alpha");
  EXPECT_EQ(alpha["members"], 2);
  EXPECT_EQ(alpha["scanned"], 2);
  EXPECT_EQ(alpha["snapshot_version"], 3);
  EXPECT_EQ(alpha["identical"], true);
  EXPECT_EQ(alpha["drifting"], json::array());
  EXPECT_EQ(alpha["stages"], (json{{"app-fix@1.1", "active"}, {"app-fix@1.2", "inactive"}, {"mw-sec@2.0", "tested"}}));
  EXPECT_EQ(alpha["cells"]["absent"], 3);
  ASSERT_EQ(alpha["hosts"].size(), 2u);
  const json& a2 = alpha["hosts"][1];
  EXPECT_EQ(a2["name"], "a-2");
  EXPECT_EQ(a2["role"], "inactive");
  EXPECT_EQ(a2["scan"], (json{{"id", 3}, {"started", "2026-11-26T05:55:09.123456789Z"}}));
  EXPECT_EQ(a2["drift"], (json{{"snapshot_version", 3}, {"added", 0}, {"removed", 0}, {"modified", 0}}));
  EXPECT_EQ(a2["deviations"], 0);
  EXPECT_TRUE(a2["error"].is_null());
  EXPECT_EQ(a2["cells"], (json{"superseded", "complete", "absent"}));

  const json& beta = j["clusters"][1];
  EXPECT_EQ(beta["identical"], false);
  EXPECT_EQ(beta["drifting"], (json{"b-2"}));
  EXPECT_EQ(beta["hosts"][1]["cells"], (json{"complete", "unexpected", "tampered"}));
  EXPECT_EQ(beta["hosts"][1]["deviations"], 2);

  const json& gamma = j["clusters"][2];
  EXPECT_TRUE(gamma["snapshot_version"].is_null());
  EXPECT_TRUE(gamma["hosts"][0]["scan"].is_null());
  EXPECT_TRUE(gamma["hosts"][0]["drift"].is_null());
  EXPECT_EQ(gamma["hosts"][1]["error"], "manifest unreadable");
  EXPECT_TRUE(gamma["stages"].empty());

  const json& problems = j["problems"];
  ASSERT_EQ(problems.size(), 6u);
  EXPECT_EQ(problems[0], (json{{"problem", "missing"},
                               {"host", "b-1"},
                               {"cluster", "beta"},
                               {"signature", "app-fix@1.1"},
                               {"observed", "absent"},
                               {"stage", "active"},
                               {"expected", true}}));
  EXPECT_TRUE(problems[1]["stage"].is_null());
  EXPECT_TRUE(problems[1]["expected"].is_null());
  EXPECT_EQ(problems[2]["problem"], "unexpected");
  EXPECT_EQ(problems[2]["observed"], "complete");
  EXPECT_EQ(problems[2]["expected"], false);
  EXPECT_EQ(problems[4], (json{{"problem", "not_scanned"}, {"host", "g-1"}, {"cluster", "gamma"}}));
  EXPECT_EQ(
      problems[5],
      (json{{"problem", "scan_error"}, {"host", "g-2"}, {"cluster", "gamma"}, {"detail", "manifest unreadable"}}));
}

TEST(FleetReportJson, NoResultCellOfAScannedHostIsAProblem) {
  const std::vector<HostStatus> hosts = {host("h", "c", "active", {})};
  const std::vector<StageAssignment> stages = {{"c", sig("fix@1"), Stage::active}, {"c", sig("fix@2"), Stage::tested}};
  const std::vector<FleetColumn> columns = {{sig("fix@1"), SignatureKind::patch}, {sig("fix@2"), SignatureKind::patch}};
  const json j = json::parse(fleet_report_json({}, build_fleet_matrix(hosts, stages, columns)));
  ASSERT_EQ(j["problems"].size(), 1u);  // fix@2 is not expected here: no result is no problem
  EXPECT_EQ(j["problems"][0]["problem"], "no_result");
  EXPECT_EQ(j["problems"][0]["signature"], "fix@1");
  EXPECT_TRUE(j["problems"][0]["observed"].is_null());
}

TEST(FleetReportJson, HostileAndNonUtf8NamesStayValidJson) {
  const std::vector<HostStatus> hosts = {host("q\"uote\\\n\xff\xfe", "c\"", "r\x01", {{"x\"@1", S::partial}})};
  const std::vector<FleetColumn> columns = {{sig("x\"@1"), SignatureKind::patch}};
  const std::string text = fleet_report_json({}, build_fleet_matrix(hosts, {}, columns));
  const json j = json::parse(text);
  EXPECT_EQ(j["clusters"][0]["name"], "c\"");
  EXPECT_EQ(j["clusters"][0]["hosts"][0]["name"], "q\"uote\\\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(j["columns"][0]["signature"], "x\"@1");
  EXPECT_EQ(j["problems"][0]["signature"], "x\"@1");
}

// ---- HTML ------------------------------------------------------------------------------

struct XmlDocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocDeleter>;

// libxml2 errors are collected instead of printed, so a test can assert there are none.
void collect_error(void* ctx, xmlErrorPtr error) {
  static_cast<std::vector<std::string>*>(ctx)->push_back(error->message ? error->message : "?");
}

// Strictly well-formed: the page parses as XML (our HTML is written XML-compatible).
XmlDoc parse_strict(const std::string& page, std::vector<std::string>& errors) {
  xmlSetStructuredErrorFunc(&errors, collect_error);
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  XmlDoc doc(
      xmlCtxtReadMemory(ctxt, page.data(), static_cast<int>(page.size()), "fleet.html", "UTF-8", XML_PARSE_NONET));
  if (!ctxt->wellFormed) errors.push_back("not well-formed");
  xmlFreeParserCtxt(ctxt);
  xmlSetStructuredErrorFunc(nullptr, nullptr);
  return doc;
}

std::vector<std::string> xpath_strings(xmlDoc* doc, const char* expr) {
  std::vector<std::string> out;
  xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
  xmlXPathObjectPtr obj = xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(expr), ctx);
  if (obj != nullptr && obj->nodesetval != nullptr)
    for (int i = 0; i < obj->nodesetval->nodeNr; ++i) {
      xmlChar* s = xmlNodeGetContent(obj->nodesetval->nodeTab[i]);
      out.emplace_back(s ? reinterpret_cast<const char*>(s) : "");
      xmlFree(s);
    }
  xmlXPathFreeObject(obj);
  xmlXPathFreeContext(ctx);
  return out;
}

TEST(FleetReportHtml, WellFormedWithAColouredCellPerHostAndColumn) {
  const SmallFleet f;
  const std::string page = fleet_report_html({}, f.matrix());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>\n", 0), 0u);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  std::vector<std::string> errors;
  XmlDoc doc = parse_strict(page, errors);
  ASSERT_NE(doc, nullptr);
  EXPECT_TRUE(errors.empty()) << errors.front();

  EXPECT_EQ(xpath_strings(doc.get(), "//table[@class='matrix']/thead/tr/th[@class='col']/div"),
            (std::vector<std::string>{"app-fix@1.1", "app-fix@1.2", "mw-sec@2.0"}));
  EXPECT_EQ(xpath_strings(doc.get(), "//table[@class='matrix']//td[@class='host']"),
            (std::vector<std::string>{"a-1", "a-2", "b-1", "b-2", "g-1", "g-2"}));
  EXPECT_EQ(xpath_strings(doc.get(), "//tr[td='b-2']/td[contains(@class,'s ')]"),
            (std::vector<std::string>{"C", "U", "T"}));
  EXPECT_EQ(xpath_strings(doc.get(), "//tr[td='b-2']/td[contains(@class,'s-unexpected')]/@title"),
            (std::vector<std::string>{"app-fix@1.2: unexpected; stage tested: should be absent; found complete"}));
  EXPECT_EQ(xpath_strings(doc.get(), "//tr[td='b-1']/td[contains(@class,'s-missing')]/@class"),
            (std::vector<std::string>{"s s-missing x"}));
  EXPECT_EQ(xpath_strings(doc.get(), "//tr[@class='cluster']/th/span[contains(@class,'mark')]"),
            (std::vector<std::string>{"identical", "DRIFT: b-2", "no snapshot"}));
  EXPECT_EQ(xpath_strings(doc.get(), "//table[@class='problems']/tbody/tr/td[4]"),
            (std::vector<std::string>{"missing", "partial", "unexpected", "tampered", "not scanned", "scan error"}));
  EXPECT_EQ(
      xpath_strings(doc.get(), "//table[@class='problems']/tbody/tr/td[5]"),
      (std::vector<std::string>{"stage active: should be complete; found absent", "",
                                "stage tested: should be absent; found complete", "", "", "manifest unreadable"}));
  // Every state has a colour rule, and no cell lacks a state class.
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i)
    EXPECT_NE(page.find(".s-" + std::string(to_string(static_cast<FleetCellState>(i))) + "{background:"),
              std::string::npos);
  EXPECT_EQ(xpath_strings(doc.get(), "//table[@class='matrix']//td[contains(@class,'s ')]").size(), 18u);
}

TEST(FleetReportHtml, HostileNamesAreEscaped) {
  std::vector<HostStatus> hosts = {
      host("<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "<b>r</b>", {{"<i>@1", S::partial}}),
      host("amp&x\xff", "\"><img src=x onerror=alert(2)>", "inactive", {})};
  hosts[1].error = "</td><script>alert(3)</script>";
  const std::vector<FleetColumn> columns = {{sig("<i>@1"), SignatureKind::patch}};
  FleetReportContext context;
  context.title = "cluster <x>";
  const std::string page = fleet_report_html(context, build_fleet_matrix(hosts, {}, columns));
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("<i>"), std::string::npos);
  EXPECT_EQ(page.find("<b>r"), std::string::npos);

  std::vector<std::string> errors;
  XmlDoc doc = parse_strict(page, errors);
  ASSERT_NE(doc, nullptr);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(xpath_strings(doc.get(), "//title"), (std::vector<std::string>{"trustbase: cluster <x>"}));
  EXPECT_EQ(xpath_strings(doc.get(), "//table[@class='matrix']//td[@class='host']"),
            (std::vector<std::string>{"amp&x\xEF\xBF\xBD", "<script>alert(1)</script>"}));  // inactive first
  EXPECT_EQ(xpath_strings(doc.get(), "//th[@class='col']/@title"), (std::vector<std::string>{"<i>@1 (patch)"}));
  EXPECT_TRUE(xpath_strings(doc.get(), "//script").empty());
  EXPECT_TRUE(xpath_strings(doc.get(), "//img").empty());
  EXPECT_EQ(xpath_strings(doc.get(), "//table[@class='problems']//td[5]"),
            (std::vector<std::string>{"</td><script>alert(3)</script>", ""}));

  // A browser-style HTML parser finds the same: no script or img element anywhere.
  XmlDoc html(htmlReadMemory(page.data(), static_cast<int>(page.size()), "fleet.html", "UTF-8",
                             HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING));
  ASSERT_NE(html, nullptr);
  EXPECT_TRUE(xpath_strings(html.get(), "//script").empty());
  EXPECT_TRUE(xpath_strings(html.get(), "//img").empty());
  EXPECT_EQ(xpath_strings(html.get(), "//table[@class='matrix']//td[@class='host']").size(), 2u);
}

TEST(FleetReportHtml, EscapeHelper) {
  std::string out;
  append_html_escaped(out, "a<b>&\"c'\x01\xff");
  EXPECT_EQ(out, "a&lt;b&gt;&amp;&quot;c'\xEF\xBF\xBD\xEF\xBF\xBD");
}

// ---- writer and formats -----------------------------------------------------------------

TEST(FleetReportWrite, EachFormatThroughTheSink) {
  const SmallFleet f;
  const FleetMatrix m = f.matrix();
  for (auto [name, format] : {std::pair{"text", FleetReportFormat::text}, std::pair{"json", FleetReportFormat::json},
                              std::pair{"html", FleetReportFormat::html}}) {
    EXPECT_EQ(fleet_report_format_from_string(name), format);
    std::string out;
    StringSink sink(out);
    ASSERT_TRUE(write_fleet_report(format, {}, m, sink));
    const std::string direct = format == FleetReportFormat::text   ? fleet_report_text({}, m)
                               : format == FleetReportFormat::json ? fleet_report_json({}, m)
                                                                   : fleet_report_html({}, m);
    EXPECT_EQ(out, direct);
  }
  EXPECT_EQ(fleet_report_format_from_string("xml"), std::nullopt);
  EXPECT_EQ(fleet_cell_letter(FleetCellState::absent), '-');
  EXPECT_EQ(fleet_cell_letter(FleetCellState::unscanned), '?');
}

// ---- verify ----------------------------------------------------------------------------

TEST(VerifyReport, TextForOkAndForEveryKindOfReason) {
  const SmallFleet f;
  const HostStatus& a1 = f.hosts[0];
  EXPECT_EQ(verify_report_text(a1, verify_host(a1, f.stages)),
            "host a-1 (cluster alpha, role active, scan 3 of 2026-11-26T05:55:09.123456789Z): OK\n");

  const HostStatus& b2 = f.hosts[3];
  VerifyRequest req;
  req.cluster_identical = true;
  req.expect_complete = {sig("zz@9")};
  EXPECT_EQ(verify_report_text(b2, verify_host(b2, f.stages, req)),
            "host b-2 (cluster beta, role inactive, scan 3 of 2026-11-26T05:55:09.123456789Z): FAILED\n"
            "  unexpected   app-fix@1.2  (stage tested: should be absent; found complete)\n"
            "  tampered     mw-sec@2.0  (tampered)\n"
            "  no result    zz@9  (no analysis result)\n"
            "  deviations   2 deviating files\n"
            "  drift        snapshot v2: 1 added, 0 removed, 2 modified\n");

  EXPECT_EQ(verify_report_text(f.hosts[5], verify_host(f.hosts[5], f.stages)),
            "host g-1 (cluster gamma, role active): FAILED\n"
            "  not scanned  the host has no scan\n");
  EXPECT_EQ(verify_report_text(f.hosts[4], verify_host(f.hosts[4], f.stages)),
            "host g-2 (cluster gamma, role inactive, scan 3 of 2026-11-26T05:55:09.123456789Z): FAILED\n"
            "  scan error   manifest unreadable\n");
  HostStatus lone = f.hosts[1];
  lone.cluster.clear();
  lone.drift.reset();
  EXPECT_EQ(verify_report_text(lone, verify_host(lone, {}, req)),
            "host a-2 (cluster (none), role inactive, scan 3 of 2026-11-26T05:55:09.123456789Z): FAILED\n"
            "  no result    zz@9  (no analysis result)\n"
            "  no snapshot  not compared with a cluster snapshot\n");
}

// The deviation count divided as the host's status divides it: each part counts what it
// names (the whole once said "N files no known signature explains", attributed ones included).
TEST(VerifyReport, DeviationsAreCountedByWhatExplainsThem) {
  const SmallFleet f;
  HostStatus h = f.hosts[0];
  h.deviations = 7;
  h.attribution = DeviationAttribution{4, 3, {sig("curl@7.88.1-10+deb12u15"), sig("tzdata@2024a")}};
  EXPECT_EQ(verify_report_text(h, verify_host(h, f.stages)),
            "host a-1 (cluster alpha, role active, scan 3 of 2026-11-26T05:55:09.123456789Z): FAILED\n"
            "  deviations   7 deviating files: 4 that no signature explains, 3 attributed to "
            "curl@7.88.1-10+deb12u15, tzdata@2024a\n");
  const json j = json::parse(verify_report_json(h, verify_host(h, f.stages)));
  EXPECT_EQ(j["reasons"][0], (json{{"problem", "deviations"},
                                   {"count", 7},
                                   {"unexplained", 4},
                                   {"attributed", 3},
                                   {"attributed_to", {"curl@7.88.1-10+deb12u15", "tzdata@2024a"}}}));

  h.deviations = 1;
  h.attribution = DeviationAttribution{1, 0, {}};
  EXPECT_NE(verify_report_text(h, verify_host(h, f.stages))
                .find("  deviations   1 deviating file: 1 that no "
                      "signature explains\n"),
            std::string::npos);
  h.deviations = 8;
  h.attribution = DeviationAttribution{0, 8, {}};
  for (int i = 0; i < 7; ++i) h.attribution->signatures.push_back(sig("p" + std::to_string(i) + "@1"));
  EXPECT_NE(verify_report_text(h, verify_host(h, f.stages))
                .find("  deviations   8 deviating files: 8 attributed to p0@1, p1@1, p2@1, p3@1, p4@1 and 2 more\n"),
            std::string::npos);
}

// Packages installed at a version no stored signature checks: a warning after the verdict
// (OK), or a reason with --require-signatures; each package's message listed.
TEST(VerifyReport, UnverifiedPackagesAreAWarningOrAReason) {
  const SmallFleet f;
  HostStatus h = f.hosts[0];
  h.inventory_mismatches = 2;
  h.unverified_packages = std::vector<std::string>{
      "dpkg: curl 7.88.1-10+deb12u14 installed; no signature of that version; stored: 7.88.1-10+deb12u5, "
      "7.88.1-10+deb12u15",
      "dpkg: tzdata 2024b installed; no signature of that version; stored: 2024a"};
  EXPECT_EQ(verify_report_text(h, verify_host(h, f.stages)),
            "host a-1 (cluster alpha, role active, scan 3 of 2026-11-26T05:55:09.123456789Z): OK\n"
            "warning: 2 packages installed at a version no stored signature checks (unverified; "
            "--require-signatures fails on them)\n"
            "      dpkg: curl 7.88.1-10+deb12u14 installed; no signature of that version; stored: 7.88.1-10+deb12u5, "
            "7.88.1-10+deb12u15\n"
            "      dpkg: tzdata 2024b installed; no signature of that version; stored: 2024a\n");
  json j = json::parse(verify_report_json(h, verify_host(h, f.stages)));
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["reasons"], json::array());
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_EQ(j["warnings"][0], (json{{"problem", "unverified"}, {"count", 2}, {"packages", *h.unverified_packages}}));

  VerifyRequest strict;
  strict.require_signatures = true;
  EXPECT_EQ(verify_report_text(h, verify_host(h, f.stages, strict)),
            "host a-1 (cluster alpha, role active, scan 3 of 2026-11-26T05:55:09.123456789Z): FAILED\n"
            "  unverified   2 packages installed at a version no stored signature checks\n"
            "      dpkg: curl 7.88.1-10+deb12u14 installed; no signature of that version; stored: 7.88.1-10+deb12u5, "
            "7.88.1-10+deb12u15\n"
            "      dpkg: tzdata 2024b installed; no signature of that version; stored: 2024a\n");
  j = json::parse(verify_report_json(h, verify_host(h, f.stages, strict)));
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["reasons"][0]["problem"], "unverified");
  EXPECT_EQ(j["warnings"], json::array());
}

TEST(VerifyReport, JsonParsesBack) {
  const SmallFleet f;
  const HostStatus& b2 = f.hosts[3];
  VerifyRequest req;
  req.cluster_identical = true;
  const json j = json::parse(verify_report_json(b2, verify_host(b2, f.stages, req)));
  EXPECT_EQ(j["host"], "b-2");
  EXPECT_EQ(j["cluster"], "beta");
  EXPECT_EQ(j["role"], "inactive");
  EXPECT_EQ(j["scan"]["id"], 3);
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["reasons"].size(), 4u);
  EXPECT_EQ(
      j["reasons"][0],
      (json{{"problem", "unexpected"}, {"signature", "app-fix@1.2"}, {"observed", "complete"}, {"stage", "tested"}}));
  EXPECT_EQ(j["reasons"][1], (json{{"problem", "tampered"}, {"signature", "mw-sec@2.0"}, {"observed", "tampered"}}));
  EXPECT_EQ(j["reasons"][2], (json{{"problem", "deviations"}, {"count", 2}}));
  EXPECT_EQ(j["reasons"][3],
            (json{{"problem", "drift"},
                  {"drift", {{"snapshot_version", 2}, {"added", 1}, {"removed", 0}, {"modified", 2}}}}));

  const json ok = json::parse(verify_report_json(f.hosts[0], verify_host(f.hosts[0], f.stages)));
  EXPECT_EQ(ok["ok"], true);
  EXPECT_EQ(ok["reasons"], json::array());
  const json err = json::parse(verify_report_json(f.hosts[4], verify_host(f.hosts[4], f.stages)));
  EXPECT_EQ(err["reasons"][0], (json{{"problem", "scan_error"}, {"detail", "manifest unreadable"}}));
  const json none = json::parse(verify_report_json(f.hosts[5], verify_host(f.hosts[5], f.stages)));
  EXPECT_TRUE(none["scan"].is_null());
}

TEST(VerifyReport, WriterRefusesXml) {
  const SmallFleet f;
  const HostVerdict v = verify_host(f.hosts[0], f.stages);
  std::string out;
  StringSink sink(out);
  ASSERT_TRUE(write_verify_report(ReportFormat::text, f.hosts[0], v, sink));
  EXPECT_EQ(out, verify_report_text(f.hosts[0], v));
  out.clear();
  ASSERT_TRUE(write_verify_report(ReportFormat::json, f.hosts[0], v, sink));
  EXPECT_EQ(out, verify_report_json(f.hosts[0], v));
  const auto r = write_verify_report(ReportFormat::xml, f.hosts[0], v, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace tb
