// Small RAII wrappers over the SQLite C API: a connection, prepared statements, a
// statement cache and a write transaction. Internal to the store (not part of its API).
//
// Thread-safety: none. A Db and everything prepared on it belong to one thread at a time
// (the store opens its connection with SQLITE_OPEN_NOMUTEX for that reason).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/error.h"

namespace tb::sqlite {

// Maps an SQLite result code to a trustbase error: constraint violations are the caller's
// (invalid_argument), a file that is not a database or is corrupt is parse, "busy" and
// every OS-level failure are io, API misuse is internal.
Error make_error(sqlite3* db, int rc, std::string_view context);

// A prepared statement. Values are bound by 1-based index; text and blobs are copied
// (SQLITE_TRANSIENT) unless bound with bind_blob_static, whose bytes must then outlive
// the step. Use through a Use (below) so it is always reset after use: a statement left
// mid-step keeps a read transaction open, which blocks WAL checkpoints.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }  // bit pattern
  Stmt& bind(int i, bool v) { return bind(i, std::int64_t{v ? 1 : 0}); }
  Stmt& bind_text(int i, std::string_view v);
  Stmt& bind_blob(int i, std::string_view v);
  Stmt& bind_blob_static(int i, std::string_view v);
  Stmt& bind_null(int i);

  // One step: true when a row is available, false when the statement is done.
  Expected<bool> step();
  // Steps a statement that returns no rows.
  Expected<void> run();
  void reset();

  std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::uint64_t column_uint(int i) const { return static_cast<std::uint64_t>(column_int(i)); }
  bool column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  // Valid until the next step/reset of this statement.
  std::string_view column_blob(int i) const;
  std::string column_text(int i) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Borrows a statement and resets it (clearing bindings) when it goes out of scope.
class Use {
 public:
  explicit Use(Stmt& s) : s_(&s) {}
  ~Use() { s_->reset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Stmt* operator->() const { return s_; }
  Stmt& operator*() const { return *s_; }

 private:
  Stmt* s_;
};

class Db {
 public:
  // Opens (creating when asked) a database file. The handle is closed even when open fails.
  static Expected<Db> open(const std::string& path, int flags);

  Db() = default;
  Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)), cache_(std::move(o.cache_)) {}
  Db& operator=(Db&&) = delete;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  sqlite3* get() const { return db_; }
  // Runs constant SQL (schema, pragmas, transaction control). Never for SQL holding data:
  // data always goes through bound parameters of a prepared statement.
  Expected<void> exec(const char* sql);
  Expected<Stmt> prepare(std::string_view sql);
  // A prepared statement kept for the life of the connection, keyed by its SQL text:
  // for statements run many times per transaction (the hot inserts).
  Expected<Stmt*> cached(const char* sql);
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  // unique_ptr so that Stmt* handed out stay valid when the map rehashes.
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back by the destructor unless committed. IMMEDIATE
// takes the write lock up front, so a writer waits (busy_timeout) or fails before doing
// any work, instead of failing to upgrade a read lock halfway through.
// Begun on a connection that is in a transaction already (a batch of writes, group
// commit: Store::begin_batch), it is a savepoint instead: commit() releases it (the outer
// COMMIT makes it durable) and a rollback undoes this one's changes alone.
class Transaction {
 public:
  static Expected<Transaction> begin(Db& db);
  Transaction(Transaction&& o) noexcept : db_(std::exchange(o.db_, nullptr)), nested_(o.nested_) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Expected<void> commit();

 private:
  Transaction(Db& db, bool nested) : db_(&db), nested_(nested) {}
  Db* db_;
  bool nested_;
};

}  // namespace tb::sqlite
