// Chunked uploads (format/chunked_scan.h): the scanner's streaming chunk builder agrees
// byte for byte with the store's split, bodies round-trip, and hostile bodies (truncated,
// lying digests, non-canonical chunks, hostile paths, oversized) are refused, never crash.
#include "format/chunked_scan.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/test_records.h"
#include "format/binary_codec.h"
#include "format/byte_source.h"
#include "format/manifest_chunks.h"
#include "format/scan_writer.h"

namespace tb {
namespace {

using test::dir;
using test::file;
using test::symlink;

// A manifest with the shapes that matter: "/" itself, nested directories whose records
// interleave in path order ("/a/b" between "/a/a" and "/a/c"), a symlink, names sharing
// prefixes.
Manifest sample_manifest() {
  std::vector<FileRecord> records = {
      dir("/"),           dir("/a"),         file("/a/a", "1"),       dir("/a/b"),        file("/a/b/x", "2"),
      file("/a/b/xy", "3"), dir("/a/b/z"),   file("/a/b/z/deep", "4"), file("/a/c", "5"),  symlink("/a/d", "c"),
      dir("/a-b"),        file("/a-b/f", "6"), file("/top", "7"),
  };
  auto m = Manifest::from_records(std::move(records));
  EXPECT_TRUE(m) << m.error().message;
  return std::move(*m);
}

ScanDocument sample_document() {
  ScanDocument doc;
  doc.header.scanner = "test";
  doc.header.host.hostname = "h1";
  doc.header.roots = {"/"};
  doc.header.started_ns = 1'700'000'000'000'000'000;
  doc.manifest = sample_manifest();
  doc.errors.push_back(ScanError{"/a/secret", ScanErrorKind::open, 13, "Permission denied"});
  doc.summary.files = 7;
  doc.summary.directories = 5;
  doc.summary.errors = 1;
  doc.summary.finished_ns = doc.header.started_ns + 1;
  return doc;
}

std::string header_document(const ScanDocument& doc) {
  std::string out;
  StringSink sink(out);
  auto writer = make_scan_writer(ScanFormat::xml, sink);
  EXPECT_TRUE(writer->begin(doc.header));
  EXPECT_TRUE(writer->end(doc.errors, doc.summary));
  return out;
}

std::vector<EncodedChunk> built_chunks(const Manifest& m) {
  ChunkBuilder builder;
  for (const FileRecord& r : m) EXPECT_TRUE(builder.add(r));
  return builder.finish();
}

Expected<ChunkedScan> read_body(const std::string& body, const ReadLimits& limits = {}) {
  MemorySource source(body);
  return read_chunked_scan(source, limits);
}

std::string body_sending(const ScanDocument& doc, bool send_all) {
  return encode_chunked_scan(header_document(doc), built_chunks(doc.manifest),
                             [&](const Sha256Digest&) { return send_all; });
}

TEST(ChunkBuilder, BuildsExactlyTheChunksTheStoreSplitsAManifestInto) {
  const Manifest m = sample_manifest();
  std::set<std::pair<std::string, std::string>> store_side, scanner_side;
  for (const ChunkView& view : split_into_chunks(m)) {
    std::string data;
    encode_chunk(view, data);
    store_side.emplace(Sha256::of(data).hex(), data);
  }
  for (const EncodedChunk& c : built_chunks(m)) {
    EXPECT_EQ(c.digest, Sha256::of(c.data));
    scanner_side.emplace(c.digest.hex(), c.data);
  }
  EXPECT_EQ(scanner_side, store_side);
  EXPECT_EQ(store_side.size(), 6u);  // the directories "" (holding "/"), "/", "/a", "/a/b", "/a/b/z", "/a-b"
}

TEST(ChunkBuilder, RefusesRecordsOutOfPathOrder) {
  ChunkBuilder builder;
  ASSERT_TRUE(builder.add(file("/b")));
  auto again = builder.add(file("/a"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(builder.add(file("/b")));  // a duplicate is out of order too
}

TEST(ChunkedScan, AllChunksSentRoundTripsTheWholeDocument) {
  const ScanDocument doc = sample_document();
  auto scan = read_body(body_sending(doc, true));
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->referenced.empty());
  auto assembled = assemble_chunked_scan(*scan, std::vector<std::string>{});
  ASSERT_TRUE(assembled) << assembled.error().message;
  EXPECT_EQ(assembled->document.header, doc.header);
  EXPECT_EQ(assembled->document.manifest, doc.manifest);
  EXPECT_EQ(assembled->document.errors, doc.errors);
  EXPECT_EQ(assembled->document.summary, doc.summary);
}

TEST(ChunkedScan, ReferencedChunksAreTakenFromWhatTheStoreHolds) {
  const ScanDocument doc = sample_document();
  const std::vector<EncodedChunk> chunks = built_chunks(doc.manifest);
  // The server holds all but the chunk of "/a/b": that one is sent.
  const auto sent = std::find_if(chunks.begin(), chunks.end(), [](const EncodedChunk& c) {
    binary::Reader in(c.data);
    in.byte();
    return in.bytes() == "/a/b";
  });
  ASSERT_NE(sent, chunks.end());
  auto scan = read_body(encode_chunked_scan(header_document(doc), chunks,
                                            [&](const Sha256Digest& d) { return d == sent->digest; }));
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_EQ(scan->referenced.size(), chunks.size() - 1);
  ASSERT_EQ(scan->sent.size(), 1u);
  EXPECT_EQ(scan->sent[0].chunk->records.size(), 3u);  // x, xy, z
  EXPECT_EQ(scan->sent[0].chunk->dir, "/a/b");
  std::vector<std::string> stored;
  for (const Sha256Digest& d : scan->referenced) {
    auto it = std::find_if(chunks.begin(), chunks.end(), [&](const EncodedChunk& c) { return c.digest == d; });
    ASSERT_NE(it, chunks.end());
    stored.push_back(it->data);
  }
  auto assembled = assemble_chunked_scan(std::move(*scan), stored);
  ASSERT_TRUE(assembled) << assembled.error().message;
  EXPECT_EQ(assembled->document.manifest, doc.manifest);
  // The chunks as the store splits the manifest, in its order; only the sent one carries
  // its encoding.
  const auto split = split_into_chunks(doc.manifest);
  ASSERT_EQ(assembled->chunks.size(), split.size());
  for (std::size_t i = 0; i < split.size(); ++i) {
    std::string encoded;
    encode_chunk(split[i], encoded);
    EXPECT_EQ(assembled->chunks[i].digest, Sha256::of(encoded)) << i;
    EXPECT_EQ(assembled->chunks[i].records, split[i].records.size()) << i;
    EXPECT_EQ(assembled->chunks[i].data, assembled->chunks[i].digest == sent->digest ? encoded : "") << i;
  }
}

// The assembly walks chunks into path order instead of sorting every record: random
// trees (directories, files with paths below them, missing parents, odd bytes), their
// chunks shuffled and split at random between sent and stored, always give back the
// manifest itself.
TEST(ChunkedScan, RandomTreesInAnyChunkOrderAssembleToTheSameManifest) {
  std::mt19937_64 rng(20261127);
  int in_place = 0;
  for (int round = 0; round < 200; ++round) {
    std::vector<FileRecord> records;
    std::set<std::string> paths;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) paths.insert(test::random_canonical_path(rng, 5));
    for (const std::string& p : paths) records.push_back(test::random_record(p, rng));
    auto m = Manifest::from_records(std::move(records));
    ASSERT_TRUE(m) << m.error().message;
    ScanDocument doc = sample_document();
    doc.manifest = std::move(*m);
    std::vector<EncodedChunk> chunks = built_chunks(doc.manifest);
    std::shuffle(chunks.begin(), chunks.end(), rng);
    std::set<Sha256Digest> sent;
    for (const EncodedChunk& c : chunks)
      if (rng() % 2 == 0) sent.insert(c.digest);
    auto scan = read_body(encode_chunked_scan(header_document(doc), chunks,
                                              [&](const Sha256Digest& d) { return sent.count(d) > 0; }));
    ASSERT_TRUE(scan) << scan.error().message;
    std::vector<std::string> stored;
    for (const Sha256Digest& d : scan->referenced)
      for (const EncodedChunk& c : chunks)
        if (c.digest == d) {
          stored.push_back(c.data);
          break;
        }
    auto assembled = assemble_chunked_scan(*scan, stored);
    ASSERT_TRUE(assembled) << "round " << round << ": " << assembled.error().message;
    ASSERT_EQ(assembled->document.manifest, doc.manifest) << "round " << round;
    // In place: the same records by pointer, the same chunks. Random trees lack parent
    // directories (a scan lists them), so the walk may come out of order: then nothing is
    // taken in place and the server puts the manifest together as above.
    std::vector<SharedChunk> decoded;
    for (std::size_t i = 0; i < stored.size(); ++i) decoded.push_back(*decode_stored_chunk(scan->referenced[i], stored[i]));
    auto ordered = order_chunked_scan(*scan, decoded);
    ASSERT_TRUE(ordered) << ordered.error().message;
    if (!*ordered) continue;
    ++in_place;
    ASSERT_EQ((*ordered)->records.size(), doc.manifest.size());
    for (std::size_t i = 0; i < doc.manifest.size(); ++i) ASSERT_EQ(*(*ordered)->records[i], doc.manifest[i]);
    ASSERT_EQ((*ordered)->chunks.size(), assembled->chunks.size());
    for (std::size_t i = 0; i < assembled->chunks.size(); ++i) {
      ASSERT_EQ((*ordered)->chunks[i].digest, assembled->chunks[i].digest);
      ASSERT_EQ((*ordered)->chunks[i].records, assembled->chunks[i].records);
      ASSERT_EQ((*ordered)->chunks[i].data, assembled->chunks[i].data);
    }
    const auto split = split_into_chunks(doc.manifest);
    ASSERT_EQ(assembled->chunks.size(), split.size()) << "round " << round;
    for (std::size_t i = 0; i < split.size(); ++i) {
      std::string encoded;
      encode_chunk(split[i], encoded);
      ASSERT_EQ(assembled->chunks[i].digest, Sha256::of(encoded)) << "round " << round << ", chunk " << i;
    }
  }
  EXPECT_GT(in_place, 5);  // the single-directory trees at least
}

TEST(ChunkedScan, AScanWithItsDirectoriesIsTakenInPlace) {
  // Every directory listed, as a scan lists them: the walk is path order, in any chunk order.
  const ScanDocument doc = sample_document();
  std::vector<EncodedChunk> chunks = built_chunks(doc.manifest);
  std::reverse(chunks.begin(), chunks.end());
  auto scan = read_body(encode_chunked_scan(header_document(doc), chunks, [](const Sha256Digest&) { return true; }));
  ASSERT_TRUE(scan) << scan.error().message;
  auto ordered = order_chunked_scan(*scan, std::vector<SharedChunk>{});
  ASSERT_TRUE(ordered && *ordered);
  ASSERT_EQ((*ordered)->records.size(), doc.manifest.size());
  for (std::size_t i = 0; i < doc.manifest.size(); ++i) EXPECT_EQ(*(*ordered)->records[i], doc.manifest[i]);
  EXPECT_EQ((*ordered)->chunks.size(), chunks.size());
}

// A chunk's path ids are looked up once per signature index and kept with the chunk; an
// in-place scan takes each record's from its chunk.
TEST(ChunkedScan, PathIdsAreLookedUpOncePerIndex) {
  const ScanDocument doc = sample_document();
  std::vector<FileRecord> listed = {file("/a/a", "1"), file("/a/b/z/deep", "other"), file("/top", "7")};
  Signature sig;
  sig.info.ref = SignatureRef{"listed", "1"};
  sig.manifest = test::manifest(listed);
  auto built = SignatureIndex::build({sig});
  ASSERT_TRUE(built);
  const auto index = std::make_shared<const SignatureIndex>(std::move(*built));

  auto scan = read_body(body_sending(doc, true));
  ASSERT_TRUE(scan) << scan.error().message;
  auto ordered = order_chunked_scan(*scan, std::vector<SharedChunk>{});
  ASSERT_TRUE(ordered && *ordered);
  const auto ids = (*ordered)->path_ids(index);
  ASSERT_EQ(ids.size(), doc.manifest.size());
  for (std::size_t k = 0; k < ids.size(); ++k)
    EXPECT_EQ(ids[k], index->find_path((*ordered)->records[k]->path).value_or(SignatureIndex::kNoPath))
        << (*ordered)->records[k]->path;
  EXPECT_EQ(std::count(ids.begin(), ids.end(), SignatureIndex::kNoPath), static_cast<std::ptrdiff_t>(ids.size() - 3));

  const DecodedChunk& chunk = *scan->sent.front().chunk;
  const auto first = chunk.path_ids(index);
  EXPECT_EQ(chunk.path_ids(index), first) << "kept, not looked up again";
  auto rebuilt = SignatureIndex::build({sig});
  ASSERT_TRUE(rebuilt);
  const auto other = std::make_shared<const SignatureIndex>(std::move(*rebuilt));
  const auto again = chunk.path_ids(other);
  EXPECT_NE(again, first) << "another index: looked up anew";
  EXPECT_EQ(again->ids, first->ids);
}

TEST(ChunkedScan, EveryTruncationIsAnErrorNeverACrash) {
  const std::string body = body_sending(sample_document(), true);
  for (std::size_t n = 0; n < body.size(); ++n) {
    auto scan = read_body(body.substr(0, n));
    EXPECT_FALSE(scan) << "a body cut at " << n << " of " << body.size() << " bytes was accepted";
  }
  EXPECT_FALSE(read_body(body + "x")) << "trailing bytes";
}

TEST(ChunkedScan, AChunkWhoseContentDoesNotMatchItsDigestIsRefused) {
  const ScanDocument doc = sample_document();
  std::vector<EncodedChunk> chunks = built_chunks(doc.manifest);
  chunks[0].digest = Sha256::of("something else");
  auto scan = read_body(encode_chunked_scan(header_document(doc), chunks, [](const Sha256Digest&) { return true; }));
  ASSERT_FALSE(scan);
  EXPECT_EQ(scan.error().code, ErrorCode::parse);
  EXPECT_NE(scan.error().message.find("does not match its digest"), std::string::npos) << scan.error().message;
}

// A chunk built by hand: `names` under `dir`, each a file, with an honest digest.
EncodedChunk hand_made_chunk(std::string_view chunk_dir, const std::vector<std::string>& names) {
  EncodedChunk c;
  c.data.push_back('\1');
  binary::put_bytes(c.data, chunk_dir);
  binary::put_varint(c.data, names.size());
  for (const std::string& name : names) {
    binary::put_varint(c.data, 0);
    binary::put_bytes(c.data, name);
    c.data.push_back(static_cast<char>(FileType::file));
    binary::put_varint(c.data, (Attr::type | Attr::size).bits());
    binary::put_varint(c.data, 1);
  }
  c.digest = Sha256::of(c.data);
  return c;
}

Expected<AssembledScan> read_hand_made(const std::vector<EncodedChunk>& chunks, const ReadLimits& limits = {}) {
  ScanDocument doc = sample_document();
  auto scan = read_body(
      encode_chunked_scan(header_document(doc), chunks, [](const Sha256Digest&) { return true; }), limits);
  if (!scan) return tl::unexpected(scan.error());
  return assemble_chunked_scan(*scan, std::vector<std::string>{}, limits);
}

TEST(ChunkedScan, HostileNamesInChunksAreRefused) {
  EXPECT_TRUE(read_hand_made({hand_made_chunk("/etc", {"a", "b"})})) << "the hand-made chunk itself is fine";
  for (const std::string& bad : std::vector<std::string>{"..", ".", "", "x/../../../etc/shadow", std::string("nul\0byte", 8)}) {
    auto doc = read_hand_made({hand_made_chunk("/etc", {bad})});
    EXPECT_FALSE(doc) << "name '" << bad << "' accepted";
  }
  EXPECT_FALSE(read_hand_made({hand_made_chunk("relative", {"a"})}));
  // A name with a slash makes a canonical path, but not the canonical encoding of the
  // chunk it lands in: refused, or the store could never find the chunk by that digest.
  auto nested = read_hand_made({hand_made_chunk("/etc", {"sub/file"})});
  ASSERT_FALSE(nested);
  EXPECT_NE(nested.error().message.find("canonical"), std::string::npos) << nested.error().message;
}

TEST(ChunkedScan, TheSameFileInTwoChunksIsRefused) {
  auto doc = read_hand_made({hand_made_chunk("/etc", {"a"}), hand_made_chunk("/etc", {"a", "b"})});
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message.find("duplicated"), std::string::npos) << doc.error().message;
}

// A body that names chunks by digest only, `digests` in that order.
std::string body_naming(const std::vector<Sha256Digest>& digests) {
  std::string out = "TBCHUNKS1\n";
  binary::put_bytes(out, header_document(sample_document()));
  binary::put_varint(out, digests.size());
  for (const Sha256Digest& d : digests) {
    out.append(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size());
    out.push_back('\0');
  }
  return out;
}

// One missing digest named 8M times made a 536 MB answer listing it 8M times: each
// chunk is named once, whether by digest or sent, next to the last or far from it.
TEST(ChunkedScan, AChunkNamedTwiceIsRefused) {
  const Sha256Digest a = Sha256::of("a"), b = Sha256::of("b"), c = Sha256::of("c");
  EXPECT_TRUE(read_body(body_naming({a, b, c})));
  for (const auto& digests : std::vector<std::vector<Sha256Digest>>{{a, a}, {a, b, c, a}, std::vector(100'000, b)}) {
    auto scan = read_body(body_naming(digests));
    ASSERT_FALSE(scan);
    EXPECT_EQ(scan.error().code, ErrorCode::parse);
    EXPECT_NE(scan.error().message.find("named twice"), std::string::npos) << scan.error().message;
  }
  // Sent, and named by digest too.
  const EncodedChunk sent = hand_made_chunk("/etc", {"a"});
  std::string body =
      encode_chunked_scan(header_document(sample_document()), std::vector{sent, sent},
                          [first = true](const Sha256Digest&) mutable { return std::exchange(first, false); });
  auto twice = read_body(body);
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("named twice"), std::string::npos) << twice.error().message;
}

// The count comes first: a body announcing more chunks than a manifest may have is
// refused before one digest is read (and before max_records, which bounds them too).
TEST(ChunkedScan, TheChunkCountIsBoundedBeforeTheChunksAreRead) {
  EXPECT_EQ(ReadLimits{}.max_chunks, 1'000'000u);
  ReadLimits limits;
  limits.max_chunks = 2;
  EXPECT_TRUE(read_body(body_naming({Sha256::of("a"), Sha256::of("b")}), limits));
  std::string body = body_naming({Sha256::of("a"), Sha256::of("b"), Sha256::of("c")});
  body.resize(body.size() - 33 * 3);  // the digests need not even be there
  auto scan = read_body(body, limits);
  ASSERT_FALSE(scan);
  EXPECT_EQ(scan.error().code, ErrorCode::limit);
  EXPECT_NE(scan.error().message.find("more than 2 chunks"), std::string::npos) << scan.error().message;
  limits = {};
  limits.max_records = 1;
  auto records = read_body(body_naming({Sha256::of("a"), Sha256::of("b")}), limits);
  ASSERT_FALSE(records);
  EXPECT_NE(records.error().message.find("more than 1 chunks"), std::string::npos) << records.error().message;
}

TEST(ChunkedScan, RecordsAndChunksAreBounded) {
  ReadLimits limits;
  limits.max_records = 3;
  EXPECT_TRUE(read_hand_made({hand_made_chunk("/etc", {"a", "b", "c"})}, limits));
  auto records = read_hand_made({hand_made_chunk("/etc", {"a", "b"}), hand_made_chunk("/usr", {"a", "b"})}, limits);
  ASSERT_FALSE(records);
  EXPECT_EQ(records.error().code, ErrorCode::limit);
  limits.max_document_bytes = 200;
  auto bytes = read_hand_made({hand_made_chunk("/etc", {std::string(300, 'n')})}, limits);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, ErrorCode::limit);
}

TEST(ChunkedScan, AHeaderDocumentWithEntriesIsRefused) {
  const ScanDocument doc = sample_document();
  std::string full;
  StringSink sink(full);
  auto writer = make_scan_writer(ScanFormat::xml, sink);
  ASSERT_TRUE(writer->begin(doc.header));
  ASSERT_TRUE(writer->record(file("/x")));
  ASSERT_TRUE(writer->end(doc.errors, doc.summary));
  auto scan = read_body(encode_chunked_scan(full, std::vector<EncodedChunk>{}, [](const Sha256Digest&) { return true; }));
  ASSERT_FALSE(scan);
  EXPECT_NE(scan.error().message.find("entries"), std::string::npos) << scan.error().message;
  EXPECT_FALSE(read_body("TBCHUNKS2\n")) << "another version";
  EXPECT_FALSE(read_body("<?xml version=\"1.0\"?>")) << "a plain document";
}

// A deferred header document is read as sent and parsed later with the same checks: the
// chunks are there at once, the document only once parse_chunked_header() ran.
TEST(ChunkedScan, ADeferredHeaderIsParsedLaterWithTheSameChecks) {
  const ScanDocument doc = sample_document();
  const std::string body = body_sending(doc, false);
  MemorySource source(body);
  auto deferred = read_chunked_scan(source, {}, HeaderDocument::deferred);
  ASSERT_TRUE(deferred) << deferred.error().message;
  auto eager = read_body(body);
  ASSERT_TRUE(eager) << eager.error().message;
  EXPECT_EQ(deferred->referenced, eager->referenced);
  EXPECT_EQ(deferred->header_text, header_document(doc));
  EXPECT_TRUE(deferred->document.header.roots.empty());  // not parsed yet
  ASSERT_TRUE(parse_chunked_header(*deferred));
  EXPECT_TRUE(deferred->header_text.empty());
  EXPECT_EQ(deferred->document.header, eager->document.header);
  EXPECT_EQ(deferred->document.errors, eager->document.errors);
  EXPECT_EQ(deferred->document.summary, eager->document.summary);
  EXPECT_TRUE(parse_chunked_header(*deferred));  // once parsed, again is a no-op
  EXPECT_EQ(deferred->document.header, eager->document.header);

  // A header that is no scan document, or one with entries: read, then refused on parse.
  for (const std::string& header : {std::string("<scan"), std::string("not xml at all")}) {
    const std::string bad =
        encode_chunked_scan(header, built_chunks(doc.manifest), [](const Sha256Digest&) { return false; });
    MemorySource bad_source(bad);
    auto read = read_chunked_scan(bad_source, {}, HeaderDocument::deferred);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->referenced.size(), eager->referenced.size());
    auto parsed = parse_chunked_header(*read);
    ASSERT_FALSE(parsed) << header;
    EXPECT_EQ(parsed.error().code, ErrorCode::parse) << parsed.error().message;
    EXPECT_FALSE(read_body(bad)) << "read at once, the same header is refused";
  }
  const std::string empty_header =
      encode_chunked_scan("", built_chunks(doc.manifest), [](const Sha256Digest&) { return false; });
  MemorySource empty_source(empty_header);
  EXPECT_FALSE(read_chunked_scan(empty_source, {}, HeaderDocument::deferred)) << "no header document at all";
}

