// Signature analysis and snapshot drift: hand-made products, versions and patch chains with
// exact verdicts and deviations, and a seeded randomised check that an exact union of
// signatures is judged complete with no deviation.
#include "core/analysis.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/signature_index.h"
#include "core/test_records.h"

namespace tb {

// Readable failures: "missing /x" / "replaced /x content by app@2".
void PrintTo(const FileIssue& issue, std::ostream* os) {
  *os << to_string(issue.kind) << ' ' << issue.path;
  if (!issue.changed.empty()) *os << ' ' << describe(issue.changed);
  if (issue.other) *os << " by " << issue.other->id();
}

namespace {

DriftOptions comparing(AttrSet attrs) {
  DriftOptions o;
  o.compare = attrs;
  return o;
}

using test::manifest;

// --- builders -------------------------------------------------------------------------

// A package's view of a file: no owner, no mtime.
FileRecord pkg(std::string path, std::string_view content, std::uint32_t mode = 0644) {
  FileRecord r = test::file(std::move(path), content, mode);
  r.present = Attr::type | Attr::size | Attr::mode | Attr::sha256;
  return r;
}

FileRecord pkg_dir(std::string path) {
  FileRecord r = test::dir(std::move(path));
  r.present = Attr::type | Attr::mode;
  return r;
}

// What a scanner sees of an installed package record: every attribute.
FileRecord as_scanned(FileRecord r) {
  r.present |= Attr::mode | Attr::uid | Attr::gid | Attr::mtime;
  if (r.type == FileType::directory) {
    r.present |= Attr::size;
    r.size = 4096;
  }
  r.mtime_ns = 1'700'000'000'000'000'000;
  return r;
}

SignatureRef ref(std::string id) {
  return *SignatureRef::parse(id);
}

Signature product(std::string id, std::vector<FileRecord> records) {
  Signature s;
  s.info.ref = ref(std::move(id));
  s.info.kind = SignatureKind::product;
  s.manifest = manifest(std::move(records));
  return s;
}

Signature patch(std::string id, std::optional<std::string> base, std::vector<std::string> supersedes,
                std::vector<FileRecord> records) {
  Signature s = product(std::move(id), std::move(records));
  s.info.kind = SignatureKind::patch;
  if (base) s.info.patches = ref(*base);
  for (std::string& old : supersedes) s.info.supersedes.push_back(ref(std::move(old)));
  return s;
}

SignatureIndex make_index(std::vector<Signature> signatures) {
  auto index = SignatureIndex::build(std::move(signatures));
  if (!index) throw std::runtime_error(index.error().message);
  return std::move(*index);
}

// The files of the given signatures as installed, later ones overwriting earlier ones
// (a patch applied over its product), plus `extra` scanned records.
Manifest installed(const SignatureIndex& index, std::vector<std::string> ids, std::vector<FileRecord> extra = {}) {
  std::map<std::string, FileRecord> files;
  for (const std::string& id : ids) {
    for (const FileRecord& r : index.signature(*index.find(ref(id))).manifest) files[r.path] = as_scanned(r);
  }
  for (FileRecord& r : extra) files[r.path] = std::move(r);
  std::vector<FileRecord> records;
  for (auto& [path, r] : files) records.push_back(std::move(r));
  return manifest(std::move(records));
}

// Replaces (or with nullopt removes) one record of a manifest.
Manifest with(const Manifest& m, const std::string& path, std::optional<FileRecord> record) {
  std::vector<FileRecord> records;
  for (const FileRecord& r : m) {
    if (r.path != path) records.push_back(r);
  }
  if (record) records.push_back(std::move(*record));
  return manifest(std::move(records));
}

const SignatureVerdict& verdict(const Analysis& a, const std::string& id) {
  for (const SignatureVerdict& v : a.verdicts) {
    if (v.ref.id() == id) return v;
  }
  throw std::runtime_error("no verdict for " + id);
}

std::vector<std::string> ids(const std::vector<SignatureRef>& refs) {
  std::vector<std::string> out;
  for (const SignatureRef& r : refs) out.push_back(r.id());
  return out;
}

// "modified /x size,content owners=a@1,b@1 content=c@1": one line per deviation.
std::vector<std::string> lines(const std::vector<FileDeviation>& deviations) {
  std::vector<std::string> out;
  for (const FileDeviation& d : deviations) {
    std::string s = std::string(to_string(d.change)) + " " + d.path;
    if (!d.changed.empty()) s += " " + describe(d.changed);
    auto list = [&s](const char* name, const std::vector<SignatureRef>& refs) {
      if (refs.empty()) return;
      s += std::string(" ") + name + "=";
      for (std::size_t i = 0; i < refs.size(); ++i) s += (i ? "," : "") + refs[i].id();
    };
    list("owners", d.owners);
    list("content", d.content_owners);
    out.push_back(s);
  }
  return out;
}

using Strings = std::vector<std::string>;
const AttrSet kContent = Attr::size | Attr::sha256;

// app@1 and app@2 share lib and conf; app-p1 patches app@1 (new lib, new file); app-p2
// supersedes app-p1 (newer lib again, one more file) and leaves app-p1's /opt/app/new alone.
Signature app1() {
  return product("app@1", {pkg_dir("/opt/app"), pkg("/opt/app/bin", "bin1", 0755), pkg("/opt/app/lib", "lib1"),
                           pkg("/opt/app/conf", "conf1")});
}
Signature app2() {
  return product("app@2", {pkg_dir("/opt/app"), pkg("/opt/app/bin", "bin2", 0755), pkg("/opt/app/lib", "lib1"),
                           pkg("/opt/app/conf", "conf1")});
}
Signature p1() {
  return patch("app-p1@1", "app@1", {},
               {pkg_dir("/opt/app"), pkg("/opt/app/lib", "lib1-p1"), pkg("/opt/app/new", "new1")});
}
Signature p2() {
  return patch("app-p2@1", "app@1", {"app-p1@1"}, {pkg("/opt/app/lib", "lib1-p2"), pkg("/opt/app/new2", "new2")});
}

// --- index ------------------------------------------------------------------------------

TEST(SignatureIndex, LooksUpByRefPathAndContent) {
  const SignatureIndex index = make_index({app1(), app2(), p1()});
  ASSERT_EQ(index.size(), 3u);
  EXPECT_EQ(index.find(ref("app@2")), SignatureIndex::Id{1});
  EXPECT_EQ(index.find(ref("app@3")), std::nullopt);
  EXPECT_EQ(index.ref(2).id(), "app-p1@1");

  const auto lib = index.owners(std::string_view("/opt/app/lib"));
  ASSERT_EQ(lib.size(), 3u);
  EXPECT_EQ(lib[0].signature, 0u);
  EXPECT_EQ(lib[2].signature, 2u);
  EXPECT_EQ(lib[2].record->sha256, Sha256::of("lib1-p1"));
  EXPECT_TRUE(index.owners(std::string_view("/opt/nothing")).empty());
  EXPECT_EQ(index.path_count(), 5u);  // /opt/app, bin, conf, lib, new

  const auto lib1 = index.content_owners(Sha256::of("lib1"));
  ASSERT_EQ(lib1.size(), 2u);
  EXPECT_EQ(lib1[0].signature, 0u);
  EXPECT_EQ(lib1[1].signature, 1u);
  EXPECT_EQ(lib1[1].record->path, "/opt/app/lib");
  EXPECT_TRUE(index.content_owners(Sha256::of("nope")).empty());

  EXPECT_TRUE(index.listed_by_patch("/opt/app/new"));
  EXPECT_TRUE(index.listed_by_patch("/opt/app"));
  EXPECT_FALSE(index.listed_by_patch("/opt/app/bin"));
  EXPECT_FALSE(index.listed_by_patch("/elsewhere"));

  // path_ids are aligned with each manifest's records.
  const auto paths = index.path_ids(0);
  ASSERT_EQ(paths.size(), 4u);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(index.owners(paths[i]).front().record->path, index.signature(0).manifest[i].path);
  }
}

TEST(SignatureIndex, RelationGraphIsTransitive) {
  // p3 supersedes p2, which supersedes p1, which patches app@1; p2 names no base itself.
  const SignatureIndex index =
      make_index({p1(), app1(), patch("app-p2@1", std::nullopt, {"app-p1@1"}, {pkg("/opt/app/lib", "2")}),
                  patch("app-p3@1", std::nullopt, {"app-p2@1", "gone@9"}, {pkg("/opt/app/lib", "3")}), app2()});
  const auto id = [&](const char* s) { return *index.find(ref(s)); };
  const auto later = [&](const char* s) {
    Strings out;
    for (const auto l : index.later(id(s))) out.push_back(index.ref(l).id());
    return out;
  };
  const auto earlier = [&](const char* s) {
    Strings out;
    for (const auto l : index.earlier(id(s))) out.push_back(index.ref(l).id());
    return out;
  };
  EXPECT_EQ(later("app@1"), (Strings{"app-p1@1", "app-p2@1", "app-p3@1"}));
  EXPECT_EQ(later("app-p1@1"), (Strings{"app-p2@1", "app-p3@1"}));
  EXPECT_EQ(later("app-p3@1"), Strings{});
  EXPECT_EQ(later("app@2"), Strings{});
  EXPECT_EQ(earlier("app-p3@1"), (Strings{"app-p1@1", "app@1", "app-p2@1"}));  // Id order
  EXPECT_TRUE(index.is_later(id("app@1"), id("app-p3@1")));
  EXPECT_FALSE(index.is_later(id("app-p3@1"), id("app@1")));
  EXPECT_TRUE(index.is_earlier(id("app-p3@1"), id("app@1")));
  EXPECT_FALSE(index.is_later(id("app@1"), id("app@1")));
  EXPECT_TRUE(index.is_other_version(id("app@1"), id("app@2")));
  EXPECT_FALSE(index.is_other_version(id("app@1"), id("app@1")));
  EXPECT_FALSE(index.is_other_version(id("app@1"), id("app-p1@1")));
}

TEST(SignatureIndex, CycleTerminatesAndDuplicatesAreRejected) {
  const SignatureIndex index = make_index(
      {patch("a@1", std::nullopt, {"b@1"}, {pkg("/a", "a")}), patch("b@1", std::nullopt, {"a@1"}, {pkg("/b", "b")})});
  EXPECT_EQ(index.later(0).size(), 1u);
  EXPECT_EQ(index.later(1).size(), 1u);

  auto dup = SignatureIndex::build({app1(), app1()});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(dup.error().message.find("app@1"), std::string::npos);
}

TEST(SignatureIndex, MovedIndexStillAnswers) {
  SignatureIndex a = make_index({app1()});
  SignatureIndex b = std::move(a);
  EXPECT_EQ(b.owners(std::string_view("/opt/app/conf")).size(), 1u);
  EXPECT_EQ(b.find(ref("app@1")), SignatureIndex::Id{0});
}

// --- products ---------------------------------------------------------------------------

// Path ids looked up before (a chunk's memo, format/chunked_scan.h) judge exactly as the
// look-ups made here; ids that do not line up with the records are not used.
TEST(Analysis, GivenPathIdsJudgeLikeLookUps) {
  const SignatureIndex index = make_index({app1(), app2(), p1(), p2()});
  const Manifest scan = with(installed(index, {"app@1", "app-p1@1"}, {test::file("/opt/app/extra", "x")}),
                             "/opt/app/conf", test::file("/opt/app/conf", "edited"));
  std::vector<const FileRecord*> records;
  std::vector<SignatureIndex::PathId> ids;
  for (const FileRecord& r : scan) {
    records.push_back(&r);
    ids.push_back(index.find_path(r.path).value_or(SignatureIndex::kNoPath));
  }
  ASSERT_NE(std::count(ids.begin(), ids.end(), SignatureIndex::kNoPath), 0) << "an unlisted file is part of the test";
  const Analysis expected = analyze(scan, index);
  ASSERT_FALSE(expected.deviations.empty());
  const auto expect_same = [&](const Analysis& a) {
    ASSERT_EQ(a.verdicts.size(), expected.verdicts.size());
    for (std::size_t i = 0; i < a.verdicts.size(); ++i) {
      EXPECT_EQ(a.verdicts[i].ref, expected.verdicts[i].ref);
      EXPECT_EQ(a.verdicts[i].state, expected.verdicts[i].state);
      EXPECT_EQ(a.verdicts[i].counts, expected.verdicts[i].counts);
      EXPECT_EQ(a.verdicts[i].issues, expected.verdicts[i].issues);
    }
    EXPECT_EQ(a.deviations, expected.deviations);
  };
  expect_same(analyze(records, ids, index));
  ids.pop_back();
  expect_same(analyze(records, ids, index));  // not lined up: looked up instead
  // The ids are what the analysis goes by: one naming the wrong path changes the verdict.
  ids.push_back(SignatureIndex::kNoPath);
  for (std::size_t i = 0; i < records.size(); ++i)
    if (records[i]->path == "/opt/app/bin") ids[i] = SignatureIndex::kNoPath;
  EXPECT_EQ(verdict(analyze(records, ids, index), "app@1").counts.missing, 1u);
}

TEST(Analysis, ProductComplete) {
  const SignatureIndex index = make_index({app1(), app2()});
  const Analysis a = analyze(installed(index, {"app@1"}), index);
  ASSERT_EQ(a.verdicts.size(), 2u);
  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::complete);
  EXPECT_EQ(v.kind, SignatureKind::product);
  EXPECT_EQ(v.counts, (VerdictCounts{4, 4, 0, 0, 0, 0}));
  EXPECT_TRUE(v.issues.empty());
  EXPECT_TRUE(v.patched_by.empty());
  EXPECT_TRUE(a.deviations.empty());
}

