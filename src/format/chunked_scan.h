// Chunked scan uploads: a scan sent as its document without records plus the directory
// chunks of its manifest (format/manifest_chunks.h), each by digest and, only when the
// server lacks it, by content. Fleets repeat themselves (the same base install on every
// host, mostly the same files as the host's previous scan), so most chunks are known to
// the store already and a scan costs the server a look-up per directory instead of a
// parse per file.
//
// The conversation (POST /api/v1/scans, Content-Type kChunkedScanMediaType): the scanner
// first sends every chunk by digest alone; the server answers 201 when it has them all,
// or 409 with {"missing_chunks": [hex...]}; the scanner sends again with those chunks'
// content. The server trusts no chunk more than a document: sent chunks must hash to
// their digest and be canonically encoded, and every record passes the checks the
// document readers make. Digests only name content the store already holds.
//
//   body  := "TBCHUNKS1\n" | bytes header | varint n | entry{n}
//   header:= a scan document (XML or JSON) with no entries
//   entry := 32 bytes sha256 | u8 0                   the chunk, by reference
//                            | u8 1 | bytes chunk     the chunk itself
//   (varints and bytes as in format/binary_codec.h)
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/file_record.h"
#include "core/scan_document.h"
#include "core/sha256.h"
#include "core/signature_index.h"
#include "format/byte_source.h"
#include "format/manifest_chunks.h"
#include "format/scan_reader.h"

namespace tb {

inline constexpr std::string_view kChunkedScanMediaType = "application/vnd.trustbase.chunked-scan";

// The body for `header_document` and `chunks`: the content of a chunk goes in when
// `send(digest)` says so, its digest alone otherwise.
std::string encode_chunked_scan(std::string_view header_document, std::span<const EncodedChunk> chunks,
                                const std::function<bool(const Sha256Digest&)>& send);
// The same for chunks kept in several lists, taken one list after the other, uncopied.
std::string encode_chunked_scan(std::string_view header_document,
                                std::span<const std::span<const EncodedChunk>> parts,
                                const std::function<bool(const Sha256Digest&)>& send);

// One directory chunk, decoded: its records, each checked like a document's. Immutable
// once built, so a server can share it between requests (content addressing: the digest
// says what it holds, forever).
struct DecodedChunk {
  DecodedChunk() = default;
  // A copy holds the same records and looks their path ids up anew.
  DecodedChunk(const DecodedChunk& other)
      : digest(other.digest), dir(other.dir), records(other.records), in_order(other.in_order) {}
  DecodedChunk& operator=(const DecodedChunk&) = delete;

  Sha256Digest digest;
  std::string dir;                  // the directory whose entries it lists ("" for "/")
  std::vector<FileRecord> records;  // at least one, in path order unless hostile:
  bool in_order = false;            // each path_less than the next, checked once as decoded
  // Roughly the heap this takes, for a cache's bound (the path ids below add 4 bytes a
  // record, a few percent, once looked up).
  std::size_t memory_bytes() const;

  // The PathId of each record in `index` (SignatureIndex::kNoPath when unlisted), looked
  // up once per index and kept with the chunk: a fleet shares most chunks, so a new
  // host's scan mostly looks nothing up. Safe to call from several threads.
  struct PathIds {
    std::weak_ptr<const SignatureIndex> index;
    std::vector<SignatureIndex::PathId> ids;
  };
  std::shared_ptr<const PathIds> path_ids(const std::shared_ptr<const SignatureIndex>& index) const;

