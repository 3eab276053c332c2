// The two backends of `trustbase migrate` (store/store_migration.h): SQLite through its C
// API (store/sqlite_db.h), PostgreSQL through libpqxx. Table and column lists come from
// each database's catalog, so a table added by a later schema migration is copied
// without a change here (copy_store refuses stores whose tables differ).
#include <algorithm>
#include <array>
#include <map>
#include <type_traits>
#include <optional>
#include <utility>

#include "store/open_store.h"
#include "store/pg_util.h"
#include "store/postgres_store.h"
#include "store/sqlite_db.h"
#include "store/store_migration.h"

namespace tb::migration {
namespace {

// An identifier from the catalog, quoted for SQL text ("a""b").
std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string column_list(const TableInfo& t) {
  std::string s;
  for (const Column& c : t.columns) s += (s.empty() ? "" : ", ") + quoted(c.name);
  return s;
}

std::string select_rows(const TableInfo& t) {
  std::string order;
  for (const std::string& c : t.primary_key) order += (order.empty() ? "" : ", ") + quoted(c);
  return "SELECT " + column_list(t) + " FROM " + quoted(t.name) + " ORDER BY " + order;
}

// ---- SQLite ----------------------------------------------------------------------------

class SqliteSide final : public MigrationDestination {
 public:
  static Expected<std::unique_ptr<SqliteSide>> open(const std::string& path, bool write) {
    const int flags = (write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
    auto db = sqlite::Db::open(path, flags);
    if (!db) return tl::unexpected(db.error());
    auto side = std::unique_ptr<SqliteSide>(new SqliteSide(std::move(*db), path));
    sqlite3_busy_timeout(side->db_.get(), 5000);
    if (write)
      if (auto r = side->db_.exec("PRAGMA foreign_keys = ON"); !r) return side->failed(r.error());
    // A read transaction's snapshot starts at its first read (schema_version, right away);
    // IMMEDIATE takes the write lock now, so no other writer gets in between.
    if (auto r = side->db_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN"); !r) return side->failed(r.error());
    side->open_ = true;
    if (auto v = side->schema_version(); !v) return tl::unexpected(v.error());
    return side;
  }
  ~SqliteSide() override {
    insert_.reset();
    if (open_) (void)db_.exec("ROLLBACK");
  }

  Expected<int> schema_version() override {
    auto n = single_integer("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!n) return tl::unexpected(n.error());
    return static_cast<int>(*n);
  }

  Expected<std::vector<TableInfo>> tables() override {
    std::vector<TableInfo> out;
    auto names = db_.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name <> 'schema_migrations'");
    if (!names) return failed(names.error());
    while (true) {
      auto row = names->step();
      if (!row) return failed(row.error());
      if (!*row) break;
      out.push_back(TableInfo{names->column_text(0), {}, {}, {}});
    }
    for (TableInfo& t : out) {
      auto cols = db_.prepare("SELECT name, upper(type), pk FROM pragma_table_info(?) ORDER BY cid");
      if (!cols) return failed(cols.error());
      cols->bind_text(1, t.name);
      std::vector<std::pair<std::int64_t, std::string>> key;
      while (true) {
        auto row = cols->step();
        if (!row) return failed(row.error());
        if (!*row) break;
        const std::string type = cols->column_text(1);
        ColumnKind kind;
        if (type == "INTEGER") kind = ColumnKind::integer;
        else if (type == "TEXT") kind = ColumnKind::text;
        else if (type == "BLOB") kind = ColumnKind::blob;
        else return fail(ErrorCode::invalid_argument, path_ + ": table " + t.name + " has a column of type " + type);
        t.columns.push_back(Column{cols->column_text(0), kind});
        if (cols->column_int(2) > 0) key.emplace_back(cols->column_int(2), cols->column_text(0));
      }
      std::sort(key.begin(), key.end());
      for (auto& k : key) t.primary_key.push_back(std::move(k.second));
      auto refs = db_.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)");
      if (!refs) return failed(refs.error());
      refs->bind_text(1, t.name);
      while (true) {
        auto row = refs->step();
        if (!row) return failed(row.error());
        if (!*row) break;
        t.references.push_back(refs->column_text(0));
      }
    }
    return out;
  }

  Expected<std::uint64_t> row_count(const TableInfo& t) override {
    auto n = single_integer("SELECT count(*) FROM " + quoted(t.name));
    if (!n) return tl::unexpected(n.error());
    return static_cast<std::uint64_t>(*n);
  }

  Expected<void> read(const TableInfo& t, const RowVisitor& visit) override {
    auto stmt = db_.prepare(select_rows(t));
    if (!stmt) return failed(stmt.error());
    Row row(t.columns.size());
    while (true) {
      auto more = stmt->step();
      if (!more) return failed(more.error());
      if (!*more) return {};
      for (std::size_t i = 0; i < row.size(); ++i) {
        const int col = static_cast<int>(i);
        Value& v = row[i];
        v.null = stmt->column_is_null(col);
        v.integer = 0;
        v.bytes.clear();
        if (v.null) continue;
        if (t.columns[i].kind == ColumnKind::integer) v.integer = stmt->column_int(col);
        else v.bytes.assign(stmt->column_blob(col));
      }
      if (auto r = visit(row); !r) return r;
    }
  }

  Expected<void> begin_table(const TableInfo& t) override {
    std::string marks;
    for (std::size_t i = 0; i < t.columns.size(); ++i) marks += i == 0 ? "?" : ", ?";
    auto stmt = db_.prepare("INSERT INTO " + quoted(t.name) + " (" + column_list(t) + ") VALUES (" + marks + ")");
    if (!stmt) return failed(stmt.error());
    insert_.emplace(std::move(*stmt));
    table_ = t;
    return {};
  }

  Expected<void> write(const Row& row) override {
    sqlite::Use use(*insert_);
    for (std::size_t i = 0; i < row.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      const Value& v = row[i];
      if (v.null) use->bind_null(at);
      else if (table_.columns[i].kind == ColumnKind::integer) use->bind(at, v.integer);
      else if (table_.columns[i].kind == ColumnKind::text) use->bind_text(at, v.bytes);
      else use->bind_blob(at, v.bytes);
    }
    if (auto r = use->run(); !r)
      return fail(r.error().code, path_ + ": cannot insert into " + table_.name + ": " + r.error().message);
    return {};
  }

  Expected<void> end_table() override {
    insert_.reset();
    return {};
  }

  Expected<void> commit() override {
    if (auto r = db_.exec("COMMIT"); !r) return failed(r.error());
    open_ = false;
    return {};
  }

 private:
  SqliteSide(sqlite::Db db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  tl::unexpected<Error> failed(const Error& e) const {
    return tl::unexpected(Error{e.code, path_ + ": " + e.message});
  }

  Expected<std::int64_t> single_integer(const std::string& sql) {
    auto stmt = db_.prepare(sql);
    if (!stmt) return failed(stmt.error());
    auto row = stmt->step();
    if (!row) return failed(row.error());
    if (!*row) return fail(ErrorCode::internal, path_ + ": no answer to " + sql);
    return stmt->column_int(0);
  }

  sqlite::Db db_;
  std::string path_;
  bool open_ = false;  // a transaction to roll back
  std::optional<sqlite::Stmt> insert_;
  TableInfo table_;
};

// ---- PostgreSQL ------------------------------------------------------------------------

// A COPY field: the value's text (nullptr: NULL), escaped by libpqxx's stream_to.
struct CopyField {
  const std::string* text = nullptr;
};

}  // namespace
}  // namespace tb::migration

template <>
struct pqxx::string_traits<tb::migration::CopyField> {
  static constexpr const char* name() noexcept { return "CopyField"; }
  static constexpr bool has_null() noexcept { return true; }
  static bool is_null(const tb::migration::CopyField& f) { return f.text == nullptr; }
  static tb::migration::CopyField null() { return {}; }
  static void from_string(const char[], tb::migration::CopyField&) {}
  static std::string to_string(const tb::migration::CopyField& f) { return *f.text; }
};

namespace tb::migration {
namespace {

// libpqxx 6.4's stream_to takes rows as tuples of a size known when compiling: one writer
// per column count.
constexpr std::size_t kMaxColumns = 40;
using RowWriter = void (*)(pqxx::stream_to&, const std::vector<CopyField>&);
template <std::size_t N>
void write_fields(pqxx::stream_to& s, const std::vector<CopyField>& fields) {
  std::array<CopyField, N> row;
  std::copy_n(fields.begin(), N, row.begin());
  s << row;
}
template <std::size_t... I>
constexpr std::array<RowWriter, sizeof...(I)> row_writers(std::index_sequence<I...>) {
  return {&write_fields<I + 1>...};
}
constexpr auto kRowWriters = row_writers(std::make_index_sequence<kMaxColumns>{});

std::string hex_bytea(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 + bytes.size() * 2);
  out += "\\x";
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
    if (n == 4 || i + n >= s.size() + (n == 0 ? 1 : 0)) return false;
    std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1fu) : n == 2 ? (c & 0x0fu) : (c & 0x07u);
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 2) return false;
      cp = (cp << 6) | (d & 0x3fu);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

class PgSide final : public MigrationDestination {
 public:
  static Expected<std::unique_ptr<PgSide>> open(const std::string& url, bool write) {
    auto side = std::unique_ptr<PgSide>(new PgSide(redact_url(url)));
    auto r = side->guard("cannot open the store", [&] {
      side->conn_ = std::make_unique<pqxx::connection>(url);
      side->utf8_ = side->conn_->get_variable("server_encoding") == "UTF8";
      if (write) side->tx_ = std::make_unique<pqxx::work>(*side->conn_);
      else side->tx_ = std::make_unique<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>(*side->conn_);
    });
    if (!r) return tl::unexpected(r.error());
    if (write) {
      // No other connection writes while the copy runs (readers may read).
      auto tables = side->tables();
      if (!tables) return tl::unexpected(tables.error());
      auto locked = side->guard("cannot lock the tables", [&] {
        std::string list;
        for (const TableInfo& t : *tables) list += (list.empty() ? "" : ", ") + quoted(t.name);
        if (!list.empty()) side->tx_->exec("LOCK TABLE " + list + " IN EXCLUSIVE MODE NOWAIT");
      });
      if (!locked) return tl::unexpected(locked.error());
    }
    return side;
  }