TEST(Analysis, EditedFileIsTampered) {
  const SignatureIndex index = make_index({app1()});
  const Manifest scan = with(installed(index, {"app@1"}), "/opt/app/conf", test::file("/opt/app/conf", "edited!"));
  const Analysis a = analyze(scan, index);
  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::tampered);
  EXPECT_EQ(v.counts, (VerdictCounts{4, 3, 0, 1, 0, 0}));
  EXPECT_EQ(v.issues, (std::vector<FileIssue>{{"/opt/app/conf", IssueKind::modified, kContent, std::nullopt}}));
  EXPECT_EQ(lines(a.deviations), Strings{"modified /opt/app/conf " + describe(kContent) + " owners=app@1"});
}

TEST(Analysis, DeletedFileIsPartial) {
  const SignatureIndex index = make_index({app1()});
  const Analysis a = analyze(with(installed(index, {"app@1"}), "/opt/app/bin", std::nullopt), index);
  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::partial);
  EXPECT_EQ(v.counts, (VerdictCounts{4, 3, 1, 0, 0, 0}));
  EXPECT_EQ(v.issues, (std::vector<FileIssue>{{"/opt/app/bin", IssueKind::missing, {}, std::nullopt}}));
  EXPECT_EQ(lines(a.deviations), Strings{"removed /opt/app/bin owners=app@1"});
}

