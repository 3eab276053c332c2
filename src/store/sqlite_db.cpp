#include "store/sqlite_db.h"

namespace tb::sqlite {

Error make_error(sqlite3* db, int rc, std::string_view context) {
  const int primary = rc & 0xFF;
  ErrorCode code = ErrorCode::io;
  switch (primary) {
    case SQLITE_CONSTRAINT: code = ErrorCode::invalid_argument; break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: code = ErrorCode::parse; break;
    case SQLITE_MISUSE:
    case SQLITE_RANGE: code = ErrorCode::internal; break;
    case SQLITE_TOOBIG: code = ErrorCode::limit; break;
    default: break;
  }
  // sqlite3_errmsg describes the most recent failure on the connection (with details such
  // as the constraint's name); sqlite3_errstr only the code, for when there is no handle.
  const char* detail = db != nullptr && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error{code, std::string(context) + ": " + detail};
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = std::exchange(o.stmt_, nullptr);
  }
  return *this;
}

// Bind failures can only be programming errors (index out of range, statement in use):
// they surface at step(), which reports the connection's error, so the binders chain.
Stmt& Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::bind_text(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::string_view v) {
  // A zero-length blob must stay a blob, not NULL: data() of an empty view may be null.
  sqlite3_bind_blob64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_blob_static(int i, std::string_view v) {
  sqlite3_bind_blob64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Expected<bool> Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return tl::unexpected(make_error(db_, rc, "store query failed"));
}

Expected<void> Stmt::run() {
  auto r = step();
  if (!r) return tl::unexpected(r.error());
  if (*r) return fail(ErrorCode::internal, "store statement returned rows: " + std::string(sqlite3_sql(stmt_)));
  return {};
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Stmt::column_blob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  const int n = sqlite3_column_bytes(stmt_, i);  // after the pointer, as SQLite requires
  return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

std::string Stmt::column_text(int i) const {
  const unsigned char* p = sqlite3_column_text(stmt_, i);
  const int n = sqlite3_column_bytes(stmt_, i);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

Expected<Db> Db::open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);  // owns the handle even on failure (sqlite3_open_v2 may allocate one)
  if (rc != SQLITE_OK) return tl::unexpected(make_error(raw, rc, path + ": cannot open the store"));
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Db::~Db() {
  cache_.clear();      // every statement must be finalized before the connection closes
  sqlite3_close(db_);  // null-safe
}

Expected<void> Db::exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(make_error(db_, rc, "store statement failed"));
  return {};
}

Expected<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(make_error(db_, rc, "store cannot prepare a statement"));
  return Stmt(db_, stmt);
}

Expected<Stmt*> Db::cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  auto stmt = prepare(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  auto owned = std::make_unique<Stmt>(std::move(*stmt));
  Stmt* p = owned.get();
  cache_.emplace(sql, std::move(owned));
  return p;
}

Expected<Transaction> Transaction::begin(Db& db) {
  const bool nested = sqlite3_get_autocommit(db.get()) == 0;
  if (auto r = db.exec(nested ? "SAVEPOINT tb_write" : "BEGIN IMMEDIATE"); !r) return tl::unexpected(r.error());
  return Transaction(db, nested);
}

Transaction::~Transaction() {
  // Nothing useful can be done with a failed rollback here; SQLite also rolls back a
  // transaction left open when the connection closes. A savepoint is rolled back to and
  // released (ROLLBACK TO keeps it on the stack); both fail harmlessly when a disk error
  // rolled the whole transaction back already.
  if (db_ == nullptr) return;
  if (nested_) {
    (void)db_->exec("ROLLBACK TO tb_write");
    (void)db_->exec("RELEASE tb_write");
  } else {
    (void)db_->exec("ROLLBACK");
  }
}

Expected<void> Transaction::commit() {
  Db* db = std::exchange(db_, nullptr);
  if (nested_) {
    // A savepoint that a disk error rolled back with its transaction is gone: its changes too.
    if (sqlite3_get_autocommit(db->get()) != 0)
      return fail(ErrorCode::io, "store write lost: its batch's transaction was rolled back");
    auto r = db->exec("RELEASE tb_write");
    if (!r) {
      (void)db->exec("ROLLBACK TO tb_write");
      (void)db->exec("RELEASE tb_write");
    }
    return r;
  }
  auto r = db->exec("COMMIT");
  if (!r) {
    (void)db->exec("ROLLBACK");  // COMMIT can fail (busy, I/O) leaving the transaction open
    return r;
  }
  return {};
}

}  // namespace tb::sqlite
