#include "format/chunked_scan.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "core/manifest.h"
#include "core/path.h"
#include "format/binary_codec.h"
#include "format/encoding.h"

namespace tb {
namespace {

constexpr std::string_view kMagic = "TBCHUNKS1\n";
constexpr std::size_t kDigestBytes = 32;

tl::unexpected<Error> malformed(const std::string& what) {
  return fail(ErrorCode::parse, "chunked scan: " + what);
}

// Pulls the body from a source through a buffer, counting every byte against the bound.
class BodyReader {
 public:
  BodyReader(ByteSource& source, std::size_t max_bytes) : source_(source), budget_(max_bytes) {}

  Expected<std::uint8_t> byte() {
    if (pos_ == end_) {
      auto more = fill();
      if (!more) return tl::unexpected(more.error());
      if (!*more) return malformed("the body ends too early");
    }
    return static_cast<std::uint8_t>(buffer_[pos_++]);
  }

  Expected<std::uint64_t> varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      auto b = byte();
      if (!b) return tl::unexpected(b.error());
      v |= static_cast<std::uint64_t>(*b & 0x7F) << shift;
      if ((*b & 0x80) == 0) return v;
    }
    return malformed("a number is too long");
  }

  // Exactly `n` bytes into `out` (replaced). `n` was read from the input: it is checked
  // against what the bound still allows before anything is allocated.
  Expected<void> exact(std::uint64_t n, std::string& out) {
    if (n > budget_ - consumed_ + (end_ - pos_))
      return fail(ErrorCode::limit, "chunked scan: larger than " + std::to_string(budget_) + " bytes");
    out.clear();
    out.reserve(n);
    while (out.size() < n) {
      if (pos_ == end_) {
        auto more = fill();
        if (!more) return tl::unexpected(more.error());
        if (!*more) return malformed("the body ends too early");
      }
      const std::size_t take = std::min<std::size_t>(end_ - pos_, n - out.size());
      out.append(buffer_.data() + pos_, take);
      pos_ += take;
    }
    return {};
  }

  Expected<bool> at_end() {
    if (pos_ < end_) return false;
    auto more = fill();
    if (!more) return tl::unexpected(more.error());
    return !*more;
  }

 private:
  // False at the end of the input.
  Expected<bool> fill() {
    pos_ = end_ = 0;
    if (consumed_ >= budget_) {
      // At the bound: one more byte means the body is too large.
      char probe;
      auto n = source_.read(&probe, 1);
      if (!n) return tl::unexpected(n.error());
      if (*n == 0) return false;
      return fail(ErrorCode::limit, "chunked scan: larger than " + std::to_string(budget_) + " bytes");
    }
    auto n = source_.read(buffer_.data(), std::min(buffer_.size(), budget_ - consumed_));
    if (!n) return tl::unexpected(n.error());
    consumed_ += *n;
    end_ = *n;
    return *n > 0;
  }

  ByteSource& source_;
  std::size_t budget_, consumed_ = 0;
  std::string buffer_ = std::string(std::size_t{1} << 16, '\0');
  std::size_t pos_ = 0, end_ = 0;
};

// The directory a chunk's encoding names (its second field).
std::string_view chunk_dir(std::string_view data) {
  binary::Reader in(data);
  in.byte();
  return in.bytes();
}

// Decodes one chunk into `out`, checking each record; `budget` is how many more records
// the scan may hold.
Expected<std::size_t> decode_checked(std::string_view data, std::vector<FileRecord>& out, std::size_t& budget,
                                     const ReadLimits& limits) {
  const std::size_t first = out.size();
  auto count = decode_chunk(data, out);
  if (!count) return malformed(count.error().message);
  if (*count == 0) return malformed("an empty chunk");
  if (*count > budget) return fail(ErrorCode::limit, "chunked scan: more than " + std::to_string(limits.max_records) + " records");
  budget -= *count;
  for (std::size_t i = first; i < out.size(); ++i)
    if (auto ok = check_untrusted_record(out[i], limits); !ok) return tl::unexpected(ok.error());
  return *count;
}

// Whether `records` are strictly increasing in path order: checked once per decoded chunk,
// so that putting a scan's records in order compares only where it passes from one chunk
// to another (a fleet's scans share most chunks).
bool strictly_in_path_order(std::span<const FileRecord> records) {
  for (std::size_t i = 1; i < records.size(); ++i)
    if (!path_less(records[i - 1].path, records[i].path)) return false;
  return true;
}