TEST(Analysis, NothingInstalledIsAbsent) {
  const SignatureIndex index = make_index({app1()});
  const Manifest scan = manifest({test::dir("/etc"), test::file("/etc/app.conf", "port 80")});
  const Analysis a = analyze(scan, index);
  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::absent);
  EXPECT_EQ(v.counts, (VerdictCounts{4, 0, 4, 0, 0, 0}));
  EXPECT_TRUE(v.issues.empty()) << "absent issues are only listed on request";
  EXPECT_TRUE(v.other_version.empty());
  // Absent signatures yield no deviations; the host's own files are unknown ones (and
  // /etc, a mere parent of one, is none of its own).
  EXPECT_EQ(lines(a.deviations), (Strings{"added /etc/app.conf"}));

  const Analysis listed =
      analyze(scan, index, AnalysisOptions{.compare = kSignatureAttrs, .list_absent_issues = true, .roots = {}});
  EXPECT_EQ(verdict(listed, "app@1").issues.size(), 4u);
}

// A scan covers its roots only: signature records outside them are neither there nor
// missing (a package's /etc directory above a scanned /etc/app, its /usr files when only
// /opt was scanned).
TEST(Analysis, RecordsOutsideTheScannedRootsAreNotExpected) {
  Signature wide = product(
      "wide@1", {pkg_dir("/etc"), pkg("/etc/wide.conf", "c"), pkg_dir("/opt/app"), pkg("/opt/app/bin", "bin1", 0755)});
  const SignatureIndex index = make_index({std::move(wide), app2()});
  const Manifest scan = manifest({test::dir("/opt/app"), test::file("/opt/app/bin", "bin1", 0755)});
  AnalysisOptions options;
  options.roots = {"/opt"};
  const Analysis covered = analyze(scan, index, options);
  const SignatureVerdict& v = verdict(covered, "wide@1");
  EXPECT_EQ(v.state, SignatureState::complete);
  EXPECT_EQ(v.counts.expected, 2u);
  EXPECT_EQ(v.counts.missing, 0u);
  EXPECT_TRUE(covered.deviations.empty()) << lines(covered.deviations).front();

  // Without the roots the same scan misses /etc: what the option prevents.
  const Analysis whole = analyze(scan, index);
  EXPECT_EQ(verdict(whole, "wide@1").state, SignatureState::partial);
  EXPECT_EQ(lines(whole.deviations), (Strings{"removed /etc owners=wide@1", "removed /etc/wide.conf owners=wide@1"}));

  // A signature with nothing under the roots was not looked at: absent, not complete.
  options.roots = {"/srv"};
  EXPECT_EQ(verdict(analyze(manifest({test::dir("/srv")}), index, options), "wide@1").state, SignatureState::absent);

  // A scan document brings its own roots.
  ScanDocument doc;
  doc.header.roots = {"/opt/app"};
  doc.manifest = scan;
  EXPECT_EQ(verdict(analyze(doc, index), "wide@1").state, SignatureState::complete);
}

