#include "cli/import_command.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "format/drift_report.h"  // printable()
#include "sources/archive_source.h"
#include "sources/deb_source.h"
#include "sources/directory_source.h"
#include "sources/package_format.h"
#include "sources/package_verifier.h"
#include "sources/relations.h"
#include "sources/rpm_source.h"
#include "sources/swid_source.h"
#include "store/release_links.h"  // describe_relations()
#include "store/sqlite_store.h"

namespace tb {

namespace {

namespace fs = std::filesystem;

constexpr int kOk = 0, kSomeFailed = 1, kError = 2;

int usage_error(const std::string& message) {
  fmt::print(stderr, "trustbase import: {}\n", message);
  return kError;
}

// "1,204": counts in summaries are read by people.
std::string grouped(std::size_t n) {
  std::string digits = std::to_string(n);
  for (std::size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, ",");
  return digits;
}

// Relations given on the command line; they replace what the importer would infer.
struct Overrides {
  std::optional<SignatureKind> kind;
  std::optional<SignatureRef> patches;
  std::vector<SignatureRef> supersedes;

  bool any() const { return kind || patches || !supersedes.empty(); }
  void apply(SignatureInfo& info) const {
    if (patches) info.kind = SignatureKind::patch;
    if (kind) info.kind = *kind;
    if (info.kind == SignatureKind::product) info.patches.reset();
    if (patches) info.patches = patches;
    if (!supersedes.empty()) info.supersedes = supersedes;
  }
};

Expected<Overrides> parse_overrides(const ImportArgs& a) {
  Overrides o;
  if (!a.kind.empty()) o.kind = *signature_kind_from_string(a.kind);  // validated by CLI11
  if (!a.patches.empty()) {
    o.patches = SignatureRef::parse(a.patches);
    if (!o.patches) return fail(ErrorCode::invalid_argument, "--patches wants NAME@VERSION, got '" + a.patches + "'");
  }
  for (const std::string& id : a.supersedes) {
    auto ref = SignatureRef::parse(id);
    if (!ref) return fail(ErrorCode::invalid_argument, "--supersedes wants NAME@VERSION, got '" + id + "'");
    o.supersedes.push_back(*ref);
  }
  if (o.kind == SignatureKind::patch && !o.patches)
    return fail(ErrorCode::invalid_argument, "a patch needs --patches NAME@VERSION (the release it applies to)");
  return o;
}

// --- one signature described on the command line ----------------------------------------

int import_named(const StoreArgs& s, const ImportArgs& a, const Overrides& overrides) {
  SignatureInfo info;
  info.ref = SignatureRef{a.name, a.version};
  info.vendor = a.vendor;
  info.install_root = a.install_root;
  overrides.apply(info);
  const std::string& source = a.sources.front();

  std::error_code ec;
  Expected<Signature> signature = fail(ErrorCode::internal, "unreachable");
  if (fs::is_directory(source, ec)) {
    signature = signature_from_directory(source, info);
  } else {
    auto format = detect_package_format(source);
    if (!format) return usage_error(format.error().message);
    switch (*format) {
      case PackageFormat::tar:
      case PackageFormat::zip: signature = signature_from_archive(source, info, a.strip_components); break;
      case PackageFormat::scan_document: signature = signature_from_scan_document(source, info); break;
      case PackageFormat::deb:
      case PackageFormat::rpm:
      case PackageFormat::swid:
        return usage_error(source + ": a " + std::string(to_string(*format)) +
                           " names itself; import it without --name and --version");
      case PackageFormat::unknown: return usage_error(source + ": unknown format (not a package, archive or scan)");
    }
  }
  if (!signature) return usage_error(signature.error().message);
  auto store = cli::open_store(s);
  if (!store) return usage_error(store.error().message);
  auto id = (*store)->put_signature(*signature);
  if (!id) return usage_error(id.error().message);
  fmt::print("imported {} {} ({} records) as signature {}\n", to_string(signature->info.kind), info.ref.id(),
             signature->manifest.size(), *id);
  return kOk;
}

// --- packages ---------------------------------------------------------------------------

struct Item {
  std::string path;
  PackageFormat format = PackageFormat::unknown;
};

struct Failure {
  std::string path;
  std::string reason;
};

// Drops the "PATH: " an importer's message starts with: the summary names the file.
std::string reason_for(const std::string& path, const std::string& message) {
  if (message.size() > path.size() + 2 && message.compare(0, path.size(), path) == 0 &&
      message.compare(path.size(), 2, ": ") == 0)
    return message.substr(path.size() + 2);
  return message;
}

bool importable(PackageFormat f) { return f == PackageFormat::deb || f == PackageFormat::rpm || f == PackageFormat::swid; }

class Progress {
 public:
  Progress(std::size_t total, bool enabled) : total_(total), enabled_(enabled) {}
  ~Progress() {
    if (enabled_) write("\r\033[K");
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void step(const std::string& path) {
    ++done_;
    if (enabled_) write(fmt::format("\r\033[K[{}/{}] {}", grouped(done_), grouped(total_), printable(path)));
  }

 private:
  static void write(const std::string& s) { [[maybe_unused]] auto n = ::write(STDERR_FILENO, s.data(), s.size()); }
  std::size_t total_, done_ = 0;
  bool enabled_;
};

class PackageImport {
 public:
  // `install_root`: where SWID tag elements without a root attribute are installed.
  PackageImport(Store& store, std::vector<SignatureInfo> known, const Overrides& overrides, std::string install_root,
                bool quiet, const PackageVerifier& verifier)
      : store_(store),
        known_(std::move(known)),
        overrides_(overrides),
        install_root_(std::move(install_root)),
        quiet_(quiet),
        verifier_(verifier) {}