 private:
  mutable std::mutex path_ids_mutex_;
  mutable std::shared_ptr<const PathIds> path_ids_;
};
using SharedChunk = std::shared_ptr<const DecodedChunk>;

// Decodes a chunk the store holds (stored chunks are checked like sent ones: the store
// is a disk, not an authority). ErrorCode::parse for a malformed or empty chunk or a
// record that fails the readers' checks; ErrorCode::limit beyond limits.max_records.
Expected<SharedChunk> decode_stored_chunk(const Sha256Digest& digest, std::string_view data,
                                          const ReadLimits& limits = {});

// A chunked upload as read: the document's header, errors and summary, the chunks sent
// (decoded, checked, with their encoding) and the digests of the chunks referenced.
struct ChunkedScan {
  ScanDocument document;  // manifest empty: the records are in the chunks
  // The header document as sent while its parse is deferred (HeaderDocument::deferred;
  // `document` is empty until parse_chunked_header()); empty once parsed.
  std::string header_text;
  struct Sent {
    SharedChunk chunk;
    std::string data;  // its canonical encoding
  };
  std::vector<Sent> sent;
  std::vector<Sha256Digest> referenced;
};

// Reads a body, bounded by limits.max_document_bytes (what the source yields),
// limits.max_chunks and limits.max_records (the chunk count, checked before a digest is
// read; the records in all). Each chunk is named once, by digest or sent: a digest twice
// is ErrorCode::parse, so the chunks a server lists as missing are distinct and bounded.
// Errors: ErrorCode::parse for a malformed body,
// a chunk whose content does not hash to its digest or is not canonically encoded, a
// header document with entries or a record that fails the readers' checks;
// ErrorCode::limit beyond a bound; the source's own errors unchanged.
// With HeaderDocument::deferred the header document is kept as sent and checked by
// parse_chunked_header() instead: a server answering a first round with the chunks it
// lacks does not need it (a new host's first round is half of its requests).
enum class HeaderDocument { parsed, deferred };
Expected<ChunkedScan> read_chunked_scan(ByteSource& source, const ReadLimits& limits = {},
                                        HeaderDocument header = HeaderDocument::parsed);
// Parses a deferred header document into scan.document, with read_chunked_scan's checks
// and errors; a no-op when it is parsed already.
Expected<void> parse_chunked_header(ChunkedScan& scan, const ReadLimits& limits = {});

// A whole scan put together from its chunks.
struct AssembledScan {
  ScanDocument document;
  // The manifest's chunks in split_into_chunks order when the upload's chunks are exactly
  // its split (one per directory, as scanners send them), for the store to keep as they
  // are; empty otherwise (the store then splits the manifest itself). Sent chunks' data
  // points into the ChunkedScan, which must outlive this.
  std::vector<ManifestChunkRef> chunks;
};

// The whole scan: the records sent plus those of the referenced chunks, `stored[i]` being
// scan.referenced[i] decoded (decode_stored_chunk, or a cache of its results).
// ErrorCode::parse / invalid_argument (duplicated paths across chunks) / limit (more than
// limits.max_records records in all).
Expected<AssembledScan> assemble_chunked_scan(const ChunkedScan& scan, std::span<const SharedChunk> stored,
                                              const ReadLimits& limits = {});
// A chunked scan's records in path order by pointer into its chunks (`scan` and `stored`
// must outlive it), with `chunks` as AssembledScan has them: what a manifest would hold,
// without copying a record (a server that only stores and judges the scan needs no
// Manifest). nullopt when the chunks are not exactly a manifest's split or their records
// do not come out in strictly increasing path order; assemble_chunked_scan() then sorts
// and checks them. Errors and limits as assemble_chunked_scan's.
struct OrderedChunkedScan {
  std::vector<const FileRecord*> records;
  std::vector<ManifestChunkRef> chunks;
  // Where each record is: records[k] is in sources[source_of[k]] (sent chunks, then stored).
  std::vector<const DecodedChunk*> sources;
  std::vector<std::uint32_t> source_of;
  // Each record's PathId in `index`, from its chunk's (DecodedChunk::path_ids).
  std::vector<SignatureIndex::PathId> path_ids(const std::shared_ptr<const SignatureIndex>& index) const;
};
Expected<std::optional<OrderedChunkedScan>> order_chunked_scan(const ChunkedScan& scan,
                                                               std::span<const SharedChunk> stored,
                                                               const ReadLimits& limits = {});
// The chunk list digest (chunk_list_digest) of the manifest the chunks make, when they
// are its split (AssembledScan::chunks would not be empty), without assembling it: what
// names a stored manifest for a scan that repeats one. nullopt otherwise. Says nothing
// of whether the chunks make a valid manifest: only assemble_chunked_scan does.
std::optional<Sha256Digest> chunk_list_of(const ChunkedScan& scan, std::span<const SharedChunk> stored);
// The same with the stored chunks' content as the store holds it.
Expected<AssembledScan> assemble_chunked_scan(const ChunkedScan& scan, std::span<const std::string> stored,
                                              const ReadLimits& limits = {});

// The checks a document reader makes on one record, for records that arrive in binary
// form: canonical path within limits.paths, mode within 07777, a hash only on a regular
// file, a link target only on a symlink and within the path bound without NUL.
Expected<void> check_untrusted_record(const FileRecord& record, const ReadLimits& limits);

}  // namespace tb
