#include "sources/feed.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "sources/deb_source.h"
#include "sources/package_format.h"
#include "sources/relations.h"
#include "sources/rpm_source.h"
#include "sources/swid_source.h"

namespace tb {

namespace {

namespace fs = std::filesystem;

// Drops the "PATH: " an importer's message starts with: the failure names the file.
std::string reason_for(const std::string& path, const std::string& message) {
  if (message.size() > path.size() + 2 && message.compare(0, path.size(), path) == 0 &&
      message.compare(path.size(), 2, ": ") == 0)
    return message.substr(path.size() + 2);
  return message;
}

std::int64_t now_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Candidate {
  std::string path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

// One poll's imports: the stored signatures' metadata, kept current as packages are stored.
class PollImport {
 public:
  PollImport(Store& store, std::vector<SignatureInfo> known, const FeedOptions& options, FeedPoll& result)
      : store_(store), known_(std::move(known)), options_(options), result_(result) {
    for (const SignatureInfo& k : known_)
      if (k.source_sha256) stored_files_.insert(*k.source_sha256);
  }

  void package(const std::string& path) {
    auto format = detect_package_format(path);
    if (!format) return failed(path, format.error().message);
    switch (*format) {
      case PackageFormat::deb: {
        auto deb = read_deb(path);
        if (!deb) return failed(path, deb.error().message);
        if (auto v = options_.verifier.deb(*deb, path); !v) return failed(path, v.error().message);
        return store(path, std::move(deb->signature), VersionScheme::debian);
      }
      case PackageFormat::rpm: {
        auto rpm = read_rpm(path);
        if (!rpm) return failed(path, rpm.error().message);
        if (auto v = options_.verifier.rpm(*rpm, path); !v) return failed(path, v.error().message);
        return store(path, std::move(rpm->signature), VersionScheme::rpm);
      }
      case PackageFormat::swid: {
        auto tag = read_swid_tag(path, options_.install_root);
        if (!tag) return failed(path, tag.error().message);
        if (auto v = options_.verifier.unsigned_source(path, "SWID tag"); !v) return failed(path, v.error().message);
        tags_.emplace_back(path, std::move(*tag));
        return;
      }
      case PackageFormat::unknown: return failed(path, "not a package (unknown format)");
      default:
        return failed(path, "a " + std::string(to_string(*format)) +
                                " carries no name or version: import it with `trustbase import --name --version`");
    }
  }

  // SWID tags last: releases first, then patches once what they link to is stored (a
  // patch may supersede another patch dropped in the same poll).
  void finish_tags() {
    std::vector<bool> done(tags_.size());
    auto store_tag = [&](std::size_t i) {
      auto& [path, tag] = tags_[i];
      done[i] = true;
      if (tag.signature.info.source_sha256 && stored_files_.contains(*tag.signature.info.source_sha256)) {
        ++result_.duplicates;
        return;
      }
      if (auto r = resolve_swid_links(tag, known_); !r) return failed(path, r.error().message);
      store(path, std::move(tag.signature), std::nullopt);
    };
    for (std::size_t i = 0; i < tags_.size(); ++i)
      if (tags_[i].second.signature.info.kind == SignatureKind::product) store_tag(i);
    for (bool progressed = true; progressed;) {
      progressed = false;
      for (std::size_t i = 0; i < tags_.size(); ++i) {
        if (done[i] || !links_known(tags_[i].second)) continue;
        store_tag(i);
        progressed = true;
      }
    }
    for (std::size_t i = 0; i < tags_.size(); ++i)  // links that never resolved: the error says which
      if (!done[i]) store_tag(i);
  }

 private:
  void failed(const std::string& path, const std::string& message) {
    result_.failed.push_back(FeedFailure{path, reason_for(path, message)});
  }

  bool known_tag(const std::string& id) const {
    return std::any_of(known_.begin(), known_.end(), [&](const SignatureInfo& k) { return k.tag_id == id; });
  }
  bool links_known(const SwidTag& tag) const {
    if (tag.patches_tag && !known_tag(*tag.patches_tag)) return false;
    return std::all_of(tag.supersedes_tags.begin(), tag.supersedes_tags.end(),
                       [&](const std::string& id) { return known_tag(id); });
  }

  void store(const std::string& path, Signature signature, std::optional<VersionScheme> scheme) {
    SignatureInfo& info = signature.info;
    if (info.source_sha256 && stored_files_.contains(*info.source_sha256)) {
      ++result_.duplicates;
      return;
    }
    const bool stored = std::any_of(known_.begin(), known_.end(), [&](const SignatureInfo& k) { return k.ref == info.ref; });
    if (scheme && !stored) info.linked_by = scheme;  // the store re-links the releases of the name
    auto id = info.linked_by ? store_.put_release(signature, link_releases) : store_.put_signature(signature);
    if (!id) return failed(path, id.error().message);
    if (info.source_sha256) stored_files_.insert(*info.source_sha256);
    std::vector<SignatureRef> relinked;
    if (info.linked_by)
      relinked = link_into(info, known_);  // what the store did, in known_
    else if (!stored)
      known_.push_back(info);
    result_.imported.push_back(FeedImport{path, info.ref, info.kind, info.patches, *id, signature.manifest.size(),
                                          stored, std::move(relinked)});
  }

  Store& store_;
  std::vector<SignatureInfo> known_;
  std::set<Sha256Digest> stored_files_;  // source_sha256 of every stored signature
  const FeedOptions& options_;
  FeedPoll& result_;
  std::vector<std::pair<std::string, SwidTag>> tags_;
};

}  // namespace

FeedWatcher::FeedWatcher(Store& store, std::string dir, FeedOptions options)
    : store_(store), dir_(std::move(dir)), options_(std::move(options)) {}

Expected<FeedPoll> FeedWatcher::poll_once() {
  std::vector<Candidate> files;
  std::error_code ec;
  fs::directory_iterator it(dir_, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    struct stat st {};
    const std::string path = it->path().string();
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // symlinks, directories, vanished
    files.push_back(Candidate{path, static_cast<std::uint64_t>(st.st_size),
                              static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec});
  }
  if (ec) return fail(ErrorCode::io, dir_ + ": cannot list the feed directory: " + ec.message());
  std::sort(files.begin(), files.end(), [](const Candidate& a, const Candidate& b) { return a.path < b.path; });

  // Forget files that are gone, so the maps stay as large as the directory.
  std::set<std::string> present;
  for (const Candidate& f : files) present.insert(f.path);
  std::erase_if(handled_, [&](const auto& e) { return !present.contains(e.first); });
  std::erase_if(pending_, [&](const auto& e) { return !present.contains(e.first); });

  FeedPoll result;
  std::vector<Candidate> ready;
  const std::int64_t now = now_ns();
  const std::int64_t settle_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.settle).count();
  for (const Candidate& f : files) {
    const FileState state{f.size, f.mtime_ns};
    if (auto h = handled_.find(f.path); h != handled_.end() && h->second == state) continue;
    auto p = pending_.find(f.path);
    const bool unchanged = p != pending_.end() && p->second == state;
    if (!unchanged && now - f.mtime_ns < settle_ns) {
      pending_[f.path] = state;
      ++result.waiting;
      continue;
    }
    if (ready.size() == options_.max_files_per_poll) {
      ++result.waiting;
      continue;
    }
    ready.push_back(f);
  }
  if (ready.empty()) return result;

  auto known = store_.signature_infos();
  if (!known) return fail(known.error().code, "reading the stored signatures: " + known.error().message);
  PollImport import(store_, std::move(*known), options_, result);
  std::vector<std::string> paths;
  for (const Candidate& f : ready) paths.push_back(f.path);
  for (const std::size_t i : release_order(paths)) {  // each package's releases in version order
    const Candidate& f = ready[i];
    import.package(f.path);
    pending_.erase(f.path);
    handled_[f.path] = FileState{f.size, f.mtime_ns};
  }
  import.finish_tags();
  return result;
}

}  // namespace tb