  void run(const std::vector<Item>& items, Progress& progress) {
    std::vector<SwidTag> tags;
    for (const Item& item : items) {
      if (item.format == PackageFormat::swid) {
        auto tag = read_swid_tag(item.path, install_root_);
        if (!tag) {
          progress.step(item.path);
          failed(item.path, tag.error().message);
          continue;
        }
        if (auto v = verifier_.unsigned_source(item.path, "SWID tag"); !v) {
          progress.step(item.path);
          failed(item.path, v.error().message);
          continue;
        }
        tag_paths_.push_back(item.path);
        tags.push_back(std::move(*tag));
        continue;
      }
      progress.step(item.path);
      if (item.format == PackageFormat::deb) {
        auto deb = read_deb(item.path);
        if (!deb) failed(item.path, deb.error().message);
        else if (auto v = verifier_.deb(*deb, item.path); !v) failed(item.path, v.error().message);
        else store(item.path, std::move(deb->signature), VersionScheme::debian);
      } else {
        auto rpm = read_rpm(item.path);
        if (!rpm) failed(item.path, rpm.error().message);
        else if (auto v = verifier_.rpm(*rpm, item.path); !v) failed(item.path, v.error().message);
        else store(item.path, std::move(rpm->signature), VersionScheme::rpm);
      }
    }
    store_tags(std::move(tags), progress);
  }

  std::size_t imported() const { return imported_; }
  const std::vector<Failure>& failures() const { return failures_; }

 private:
  void failed(const std::string& path, const std::string& message) {
    failures_.push_back(Failure{path, reason_for(path, message)});
  }

  // Release tags first, then patch tags once what they link to is known (a patch may
  // supersede another patch of the same run).
  void store_tags(std::vector<SwidTag> tags, Progress& progress) {
    std::vector<bool> done(tags.size());
    for (std::size_t i = 0; i < tags.size(); ++i) {
      if (tags[i].signature.info.kind != SignatureKind::product) continue;
      progress.step(tag_paths_[i]);
      store_tag(i, tags[i]);
      done[i] = true;
    }
    for (bool progressed = true; progressed;) {
      progressed = false;
      for (std::size_t i = 0; i < tags.size(); ++i) {
        if (done[i] || !links_known(tags[i])) continue;
        progress.step(tag_paths_[i]);
        store_tag(i, tags[i]);
        done[i] = progressed = true;
      }
    }
    for (std::size_t i = 0; i < tags.size(); ++i) {  // links that never resolved: the error says which
      if (done[i]) continue;
      progress.step(tag_paths_[i]);
      store_tag(i, tags[i]);
    }
  }

  bool known_tag(const std::string& id) const {
    return std::any_of(known_.begin(), known_.end(), [&](const SignatureInfo& k) { return k.tag_id == id; });
  }
  bool links_known(const SwidTag& tag) const {
    if (tag.patches_tag && !known_tag(*tag.patches_tag)) return false;
    return std::all_of(tag.supersedes_tags.begin(), tag.supersedes_tags.end(),
                       [&](const std::string& id) { return known_tag(id); });
  }

