// Compact binary encodings used by the store: manifests split into directory chunks,
// and the small lists a scan carries (errors, roots, excludes).
//
// A manifest is stored as chunks, one per directory listing: the records whose parent
// directory is the same, in path order. A directory's own record belongs to its parent's
// chunk ("/" itself forms a chunk of directory ""). A change to one file therefore
// changes exactly one chunk, and a directory that is identical on many hosts (package
// files keep the package's mtime) is one chunk shared by all of them.
//
// Byte layout of a chunk (all integers are unsigned LEB128 varints unless noted):
//
//   chunk   := u8 version (=1) | bytes dir | varint count | record{count}
//   record  := varint shared | bytes suffix      name = previous name[0, shared) + suffix
//              u8 type (FileType) | varint present (AttrSet bits)
//              [varint size]  [varint mode]  [varint uid]  [varint gid]     when present
//              [varint zigzag(mtime_ns - previous mtime_ns)]               when present
//              [32 raw bytes sha256]  [bytes link_target]                 when present
//   bytes   := varint length | raw bytes
//
// Names are relative to `dir` and prefix-compressed against the previous name; mtimes
// are deltas (starting from 0) because the files of one package share one mtime. The
// encoding is canonical (one byte string per chunk content), so the SHA-256 of it is the
// chunk's identity in the content-addressed store.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/file_record.h"
#include "core/manifest.h"
#include "core/scan_document.h"
#include "store/store.h"

namespace tb::store {

// The records of one directory listing, pointing into a manifest (which must outlive it).
struct ChunkView {
  std::string_view dir;                    // parent directory; "" for the chunk holding "/"
  std::vector<const FileRecord*> records;  // in path order
};

// Splits a manifest into its directory chunks, ordered by directory in path order (so the
// order is a function of the manifest's content alone).
std::vector<ChunkView> split_into_chunks(const Manifest& manifest);

// Appends the encoding of `chunk` to `out` (see the layout above).
void encode_chunk(const ChunkView& chunk, std::string& out);

// Decodes one chunk, appending its records to `out`. ErrorCode::parse on any malformed
// input (truncated, trailing bytes, unknown version or type): never reads out of bounds.
Expected<std::size_t> decode_chunk(std::string_view data, std::vector<FileRecord>& out);

// Scan errors: varint count | (bytes path | u8 kind | varint zigzag(errno) | bytes message)*
std::string encode_scan_errors(std::span<const ScanError> errors);
Expected<std::vector<ScanError>> decode_scan_errors(std::string_view data);

// A list of byte strings: varint count | bytes*
std::string encode_strings(std::span<const std::string> strings);
Expected<std::vector<std::string>> decode_strings(std::string_view data);

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
