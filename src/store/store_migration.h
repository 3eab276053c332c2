// `trustbase migrate`: a whole store copied losslessly between backends (SQLite <->
// PostgreSQL, or SQLite -> SQLite), table by table in foreign-key order, column by column,
// ids kept, in one destination transaction, then verified (row counts and a SHA-256 per
// table over its rows in primary-key order, read back from the destination before commit).
//
// The copy is backend-agnostic: each backend is a MigrationSource (a consistent read
// snapshot) or a MigrationDestination (one write transaction), store/store_migration_backends.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/sha256.h"

namespace tb::migration {

enum class ColumnKind { integer, text, blob };

struct Column {
  std::string name;
  ColumnKind kind = ColumnKind::integer;
  bool operator==(const Column&) const = default;
};

struct TableInfo {
  std::string name;
  std::vector<Column> columns;           // in the backend's order
  std::vector<std::string> primary_key;  // column names: rows are read in this order
  std::vector<std::string> references;   // tables its foreign keys point at
};

// One field: NULL, an integer, or the bytes of a text or blob (kind: the column's).
struct Value {
  bool null = true;
  std::int64_t integer = 0;
  std::string bytes;
};
using Row = std::vector<Value>;  // in the order of the TableInfo's columns it was read with
using RowVisitor = std::function<Expected<void>(const Row&)>;

// A store opened for reading, inside one consistent snapshot for its whole life.
class MigrationSource {
 public:
  virtual ~MigrationSource() = default;
  virtual Expected<int> schema_version() = 0;
  // Every table of the store except schema_migrations (each side records its own).
  virtual Expected<std::vector<TableInfo>> tables() = 0;
  virtual Expected<std::uint64_t> row_count(const TableInfo& table) = 0;
  // Every row of `table` (its columns, in that order), in primary-key order.
  virtual Expected<void> read(const TableInfo& table, const RowVisitor& visit) = 0;
};

// A store opened for writing, inside one transaction that only commit() ends: destroying
// it uncommitted rolls everything back. Reads see its own writes.
class MigrationDestination : public MigrationSource {
 public:
  virtual Expected<void> begin_table(const TableInfo& table) = 0;
  virtual Expected<void> write(const Row& row) = 0;
  // Flushes the table and makes new rows get ids above the copied ones (PostgreSQL's
  // identity sequences; SQLite's rowids do it by themselves).
  virtual Expected<void> end_table() = 0;
  virtual Expected<void> commit() = 0;
};

// Tables ordered so that each comes after every table it references; invalid_argument
// on a cycle or a reference to a table not in the list. Ties keep the input's order.
Expected<std::vector<TableInfo>> copy_order(std::vector<TableInfo> tables);

struct TableReport {
  std::string name;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;  // of the values copied (text and blobs as bytes, integers as 8)
  Sha256Digest digest;      // over the rows in primary-key order (same on both sides)
  double seconds = 0;
};

struct MigrationReport {
  int schema_version = 0;
  std::vector<TableReport> tables;  // in copy order
  std::uint64_t rows = 0, bytes = 0;
  Sha256Digest digest;  // over the tables' names and digests, by name: equal for equal stores
  double copy_seconds = 0, verify_seconds = 0;
};

struct MigrationOptions {
  // Called after each table is copied (its digest is the source's).
  std::function<void(const TableReport&)> progress;
};

// Copies `from` into `to` and commits: checks equal schema versions and tables, an empty
// destination (invalid_argument otherwise), copies in copy_order(), verifies every table
// by reading it back from the destination (internal on a mismatch), then commits. On any
// error nothing is committed.
Expected<MigrationReport> copy_store(MigrationSource& from, MigrationDestination& to,
                                     const MigrationOptions& options = {});

// The backends. Each opens the store with the normal open first (applying pending schema
// migrations; refusing a newer schema; the destination created when missing), then a
// raw connection: the source read-only in one snapshot (SQLite: a read transaction;
// PostgreSQL: REPEATABLE READ READ ONLY), the destination in one write transaction
// (SQLite: BEGIN IMMEDIATE; PostgreSQL: its tables locked EXCLUSIVE, rows sent by COPY).
Expected<std::unique_ptr<MigrationSource>> open_migration_source(std::string_view spec);
Expected<std::unique_ptr<MigrationDestination>> open_migration_destination(std::string_view spec);

// open_migration_source + open_migration_destination + copy_store. Errors name the
// stores as display_store_spec() shows them (no password).
Expected<MigrationReport> migrate_store(std::string_view from_spec, std::string_view to_spec,
                                        const MigrationOptions& options = {});

}  // namespace tb::migration