  void store_tag(std::size_t i, SwidTag& tag) {
    if (auto r = resolve_swid_links(tag, known_); !r) {
      failed(tag_paths_[i], r.error().message);
      return;
    }
    store(tag_paths_[i], std::move(tag.signature), std::nullopt);
  }

  const SignatureInfo* find_known(const SignatureRef& ref) const {
    for (const SignatureInfo& k : known_)
      if (k.ref == ref) return &k;
    return nullptr;
  }

  // A package's relations follow the version order of its releases (the store re-links
  // the stored ones of its name) unless the command line gives them.
  void store(const std::string& path, Signature signature, std::optional<VersionScheme> scheme) {
    SignatureInfo& info = signature.info;
    const SignatureInfo* stored = find_known(info.ref);
    if (overrides_.any()) overrides_.apply(info);
    else if (scheme && stored == nullptr)
      info.linked_by = scheme;
    auto id = info.linked_by ? store_.put_release(signature, link_releases) : store_.put_signature(signature);
    if (!id) {
      failed(path, id.error().message);
      return;
    }
    ++imported_;
    if (stored != nullptr) {
      if (!quiet_) fmt::print("already stored: {} (signature {})\n", printable(info.ref.id()), *id);
      return;
    }
    std::vector<SignatureRef> relinked;
    if (info.linked_by)
      relinked = link_into(info, known_);  // what the store did, in known_
    else
      known_.push_back(info);
    if (quiet_) return;
    std::string relation;
    if (info.patches) relation = " of " + info.patches->id();
    if (!info.supersedes.empty()) {
      relation += ", superseding ";
      for (std::size_t k = 0; k < info.supersedes.size(); ++k)
        relation += (k != 0 ? ", " : "") + info.supersedes[k].id();
    }
    fmt::print("imported {} {}{} ({} records) as signature {}{}\n", to_string(info.kind), printable(info.ref.id()),
               printable(relation), signature.manifest.size(), *id, printable(describe_provenance(info.provenance)));
    for (const SignatureRef& ref : relinked)
      fmt::print("re-linked {}: now {}\n", printable(ref.id()), printable(store::describe_relations(*find_known(ref))));
  }