// What a scan's roots cover is worked out once per list of roots and index (every path of
// the catalogue is checked), and handed to every later scan with the same roots.
TEST(Analysis, CoverageIsKeptPerListOfRootsAndRightBeyondTheMemo) {
  Signature wide = product(
      "wide@1", {pkg_dir("/etc"), pkg("/etc/wide.conf", "c"), pkg_dir("/opt/app"), pkg("/opt/app/bin", "bin1", 0755)});
  const SignatureIndex index = make_index({std::move(wide)});
  const auto covered_paths = [&](const std::vector<std::string>& roots) {
    const auto covered = index.coverage(roots);
    Strings paths;
    for (SignatureIndex::PathId p = 0; p < index.path_count(); ++p)
      if ((*covered)[p]) paths.push_back(index.owners(p).front().record->path);
    std::sort(paths.begin(), paths.end());
    return paths;
  };
  const std::vector<std::string> opt = {"/opt"};
  EXPECT_EQ(index.coverage(opt), index.coverage(std::vector<std::string>{"/opt"}));  // the same, kept
  EXPECT_NE(index.coverage(opt), index.coverage(std::vector<std::string>{"/etc"}));
  EXPECT_EQ(covered_paths(opt), (Strings{"/opt/app", "/opt/app/bin"}));
  EXPECT_EQ(covered_paths({"/etc/wide.conf", "/opt/app/bin"}), (Strings{"/etc/wide.conf", "/opt/app/bin"}));
  EXPECT_EQ(covered_paths({}), (Strings{"/etc", "/etc/wide.conf", "/opt/app", "/opt/app/bin"}));
  EXPECT_EQ(covered_paths({"/"}), covered_paths({}));
  EXPECT_EQ(covered_paths({"/op"}), Strings{});  // a prefix of a name is not a parent
  for (int i = 0; i < 40; ++i)                   // past what the memo keeps: computed each time, alike
    EXPECT_EQ(covered_paths({"/srv/" + std::to_string(i), "/etc"}), (Strings{"/etc", "/etc/wide.conf"})) << i;
}

TEST(Analysis, OtherVersionInstalledIsAbsentWithOtherVersion) {
  const SignatureIndex index = make_index({app1(), app2()});
  const Analysis a = analyze(installed(index, {"app@2"}), index);
  EXPECT_EQ(verdict(a, "app@2").state, SignatureState::complete);
  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::absent);
  EXPECT_EQ(ids(v.other_version), Strings{"app@2"});
  // Shared dir, lib and conf match; only bin tells the versions apart.
  EXPECT_EQ(v.counts, (VerdictCounts{4, 3, 0, 0, 0, 1}));
  EXPECT_TRUE(a.deviations.empty());
}

TEST(Analysis, OtherVersionWithEditedSharedFileStaysAbsent) {
  // The edit is the installed version's problem, not a sign that app@1 is there.
  const SignatureIndex index = make_index({app1(), app2()});
  const Manifest scan = with(installed(index, {"app@2"}), "/opt/app/conf", test::file("/opt/app/conf", "x"));
  const Analysis a = analyze(scan, index);
  EXPECT_EQ(verdict(a, "app@2").state, SignatureState::tampered);
  EXPECT_EQ(verdict(a, "app@1").state, SignatureState::absent);
  EXPECT_EQ(lines(a.deviations), Strings{"modified /opt/app/conf " + describe(kContent) + " owners=app@1,app@2"});
}

TEST(Analysis, MixedVersionsAreADeviation) {
  // a@1's x with a@2's y: both versions partly there, both files reported.
  const SignatureIndex index = make_index(
      {product("a@1", {pkg("/a/x", "x1"), pkg("/a/y", "y1")}), product("a@2", {pkg("/a/x", "x2"), pkg("/a/y", "y2")})});
  const Manifest scan = manifest({test::file("/a/x", "x1"), test::file("/a/y", "y2")});
  const Analysis a = analyze(scan, index);
  const SignatureVerdict& v = verdict(a, "a@1");
  EXPECT_EQ(v.state, SignatureState::partial);
  EXPECT_EQ(v.issues, (std::vector<FileIssue>{{"/a/y", IssueKind::replaced, Attr::sha256, ref("a@2")}}));
  EXPECT_TRUE(v.other_version.empty());
  EXPECT_EQ(verdict(a, "a@2").state, SignatureState::partial);
  EXPECT_EQ(lines(a.deviations), (Strings{"modified /a/x " + describe(Attr::sha256) + " owners=a@1,a@2 content=a@1",
                                          "modified /a/y " + describe(Attr::sha256) + " owners=a@1,a@2 content=a@2"}));
}

TEST(Analysis, CompareMaskIgnoresModeByDefault) {
  const SignatureIndex index = make_index({app1()});
  const Manifest scan = with(installed(index, {"app@1"}), "/opt/app/conf", test::file("/opt/app/conf", "conf1", 0600));
  EXPECT_EQ(verdict(analyze(scan, index), "app@1").state, SignatureState::complete);

  const Analysis a = analyze(
      scan, index, AnalysisOptions{.compare = kSignatureAttrs | Attr::mode, .list_absent_issues = false, .roots = {}});
  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::tampered);
  EXPECT_EQ(v.issues, (std::vector<FileIssue>{{"/opt/app/conf", IssueKind::modified, Attr::mode, std::nullopt}}));
  // Content unchanged: the deviation names who ships this content.
  EXPECT_EQ(lines(a.deviations), Strings{"modified /opt/app/conf mode owners=app@1 content=app@1"});
}

