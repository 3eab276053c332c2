#include "store/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "store/sqlite_db.h"
#include "store/sqlite_store.h"

namespace tb {

namespace {

using sqlite::Db;

constexpr const char* kSidecars[] = {"-journal", "-wal", "-shm"};

Error os_error(const std::string& what, const std::string& path) {
  return Error{ErrorCode::io, what + " " + path + ": " + std::strerror(errno)};
}

std::optional<std::uint64_t> file_size(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

// Whether two paths name one existing file (hard links and symlinks included).
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void remove_with_sidecars(const std::string& path) {
  ::unlink(path.c_str());
  for (const char* suffix : kSidecars) ::unlink((path + suffix).c_str());
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Makes a file's data, then its directory entry, durable.
Expected<void> fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(os_error("cannot open", path));
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return tl::unexpected(os_error("cannot fsync", path));
  return {};
}

Expected<void> rename_durably(const std::string& from, const std::string& to) {
  if (auto r = fsync_path(from, false); !r) return r;
  if (::rename(from.c_str(), to.c_str()) != 0) return tl::unexpected(os_error("cannot rename " + from + " to", to));
  return fsync_path(parent_dir(to), true);
}

// The schema version of an open store; parse when it holds no trustbase schema.
Expected<int> schema_version(Db& db, const std::string& path) {
  auto stmt = db.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!stmt) {
    if (stmt.error().code == ErrorCode::parse) return fail(ErrorCode::parse, path + ": " + stmt.error().message);
    return fail(ErrorCode::parse, path + ": not a trustbase store (" + stmt.error().message + ")");
  }
  auto row = stmt->step();
  if (!row) return fail(row.error().code, path + ": " + row.error().message);
  const auto version = stmt->column_int(0);
  if (version <= 0) return fail(ErrorCode::parse, path + ": not a trustbase store (no schema version)");
  return static_cast<int>(version);
}

Expected<StoreFileInfo> check_open(Db& db, const std::string& path) {
  {
    auto stmt = db.prepare("PRAGMA integrity_check(1)");
    if (!stmt) return fail(ErrorCode::parse, path + ": " + stmt.error().message);
    auto row = stmt->step();
    if (!row) return fail(ErrorCode::parse, path + ": integrity check failed: " + row.error().message);
    const std::string verdict = *row ? stmt->column_text(0) : std::string("no answer");
    if (verdict != "ok") return fail(ErrorCode::parse, path + ": integrity check failed: " + verdict);
  }
  auto version = schema_version(db, path);
  if (!version) return tl::unexpected(version.error());
  StoreFileInfo info;
  info.schema_version = *version;
  info.bytes = file_size(path).value_or(0);
  return info;
}

// Rows that make a store worth keeping: hosts, scans, signatures, tokens.
Expected<std::int64_t> rows_held(Db& db) {
  auto stmt = db.prepare(
      "SELECT (SELECT count(*) FROM hosts) + (SELECT count(*) FROM scans) + (SELECT count(*) FROM signatures)"
      " + (SELECT count(*) FROM tokens)");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return tl::unexpected(row.error());
  return stmt->column_int(0);
}

// Copies all of `src` into `dest` in one step: one write transaction on dest, so another
// connection sees the old content or the new, never a mix.
Expected<void> copy_whole(Db& src, Db& dest, const std::string& dest_path) {
  sqlite3_backup* b = sqlite3_backup_init(dest.get(), "main", src.get(), "main");
  if (b == nullptr) return fail(ErrorCode::io, dest_path + ": cannot start the copy: " + sqlite3_errmsg(dest.get()));
  int rc = SQLITE_OK;
  for (int attempt = 0; attempt < 3000; ++attempt) {  // busy: someone holds dest's lock; up to ~30 s
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int finished = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return tl::unexpected(sqlite::make_error(dest.get(), rc, dest_path + ": copy failed"));
  if (finished != SQLITE_OK) return tl::unexpected(sqlite::make_error(dest.get(), finished, dest_path + ": copy failed"));
  return {};
}

}  // namespace

Expected<StoreFileInfo> check_sqlite_store_file(const std::string& path) {
  if (!file_size(path)) return fail(ErrorCode::not_found, path + ": no such file");
  auto db = Db::open(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!db) return fail(db.error().code, path + ": " + db.error().message);
  return check_open(*db, path);
}

Expected<BackupResult> backup_sqlite_store(const std::string& store_path, const std::string& to_path,
                                           const BackupOptions& options) {
  if (!file_size(store_path)) return fail(ErrorCode::not_found, store_path + ": no such store");
  if (same_file(store_path, to_path)) return fail(ErrorCode::invalid_argument, to_path + " is the store itself");
  // Read-write (never written): a read-only connection to a WAL database cannot create
  // the -shm file when no other connection has.
  auto opened = Db::open(store_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!opened) return fail(opened.error().code, store_path + ": " + opened.error().message);
  std::optional<Db> src(std::move(*opened));
  sqlite3_busy_timeout(src->get(), 5000);
  if (auto v = schema_version(*src, store_path); !v) return tl::unexpected(v.error());

  const std::string partial = to_path + ".partial";
  remove_with_sidecars(partial);  // a crashed earlier run's
  BackupResult result;
  auto copied = [&]() -> Expected<void> {
    auto dest = Db::open(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
    if (!dest) return fail(dest.error().code, partial + ": " + dest.error().message);
    sqlite3_backup* b = sqlite3_backup_init(dest->get(), "main", src->get(), "main");
    if (b == nullptr) return fail(ErrorCode::io, partial + ": cannot start the backup: " + sqlite3_errmsg(dest->get()));
    int pages = std::max(1, options.pages_per_step);
    int busy_waits = 0;
    std::optional<int> last_remaining;
    int rc = SQLITE_OK;
    for (;;) {
      rc = sqlite3_backup_step(b, pages);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        if (++busy_waits > 3000) break;  // ~30 s without getting a read lock
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (rc != SQLITE_OK && rc != SQLITE_DONE) break;
      const int remaining = sqlite3_backup_remaining(b);
      const int total = sqlite3_backup_pagecount(b);
      if (options.progress) options.progress(static_cast<std::uint64_t>(remaining), static_cast<std::uint64_t>(total));
      if (rc == SQLITE_DONE) break;
      // More left than before: a write elsewhere made the copy start over. Bigger steps
      // finish before the next write comes (a WAL store's writers are never blocked).
      if (last_remaining && remaining > *last_remaining) {
        ++result.restarts;
        pages = pages > (1 << 24) ? -1 : pages * 2;
      }
      last_remaining = remaining;
      if (options.pause.count() > 0) std::this_thread::sleep_for(options.pause);
    }
    const int finished = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return fail(ErrorCode::io, store_path + ": the store stayed locked");
      return tl::unexpected(sqlite::make_error(dest->get(), rc, "backup to " + partial + " failed"));
    }
    if (finished != SQLITE_OK)
      return tl::unexpected(sqlite::make_error(dest->get(), finished, "backup to " + partial + " failed"));
    // The copy says WAL in its header, as the store does: make it one self-contained file.
    if (auto r = dest->exec("PRAGMA journal_mode = DELETE"); !r)
      return fail(r.error().code, partial + ": " + r.error().message);
    return {};
  }();
  src.reset();  // the store is not needed any more
  if (!copied) {
    remove_with_sidecars(partial);
    return tl::unexpected(copied.error());
  }
  auto checked = check_sqlite_store_file(partial);
  if (!checked) {
    remove_with_sidecars(partial);
    return fail(checked.error().code, "the copy failed its check: " + checked.error().message);
  }
  if (auto r = rename_durably(partial, to_path); !r) {
    remove_with_sidecars(partial);
    return tl::unexpected(r.error());
  }
  result.file = *checked;
  result.file.bytes = file_size(to_path).value_or(result.file.bytes);
  return result;
}

Expected<StoreFileInfo> restore_sqlite_store(const std::string& from_path, const std::string& store_path,
                                             const RestoreOptions& options) {
  auto backup = check_sqlite_store_file(from_path);
  if (!backup) return fail(backup.error().code, "not a usable backup: " + backup.error().message);
  if (same_file(from_path, store_path)) return fail(ErrorCode::invalid_argument, from_path + " is the store itself");
  const int known = sqlite_store_schema_version();
  if (backup->schema_version > known)
    return fail(ErrorCode::invalid_argument,
                from_path + ": the backup's schema version " + std::to_string(backup->schema_version) +
                    " is newer than this trustbase knows (" + std::to_string(known) +
                    "): restore it with the trustbase that made it");
  auto src = Db::open(from_path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!src) return fail(src.error().code, from_path + ": " + src.error().message);

  // An existing store with data is kept unless forced; a readable one is overwritten in
  // place through SQLite, which keeps its WAL and other connections consistent.
  const auto existing_size = file_size(store_path);
  if (existing_size && *existing_size > 0) {
    auto dest = Db::open(store_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
    Expected<std::int64_t> held = dest ? rows_held(*dest) : Expected<std::int64_t>(tl::unexpected(dest.error()));
    if (!held && !options.force)
      return fail(ErrorCode::invalid_argument, store_path + " exists and cannot be read as a store (" +
                                                   held.error().message + "): --force replaces it");
    if (held && *held > 0 && !options.force)
      return fail(ErrorCode::invalid_argument,
                  store_path + " holds data (" + std::to_string(*held) +
                      " hosts, scans, signatures and tokens): --force replaces it");
    if (held) {
      sqlite3_busy_timeout(dest->get(), 5000);
      if (auto r = copy_whole(*src, *dest, store_path); !r) return tl::unexpected(r.error());
      auto info = check_open(*dest, store_path);
      if (!info) return tl::unexpected(info.error());
      return info;
    }
    // Forced over something that is no store: replaced as a new file below.
  }

  const std::string partial = store_path + ".restore-partial";
  remove_with_sidecars(partial);
  auto written = [&]() -> Expected<void> {
    auto dest = Db::open(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
    if (!dest) return fail(dest.error().code, partial + ": " + dest.error().message);
    if (auto r = copy_whole(*src, *dest, partial); !r) return r;
    if (auto r = dest->exec("PRAGMA journal_mode = DELETE"); !r) return fail(r.error().code, partial + ": " + r.error().message);
    return {};
  }();
  if (!written) {
    remove_with_sidecars(partial);
    return tl::unexpected(written.error());
  }
  // A -wal or -shm left beside the old file would be applied to the new one.
  for (const char* suffix : kSidecars) ::unlink((store_path + suffix).c_str());
  if (auto r = rename_durably(partial, store_path); !r) {
    remove_with_sidecars(partial);
    return tl::unexpected(r.error());
  }
  return check_sqlite_store_file(store_path);
}

}  // namespace tb
