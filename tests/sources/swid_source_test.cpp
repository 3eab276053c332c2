// SWID tags (ISO/IEC 19770-2:2015, NIST IR 8060): primary and patch tags, Payload and
// Evidence paths, SHA-256 hashes, mutable (configuration) files, link resolution, and
// tags refused with the file and the reason.
#include "sources/swid_source.h"

#include <gtest/gtest.h>

#include "sources/source_test_support.h"

namespace tb {
namespace {

using namespace srctest;

std::string hash_of(const std::string& content) { return Sha256::of(content).hex(); }

// A tag in the style rpm2swidtag and NIST IR 8060's examples use.
std::string tag(const std::string& attributes, const std::string& body) {
  return R"(<?xml version="1.0" encoding="utf-8"?>
<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
    xmlns:SHA256="http://www.w3.org/2001/04/xmlenc#sha256"
    xmlns:n8060="http://csrc.nist.gov/ns/swid/2015-extensions/1.0" )" +
         attributes + ">\n" + body + "\n</SoftwareIdentity>\n";
}

std::string product_tag() {
  return tag(R"(name="ACME Roadrunner" tagId="com.acme.rrd-4.1.5" version="4.1.5" versionScheme="multipartnumeric")",
             R"(<Entity name="ACME Tags" regid="tags.acme.example" role="tagCreator"/>
  <Entity name="The ACME Corporation" regid="acme.example" role="softwareCreator licensor"/>
  <Payload n8060:pathSeparator="/">
    <Directory root="/opt/rrd" name="bin">
      <File name="rrd" size="3" SHA256:hash=")" +
                 hash_of("rrd") + R"("/>
      <File name="rrd-link" size="3"/>
    </Directory>
    <Directory root="/opt/rrd" location="share" name="doc">
      <File name="README" size="6" SHA256:hash=")" +
                 hash_of("readme") + R"("/>
    </Directory>
    <File location="/etc/rrd" name="rrd.conf" size="7" n8060:mutable="true" SHA256:hash=")" +
                 hash_of("port=80") + R"("/>
  </Payload>)");
}

std::string patch_tag(const std::string& tag_id, const std::string& version, const std::string& extra_links = "") {
  return tag(R"(name="ACME Roadrunner Fix" tagId=")" + tag_id + R"(" version=")" + version + R"(" patch="true")",
             R"(<Entity name="The ACME Corporation" regid="acme.example" role="softwareCreator tagCreator"/>
  <Link rel="patches" href="swid:com.acme.rrd-4.1.5"/>)" +
                 extra_links + R"(
  <Evidence date="2026-01-01T00:00:00Z" deviceId="build01">
    <File root="/opt/rrd" location="bin" name="rrd" size="4" SHA256:hash=")" +
                 hash_of("rrd2") + R"("/>
  </Evidence>)");
}

FileRecord tag_file(std::string path, const std::string& content, bool with_size = true) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::file;
  r.present = Attr::type | Attr::sha256;
  if (with_size) r.present |= Attr::size, r.size = content.size();
  r.sha256 = Sha256::of(content);
  return r;
}

FileRecord tag_dir(std::string path) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::directory;
  r.present = Attr::type;
  return r;
}

class SwidTest : public TempDirTest {
 protected:
  fs::path put(const std::string& name, const std::string& text) {
    write(dir_ / name, text);
    return dir_ / name;
  }
  std::string refusal(const std::string& text) {
    const fs::path p = put("bad.swidtag", text);
    auto t = read_swid_tag(p.string());
    if (t) return "accepted:\n" + dump(t->signature.manifest);
    EXPECT_NE(t.error().message.find(p.string()), std::string::npos) << t.error().message;
    return t.error().message;
  }
};

TEST_F(SwidTest, PrimaryTagGivesTheExactRecordsAndMetadata) {
  const fs::path p = put("rrd.swidtag", product_tag());
  auto t = read_swid_tag(p.string());
  ASSERT_TRUE(t) << t.error().message;
  const SignatureInfo& info = t->signature.info;
  EXPECT_EQ(info.ref, (SignatureRef{"ACME Roadrunner", "4.1.5"}));
  EXPECT_EQ(info.kind, SignatureKind::product);
  EXPECT_EQ(info.vendor, "The ACME Corporation");
  EXPECT_EQ(info.tag_id, "com.acme.rrd-4.1.5");
  EXPECT_EQ(info.source, "rrd.swidtag");
  EXPECT_EQ(info.source_sha256, file_sha256(p));
  EXPECT_EQ(info.config_paths, std::vector<std::string>{"/etc/rrd/rrd.conf"});
  EXPECT_FALSE(t->patches_tag);
  // rrd-link has no hash: a tag cannot say whether it is a file or a symlink, so it is left out.
  EXPECT_EQ(t->signature.manifest, *Manifest::from_records({
                                       tag_file("/etc/rrd/rrd.conf", "port=80"),
                                       tag_dir("/opt/rrd/bin"),
                                       tag_file("/opt/rrd/bin/rrd", "rrd"),
                                       tag_dir("/opt/rrd/share/doc"),
                                       tag_file("/opt/rrd/share/doc/README", "readme"),
                                   }))
      << dump(t->signature.manifest);
}