TEST(Analysis, UidGidMtimeNeverComparedByDefault) {
  const SignatureIndex index = make_index({app1()});
  FileRecord bin = as_scanned(pkg("/opt/app/bin", "bin1", 0755));
  bin.uid = 1000;
  bin.gid = 1000;
  bin.mtime_ns = 5;
  const Analysis a = analyze(with(installed(index, {"app@1"}), bin.path, bin), index);
  EXPECT_EQ(verdict(a, "app@1").state, SignatureState::complete);
}

// --- patches ----------------------------------------------------------------------------

TEST(Analysis, PatchFullyApplied) {
  const SignatureIndex index = make_index({app1(), p1()});
  const Analysis a = analyze(installed(index, {"app@1", "app-p1@1"}), index);
  const SignatureVerdict& patch_v = verdict(a, "app-p1@1");
  EXPECT_EQ(patch_v.state, SignatureState::complete);
  EXPECT_EQ(patch_v.kind, SignatureKind::patch);
  EXPECT_EQ(patch_v.counts, (VerdictCounts{3, 3, 0, 0, 0, 0}));

  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::complete);
  EXPECT_EQ(ids(v.patched_by), Strings{"app-p1@1"});
  EXPECT_EQ(v.counts, (VerdictCounts{4, 3, 0, 0, 0, 1}));
  EXPECT_EQ(v.issues, (std::vector<FileIssue>{{"/opt/app/lib", IssueKind::replaced, kContent, ref("app-p1@1")}}));
  EXPECT_TRUE(a.deviations.empty());
}

TEST(Analysis, PatchHalfAppliedIsPartialWithNotApplied) {
  // The new file arrived, the library is still the product's.
  const SignatureIndex index = make_index({app1(), p1()});
  const Manifest scan = installed(index, {"app@1"}, {as_scanned(pkg("/opt/app/new", "new1"))});
  const Analysis a = analyze(scan, index);
  const SignatureVerdict& v = verdict(a, "app-p1@1");
  EXPECT_EQ(v.state, SignatureState::partial);
  EXPECT_EQ(v.counts, (VerdictCounts{3, 2, 0, 0, 1, 0}));
  EXPECT_EQ(v.issues, (std::vector<FileIssue>{{"/opt/app/lib", IssueKind::not_applied, kContent, ref("app@1")}}));

  const SignatureVerdict& product_v = verdict(a, "app@1");
  EXPECT_EQ(product_v.state, SignatureState::complete);
  EXPECT_TRUE(product_v.patched_by.empty());
  EXPECT_EQ(lines(a.deviations),
            Strings{"modified /opt/app/lib " + describe(kContent) + " owners=app@1,app-p1@1 content=app@1"});
}

TEST(Analysis, PatchNotAppliedIsAbsent) {
  // The patch's directory matches, but the product declares it too: no evidence.
  const SignatureIndex index = make_index({app1(), p1()});
  const Analysis a = analyze(installed(index, {"app@1"}), index);
  const SignatureVerdict& v = verdict(a, "app-p1@1");
  EXPECT_EQ(v.state, SignatureState::absent);
  EXPECT_EQ(v.counts, (VerdictCounts{3, 1, 1, 0, 1, 0}));
  EXPECT_TRUE(a.deviations.empty());
}

TEST(Analysis, PatchWithForeignContentIsTampered) {
  const SignatureIndex index = make_index({app1(), p1()});
  const Manifest scan = installed(index, {"app@1", "app-p1@1"}, {test::file("/opt/app/new", "evil")});
  const Analysis a = analyze(scan, index);  // keep it alive: verdict() returns a reference into it
  const SignatureVerdict& v = verdict(a, "app-p1@1");
  EXPECT_EQ(v.state, SignatureState::tampered);
  // "evil" has the length of "new1": only the content differs.
  EXPECT_EQ(v.issues, (std::vector<FileIssue>{{"/opt/app/new", IssueKind::modified, Attr::sha256, std::nullopt}}));
}

TEST(Analysis, CompleteLaterPatchSupersedes) {
  const SignatureIndex index = make_index({app1(), p1(), p2()});
  const Analysis a = analyze(installed(index, {"app@1", "app-p1@1", "app-p2@1"}), index);
  EXPECT_EQ(verdict(a, "app-p2@1").state, SignatureState::complete);

  const SignatureVerdict& v1 = verdict(a, "app-p1@1");
  EXPECT_EQ(v1.state, SignatureState::superseded);
  EXPECT_EQ(ids(v1.superseded_by), Strings{"app-p2@1"});
  // p1's and p2's libraries have the same size: only the content differs.
  EXPECT_EQ(v1.issues, (std::vector<FileIssue>{{"/opt/app/lib", IssueKind::replaced, Attr::sha256, ref("app-p2@1")}}));

  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::complete);
  EXPECT_EQ(ids(v.patched_by), (Strings{"app-p1@1", "app-p2@1"}));
  EXPECT_EQ(v.issues, (std::vector<FileIssue>{{"/opt/app/lib", IssueKind::replaced, kContent, ref("app-p2@1")}}));
  EXPECT_TRUE(a.deviations.empty());
}