// The records in path order without comparing them all: a chunk holds one directory's
// entries in order, so path order is a walk that follows each directory entry with the
// chunk of that directory, starting from the chunks no entry leads to, in directory
// order. Hostile shapes (two chunks of one directory...) come out unsorted: the caller
// checks.
std::vector<const FileRecord*> in_path_order(std::span<const DecodedChunk* const> chunks, std::size_t total,
                                             std::vector<std::uint32_t>& chunk_of) {
  std::unordered_map<std::string_view, std::size_t> by_dir;
  by_dir.reserve(chunks.size());
  for (std::size_t i = 0; i < chunks.size(); ++i) by_dir.emplace(chunks[i]->dir, i);
  std::vector<bool> emitted(chunks.size(), false);
  std::vector<const FileRecord*> out;
  out.reserve(total);
  chunk_of.clear();
  chunk_of.reserve(total);
  // Explicit stack of (chunk, next record): depth is bounded by the path length, not the stack.
  std::vector<std::pair<std::size_t, std::size_t>> stack;
  auto walk = [&](std::size_t start) {
    emitted[start] = true;
    stack.emplace_back(start, 0);
    while (!stack.empty()) {
      auto& [chunk, next] = stack.back();
      const std::vector<FileRecord>& records = chunks[chunk]->records;
      if (next == records.size()) {
        stack.pop_back();
        continue;
      }
      const FileRecord& r = records[next++];
      const bool is_dir = r.type == FileType::directory;
      auto sub = is_dir ? by_dir.find(r.path) : by_dir.end();
      out.push_back(&r);
      chunk_of.push_back(static_cast<std::uint32_t>(chunk));
      if (sub != by_dir.end() && !emitted[sub->second]) {
        emitted[sub->second] = true;
        stack.emplace_back(sub->second, 0);
      }
    }
  };
  std::vector<std::size_t> order(chunks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return path_less(chunks[a]->dir, chunks[b]->dir); });
  for (std::size_t i : order)
    if (!emitted[i]) walk(i);
  return out;
}

// The sent chunks, then the stored ones (null when `stored` does not match the references).
std::optional<std::vector<const DecodedChunk*>> all_chunks(const ChunkedScan& scan, std::span<const SharedChunk> stored) {
  if (stored.size() != scan.referenced.size()) return std::nullopt;
  std::vector<const DecodedChunk*> chunks;
  chunks.reserve(scan.sent.size() + stored.size());
  for (const ChunkedScan::Sent& s : scan.sent) chunks.push_back(s.chunk.get());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (!stored[i] || stored[i]->digest != scan.referenced[i]) return std::nullopt;
    chunks.push_back(stored[i].get());
  }
  return chunks;
}

// The chunks' positions in split_into_chunks order (by directory), when they are a
// manifest's split: no two name one directory (each is canonical and non-empty, and its
// records' parent is its directory). nullopt otherwise.
std::optional<std::vector<std::size_t>> split_order(std::span<const DecodedChunk* const> chunks) {
  std::vector<std::size_t> order(chunks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return path_less(chunks[a]->dir, chunks[b]->dir); });
  for (std::size_t i = 1; i < order.size(); ++i)
    if (chunks[order[i - 1]]->dir == chunks[order[i]]->dir) return std::nullopt;
  return order;
}

}  // namespace

std::optional<Sha256Digest> chunk_list_of(const ChunkedScan& scan, std::span<const SharedChunk> stored) {
  const auto chunks = all_chunks(scan, stored);
  if (!chunks) return std::nullopt;
  const auto order = split_order(*chunks);
  if (!order) return std::nullopt;
  std::vector<Sha256Digest> digests;
  digests.reserve(order->size());
  for (std::size_t i : *order) digests.push_back((*chunks)[i]->digest);
  return chunk_list_digest(digests);
}

std::string encode_chunked_scan(std::string_view header_document, std::span<const EncodedChunk> chunks,
                                const std::function<bool(const Sha256Digest&)>& send) {
  const std::span<const EncodedChunk> one[] = {chunks};
  return encode_chunked_scan(header_document, one, send);
}

