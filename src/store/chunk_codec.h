// Compact binary encodings used by the store: manifests split into directory chunks
// (format/manifest_chunks.h, shared with the scanner's chunked uploads) and the small
// lists a scan carries (errors, roots, excludes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/scan_document.h"
#include "format/manifest_chunks.h"
#include "store/store.h"

namespace tb::store {

using tb::ChunkView;
using tb::decode_chunk;
using tb::encode_chunk;
using tb::split_into_chunks;

// Scan errors: varint count | (bytes path | u8 kind | varint zigzag(errno) | bytes message)*
std::string encode_scan_errors(std::span<const ScanError> errors);
Expected<std::vector<ScanError>> decode_scan_errors(std::string_view data);

// A list of byte strings: varint count | bytes*
std::string encode_strings(std::span<const std::string> strings);
Expected<std::vector<std::string>> decode_strings(std::string_view data);

// A manifest's chunk list (manifests.chunk_ids): each chunk's id in the chunks table, in
// split order, as 8 bytes big-endian, so that PostgreSQL builds and reads it in SQL too
// (int8send) and a migration can fill it from rows. One column instead of a row per
// directory: storing a new manifest is one insert, not one per chunk (store/sqlite_store.cpp).
std::string encode_chunk_ids(std::span<const std::int64_t> ids);
// ErrorCode::parse when the length is not a multiple of 8 or an id is not positive.
Expected<std::vector<std::int64_t>> decode_chunk_ids(std::string_view data);

// A cached scan result (store.h ScanResult) without its signature generation and
// snapshot version, which are columns of their own:
//   result := u8 version (=1) | counts deviations | counts drift | varint n | state{n}
//   counts := varint added | varint removed | varint modified | varint config
//   state  := varint (signature id - previous id, the first from 0) | u8 SignatureState
// About two bytes per signature: 200 patch states of 10,000 hosts take ~4 MB.
// Requires ascending ids (put_scan_result checks them).
std::string encode_scan_result(const ScanResult& result);
// Decodes into `out` (its states replaced). ErrorCode::parse on any malformed input.
Expected<void> decode_scan_result(std::string_view data, ScanResult& out);

// A package inventory as one blob: strings{ strings{(manager, name, version, arch)*},
// strings{(manager, message)*} }. Stored once per distinct content (package_inventories,
// by SHA-256): a host scanned daily with the same packages adds one row per scan, not a list.
std::string encode_inventory(const PackageInventory& inventory);
Expected<PackageInventory> decode_inventory(std::string_view data);  // ErrorCode::parse when malformed

}  // namespace tb::store