  Expected<int> schema_version() override {
    return guard("cannot read the schema version", [&] {
      return static_cast<int>(pg::integer(tx_->exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0]));
    });
  }

  Expected<std::vector<TableInfo>> tables() override {
    return guard("cannot read the tables", [&] {
      std::vector<TableInfo> out;
      auto find = [&](const std::string& name) -> TableInfo& {
        for (TableInfo& t : out)
          if (t.name == name) return t;
        return out.emplace_back(TableInfo{name, {}, {}, {}});
      };
      for (const auto& r : tx_->exec(
               "SELECT c.table_name, c.column_name, c.data_type, c.is_identity FROM information_schema.columns c"
               " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
               " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
               " AND c.table_name <> 'schema_migrations' ORDER BY c.table_name, c.ordinal_position")) {
        const std::string type = pg::text(r[2]);
        ColumnKind kind;
        if (type == "bigint" || type == "integer") kind = ColumnKind::integer;
        else if (type == "text") kind = ColumnKind::text;
        else if (type == "bytea") kind = ColumnKind::blob;
        else pg::raise(ErrorCode::invalid_argument, "table " + pg::text(r[0]) + " has a column of type " + type);
        TableInfo& t = find(pg::text(r[0]));
        t.columns.push_back(Column{pg::text(r[1]), kind});
        if (pg::text(r[3]) == "YES") identity_[t.name].push_back(pg::text(r[1]));
      }
      for (const auto& r : tx_->exec(
               "SELECT tc.table_name, k.column_name FROM information_schema.table_constraints tc"
               " JOIN information_schema.key_column_usage k ON k.constraint_schema = tc.constraint_schema"
               " AND k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name"
               " WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()"
               " ORDER BY tc.table_name, k.ordinal_position"))
        if (pg::text(r[0]) != "schema_migrations") find(pg::text(r[0])).primary_key.push_back(pg::text(r[1]));
      for (const auto& r : tx_->exec(
               "SELECT DISTINCT c.relname, f.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
               " JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
               " WHERE k.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2"))
        find(pg::text(r[0])).references.push_back(pg::text(r[1]));
      return out;
    });
  }