std::string encode_chunked_scan(std::string_view header_document,
                                std::span<const std::span<const EncodedChunk>> parts,
                                const std::function<bool(const Sha256Digest&)>& send) {
  std::string out(kMagic);
  binary::put_bytes(out, header_document);
  std::size_t count = 0;
  for (const auto& part : parts) count += part.size();
  binary::put_varint(out, count);
  for (const auto& part : parts)
    for (const EncodedChunk& chunk : part) {
      out.append(reinterpret_cast<const char*>(chunk.digest.bytes.data()), kDigestBytes);
      if (send(chunk.digest)) {
        out.push_back('\1');
        binary::put_bytes(out, chunk.data);
      } else {
        out.push_back('\0');
      }
    }
  return out;
}

Expected<void> check_untrusted_record(const FileRecord& r, const ReadLimits& limits) {
  if (!is_canonical_path(r.path, limits.paths))
    return fail(ErrorCode::parse, "a record path is not canonical or too long: " + excerpt(r.path));
  if (r.has(Attr::mode) && r.mode > 07777) return fail(ErrorCode::parse, "entry " + excerpt(r.path) + ": mode beyond 7777");
  if (r.has(Attr::sha256) && r.type != FileType::file)
    return fail(ErrorCode::parse, "entry " + excerpt(r.path) + ": a content hash on a " + std::string(to_string(r.type)) + " entry");
  if (r.has(Attr::link_target)) {
    if (r.type != FileType::symlink)
      return fail(ErrorCode::parse, "entry " + excerpt(r.path) + ": a link target on a " + std::string(to_string(r.type)) + " entry");
    if (r.link_target.size() > limits.paths.max_path_bytes)
      return fail(ErrorCode::limit, "entry " + excerpt(r.path) + ": link target longer than " +
                                        std::to_string(limits.paths.max_path_bytes) + " bytes");
    if (r.link_target.find('\0') != std::string::npos)
      return fail(ErrorCode::parse, "entry " + excerpt(r.path) + ": link target contains a NUL byte");
  }
  return {};
}

Expected<void> parse_chunked_header(ChunkedScan& scan, const ReadLimits& limits) {
  if (scan.header_text.empty()) return {};
  auto document = parse_scan(scan.header_text, limits);
  if (!document) return fail(document.error().code, "chunked scan: header document: " + document.error().message);
  if (!document->manifest.empty()) return malformed("the header document has entries (they belong in chunks)");
  scan.document = std::move(*document);
  scan.header_text = std::string();
  return {};
}

Expected<ChunkedScan> read_chunked_scan(ByteSource& source, const ReadLimits& limits, HeaderDocument header) {
  BodyReader in(source, limits.max_document_bytes);
  std::string bytes;
  if (auto magic = in.exact(kMagic.size(), bytes); !magic) {
    if (magic.error().code == ErrorCode::parse) return malformed("not a chunked scan body");
    return tl::unexpected(magic.error());
  }
  if (bytes != kMagic) return malformed("not a chunked scan body (no TBCHUNKS1 at its start)");

  ChunkedScan scan;
  auto header_size = in.varint();
  if (!header_size) return tl::unexpected(header_size.error());
  if (auto text = in.exact(*header_size, scan.header_text); !text) return tl::unexpected(text.error());
  if (scan.header_text.empty()) return malformed("no header document");
  if (header == HeaderDocument::parsed)
    if (auto parsed = parse_chunked_header(scan, limits); !parsed) return tl::unexpected(parsed.error());

  auto count = in.varint();
  if (!count) return tl::unexpected(count.error());
  // Every chunk holds a record at least, and names one directory: a count beyond either
  // bound is refused before a digest is read.
  const std::size_t max_chunks = std::min(limits.max_chunks, limits.max_records);
  if (*count > max_chunks)
    return fail(ErrorCode::limit, "chunked scan: more than " + std::to_string(max_chunks) + " chunks");
  std::size_t record_budget = limits.max_records;
  // Each digest once: a manifest's chunks are distinct (each names its own directory),
  // and a list that repeats one would only multiply the answer that lists what is missing.
  std::vector<Sha256Digest> named;
  named.reserve(static_cast<std::size_t>(*count));
  Sha256 hasher;
  std::string reencoded;
  for (std::uint64_t i = 0; i < *count; ++i) {
    const std::string where = "chunk " + std::to_string(i) + ": ";
    Sha256Digest digest;
    if (auto d = in.exact(kDigestBytes, bytes); !d) return tl::unexpected(d.error());
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(digest.bytes.data()));
    if (!named.empty() && named.back() == digest) return malformed(where + "chunk " + digest.hex() + " named twice");
    named.push_back(digest);
    auto flag = in.byte();
    if (!flag) return tl::unexpected(flag.error());
    if (*flag == 0) {
      scan.referenced.push_back(digest);
      continue;
    }
    if (*flag != 1) return malformed(where + "unknown entry kind " + std::to_string(*flag));
    auto size = in.varint();
    if (!size) return tl::unexpected(size.error());
    ChunkedScan::Sent sent;
    if (auto data = in.exact(*size, sent.data); !data) return tl::unexpected(data.error());
    hasher.update(sent.data);
    if (hasher.finish() != digest) return malformed(where + "its content does not match its digest " + digest.hex());
    auto chunk = std::make_shared<DecodedChunk>();
    chunk->digest = digest;
    auto decoded = decode_checked(sent.data, chunk->records, record_budget, limits);
    if (!decoded) return fail(decoded.error().code, where + decoded.error().message);
    // Only the canonical encoding names a chunk the store can find again by digest.
    ChunkView view{chunk_dir(sent.data), {}};
    view.records.reserve(chunk->records.size());
    for (const FileRecord& r : chunk->records) view.records.push_back(&r);
    reencoded.clear();
    encode_chunk(view, reencoded);
    if (reencoded != sent.data) return malformed(where + "not canonically encoded");
    chunk->dir = std::string(view.dir);
    chunk->in_order = strictly_in_path_order(chunk->records);
    sent.chunk = std::move(chunk);
    scan.sent.push_back(std::move(sent));
  }
  auto end = in.at_end();
  if (!end) return tl::unexpected(end.error());
  if (!*end) return malformed("trailing bytes after the last chunk");
  std::sort(named.begin(), named.end());
  if (const auto twice = std::adjacent_find(named.begin(), named.end()); twice != named.end())
    return malformed("chunk " + twice->hex() + " named twice");
  return scan;
}

