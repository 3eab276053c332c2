#include "store/store_migration.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace tb::migration {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void put_u64(Sha256& h, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
  h.update(std::string_view(b, 8));
}

// A row in the digest: per value a tag (0 NULL, 1 integer, 2 text, 3 blob), then the
// integer's 8 bytes big-endian, or the length (8 bytes) and the bytes.
std::uint64_t hash_row(Sha256& h, const TableInfo& t, const Row& row) {
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < row.size(); ++i) {
    const Value& v = row[i];
    if (v.null) {
      h.update(std::string_view("\0", 1));
      continue;
    }
    const ColumnKind kind = t.columns[i].kind;
    const char tag = kind == ColumnKind::integer ? 1 : kind == ColumnKind::text ? 2 : 3;
    h.update(std::string_view(&tag, 1));
    if (kind == ColumnKind::integer) {
      put_u64(h, static_cast<std::uint64_t>(v.integer));
      bytes += 8;
    } else {
      put_u64(h, v.bytes.size());
      h.update(v.bytes);
      bytes += v.bytes.size();
    }
  }
  return bytes;
}

struct TableScan {
  std::uint64_t rows = 0, bytes = 0;
  Sha256Digest digest;
};

// Reads `t` through `side`, counting and hashing; `also` sees each row (the copy).
Expected<TableScan> scan_table(MigrationSource& side, const TableInfo& t, const RowVisitor& also) {
  TableScan out;
  Sha256 h;
  auto r = side.read(t, [&](const Row& row) -> Expected<void> {
    if (row.size() != t.columns.size())
      return fail(ErrorCode::internal, "table " + t.name + ": a row of " + std::to_string(row.size()) + " values");
    ++out.rows;
    out.bytes += hash_row(h, t, row);
    return also ? also(row) : Expected<void>{};
  });
  if (!r) return tl::unexpected(r.error());
  out.digest = h.finish();
  return out;
}

std::string describe(const std::vector<Column>& columns) {
  std::string s;
  for (const Column& c : columns) {
    if (!s.empty()) s += ", ";
    s += c.name + (c.kind == ColumnKind::integer ? " integer" : c.kind == ColumnKind::text ? " text" : " blob");
  }
  return s;
}

// The destination must have the same tables with the same columns (by name and kind; the
// order may differ: every statement names its columns).
Expected<void> check_same_tables(const std::vector<TableInfo>& from, const std::vector<TableInfo>& to) {
  std::map<std::string, std::vector<Column>> theirs;
  for (const TableInfo& t : to) {
    auto cols = t.columns;
    std::sort(cols.begin(), cols.end(), [](const Column& a, const Column& b) { return a.name < b.name; });
    theirs[t.name] = std::move(cols);
  }
  for (const TableInfo& t : from) {
    auto it = theirs.find(t.name);
    if (it == theirs.end())
      return fail(ErrorCode::invalid_argument, "the destination has no table " + t.name + "; the schemas differ");
    auto cols = t.columns;
    std::sort(cols.begin(), cols.end(), [](const Column& a, const Column& b) { return a.name < b.name; });
    if (cols != it->second)
      return fail(ErrorCode::invalid_argument, "table " + t.name + " differs: source (" + describe(cols) +
                                                   "), destination (" + describe(it->second) + ")");
    theirs.erase(it);
  }
  if (!theirs.empty())
    return fail(ErrorCode::invalid_argument, "the source has no table " + theirs.begin()->first + "; the schemas differ");
  return {};
}

}  // namespace

Expected<std::vector<TableInfo>> copy_order(std::vector<TableInfo> tables) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < tables.size(); ++i) index[tables[i].name] = i;
  for (const TableInfo& t : tables)
    for (const std::string& ref : t.references)
      if (!index.contains(ref))
        return fail(ErrorCode::invalid_argument, "table " + t.name + " references an unknown table " + ref);
  // Repeatedly take the first table whose references are all placed (n is ~20: quadratic is fine).
  std::vector<TableInfo> out;
  std::vector<bool> placed(tables.size(), false);
  while (out.size() < tables.size()) {
    bool progressed = false;
    for (std::size_t i = 0; i < tables.size(); ++i) {
      if (placed[i]) continue;
      const bool ready = std::all_of(tables[i].references.begin(), tables[i].references.end(), [&](const std::string& r) {
        return r == tables[i].name || placed[index[r]];  // a self-reference does not order tables
      });
      if (!ready) continue;
      placed[i] = true;
      out.push_back(tables[i]);
      progressed = true;
      break;
    }
    if (!progressed) {
      std::string cycle;
      for (std::size_t i = 0; i < tables.size(); ++i)
        if (!placed[i]) cycle += (cycle.empty() ? "" : ", ") + tables[i].name;
      return fail(ErrorCode::invalid_argument, "the foreign keys of these tables form a cycle: " + cycle);
    }
  }
  return out;
}