  Expected<std::uint64_t> row_count(const TableInfo& t) override {
    return guard("cannot count the rows of " + t.name,
                 [&] { return pg::uinteger(tx_->exec("SELECT count(*) FROM " + quoted(t.name))[0][0]); });
  }

  Expected<void> read(const TableInfo& t, const RowVisitor& visit) override {
    return guard("cannot read table " + t.name, [&] {
      // A cursor: the table is fetched in batches, never held whole in memory.
      tx_->exec("DECLARE tb_migrate NO SCROLL CURSOR FOR " + select_rows(t));
      Row row(t.columns.size());
      while (true) {
        const pqxx::result batch = tx_->exec("FETCH 1000 FROM tb_migrate");
        if (batch.empty()) break;
        for (const auto& r : batch) {
          for (std::size_t i = 0; i < row.size(); ++i) {
            Value& v = row[i];
            const pqxx::field f = r[static_cast<pqxx::row::size_type>(i)];
            v.null = f.is_null();
            v.integer = 0;
            v.bytes.clear();
            if (v.null) continue;
            switch (t.columns[i].kind) {
              case ColumnKind::integer: v.integer = f.as<std::int64_t>(); break;
              case ColumnKind::text: v.bytes.assign(f.c_str(), f.size()); break;
              case ColumnKind::blob: v.bytes = pg::bytes(f); break;
            }
          }
          if (auto done = visit(row); !done) throw pg::Failure{done.error()};
        }
      }
      tx_->exec("CLOSE tb_migrate");
    });
  }