TEST(Analysis, PartialLaterPatchTakesOverWithoutBlamingTheEarlierOnes) {
  // p2's library is in place but its new file is not. The half-done deployment is p2's
  // problem, reported once on p2: p1's library was taken over by p2, so p1 is superseded
  // and the product patched (a fleet report would otherwise show one failed deployment
  // as three problem cells).
  const SignatureIndex index = make_index({app1(), p1(), p2()});
  const Manifest scan = with(installed(index, {"app@1", "app-p1@1", "app-p2@1"}), "/opt/app/new2", std::nullopt);
  const Analysis a = analyze(scan, index);
  EXPECT_EQ(verdict(a, "app-p2@1").state, SignatureState::partial);
  const SignatureVerdict& v1 = verdict(a, "app-p1@1");
  EXPECT_EQ(v1.state, SignatureState::superseded);
  EXPECT_EQ(ids(v1.superseded_by), Strings{"app-p2@1"});
  EXPECT_EQ(v1.counts, (VerdictCounts{3, 2, 0, 0, 0, 1}));
  EXPECT_EQ(verdict(a, "app@1").state, SignatureState::complete);
  // Only the missing file deviates: the library is explained by the chain.
  EXPECT_EQ(lines(a.deviations), Strings{"removed /opt/app/new2 owners=app-p2@1"});
}

TEST(Analysis, EditOfAFileALaterInstalledPatchOwnsIsThatPatchsTampering) {
  // The library p2 replaced was edited by hand: p2 is tampered; p1 (whose library p2
  // took over) is superseded, not tampered too.
  const SignatureIndex index = make_index({app1(), p1(), p2()});
  const Manifest scan =
      with(installed(index, {"app@1", "app-p1@1", "app-p2@1"}), "/opt/app/lib", test::file("/opt/app/lib", "edit"));
  const Analysis a = analyze(scan, index);
  EXPECT_EQ(verdict(a, "app-p2@1").state, SignatureState::tampered);
  EXPECT_EQ(verdict(a, "app-p1@1").state, SignatureState::superseded);
  EXPECT_EQ(verdict(a, "app@1").state, SignatureState::complete);
  EXPECT_EQ(lines(a.deviations), Strings{"modified /opt/app/lib size,content owners=app@1,app-p1@1,app-p2@1"});
}

TEST(Analysis, SupersedingPatchWithOldContentLeftIsNotApplied) {
  // p2 installed except its library, which is still p1's: not applied, pointing at p1.
  const SignatureIndex index = make_index({app1(), p1(), p2()});
  const Manifest scan = installed(index, {"app@1", "app-p1@1"}, {as_scanned(pkg("/opt/app/new2", "new2"))});
  const Analysis a = analyze(scan, index);
  const SignatureVerdict& v2 = verdict(a, "app-p2@1");
  EXPECT_EQ(v2.state, SignatureState::partial);
  EXPECT_EQ(v2.issues,
            (std::vector<FileIssue>{{"/opt/app/lib", IssueKind::not_applied, Attr::sha256, ref("app-p1@1")}}));
  EXPECT_EQ(verdict(a, "app-p1@1").state, SignatureState::complete);
  EXPECT_EQ(ids(verdict(a, "app@1").patched_by), Strings{"app-p1@1"});
  EXPECT_EQ(lines(a.deviations), Strings{"modified /opt/app/lib " + describe(Attr::sha256) +
                                         " owners=app@1,app-p1@1,app-p2@1 content=app-p1@1"});
}

// --- deviations -------------------------------------------------------------------------

TEST(Analysis, UnknownFileIsAddedWithoutOwners) {
  const SignatureIndex index = make_index({app1()});
  const Manifest scan = installed(index, {"app@1"}, {test::file("/opt/app/core.1234", "dump")});
  const Analysis a = analyze(scan, index);
  EXPECT_EQ(verdict(a, "app@1").state, SignatureState::complete);
  ASSERT_EQ(a.deviations.size(), 1u);
  EXPECT_EQ(a.deviations[0], (FileDeviation{"/opt/app/core.1234", Change::added, {}, {}, {}}));
}

TEST(Analysis, CopiedPackageFileIsAddedWithContentOwners) {
  const SignatureIndex index = make_index({app1(), app2()});
  const Manifest scan = installed(index, {"app@1"}, {test::file("/usr/local/bin/app", "bin1")});
  EXPECT_EQ(lines(analyze(scan, index).deviations), Strings{"added /usr/local/bin/app content=app@1"});
}

TEST(Analysis, DeviationsAreMergedPerPathAndSorted) {
  // Two products ship the same config; tool@1 does not know its size, so the changed sets differ.
  FileRecord shared = pkg("/opt/shared.conf", "A");
  shared.present = Attr::type | Attr::sha256;
  const SignatureIndex index = make_index({product("tool@1", {pkg("/opt/tool", "t"), shared}),
                                           product("app@1", {pkg("/opt/app", "a"), pkg("/opt/shared.conf", "A")})});
  const Manifest scan =
      manifest({test::file("/etc/zzz", "z"), test::file("/opt/app", "a"), test::file("/opt/shared.conf", "BB"),
                test::file("/opt/tool", "t"), test::file("/aaa", "t")});
  const Analysis a = analyze(scan, index);
  EXPECT_EQ(verdict(a, "tool@1").state, SignatureState::tampered);
  EXPECT_EQ(verdict(a, "app@1").state, SignatureState::tampered);
  EXPECT_EQ(lines(a.deviations), (Strings{"added /aaa content=tool@1", "added /etc/zzz",
                                          "modified /opt/shared.conf " + describe(kContent) + " owners=tool@1,app@1"}));
}

// --- snapshot drift ---------------------------------------------------------------------