Expected<MigrationReport> copy_store(MigrationSource& from, MigrationDestination& to, const MigrationOptions& options) {
  MigrationReport report;
  auto from_version = from.schema_version();
  if (!from_version) return tl::unexpected(from_version.error());
  auto to_version = to.schema_version();
  if (!to_version) return tl::unexpected(to_version.error());
  if (*from_version != *to_version)
    return fail(ErrorCode::invalid_argument, "schema versions differ: source " + std::to_string(*from_version) +
                                                 ", destination " + std::to_string(*to_version));
  report.schema_version = *from_version;

  auto from_tables = from.tables();
  if (!from_tables) return tl::unexpected(from_tables.error());
  auto to_tables = to.tables();
  if (!to_tables) return tl::unexpected(to_tables.error());
  if (auto r = check_same_tables(*from_tables, *to_tables); !r) return tl::unexpected(r.error());
  auto order = copy_order(std::move(*from_tables));
  if (!order) return tl::unexpected(order.error());
  for (const TableInfo& t : *order) {
    if (t.primary_key.empty())
      return fail(ErrorCode::invalid_argument, "table " + t.name + " has no primary key to order its rows by");
    auto n = to.row_count(t);
    if (!n) return tl::unexpected(n.error());
    if (*n > 0)
      return fail(ErrorCode::invalid_argument, "the destination holds data (table " + t.name + ": " +
                                                   std::to_string(*n) + " rows); migrate into an empty store");
  }

  const auto copy_start = std::chrono::steady_clock::now();
  for (const TableInfo& t : *order) {
    const auto start = std::chrono::steady_clock::now();
    if (auto r = to.begin_table(t); !r) return tl::unexpected(r.error());
    auto copied = scan_table(from, t, [&](const Row& row) { return to.write(row); });
    if (!copied) return tl::unexpected(copied.error());
    if (auto r = to.end_table(); !r) return tl::unexpected(r.error());
    TableReport tr{t.name, copied->rows, copied->bytes, copied->digest, seconds_since(start)};
    report.rows += tr.rows;
    report.bytes += tr.bytes;
    if (options.progress) options.progress(tr);
    report.tables.push_back(std::move(tr));
  }
  report.copy_seconds = seconds_since(copy_start);

  // Read back what the destination holds, inside its transaction, before committing.
  const auto verify_start = std::chrono::steady_clock::now();
  Sha256 whole;
  for (std::size_t i = 0; i < order->size(); ++i) {
    const TableInfo& t = (*order)[i];
    const TableReport& copied = report.tables[i];
    auto back = scan_table(to, t, {});
    if (!back) return tl::unexpected(back.error());
    if (back->rows != copied.rows || back->digest != copied.digest)
      return fail(ErrorCode::internal, "verification failed for table " + t.name + ": source " +
                                           std::to_string(copied.rows) + " rows, SHA-256 " + copied.digest.hex() +
                                           "; destination " + std::to_string(back->rows) + " rows, SHA-256 " +
                                           back->digest.hex() + " (nothing committed)");
  }
  // Over the tables by name: the same for equal stores whatever order each backend lists.
  std::vector<const TableReport*> by_name;
  for (const TableReport& t : report.tables) by_name.push_back(&t);
  std::sort(by_name.begin(), by_name.end(), [](const TableReport* a, const TableReport* b) { return a->name < b->name; });
  for (const TableReport* t : by_name) {
    whole.update(t->name);
    whole.update(std::string_view(reinterpret_cast<const char*>(t->digest.bytes.data()), t->digest.bytes.size()));
  }
  report.digest = whole.finish();
  report.verify_seconds = seconds_since(verify_start);
  if (auto r = to.commit(); !r) return tl::unexpected(r.error());
  return report;
}

}  // namespace tb::migration
