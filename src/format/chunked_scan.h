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
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/file_record.h"
#include "core/scan_document.h"
#include "core/sha256.h"
#include "format/byte_source.h"
#include "format/manifest_chunks.h"
#include "format/scan_reader.h"

namespace tb {

inline constexpr std::string_view kChunkedScanMediaType = "application/vnd.trustbase.chunked-scan";

// The body for `header_document` and `chunks`: the content of a chunk goes in when
// `send(digest)` says so, its digest alone otherwise.
std::string encode_chunked_scan(std::string_view header_document, std::span<const EncodedChunk> chunks,
                                const std::function<bool(const Sha256Digest&)>& send);

// A chunked upload as read: the document's header, errors and summary, the records of
// the chunks sent, and the digests of the chunks referenced.
struct ChunkedScan {
  ScanDocument document;               // manifest empty: the records are below
  std::vector<FileRecord> records;     // from the sent chunks, checked
  // Where each sent chunk's records are in `records`: [begin, end), and its directory.
  struct Run {
    std::string dir;
    std::size_t begin = 0, end = 0;
  };
  std::vector<Run> runs;
  std::vector<Sha256Digest> referenced;
};

// Reads a body, bounded by limits.max_document_bytes (what the source yields) and
// limits.max_records (chunks and records). Errors: ErrorCode::parse for a malformed body,
// a chunk whose content does not hash to its digest or is not canonically encoded, a
// header document with entries or a record that fails the readers' checks;
// ErrorCode::limit beyond a bound; the source's own errors unchanged.
Expected<ChunkedScan> read_chunked_scan(ByteSource& source, const ReadLimits& limits = {});

// The whole scan: the records sent plus those of the referenced chunks, `stored[i]` being
// the content of `scan.referenced[i]` as the store holds it. Each stored record is checked
// like a sent one. ErrorCode::parse / invalid_argument (duplicated paths across chunks)
// / limit.
Expected<ScanDocument> assemble_chunked_scan(ChunkedScan scan, std::span<const std::string> stored,
                                             const ReadLimits& limits = {});

// The checks a document reader makes on one record, for records that arrive in binary
// form: canonical path within limits.paths, mode within 07777, a hash only on a regular
// file, a link target only on a symlink and within the path bound without NUL.
Expected<void> check_untrusted_record(const FileRecord& record, const ReadLimits& limits);

}  // namespace tb