TEST(Drift, PatchPathsMayHoldAnyReleaseAndEverythingElseIsCompared) {
  const SignatureIndex index = make_index({app1(), p1(), product("tool@1", {pkg("/opt/tool", "t")})});
  const Manifest snapshot =
      installed(index, {"app@1", "app-p1@1", "tool@1"}, {test::file("/etc/x", "x"), test::file("/etc/same", "s")});
  // The member: p1 not applied (old lib, no new file: app@1's state, legitimate), bin
  // edited, tool deleted, /etc/x gone, /etc/y new, a copy of the tool elsewhere.
  Manifest member = with(snapshot, "/opt/app/lib", as_scanned(pkg("/opt/app/lib", "lib1")));
  member = with(member, "/opt/app/new", std::nullopt);
  member = with(member, "/opt/app/bin", test::file("/opt/app/bin", "patched by hand", 0755));
  member = with(member, "/opt/tool", std::nullopt);
  member = with(member, "/etc/x", std::nullopt);
  member = with(member, "/etc/y", test::file("/etc/y", "y"));
  member = with(member, "/srv/tool-copy", test::file("/srv/tool-copy", "t"));

  const Drift d = compare_with_snapshot(member, snapshot, index, comparing(kAllAttrs));
  EXPECT_EQ(lines(d.deviations),
            (Strings{"removed /etc/x", "added /etc/y", "modified /opt/app/bin " + describe(kContent) + " owners=app@1",
                     "removed /opt/tool owners=tool@1", "added /srv/tool-copy content=tool@1"}));
  EXPECT_EQ(d.counts.added, 2u);
  EXPECT_EQ(d.counts.removed, 2u);
  EXPECT_EQ(d.counts.modified, 1u);

  // The same member against itself with mtimes moved: only the compare mask decides.
  FileRecord touched = *member.find("/etc/y");
  touched.mtime_ns += 1;
  const Manifest later = with(member, "/etc/y", touched);
  EXPECT_EQ(compare_with_snapshot(later, member, index, comparing(kAllAttrs)).deviations.size(), 1u);
  EXPECT_TRUE(compare_with_snapshot(later, member, index, comparing(kSignatureAttrs | Attr::mode)).deviations.empty());
}

// Upgrades imported as patches (every Debian release after the first): the snapshot keeps
// the patched files, and at those paths only content no release has is drift.
TEST(Drift, AtPatchPathsAHandEditAHalfAppliedLibraryAndARemovedFileAreDrift) {
  const SignatureIndex index = make_index({app1(), p1()});
  const Manifest snapshot = installed(index, {"app@1", "app-p1@1"});
  // A member where the patch is rolled out too: identical, nothing to report.
  EXPECT_TRUE(compare_with_snapshot(snapshot, snapshot, index).deviations.empty());
  // Hand-edited patched library: content of no release.
  Manifest edited = with(snapshot, "/opt/app/lib", as_scanned(pkg("/opt/app/lib", "lib1-p1 with a fix by hand")));
  EXPECT_EQ(lines(compare_with_snapshot(edited, snapshot, index).deviations),
            (Strings{"modified /opt/app/lib " + describe(kContent) + " owners=app@1,app-p1@1"}));
  // The patch's own new file removed while the patched library is there: every release of
  // app that lacks /opt/app/new (app@1) is legitimate, so removal alone is not drift...
  const Manifest without_new = with(snapshot, "/opt/app/new", std::nullopt);
  EXPECT_TRUE(compare_with_snapshot(without_new, snapshot, index).deviations.empty());
  // ...but a file every release lists (bin) removed is.
  const Manifest without_bin = with(snapshot, "/opt/app/bin", std::nullopt);
  EXPECT_EQ(lines(compare_with_snapshot(without_bin, snapshot, index).deviations),
            (Strings{"removed /opt/app/bin owners=app@1"}));
}

TEST(Drift, ThePathPolicyAndParentDirectoriesAreNoDrift) {
  const SignatureIndex index = make_index({app1()});
  const Manifest snapshot = installed(index, {"app@1"}, {test::file("/var/log/syslog", "a")});
  Manifest member = with(snapshot, "/var/log/syslog", test::file("/var/log/syslog", "b"));
  member = with(member, "/etc/machine-id", test::file("/etc/machine-id", "other"));
  member = with(member, "/srv", test::dir("/srv"));
  member = with(member, "/srv/new", test::file("/srv/new", "n"));
  EXPECT_EQ(lines(compare_with_snapshot(member, snapshot, index).deviations), (Strings{"added /srv/new"}));
}

// --- randomised -------------------------------------------------------------------------

// Signatures drawn from one pool of paths whose content depends on the path only, so any
// union of them is consistent. Installing an exact union must give: every chosen
// signature complete, no deviation; editing one file must make the chosen signatures that
// list it tampered, with exactly one deviation (unchosen ones sharing it stay absent).
TEST(Analysis, RandomUnionsAreCompleteAndOneEditIsFound) {
  std::mt19937_64 rng(20240611);
  std::vector<std::string> pool;
  for (int i = 0; i < 400; ++i) pool.push_back("/opt/p" + std::to_string(i % 20) + "/f" + std::to_string(i));

  for (int round = 0; round < 30; ++round) {
    std::vector<Signature> sigs;
    const int n = 2 + static_cast<int>(rng() % 12);
    for (int s = 0; s < n; ++s) {
      std::set<std::string> paths;
      const std::size_t files = 5 + rng() % 40;
      while (paths.size() < files) paths.insert(pool[rng() % pool.size()]);
      std::vector<FileRecord> records;
      for (const std::string& p : paths) records.push_back(pkg(p, "content of " + p));
      // A file of its own, so that an installed signature always shows evidence of itself.
      records.push_back(pkg("/opt/own/sig" + std::to_string(s), "own"));
      sigs.push_back(product("sig" + std::to_string(s) + "@1", std::move(records)));
    }
    const SignatureIndex index = make_index(std::move(sigs));
    std::vector<std::string> chosen;
    for (int s = 0; s < n; ++s) {
      if (rng() % 2 == 0) chosen.push_back("sig" + std::to_string(s) + "@1");
    }
    const Manifest scan = installed(index, chosen);
    const Analysis a = analyze(scan, index);
    for (const std::string& id : chosen) EXPECT_EQ(verdict(a, id).state, SignatureState::complete) << id;
    for (const SignatureVerdict& v : a.verdicts) {
      EXPECT_EQ(v.counts.modified + v.counts.not_applied + v.counts.replaced, 0u) << v.ref.id();
    }
    EXPECT_TRUE(a.deviations.empty()) << "round " << round;
    if (scan.empty()) continue;

    const FileRecord& victim = scan[rng() % scan.size()];
    const Analysis edited = analyze(with(scan, victim.path, test::file(victim.path, "edited")), index);
    Strings expected_tampered;
    for (const std::string& id : chosen) {
      if (!index.signature(*index.find(ref(id))).manifest.find(victim.path)) continue;
      expected_tampered.push_back(id);
      EXPECT_EQ(verdict(edited, id).state, SignatureState::tampered) << id;
    }
    ASSERT_EQ(edited.deviations.size(), 1u);
    EXPECT_EQ(edited.deviations[0].path, victim.path);
    EXPECT_EQ(edited.deviations[0].change, Change::modified);
    EXPECT_EQ(edited.deviations[0].owners.size(), index.owners(std::string_view(victim.path)).size());
  }
}

