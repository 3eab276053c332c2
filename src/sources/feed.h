// A feed directory: packages (.deb, .rpm, SWID tags) dropped into one directory are
// imported once each. FeedWatcher::poll_once() lists the directory (not recursively;
// dotfiles are skipped, so a writer can create ".name.part" and rename it), waits for
// each new file to settle, imports it in its own transaction and records failures
// without stopping.
//
// Idempotence needs no state of its own: every imported signature keeps the SHA-256 of
// its package file (SignatureInfo::source_sha256), so a file whose content is already
// stored, under any name and across restarts, is a duplicate and writes nothing. In
// memory the watcher only remembers the files it has dealt with (by size and mtime), so
// they are not read again on every poll; a file that changes is looked at again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/signature.h"
#include "sources/package_verifier.h"
#include "store/store.h"

namespace tb {

struct FeedOptions {
  // A new file is ready when its mtime is at least this old, or when its size and mtime
  // did not change since the previous poll (a writer still appending changes them).
  std::chrono::milliseconds settle{2000};
  // Where SWID tag elements without a root attribute are installed.
  std::string install_root = "/";
  // Files read per poll at most; the rest wait for the next poll (bounds one poll's work).
  std::size_t max_files_per_poll = 10'000;
  // Signed imports: each package's signature is checked with it (its provenance recorded,
  // failures and, with require_signed, unverified packages listed as failed). Default:
  // verifies nothing, requires nothing.
  PackageVerifier verifier;
};

struct FeedImport {
  std::string path;
  SignatureRef ref;
  SignatureKind kind = SignatureKind::product;
  std::optional<SignatureRef> patches;
  std::int64_t id = 0;           // the stored signature
  std::uint64_t records = 0;
  bool already_stored = false;   // name@version was stored with the same files (another build)
  std::vector<SignatureRef> relinked;  // stored releases whose relations this one changed (an older release)
};

struct FeedFailure {
  std::string path;
  std::string reason;
};

struct FeedPoll {
  std::vector<FeedImport> imported;
  std::vector<FeedFailure> failed;
  std::size_t duplicates = 0;  // files whose content is already stored
  std::size_t waiting = 0;     // new files not settled yet (or over max_files_per_poll)
};

class FeedWatcher {
 public:
  // `store` must outlive the watcher; like any Store, it is used by one thread at a time.
  FeedWatcher(Store& store, std::string dir, FeedOptions options = {});

  // One pass over the directory. Fails only when the directory cannot be listed or the
  // stored signatures cannot be read; a bad package is a FeedFailure in the result.
  Expected<FeedPoll> poll_once();

  const std::string& dir() const { return dir_; }

 private:
  struct FileState {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileState&) const = default;
  };

  Store& store_;
  std::string dir_;
  FeedOptions options_;
  std::map<std::string, FileState> pending_;  // seen, not settled yet
  std::map<std::string, FileState> handled_;  // imported, duplicate or failed: skipped until changed
};

}  // namespace tb
