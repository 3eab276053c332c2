#include "sources/swid_source.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core/path.h"
#include "format/drift_report.h"  // printable()
#include "format/libxml_errors.h"
#include "sources/package_file.h"

namespace tb {

namespace {

constexpr std::size_t kMaxTagBytes = 16 * 1024 * 1024;
constexpr std::size_t kMaxDepth = 256;  // nested Directory elements
constexpr const char* kSwidNs = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
constexpr const char* kSha256Ns = "http://www.w3.org/2001/04/xmlenc#sha256";
constexpr const char* kN8060Ns = "http://csrc.nist.gov/ns/swid/2015-extensions/1.0";

const xmlChar* x(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

struct XmlFree {
  void operator()(xmlChar* p) const { xmlFree(p); }
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

// An attribute's value; nullopt when absent. `ns` null: the attribute has no namespace.
std::optional<std::string> attribute(xmlNode* node, const char* name, const char* ns = nullptr) {
  std::unique_ptr<xmlChar, XmlFree> value(ns == nullptr ? xmlGetNoNsProp(node, x(name)) : xmlGetNsProp(node, x(name), x(ns)));
  if (!value) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(value.get()));
}

bool is(xmlNode* node, const char* local) {
  return node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, x(local)) != 0 && node->ns != nullptr &&
         xmlStrEqual(node->ns->href, x(kSwidNs)) != 0;
}

bool truthy(const std::optional<std::string>& v) { return v && (*v == "true" || *v == "1"); }

bool has_word(std::string_view list, std::string_view word) {
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && list[i] == ' ') ++i;
    std::size_t j = list.find(' ', i);
    if (j == std::string_view::npos) j = list.size();
    if (list.substr(i, j - i) == word) return true;
    i = j;
  }
  return false;
}

// "swid:TAGID" -> TAGID.
std::optional<std::string> swid_href(const std::optional<std::string>& href) {
  if (!href || href->size() <= 5 || href->compare(0, 5, "swid:") != 0) return std::nullopt;
  return href->substr(5);
}

class TagReader {
 public:
  TagReader(std::string path, std::string install_root) : path_(std::move(path)), install_root_(std::move(install_root)) {}

  Expected<void> resources(xmlNode* parent) {
    if (auto sep = attribute(parent, "pathSeparator", kN8060Ns); sep && *sep != "/")
      return error("<" + std::string(reinterpret_cast<const char*>(parent->name)) + "> uses the path separator '" +
                   printable(*sep) + "', not '/'");
    return children(parent, install_root_, 0);
  }

  Expected<std::vector<FileRecord>> records() {
    std::vector<FileRecord> out;
    out.reserve(records_.size());
    for (auto& [p, r] : records_) out.push_back(std::move(r));
    if (hashed_ == 0) return tl::unexpected(Error{ErrorCode::parse, path_ + ": the tag lists no file with a SHA-256 hash"});
    return out;
  }
  std::vector<std::string> mutable_files() const { return mutable_; }

 private:
  Error err(const std::string& message) const { return Error{ErrorCode::parse, path_ + ": " + message}; }
  tl::unexpected<Error> error(const std::string& message) const { return tl::unexpected(err(message)); }

  // base / location / name, canonical; location may be absolute (it then replaces base).
  Expected<std::string> compose(xmlNode* node, const std::string& base, bool need_name) {
    std::string path = base;
    if (auto root = attribute(node, "root")) {
      if (root->empty() || root->front() != '/')
        return error("root '" + printable(*root) + "' is not an absolute path");
      path = *root;
    }
    if (auto location = attribute(node, "location"); location && !location->empty()) {
      path = location->front() == '/' ? *location : path + "/" + *location;
    }
    const auto name = attribute(node, "name");
    if (need_name && (!name || name->empty()))
      return error("a <" + std::string(reinterpret_cast<const char*>(node->name)) + "> without a name");
    if (name && !name->empty()) path += "/" + *name;
    auto canonical = normalize_path(path);
    if (!canonical) return error("path '" + printable(path) + "': " + canonical.error().message);
    return *canonical;
  }

  Expected<void> add(FileRecord r) {
    const auto [it, inserted] = records_.try_emplace(r.path, r);
    if (!inserted && !(it->second == r)) return error("two different entries for " + printable(r.path));
    return {};
  }