// --- configuration files (.deb conffiles, rpm %config) ----------------------------------

Signature with_config(Signature s, std::vector<std::string> paths) {
  s.info.config_paths = std::move(paths);
  return s;
}

TEST(AnalysisConfig, EditedConfigurationFileIsConfigChangedNotTampering) {
  const SignatureIndex index = make_index(
      {with_config(product("app@1", {pkg("/etc/app.conf", "port=1"), pkg("/usr/bin/app", "bin1"), pkg_dir("/usr/bin")}),
                   {"/etc/app.conf"})});
  const Manifest scan = with(installed(index, {"app@1"}), "/etc/app.conf", test::file("/etc/app.conf", "port=2"));
  const Analysis a = analyze(scan, index);
  const SignatureVerdict& v = verdict(a, "app@1");
  EXPECT_EQ(v.state, SignatureState::complete);
  EXPECT_EQ(v.counts.config_changed, 1u);
  EXPECT_EQ(v.counts.modified, 0u);
  EXPECT_EQ(v.counts.matching, 2u);
  ASSERT_EQ(v.issues.size(), 1u);
  EXPECT_EQ(v.issues[0], (FileIssue{"/etc/app.conf", IssueKind::config_changed, Attr::sha256, std::nullopt}));
  EXPECT_EQ(to_string(IssueKind::config_changed), "config_changed");
  EXPECT_TRUE(a.deviations.empty()) << lines(a.deviations)[0];
}

TEST(AnalysisConfig, OtherFilesStillCountAndMissingConfigIsMissing) {
  const SignatureIndex index = make_index({with_config(
      product("app@1", {pkg("/etc/app.conf", "port=1"), pkg("/etc/other.conf", "x"), pkg("/usr/bin/app", "bin1")}),
      {"/etc/app.conf", "/etc/other.conf"})});
  Manifest scan = with(installed(index, {"app@1"}), "/etc/app.conf", test::file("/etc/app.conf", "port=2"));
  scan = with(scan, "/usr/bin/app", test::file("/usr/bin/app", "trojan"));
  const Analysis tampered = analyze(scan, index);
  EXPECT_EQ(verdict(tampered, "app@1").state, SignatureState::tampered);
  EXPECT_EQ(verdict(tampered, "app@1").counts.config_changed, 1u);
  EXPECT_EQ(verdict(tampered, "app@1").counts.modified, 1u);
  EXPECT_EQ(lines(tampered.deviations), Strings{"modified /usr/bin/app size,content owners=app@1"});

  // A deleted configuration file is reported as missing: the admin may have meant it,
  // but nothing says so.
  const Analysis missing = analyze(with(installed(index, {"app@1"}), "/etc/other.conf", std::nullopt), index);
  EXPECT_EQ(verdict(missing, "app@1").state, SignatureState::partial);
  EXPECT_EQ(verdict(missing, "app@1").counts.missing, 1u);
}

TEST(AnalysisConfig, ConfigurationOfAnotherReleaseIsStillNotApplied) {
  // The patch ships a new default; the host kept the product's pristine file: not an
  // admin's edit but a patch not (fully) applied.
  const SignatureIndex index = make_index(
      {with_config(product("app@1", {pkg("/etc/app.conf", "v1"), pkg("/usr/bin/app", "bin1")}), {"/etc/app.conf"}),
       with_config(patch("app@2", "app@1", {}, {pkg("/etc/app.conf", "v2"), pkg("/usr/bin/app", "bin2")}),
                   {"/etc/app.conf"})});
  const Manifest scan = with(installed(index, {"app@1", "app@2"}), "/etc/app.conf", test::file("/etc/app.conf", "v1"));
  const Analysis a = analyze(scan, index);
  EXPECT_EQ(verdict(a, "app@2").state, SignatureState::partial);
  ASSERT_EQ(verdict(a, "app@2").issues.size(), 1u);
  EXPECT_EQ(verdict(a, "app@2").issues[0].kind, IssueKind::not_applied);
  // Edited by the admin on top of the patch: config_changed, and the patch is complete.
  const Analysis edited =
      analyze(with(installed(index, {"app@1", "app@2"}), "/etc/app.conf", test::file("/etc/app.conf", "mine")), index);
  EXPECT_EQ(verdict(edited, "app@2").state, SignatureState::complete);
  EXPECT_EQ(verdict(edited, "app@2").counts.config_changed, 1u);
  EXPECT_EQ(verdict(edited, "app@1").state, SignatureState::complete);
  EXPECT_TRUE(edited.deviations.empty()) << lines(edited.deviations)[0];
}

}  // namespace
}  // namespace tb