Expected<SharedChunk> decode_stored_chunk(const Sha256Digest& digest, std::string_view data, const ReadLimits& limits) {
  auto chunk = std::make_shared<DecodedChunk>();
  chunk->digest = digest;
  std::size_t budget = limits.max_records;
  auto decoded = decode_checked(data, chunk->records, budget, limits);
  if (!decoded) return fail(decoded.error().code, "stored chunk " + digest.hex() + ": " + decoded.error().message);
  chunk->dir = std::string(chunk_dir(data));
  chunk->in_order = strictly_in_path_order(chunk->records);
  return chunk;
}

std::size_t DecodedChunk::memory_bytes() const {
  // Strings longer than the small-string buffer own a heap block of about their capacity.
  const auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  std::size_t bytes = sizeof(DecodedChunk) + heap(dir) + records.capacity() * sizeof(FileRecord);
  for (const FileRecord& r : records) bytes += heap(r.path) + heap(r.link_target);
  return bytes;
}

namespace {

// The records in path order (walked, not sorted) and whether they are strictly increasing.
struct Walked {
  std::vector<const DecodedChunk*> chunks;  // sent, then stored
  std::vector<const FileRecord*> records;
  std::vector<std::uint32_t> chunk_of;      // records[k] is in chunks[chunk_of[k]]
  bool sorted = true;
};

Expected<Walked> walk_chunked_scan(const ChunkedScan& scan, std::span<const SharedChunk> stored,
                                   const ReadLimits& limits) {
  auto all = all_chunks(scan, stored);
  if (!all) return fail(ErrorCode::internal, "chunked scan: stored chunks do not match the references");
  Walked out;
  out.chunks = std::move(*all);
  std::size_t total = 0;
  for (const DecodedChunk* c : out.chunks) total += c->records.size();
  if (total > limits.max_records)
    return fail(ErrorCode::limit, "chunked scan: more than " + std::to_string(limits.max_records) + " records");
  out.records = in_path_order(out.chunks, total, out.chunk_of);
  for (std::size_t i = 1; i < out.records.size() && out.sorted; ++i) {
    // Within a chunk checked in order, a record and the one after it are in order already.
    const bool next_in_chunk = out.chunk_of[i] == out.chunk_of[i - 1] && out.records[i] == out.records[i - 1] + 1;
    if (next_in_chunk && out.chunks[out.chunk_of[i]]->in_order) continue;
    out.sorted = path_less(out.records[i - 1]->path, out.records[i]->path);
  }
  return out;
}

// The chunks in split order, as a store keeps them; empty when they are not a split.
std::vector<ManifestChunkRef> split_chunks(const ChunkedScan& scan, std::span<const DecodedChunk* const> chunks) {
  std::vector<ManifestChunkRef> out;
  const auto order = split_order(chunks);
  if (!order) return out;
  out.reserve(order->size());
  for (std::size_t i : *order)
    out.push_back(ManifestChunkRef{chunks[i]->digest, chunks[i]->records.size(),
                                   i < scan.sent.size() ? std::string_view(scan.sent[i].data) : std::string_view()});
  return out;
}

}  // namespace

