// Parsing scan documents. Input is untrusted: every path is normalised and bounded,
// every number range-checked, every hash validated; the reader streams records to a
// visitor so a 1,000,000-file document is never held as a DOM.
//
// Both readers accept exactly what the writers produce (schema/scan-v1.xsd describes the
// XML form) and nothing else: no unknown elements, attributes or members, one spelling
// per value, paths already canonical (rejected, never repaired), records in strict
// path order. XML is read without DTDs or entities (a DOCTYPE is an error) and never
// touches the network or the file system beyond the document itself.
//
// Errors:
//   ErrorCode::limit      a ReadLimits or PathLimits bound was exceeded
//   ErrorCode::parse      anything else that is wrong with the document
//   ErrorCode::io         the file could not be read (read_scan_xml_file)
//   ErrorCode::not_found  the file does not exist (read_scan_xml_file)
// Messages locate the problem: "line 12: ..." (XML), "entries[3]: ..." (JSON). An error
// returned by a visitor callback stops the read and is returned unchanged. Records
// already delivered before an error stay delivered: a consumer that must be atomic
// (the store) commits only after the whole read succeeded.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/path.h"
#include "core/scan_document.h"
#include "format/byte_source.h"

namespace tb {

// Every bound on what a document may multiply: bytes alone are not enough, since a few
// hundred kilobytes of gzip expand to hundreds of megabytes of comments, attributes or
// repeated roots. Each is checked as the document is read, before what it counts is
// held (ErrorCode::limit, the message naming the bound).
struct ReadLimits {
  std::size_t max_document_bytes = std::size_t{4} << 30;  // 4 GiB of XML
  // File records per scan (a chunked upload's records in all). The server's
  // upload.max_records sets it.
  std::size_t max_records = 5'000'000;
  std::size_t max_errors = 1'000'000;                // listed scan errors
  std::size_t max_text_bytes = 64 * 1024;            // any single attribute or text value
  std::size_t max_packages = kMaxInventoryPackages;  // installed packages listed in <packages>
  std::size_t max_roots = 4096;                      // <root>s, each listed once
  std::size_t max_excludes = 4096;                   // <exclude>s, each listed once
  // Attributes (namespace declarations included) on one XML element, members of one JSON
  // object, items of a JSON array that is not a list above. Checked before the element
  // is parsed: libxml2's duplicate-attribute check is quadratic in their number.
  std::size_t max_attributes = 32;
  // XML comments, processing instructions (the XML declaration aside) and CDATA sections
  // in the whole document, and their bytes in all. The writer emits none; libxml2's
  // reader holds every one it meets between two elements, so they are bounded tightly.
  std::size_t max_comments = 10'000;
  std::size_t max_comment_bytes = std::size_t{4} << 20;
  // XML text (whitespace, an escaped error message) and end tags between two start tags,
  // in bytes: libxml2 holds it until the next one.
  std::size_t max_text_run_bytes = std::size_t{8} << 20;
  // Chunks a chunked upload names or sends (one per directory); each digest at most once.
  std::size_t max_chunks = 1'000'000;
  PathLimits paths;
};

// Callbacks in document order: header once, record per entry, error per listed error,
// summary once. An unset callback accepts everything.
struct ScanVisitor {
  std::function<Expected<void>(const ScanHeader&)> header;
  std::function<Expected<void>(FileRecord&&)> record;   // in path order (checked)
  std::function<Expected<void>(ScanError&&)> error;
  std::function<Expected<void>(const ScanSummary&)> summary;
};

// Streaming parse of an XML scan document held in memory or read from a file.
Expected<void> read_scan_xml(std::string_view document, const ScanVisitor& visitor,
                             const ReadLimits& limits = {});
Expected<void> read_scan_xml_file(const std::string& path, const ScanVisitor& visitor,
                                  const ReadLimits& limits = {});
// ... or pulled from a source (a spooled upload through GunzipSource, say): memory stays
// flat whatever the document's size. max_document_bytes bounds what the source yields.
Expected<void> read_scan_xml(ByteSource& source, const ScanVisitor& visitor, const ReadLimits& limits = {});

// Parses a JSON scan document (the --format json output), streaming too. Because it
// streams, the root members must come in the writer's order: the header members (any
// order among themselves) before "entries", then "errors", then "summary".
Expected<void> read_scan_json(std::string_view document, const ScanVisitor& visitor,
                              const ReadLimits& limits = {});
Expected<void> read_scan_json(ByteSource& source, const ScanVisitor& visitor, const ReadLimits& limits = {});

// Streams a document of either syntax (sniffed from its first non-blank byte) to `visitor`.
Expected<void> read_scan(ByteSource& source, const ScanVisitor& visitor, const ReadLimits& limits = {});

// Reads a file (XML or JSON, gzip-compressed or not) and collects the whole document;
// errors name the file. The file is streamed, never held whole in memory; a compressed
// file is bounded by max_document_bytes after decompression.
Expected<ScanDocument> parse_scan_file(const std::string& path, const ReadLimits& limits = {});

// Collects a whole document (tests, small scans).
Expected<ScanDocument> parse_scan(std::string_view document, const ReadLimits& limits = {});  // sniffs XML vs JSON
Expected<ScanDocument> parse_scan(ByteSource& source, const ReadLimits& limits = {});        // sniffs too

}  // namespace tb