  Expected<void> children(xmlNode* parent, const std::string& base, std::size_t depth) {
    if (depth > kMaxDepth) return error("directories nested deeper than " + std::to_string(kMaxDepth));
    for (xmlNode* n = parent->children; n != nullptr; n = n->next) {
      if (is(n, "Directory")) {
        const bool named = attribute(n, "name").has_value();
        auto path = compose(n, base, false);
        if (!path) return tl::unexpected(path.error());
        if (named && *path != "/") {
          FileRecord d;
          d.path = *path;
          d.type = FileType::directory;
          d.present = Attr::type;
          if (auto r = add(std::move(d)); !r) return r;
        }
        if (auto r = children(n, *path, depth + 1); !r) return r;
      } else if (is(n, "File")) {
        auto path = compose(n, base, true);
        if (!path) return tl::unexpected(path.error());
        const auto hash = attribute(n, "hash", kSha256Ns);
        if (!hash) continue;  // see read_swid_tag(): nothing verifiable without a hash
        FileRecord f;
        f.path = *path;
        f.type = FileType::file;
        f.present = Attr::type | Attr::sha256;
        const auto digest = Sha256Digest::from_hex(*hash);
        if (!digest) return error(printable(f.path) + ": malformed SHA-256 '" + printable(hash->substr(0, 80)) + "'");
        f.sha256 = *digest;
        if (auto size = attribute(n, "size")) {
          if (size->empty() || size->size() > 19 ||
              !std::all_of(size->begin(), size->end(), [](char c) { return c >= '0' && c <= '9'; }))
            return error(printable(f.path) + ": malformed size '" + printable(size->substr(0, 40)) + "'");
          f.size = std::stoull(*size);
          f.present |= Attr::size;
        }
        if (truthy(attribute(n, "mutable", kN8060Ns))) mutable_.push_back(f.path);
        ++hashed_;
        if (auto r = add(std::move(f)); !r) return r;
      }
    }
    return {};
  }

  std::string path_;
  std::string install_root_;
  std::map<std::string, FileRecord> records_;
  std::vector<std::string> mutable_;
  std::size_t hashed_ = 0;
};

}  // namespace