Expected<AssembledScan> assemble_chunked_scan(const ChunkedScan& scan, std::span<const SharedChunk> stored,
                                              const ReadLimits& limits) {
  auto walked = walk_chunked_scan(scan, stored, limits);
  if (!walked) return tl::unexpected(walked.error());
  std::vector<FileRecord> ordered;
  ordered.reserve(walked->records.size());
  for (const FileRecord* r : walked->records) ordered.push_back(*r);
  // Every path was checked as its chunk was decoded (decode_checked), and the order just
  // now. Odd shapes (two chunks of one directory...): sorted the slow way, and checked.
  auto manifest = walked->sorted ? Expected<Manifest>(Manifest::from_verified(std::move(ordered)))
                                 : Manifest::from_records(std::move(ordered));
  if (!manifest) return fail(ErrorCode::parse, "chunked scan: " + manifest.error().message);

  AssembledScan out;
  out.document.header = scan.document.header;
  out.document.errors = scan.document.errors;
  out.document.summary = scan.document.summary;
  out.document.manifest = std::move(*manifest);
  out.chunks = split_chunks(scan, walked->chunks);
  return out;
}

Expected<std::optional<OrderedChunkedScan>> order_chunked_scan(const ChunkedScan& scan,
                                                               std::span<const SharedChunk> stored,
                                                               const ReadLimits& limits) {
  auto walked = walk_chunked_scan(scan, stored, limits);
  if (!walked) return tl::unexpected(walked.error());
  if (!walked->sorted) return std::optional<OrderedChunkedScan>();
  OrderedChunkedScan out;
  out.chunks = split_chunks(scan, walked->chunks);
  if (out.chunks.empty() && !walked->chunks.empty()) return std::optional<OrderedChunkedScan>();
  out.records = std::move(walked->records);
  out.sources = std::move(walked->chunks);
  out.source_of = std::move(walked->chunk_of);
  return std::optional<OrderedChunkedScan>(std::move(out));
}

std::vector<SignatureIndex::PathId> OrderedChunkedScan::path_ids(const std::shared_ptr<const SignatureIndex>& index) const {
  std::vector<std::shared_ptr<const DecodedChunk::PathIds>> of_source(sources.size());
  std::vector<SignatureIndex::PathId> out(records.size());
  for (std::size_t k = 0; k < records.size(); ++k) {
    const std::uint32_t c = source_of[k];
    if (!of_source[c]) of_source[c] = sources[c]->path_ids(index);
    out[k] = of_source[c]->ids[static_cast<std::size_t>(records[k] - sources[c]->records.data())];
  }
  return out;
}

std::shared_ptr<const DecodedChunk::PathIds> DecodedChunk::path_ids(
    const std::shared_ptr<const SignatureIndex>& index) const {
  {
    std::lock_guard lock(path_ids_mutex_);
    if (path_ids_ && path_ids_->index.lock() == index) return path_ids_;
  }
  auto computed = std::make_shared<PathIds>();
  computed->index = index;
  computed->ids.reserve(records.size());
  for (const FileRecord& r : records) computed->ids.push_back(index->find_path(r.path).value_or(SignatureIndex::kNoPath));
  std::lock_guard lock(path_ids_mutex_);
  path_ids_ = computed;
  return computed;
}

Expected<AssembledScan> assemble_chunked_scan(const ChunkedScan& scan, std::span<const std::string> stored,
                                              const ReadLimits& limits) {
  if (stored.size() != scan.referenced.size())
    return fail(ErrorCode::internal, "chunked scan: stored chunks do not match the references");
  std::vector<SharedChunk> decoded;
  decoded.reserve(stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    auto chunk = decode_stored_chunk(scan.referenced[i], stored[i], limits);
    if (!chunk) return tl::unexpected(chunk.error());
    decoded.push_back(std::move(*chunk));
  }
  return assemble_chunked_scan(scan, decoded, limits);
}

}  // namespace tb