  Expected<void> begin_table(const TableInfo& t) override {
    if (t.columns.empty() || t.columns.size() > kMaxColumns)
      return fail(ErrorCode::invalid_argument, where_ + ": table " + t.name + " has " +
                                                   std::to_string(t.columns.size()) + " columns");
    return guard("cannot copy into table " + t.name, [&] {
      std::vector<std::string> names;
      for (const Column& c : t.columns) names.push_back(c.name);
      table_ = t;
      rows_ = 0;
      copy_ = std::make_unique<pqxx::stream_to>(*tx_, t.name, names);
    });
  }

  Expected<void> write(const Row& row) override {
    ++rows_;
    texts_.resize(row.size());
    fields_.assign(row.size(), CopyField{});
    for (std::size_t i = 0; i < row.size(); ++i) {
      const Value& v = row[i];
      if (v.null) continue;
      switch (table_.columns[i].kind) {
        case ColumnKind::integer: texts_[i] = std::to_string(v.integer); break;
        case ColumnKind::blob: texts_[i] = hex_bytea(v.bytes); break;
        case ColumnKind::text:
          if (v.bytes.find('\0') != std::string::npos || (utf8_ && !valid_utf8(v.bytes)))
            return fail(ErrorCode::invalid_argument,
                        where_ + ": table " + table_.name + ", row " + std::to_string(rows_) + ", column " +
                            table_.columns[i].name + ": the text is not " + (utf8_ ? "valid UTF-8" : "free of NUL") +
                            ", which PostgreSQL text must be: " + printable(v.bytes));
          texts_[i] = v.bytes;
          break;
      }
      fields_[i].text = &texts_[i];
    }
    return guard("cannot copy into table " + table_.name, [&] { kRowWriters[row.size() - 1](*copy_, fields_); });
  }

  Expected<void> end_table() override {
    return guard("cannot copy into table " + table_.name, [&] {
      copy_->complete();
      copy_.reset();
      // New rows get ids above the copied ones.
      for (const std::string& column : identity_[table_.name])
        tx_->exec_params("SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(" + quoted(column) +
                             ") FROM " + quoted(table_.name) + "), 0) + 1, false)",
                         quoted(table_.name), column);
    });
  }

  Expected<void> commit() override {
    return guard("cannot commit", [&] { tx_->commit(); });
  }

 private:
  explicit PgSide(std::string where) : where_(std::move(where)) {}

