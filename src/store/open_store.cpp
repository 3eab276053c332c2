#include "store/open_store.h"

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace tb {

Expected<StoreSpec> parse_store_spec(std::string_view spec) {
  if (spec.empty()) return fail(ErrorCode::invalid_argument, "no store given (--db FILE or --db postgresql://...)");
  if (spec.starts_with("postgresql://") || spec.starts_with("postgres://"))
    return StoreSpec{StoreKind::postgres, std::string(spec)};
  if (spec.starts_with("sqlite:")) {
    spec.remove_prefix(7);
    if (spec.empty()) return fail(ErrorCode::invalid_argument, "sqlite: needs a path (sqlite:/var/lib/trustbase/trustbase.db)");
    return StoreSpec{StoreKind::sqlite, std::string(spec)};
  }
  // Any other scheme is a mistake, not a file name with "://" in it.
  if (const auto scheme = spec.find("://"); scheme != std::string_view::npos && scheme > 0 &&
                                            spec.substr(0, scheme).find('/') == std::string_view::npos)
    return fail(ErrorCode::invalid_argument,
                display_store_spec(spec) + ": unknown store URL (postgresql://..., sqlite:PATH or a file path)");
  return StoreSpec{StoreKind::sqlite, std::string(spec)};
}

std::string display_store_spec(std::string_view spec) {
  return spec.find("://") != std::string_view::npos ? redact_url(spec) : std::string(spec);
}

Expected<std::unique_ptr<Store>> open_store(std::string_view spec, const StoreOptions& options) {
  auto parsed = parse_store_spec(spec);
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->kind == StoreKind::postgres) {
    PostgresStoreOptions pg;
    pg.create = options.create;
    pg.durable_commits = options.durable_commits;
    return open_postgres_store(parsed->location, pg);
  }
  SqliteStoreOptions sqlite;
  sqlite.create = options.create;
  sqlite.durable_commits = options.durable_commits;
  sqlite.busy_timeout_ms = options.busy_timeout_ms;
  return open_sqlite_store(parsed->location, sqlite);
}

}  // namespace tb