Expected<SwidTag> read_swid_tag(const std::string& path, const std::string& install_root) {
  auto root_path = normalize_path(install_root);
  if (!root_path) return fail(ErrorCode::invalid_argument, "install root '" + install_root + "': " + root_path.error().message);
  auto file = PackageFile::open(path);
  if (!file) return tl::unexpected(file.error());
  if (file->size() > kMaxTagBytes)
    return fail(ErrorCode::limit, path + ": larger than " + std::to_string(kMaxTagBytes) + " bytes: not a SWID tag");
  auto text = file->read_exact(static_cast<std::size_t>(file->size()), "tag");
  if (!text) return tl::unexpected(text.error());
  auto digest = file->finish();
  if (!digest) return tl::unexpected(digest.error());

  static const bool initialised = (xmlInitParser(), true);
  (void)initialised;
  std::unique_ptr<xmlParserCtxt, XmlFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) return fail(ErrorCode::internal, path + ": out of memory");
  // No network, no DTD loading, no entity substitution; errors reported here, not on stderr
  // (those libxml2 raises with no context too: libxml_errors.h).
  std::optional<Error> stray;
  LibxmlErrorRoute route(&stray, &keep_first_libxml_error);
  std::unique_ptr<xmlDoc, XmlFree> doc(xmlCtxtReadMemory(ctxt.get(), text->data(), static_cast<int>(text->size()),
                                                         nullptr, nullptr,
                                                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  // Bytes the declared encoding cannot convert: refused even when libxml2 kept a document.
  if (stray) return fail(ErrorCode::parse, path + ": not well-formed XML: " + stray->message);
  if (!doc) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    std::string why = e != nullptr && e->message != nullptr ? e->message : "malformed XML";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return fail(ErrorCode::parse, path + ": not well-formed XML" +
                                      (e != nullptr ? " (line " + std::to_string(e->line) + ")" : std::string()) + ": " +
                                      why);
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr)
    return fail(ErrorCode::parse, path + ": a SWID tag has no DTD (refused: entity expansion)");
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || !is(root, "SoftwareIdentity"))
    return fail(ErrorCode::parse, path + ": not an ISO/IEC 19770-2:2015 SWID tag (no SoftwareIdentity element in " +
                                      kSwidNs + ")");
  if (truthy(attribute(root, "corpus")))
    return fail(ErrorCode::invalid_argument, path + ": a corpus tag describes an installer, not installed software");
  if (truthy(attribute(root, "supplemental")))
    return fail(ErrorCode::invalid_argument, path + ": a supplemental tag adds metadata to another tag; it has no files");

  SwidTag tag;
  SignatureInfo& info = tag.signature.info;
  const auto name = attribute(root, "name");
  const auto tag_id = attribute(root, "tagId");
  if (!name || name->empty()) return fail(ErrorCode::parse, path + ": the tag has no name");
  if (!tag_id || tag_id->empty()) return fail(ErrorCode::parse, path + ": the tag has no tagId");
  info.ref.name = *name;
  info.ref.version = attribute(root, "version").value_or("0.0");  // the schema's default
  if (info.ref.version.empty() || info.ref.version.find('@') != std::string::npos)
    return fail(ErrorCode::parse, path + ": unusable version '" + printable(info.ref.version) + "'");
  info.tag_id = *tag_id;
  info.kind = truthy(attribute(root, "patch")) ? SignatureKind::patch : SignatureKind::product;
  info.install_root = *root_path;
  info.source = file->file_name();
  info.source_sha256 = *digest;

  TagReader reader(path, *root_path);
  std::string tag_creator;
  for (xmlNode* n = root->children; n != nullptr; n = n->next) {
    if (is(n, "SoftwareIdentity")) return fail(ErrorCode::parse, path + ": a SoftwareIdentity inside another");
    if (is(n, "Entity")) {
      const std::string role = attribute(n, "role").value_or("");
      const std::string entity = attribute(n, "name").value_or("");
      if (has_word(role, "softwareCreator") && info.vendor.empty()) info.vendor = entity;
      if (has_word(role, "tagCreator") && tag_creator.empty()) tag_creator = entity;
    } else if (is(n, "Link")) {
      const std::string rel = attribute(n, "rel").value_or("");
      if (rel != "patches" && rel != "supersedes") continue;
      const auto target = swid_href(attribute(n, "href"));
      if (!target)
        return fail(ErrorCode::parse, path + ": <Link rel=\"" + rel + "\"> must point at a tag as href=\"swid:TAGID\"");
      if (rel == "patches") {
        if (tag.patches_tag) return fail(ErrorCode::parse, path + ": a patch tag patches one release, not several");
        tag.patches_tag = *target;
      } else {
        tag.supersedes_tags.push_back(*target);
      }
    } else if (is(n, "Payload") || is(n, "Evidence")) {
      if (auto r = reader.resources(n); !r) return tl::unexpected(r.error());
    }
  }
  if (info.vendor.empty()) info.vendor = tag_creator;
  if (info.kind == SignatureKind::patch && !tag.patches_tag)
    return fail(ErrorCode::parse, path + ": a patch tag needs <Link rel=\"patches\" href=\"swid:TAGID\"/>");
  if (info.kind == SignatureKind::product && tag.patches_tag)
    return fail(ErrorCode::parse, path + ": links rel=\"patches\" but is not a patch tag (patch=\"true\")");

  auto records = reader.records();
  if (!records) return tl::unexpected(records.error());
  auto manifest = Manifest::from_records(std::move(*records));
  if (!manifest) return fail(manifest.error().code, path + ": " + manifest.error().message);
  tag.signature.manifest = std::move(*manifest);
  std::vector<std::string> config = reader.mutable_files();
  std::sort(config.begin(), config.end());
  config.erase(std::unique(config.begin(), config.end()), config.end());
  info.config_paths = std::move(config);
  return tag;
}

Expected<void> resolve_swid_links(SwidTag& tag, std::span<const SignatureInfo> known) {
  SignatureInfo& info = tag.signature.info;
  const auto find = [&](const std::string& id) -> Expected<SignatureRef> {
    for (const SignatureInfo& k : known) {
      if (k.tag_id == id) return k.ref;
    }
    return fail(ErrorCode::invalid_argument, info.source + ": links to tag " + printable(id) +
                                                 ", which is neither stored nor part of this import");
  };
  if (tag.patches_tag) {
    auto ref = find(*tag.patches_tag);
    if (!ref) return tl::unexpected(ref.error());
    info.patches = *ref;
  }
  info.supersedes.clear();
  for (const std::string& id : tag.supersedes_tags) {
    auto ref = find(id);
    if (!ref) return tl::unexpected(ref.error());
    info.supersedes.push_back(*ref);
  }
  return {};
}

}  // namespace tb