TEST(ChunkedScan, AStoredChunkIsCheckedLikeASentOne) {
  const ScanDocument doc = sample_document();
  auto scan = read_body(encode_chunked_scan(header_document(doc), std::vector<EncodedChunk>{hand_made_chunk("/etc", {"a"})},
                                            [](const Sha256Digest&) { return false; }));
  ASSERT_TRUE(scan);
  ASSERT_EQ(scan->referenced.size(), 1u);
  const std::vector<std::string> corrupt = {hand_made_chunk("/etc", {".."}).data};
  EXPECT_FALSE(assemble_chunked_scan(*scan, corrupt));
  const std::vector<std::string> wrong_count = {};
  EXPECT_FALSE(assemble_chunked_scan(*scan, wrong_count));
}

// Two chunks of one directory make a valid manifest but not its split: the store must
// not keep them as the manifest's chunks (their list would not name it).
TEST(ChunkedScan, TwoChunksOfOneDirectoryAreNotTakenAsTheSplit) {
  auto split = read_hand_made({hand_made_chunk("/etc", {"a"}), hand_made_chunk("/etc", {"b"})});
  ASSERT_TRUE(split) << split.error().message;
  EXPECT_EQ(split->document.manifest.size(), 2u);
  EXPECT_TRUE(split->chunks.empty());
  // Not taken in place either: the server puts such a manifest together (and sorts it).
  ScanDocument doc = sample_document();
  auto scan = read_body(encode_chunked_scan(header_document(doc),
                                            std::vector<EncodedChunk>{hand_made_chunk("/etc", {"b"}), hand_made_chunk("/etc", {"a"})},
                                            [](const Sha256Digest&) { return true; }));
  ASSERT_TRUE(scan) << scan.error().message;
  auto ordered = order_chunked_scan(*scan, std::vector<SharedChunk>{});
  ASSERT_TRUE(ordered) << ordered.error().message;
  EXPECT_FALSE(*ordered);
  auto whole = read_hand_made({hand_made_chunk("/etc", {"a", "b"})});
  ASSERT_TRUE(whole) << whole.error().message;
  ASSERT_EQ(whole->chunks.size(), 1u);
  EXPECT_EQ(whole->chunks[0].digest, hand_made_chunk("/etc", {"a", "b"}).digest);
}