TEST_F(SwidTest, PatchTagLinksToThePatchedTagOnceResolved) {
  auto product = read_swid_tag(put("rrd.swidtag", product_tag()).string());
  auto p1 = read_swid_tag(put("p1.swidtag", patch_tag("com.acme.rrd-4.1.5-p1", "4.1.5.1")).string());
  auto p2 = read_swid_tag(
      put("p2.swidtag", patch_tag("com.acme.rrd-4.1.5-p2", "4.1.5.2", R"(<Link rel="supersedes" href="swid:com.acme.rrd-4.1.5-p1"/>)"))
          .string());
  ASSERT_TRUE(product && p1 && p2);
  EXPECT_EQ(p2->signature.info.kind, SignatureKind::patch);
  EXPECT_EQ(p2->patches_tag, "com.acme.rrd-4.1.5");
  EXPECT_EQ(p2->supersedes_tags, std::vector<std::string>{"com.acme.rrd-4.1.5-p1"});
  EXPECT_EQ(p2->signature.manifest, *Manifest::from_records({tag_file("/opt/rrd/bin/rrd", "rrd2")}));

  std::vector<SignatureInfo> known = {product->signature.info};
  auto unresolved = resolve_swid_links(*p2, known);
  ASSERT_FALSE(unresolved);
  EXPECT_NE(unresolved.error().message.find("links to tag com.acme.rrd-4.1.5-p1, which is neither stored nor part"),
            std::string::npos)
      << unresolved.error().message;
  ASSERT_TRUE(resolve_swid_links(*p1, known));
  EXPECT_EQ(p1->signature.info.patches, (SignatureRef{"ACME Roadrunner", "4.1.5"}));
  known.push_back(p1->signature.info);
  ASSERT_TRUE(resolve_swid_links(*p2, known));
  EXPECT_EQ(p2->signature.info.patches, (SignatureRef{"ACME Roadrunner", "4.1.5"}));
  EXPECT_EQ(p2->signature.info.supersedes, std::vector<SignatureRef>{(SignatureRef{"ACME Roadrunner Fix", "4.1.5.1"})});
}

TEST_F(SwidTest, InstallRootAppliesToElementsWithoutRoot) {
  const std::string text = tag(R"(name="tool" tagId="t-1" version="1")",
                               R"(<Payload><Directory name="bin"><File name="tool" SHA256:hash=")" + hash_of("t") +
                                   R"("/></Directory></Payload>)");
  auto t = read_swid_tag(put("t.swidtag", text).string(), "/opt/tool");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->signature.manifest,
            *Manifest::from_records({tag_dir("/opt/tool/bin"), tag_file("/opt/tool/bin/tool", "t", false)}));
  EXPECT_EQ(t->signature.info.install_root, "/opt/tool");
}

// Bytes the declared encoding cannot convert: libxml2 raises that with no parser context
// (libxml_errors.h); it is the refusal's reason and nothing reaches stderr (the server's
// log when the tag comes through the API or the feed).
TEST_F(SwidTest, AnUnconvertibleTagIsRefusedWithoutALogLine) {
  std::string text = tag(R"(name="x" tagId="y")", "") + "\xff\xfe";
  text.replace(text.find("utf-8"), 5, "ISO-2022-JP");
  testing::internal::CaptureStderr();
  const std::string why = refusal(text);
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_NE(why.find("not well-formed XML: input conversion failed"), std::string::npos) << why;
  EXPECT_EQ(printed, "");
}

TEST_F(SwidTest, BadTagsAreRefusedWithTheReason) {
  const std::string file = R"(<Payload><File root="/opt" name="f" SHA256:hash=")" + hash_of("f") + R"("/></Payload>)";
  EXPECT_NE(refusal("<SoftwareIdentity name='x' tagId='y'>").find("not well-formed XML"), std::string::npos);
  EXPECT_NE(refusal("<SoftwareIdentity name='x' tagId='y'/>").find("not an ISO/IEC 19770-2:2015 SWID tag"),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y" corpus="true")", file)).find("corpus tag"), std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y" supplemental="true")", file)).find("supplemental tag"), std::string::npos);
  EXPECT_NE(refusal(tag(R"(tagId="y")", file)).find("no name"), std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x")", file)).find("no tagId"), std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y" patch="true")", file)).find("needs <Link rel=\"patches\""),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y" patch="true")", R"(<Link rel="patches" href="http://x"/>)" + file))
                .find("href=\"swid:TAGID\""),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y")", R"(<Link rel="patches" href="swid:z"/>)" + file))
                .find("not a patch tag"),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y")", R"(<Payload><File root="%programdata%" name="f" SHA256:hash=")" +
                                                      hash_of("f") + R"("/></Payload>)"))
                .find("root '%programdata%' is not an absolute path"),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y")", R"(<Payload><File root="/opt" name="../../etc/passwd" SHA256:hash=")" +
                                                      hash_of("f") + R"("/></Payload>)"))
                .find("path '/opt/../../etc/passwd'"),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y")", R"(<Payload><File root="/opt" name="f" SHA256:hash="abc"/></Payload>)"))
                .find("malformed SHA-256"),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y")", R"(<Payload><File root="/opt" name="f" size="-1" SHA256:hash=")" +
                                                      hash_of("f") + R"("/></Payload>)"))
                .find("malformed size"),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y")", R"(<Payload><File root="/opt" name="f" SHA256:hash=")" + hash_of("a") +
                                                      R"("/><File root="/opt" name="f" SHA256:hash=")" + hash_of("b") +
                                                      R"("/></Payload>)"))
                .find("two different entries for /opt/f"),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y")", R"(<Payload><File root="/opt" name="f"/></Payload>)"))
                .find("no file with a SHA-256 hash"),
            std::string::npos);
  EXPECT_NE(refusal(tag(R"(name="x" tagId="y")", R"(<Payload n8060:pathSeparator="\">)" + file.substr(9)))
                .find("path separator"),
            std::string::npos);
  // Entity expansion ("billion laughs") never gets a chance: a DTD is refused outright.
  EXPECT_NE(refusal(R"(<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa">]>)" +
                    tag(R"(name="&a;" tagId="y")", file).substr(38))
                .find("DTD"),
            std::string::npos);
}

}  // namespace
}  // namespace tb