  // A value shown in an error: its printable ASCII, other bytes as \xHH, at most 60.
  static std::string printable(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : s.substr(0, 60)) {
      if (c >= 0x20 && c < 0x7f && c != '\\') out.push_back(static_cast<char>(c));
      else out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
    }
    return out + (s.size() > 60 ? "\"..." : "\"");
  }

  template <class Body>
  auto guard(std::string_view what, Body&& body) -> Expected<std::invoke_result_t<Body&>> {
    using T = std::invoke_result_t<Body&>;
    try {
      if constexpr (std::is_void_v<T>) {
        body();
        return {};
      } else {
        return body();
      }
    } catch (const pg::Failure& f) {
      return tl::unexpected(Error{f.error.code, f.error.message.starts_with(where_) ? f.error.message
                                                                                      : where_ + ": " + f.error.message});
    } catch (const std::exception& e) {
      return tl::unexpected(pg::to_error(e, where_ + ": " + std::string(what)));
    }
  }

  std::string where_;  // the URL without its password
  bool utf8_ = true;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::transaction_base> tx_;  // destroyed uncommitted: rolled back
  std::unique_ptr<pqxx::stream_to> copy_;       // destroyed before tx_
  std::map<std::string, std::vector<std::string>> identity_;  // table -> identity columns
  TableInfo table_;
  std::uint64_t rows_ = 0;
  std::vector<std::string> texts_;
  std::vector<CopyField> fields_;
};

Expected<std::unique_ptr<Store>> normal_open(std::string_view spec, bool create) {
  StoreOptions options;
  options.create = create;
  auto store = open_store(spec, options);
  if (!store) {
    const std::string shown = display_store_spec(spec);
    if (store.error().message.starts_with(shown)) return store;
    return fail(store.error().code, shown + ": " + store.error().message);
  }
  return store;
}

}  // namespace

Expected<std::unique_ptr<MigrationSource>> open_migration_source(std::string_view spec) {
  auto parsed = parse_store_spec(spec);
  if (!parsed) return tl::unexpected(parsed.error());
  if (auto s = normal_open(spec, false); !s) return tl::unexpected(s.error());  // migrates an older schema
  if (parsed->kind == StoreKind::postgres) {
    auto side = PgSide::open(parsed->location, false);
    if (!side) return tl::unexpected(side.error());
    return std::unique_ptr<MigrationSource>(std::move(*side));
  }
  auto side = SqliteSide::open(parsed->location, false);
  if (!side) return tl::unexpected(side.error());
  return std::unique_ptr<MigrationSource>(std::move(*side));
}

Expected<std::unique_ptr<MigrationDestination>> open_migration_destination(std::string_view spec) {
  auto parsed = parse_store_spec(spec);
  if (!parsed) return tl::unexpected(parsed.error());
  if (auto s = normal_open(spec, true); !s) return tl::unexpected(s.error());  // creates the schema
  if (parsed->kind == StoreKind::postgres) {
    auto side = PgSide::open(parsed->location, true);
    if (!side) return tl::unexpected(side.error());
    return std::unique_ptr<MigrationDestination>(std::move(*side));
  }
  auto side = SqliteSide::open(parsed->location, true);
  if (!side) return tl::unexpected(side.error());
  return std::unique_ptr<MigrationDestination>(std::move(*side));
}

Expected<MigrationReport> migrate_store(std::string_view from_spec, std::string_view to_spec,
                                        const MigrationOptions& options) {
  auto from_parsed = parse_store_spec(from_spec);
  if (!from_parsed) return tl::unexpected(from_parsed.error());
  auto to_parsed = parse_store_spec(to_spec);
  if (!to_parsed) return tl::unexpected(to_parsed.error());
  if (from_parsed->kind == to_parsed->kind && from_parsed->location == to_parsed->location)
    return fail(ErrorCode::invalid_argument, "the source and the destination are the same store");
  auto from = open_migration_source(from_spec);
  if (!from) return tl::unexpected(from.error());
  auto to = open_migration_destination(to_spec);
  if (!to) return tl::unexpected(to.error());
  return copy_store(**from, **to, options);
}

}  // namespace tb::migration