// Records within a chunk are checked for path order once, as it is decoded; putting a
// scan in order then compares only where it passes from chunk to chunk. A chunk listing
// its entries out of order is never taken in place: the manifest is put together sorted.
TEST(ChunkedScan, AChunkOutOfOrderIsNotTakenInPlace) {
  ScanDocument doc = sample_document();
  const auto read = [&](const EncodedChunk& c) {
    return read_body(encode_chunked_scan(header_document(doc), std::vector<EncodedChunk>{c},
                                         [](const Sha256Digest&) { return true; }));
  };
  auto in_order = read(hand_made_chunk("/etc", {"a", "b", "c"}));
  ASSERT_TRUE(in_order) << in_order.error().message;
  ASSERT_EQ(in_order->sent.size(), 1u);
  EXPECT_TRUE(in_order->sent[0].chunk->in_order);
  auto ordered = order_chunked_scan(*in_order, std::vector<SharedChunk>{});
  ASSERT_TRUE(ordered && *ordered);
  EXPECT_EQ((*ordered)->records.size(), 3u);

  const EncodedChunk shuffled = hand_made_chunk("/etc", {"a", "c", "b"});
  auto out_of_order = read(shuffled);
  ASSERT_TRUE(out_of_order) << out_of_order.error().message;
  EXPECT_FALSE(out_of_order->sent[0].chunk->in_order);
  auto not_in_place = order_chunked_scan(*out_of_order, std::vector<SharedChunk>{});
  ASSERT_TRUE(not_in_place) << not_in_place.error().message;
  EXPECT_FALSE(*not_in_place);
  auto assembled = assemble_chunked_scan(*out_of_order, std::vector<std::string>{});
  ASSERT_TRUE(assembled) << assembled.error().message;
  std::vector<std::string> paths;
  for (const FileRecord& r : assembled->document.manifest.records()) paths.push_back(r.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"/etc/a", "/etc/b", "/etc/c"}));

  // A stored chunk is checked the same way.
  auto stored = decode_stored_chunk(shuffled.digest, shuffled.data);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_FALSE((*stored)->in_order);
  const EncodedChunk sorted = hand_made_chunk("/etc", {"a", "b"});
  EXPECT_TRUE((*decode_stored_chunk(sorted.digest, sorted.data))->in_order);
}

}  // namespace
}  // namespace tb
