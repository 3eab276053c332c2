// Manifests as directory chunks, in a compact binary encoding: the store's unit of
// content addressing (store/chunk_codec.h) and what a scanner sends in a chunked upload
// (format/chunked_scan.h). Pure: no I/O.
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
#include "core/sha256.h"

namespace tb {

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


// One directory chunk, encoded, with its identity (the SHA-256 of `data`).
struct EncodedChunk {
  Sha256Digest digest;
  std::string data;
};

// A manifest's chunk as an upload delivered it, for a store to keep without encoding and
// hashing it again: its digest, its record count and, when the upload sent it rather than
// named a stored one, its encoding (pointing into the upload, which must outlive it).
struct ManifestChunkRef {
  Sha256Digest digest;
  std::size_t records = 0;
  std::string_view data;  // empty: a chunk the store holds already
};

// The identity of a manifest's chunk list, given in split_into_chunks order: SHA-256 over
// the chunks' digests. Two manifests have the same one exactly when they hold equal
// records (the encoding is canonical). It is the manifest's digest (manifest_digest()):
// a chunked upload names its manifest with a hash of 32 bytes per directory, without a
// pass over the records.
Sha256Digest chunk_list_digest(std::span<const Sha256Digest> digests);

// The digests of chunks (their encodings' SHA-256), each encoded in turn into one buffer.
std::vector<Sha256Digest> chunk_digests(std::span<const ChunkView> chunks);

// A manifest's identity, the `manifest_sha256` users see: chunk_list_digest() of its
// split. Two manifests have the same digest exactly when they hold equal records.
Sha256Digest manifest_digest(const Manifest& manifest);

// The chunks of a manifest built from its records as they come, in path order (a scan's
// order), holding only the directories still open on the way down: the same chunks, byte
// for byte, as split_into_chunks + encode_chunk of the whole manifest, in another order
// (a directory's chunk is done when the walk leaves it). A scanner keeps the encoded
// chunks, ~40 bytes per record, rather than the records.
class ChunkBuilder {
 public:
  // ErrorCode::invalid_argument when `record` does not follow the previous one in path order.
  Expected<void> add(const FileRecord& record);
  // The remaining open directories are closed; the builder is empty afterwards.
  std::vector<EncodedChunk> finish();

 private:
  struct OpenDirectory {
    std::string dir;
    std::vector<FileRecord> records;
  };
  void close_innermost();

  std::vector<OpenDirectory> open_;  // each one's dir is below the one before it
  std::vector<EncodedChunk> done_;
  std::string last_path_;
  Sha256 hasher_;
};

}  // namespace tb