  Store& store_;
  std::vector<SignatureInfo> known_;  // stored signatures' metadata, this run's included
  const Overrides& overrides_;
  std::string install_root_;
  bool quiet_;
  const PackageVerifier& verifier_;
  std::vector<std::string> tag_paths_;
  std::size_t imported_ = 0;
  std::vector<Failure> failures_;
};

// Files to import: package files as given, directories walked (sorted, recursively) for
// the files that are packages; anything else in a directory is skipped, given
// explicitly it is a failure.
void collect(const std::vector<std::string>& sources, std::vector<Item>& items, std::vector<Failure>& failures,
             std::size_t& skipped) {
  for (const std::string& source : sources) {
    std::error_code ec;
    if (fs::is_directory(source, ec)) {
      std::vector<std::string> files;
      fs::recursive_directory_iterator it(source, fs::directory_options::skip_permission_denied, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_regular_file(type_ec)) files.push_back(it->path().string());
      }
      if (ec) failures.push_back(Failure{source, "cannot list: " + ec.message()});
      std::sort(files.begin(), files.end());
      for (const std::string& f : files) {
        auto format = detect_package_format(f);
        if (!format) failures.push_back(Failure{f, reason_for(f, format.error().message)});
        else if (importable(*format)) items.push_back(Item{f, *format});
        else ++skipped;
      }
      continue;
    }
    auto format = detect_package_format(source);
    if (!format) failures.push_back(Failure{source, reason_for(source, format.error().message)});
    else if (importable(*format)) items.push_back(Item{source, *format});
    else if (*format == PackageFormat::unknown)
      failures.push_back(Failure{source, "not a package (unknown format)"});
    else
      failures.push_back(Failure{source, "a " + std::string(to_string(*format)) +
                                             " carries no name or version: import it alone with --name and --version"});
  }
}

// The releases of each package in version order, so each is linked as it is stored (the
// store would re-link them in any order, at the cost of an audit entry per change).
std::vector<Item> in_release_order(std::vector<Item> items) {
  std::vector<std::string> paths;
  paths.reserve(items.size());
  for (const Item& item : items) paths.push_back(item.path);
  std::vector<Item> out;
  out.reserve(items.size());
  for (const std::size_t i : release_order(paths)) out.push_back(std::move(items[i]));
  return out;
}

int import_packages(const StoreArgs& s, const ImportArgs& a, const Overrides& overrides, const PackageVerifier& verifier) {
  std::vector<Item> items;
  std::vector<Failure> failures;
  std::size_t skipped = 0;
  collect(a.sources, items, failures, skipped);
  if (items.empty() && failures.empty()) return usage_error("no package (.deb, .rpm, SWID tag) found");
  items = in_release_order(std::move(items));

  // Each package is its own transaction, committed without an fsync: a bulk import can be
  // replayed (it is idempotent), and one fsync per small package would cost more than
  // reading it. Closing the store checkpoints the WAL into the database, synced, before
  // the summary is printed.
  StoreOptions options;
  options.durable_commits = false;
  std::size_t imported = 0;
  {
    auto store = cli::open_store(s, options);
    if (!store) return usage_error(store.error().message);
    auto known = (*store)->signature_infos();
    if (!known) return usage_error(display_store_spec(s.db) + ": " + known.error().message);
    PackageImport import(**store, std::move(*known), overrides, a.install_root, a.quiet, verifier);
    {
      Progress progress(items.size(), ::isatty(STDERR_FILENO) == 1 && !a.quiet);
      import.run(items, progress);
    }
    imported = import.imported();
    failures.insert(failures.end(), import.failures().begin(), import.failures().end());
  }

  const auto& failed = failures;
  std::string summary = fmt::format("imported {} package{}", grouped(imported), imported == 1 ? "" : "s");
  if (!failed.empty()) summary += fmt::format(", {} failed:", grouped(failed.size()));
  fmt::print("{}\n", summary);
  for (const Failure& f : failed) fmt::print("  {}: {}\n", printable(f.path), printable(f.reason));
  if (skipped != 0)
    fmt::print("skipped {} file{} that {} not a package (tar and zip archives need --name and --version)\n",
               grouped(skipped), skipped == 1 ? "" : "s", skipped == 1 ? "is" : "are");
  return failed.empty() ? kOk : kSomeFailed;
}

}  // namespace

VerifyOptions verify_options(const ImportArgs& a) {
  VerifyOptions o;
  o.keyrings = a.keyrings;
  o.apt_release = a.apt_release;
  o.apt_release_signature = a.apt_release_gpg;
  o.apt_packages = a.apt_packages;
  o.require_signed = a.require_signed;
  return o;
}

std::string release_label(const SignatureProvenance& p) {
  std::string out;
  for (const std::string* f : {&p.origin, &p.suite, &p.codename})
    if (!f->empty()) out += (out.empty() ? "" : " ") + *f;
  return out.empty() ? out : " (" + out + ")";
}

std::string describe_provenance(const SignatureProvenance& p) {
  if (!p.verified()) return {};
  std::string out = ", " + std::string(to_string(p.method)) + " signed by ";
  out += p.signer_fingerprint.empty() ? "key " + p.signer_key_id : p.signer_fingerprint;
  if (p.method == ProvenanceMethod::deb_release) out += release_label(p);
  return out;
}

int run_import(const StoreArgs& s, const ImportArgs& a) {
  auto overrides = parse_overrides(a);
  if (!overrides) return usage_error(overrides.error().message);
  if (a.sources.empty()) return usage_error("nothing to import");
  if (!a.name.empty() || !a.version.empty()) {
    if (a.name.empty() || a.version.empty()) return usage_error("--name and --version go together");
    if (a.sources.size() != 1)
      return usage_error("--name and --version describe one signature: give one directory, archive or scan");
    if (verify_options(a).any())
      return usage_error("--keyring, --apt-release and --require-signed are for packages: a directory tree, archive or "
                         "scan described by --name and --version carries no signature");
    return import_named(s, a, *overrides);
  }
  if (a.strip_components != 0) return usage_error("--strip-components is for tar and zip archives (with --name)");
  auto verifier = PackageVerifier::open(verify_options(a));
  if (!verifier) return usage_error(verifier.error().message);
  if (const SignatureProvenance* r = verifier->apt_release(); r != nullptr && !a.quiet)
    fmt::print("verified {}: signed by {}{}\n", printable(a.apt_release), r->signer_fingerprint,
               printable(release_label(*r)));
  return import_packages(s, a, *overrides, *verifier);
}

}  // namespace tb
