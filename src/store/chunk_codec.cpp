#include "store/chunk_codec.h"

#include "format/binary_codec.h"

namespace tb::store {
namespace {

using binary::put_bytes;
using binary::put_varint;
using binary::Reader;
using binary::unzigzag;
using binary::zigzag;

constexpr std::uint8_t kMaxErrorKind = static_cast<std::uint8_t>(ScanErrorKind::other);

Error corrupt(std::string_view what) {
  return Error{ErrorCode::parse, "corrupt " + std::string(what) + " in the store"};
}

}  // namespace

std::string encode_scan_errors(std::span<const ScanError> errors) {
  std::string out;
  put_varint(out, errors.size());
  for (const ScanError& e : errors) {
    put_bytes(out, e.path);
    out.push_back(static_cast<char>(e.kind));
    put_varint(out, zigzag(e.sys_errno));
    put_bytes(out, e.message);
  }
  return out;
}

Expected<std::vector<ScanError>> decode_scan_errors(std::string_view data) {
  Reader in(data);
  const std::uint64_t count = in.varint();
  if (!in.plausible_count(count)) return tl::unexpected(corrupt("scan error list"));
  std::vector<ScanError> errors;
  errors.reserve(count);
  for (std::uint64_t i = 0; i < count && in.ok(); ++i) {
    ScanError e;
    e.path = std::string(in.bytes());
    const std::uint8_t kind = in.byte();
    if (kind > kMaxErrorKind) return tl::unexpected(corrupt("scan error kind"));
    e.kind = static_cast<ScanErrorKind>(kind);
    e.sys_errno = static_cast<int>(unzigzag(in.varint()));
    e.message = std::string(in.bytes());
    errors.push_back(std::move(e));
  }
  if (!in.ok() || !in.at_end()) return tl::unexpected(corrupt("scan error list"));
  return errors;
}

std::string encode_strings(std::span<const std::string> strings) {
  std::string out;
  put_varint(out, strings.size());
  for (const std::string& s : strings) put_bytes(out, s);
  return out;
}

Expected<std::vector<std::string>> decode_strings(std::string_view data) {
  Reader in(data);
  const std::uint64_t count = in.varint();
  if (!in.plausible_count(count)) return tl::unexpected(corrupt("string list"));
  std::vector<std::string> strings;
  strings.reserve(count);
  for (std::uint64_t i = 0; i < count && in.ok(); ++i) strings.emplace_back(in.bytes());
  if (!in.ok() || !in.at_end()) return tl::unexpected(corrupt("string list"));
  return strings;
}

std::string encode_chunk_ids(std::span<const std::int64_t> ids) {
  std::string out;
  out.reserve(ids.size() * 8);
  for (const std::int64_t id : ids)
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>(static_cast<std::uint64_t>(id) >> shift));
  return out;
}

Expected<std::vector<std::int64_t>> decode_chunk_ids(std::string_view data) {
  if (data.size() % 8 != 0) return tl::unexpected(corrupt("chunk list"));
  std::vector<std::int64_t> ids;
  ids.reserve(data.size() / 8);
  for (std::size_t at = 0; at < data.size(); at += 8) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[at + i]);
    if (v == 0 || v > static_cast<std::uint64_t>(INT64_MAX)) return tl::unexpected(corrupt("chunk list"));
    ids.push_back(static_cast<std::int64_t>(v));
  }
  return ids;
}

namespace {

constexpr std::uint8_t kResultVersion = 1;
constexpr std::uint8_t kMaxSignatureState = static_cast<std::uint8_t>(kLastSignatureState);

void put_counts(std::string& out, const DeviationCounts& c) {
  put_varint(out, c.added);
  put_varint(out, c.removed);
  put_varint(out, c.modified);
  put_varint(out, c.config);
}

DeviationCounts read_counts(Reader& in) {
  DeviationCounts c;
  c.added = in.varint();
  c.removed = in.varint();
  c.modified = in.varint();
  c.config = in.varint();
  return c;
}

}  // namespace

std::string encode_scan_result(const ScanResult& result) {
  std::string out;
  out.reserve(16 + 2 * result.states.size());
  out.push_back(static_cast<char>(kResultVersion));
  put_counts(out, result.deviations);
  put_counts(out, result.drift);
  put_varint(out, result.states.size());
  std::int64_t previous = 0;
  for (const SignatureStateEntry& e : result.states) {
    put_varint(out, static_cast<std::uint64_t>(e.signature_id) - static_cast<std::uint64_t>(previous));
    out.push_back(static_cast<char>(e.state));
    previous = e.signature_id;
  }
  return out;
}

Expected<void> decode_scan_result(std::string_view data, ScanResult& out) {
  Reader in(data);
  if (in.byte() != kResultVersion) return tl::unexpected(corrupt("scan result (unknown version)"));
  out.deviations = read_counts(in);
  out.drift = read_counts(in);
  const std::uint64_t count = in.varint();
  if (!in.ok() || !in.plausible_count(count)) return tl::unexpected(corrupt("scan result header"));
  out.states.clear();
  out.states.reserve(count);
  std::uint64_t id = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t delta = in.varint();
    const std::uint8_t state = in.byte();
    // Ids ascend strictly and stay positive int64.
    if (!in.ok() || delta == 0 || delta > static_cast<std::uint64_t>(INT64_MAX) - id || state > kMaxSignatureState)
      return tl::unexpected(corrupt("scan result state"));
    id += delta;
    out.states.push_back(SignatureStateEntry{static_cast<std::int64_t>(id), static_cast<SignatureState>(state)});
  }
  if (!in.at_end()) return tl::unexpected(corrupt("scan result (trailing bytes)"));
  return {};
}

std::string encode_inventory(const PackageInventory& inv) {
  std::vector<std::string> packages, warnings;
  packages.reserve(inv.packages.size() * 4);
  for (const InstalledPackage& p : inv.packages)
    for (std::string_view f : {to_string(p.manager), std::string_view(p.name), std::string_view(p.version),
                               std::string_view(p.arch)})
      packages.emplace_back(f);
  for (const InventoryWarning& w : inv.warnings) {
    warnings.emplace_back(to_string(w.manager));
    warnings.push_back(w.message);
  }
  const std::string parts[] = {encode_strings(packages), encode_strings(warnings)};
  return encode_strings(parts);
}

Expected<PackageInventory> decode_inventory(std::string_view data) {
  auto corrupt = [] { return fail(ErrorCode::parse, "corrupt store: a package inventory cannot be decoded"); };
  auto parts = decode_strings(data);
  if (!parts || parts->size() != 2) return corrupt();
  auto packages = decode_strings((*parts)[0]);
  auto warnings = decode_strings((*parts)[1]);
  if (!packages || !warnings || packages->size() % 4 != 0 || warnings->size() % 2 != 0) return corrupt();
  PackageInventory inv;
  inv.packages.reserve(packages->size() / 4);
  for (std::size_t i = 0; i < packages->size(); i += 4) {
    const auto manager = package_manager_from_string((*packages)[i]);
    if (!manager) return corrupt();
    inv.packages.push_back(InstalledPackage{std::move((*packages)[i + 1]), std::move((*packages)[i + 2]),
                                            std::move((*packages)[i + 3]), *manager});
  }
  for (std::size_t i = 0; i < warnings->size(); i += 2) {
    const auto manager = package_manager_from_string((*warnings)[i]);
    if (!manager) return corrupt();
    inv.warnings.push_back(InventoryWarning{*manager, std::move((*warnings)[i + 1])});
  }
  return inv;
}

}  // namespace tb::store
