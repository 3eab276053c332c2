// The server under concurrent load (the bounded form of bench/load/load_bench.cpp): many
// hosts post gzip scans sharing a base install from many clients at once; every post must
// be acknowledged with its own scan id, and the store must then hold exactly one scan per
// host, no more, no fewer (checked over the API and in the SQLite file). Half the hosts
// send chunked uploads (format/chunked_scan.h: chunks by digest, then those the server
// lacks) while the others send documents, over the server's pool of store connections.
// Behaviour only: no timing is asserted.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "format/byte_sink.h"
#include "format/chunked_scan.h"
#include "format/scan_reader.h"
#include "format/scan_writer.h"
#include "server_process.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;

constexpr std::size_t kHosts = 200, kClients = 20, kBaseFiles = 450, kOwnFiles = 50;
constexpr std::int64_t kStart = 1'767'225'600'000'000'000;

tb::FileRecord dir_record(std::string path) {
  tb::FileRecord r;
  r.path = std::move(path);
  r.type = tb::FileType::directory;
  r.present = tb::Attr::type | tb::Attr::mode;
  r.mode = 0755;
  return r;
}

tb::FileRecord file_record(std::string path, const std::string& content) {
  tb::FileRecord r;
  r.path = std::move(path);
  r.type = tb::FileType::file;
  r.present = tb::Attr::type | tb::Attr::size | tb::Attr::mode | tb::Attr::sha256;
  r.size = content.size();
  r.mode = 0644;
  r.sha256 = tb::Sha256::of(content);
  return r;
}

// Host h's scan: the same base install under /opt/base on every host (one host in 25 has
// one file changed), then 50 files of its own under /var/app.
std::string scan_of(std::size_t h, bool base_only = false) {
  std::vector<tb::FileRecord> records{dir_record("/opt/base")};
  for (std::size_t d = 0; d < kBaseFiles / 50; ++d) {
    records.push_back(dir_record(fmt::format("/opt/base/d{:02}", d)));
    for (std::size_t f = 0; f < 50; ++f) {
      const bool changed = h % 25 == 24 && d == 3 && f == 7;
      records.push_back(file_record(fmt::format("/opt/base/d{:02}/f{:03}", d, f),
                                    changed ? "changed on " + std::to_string(h) : fmt::format("base {} {}", d, f)));
    }
  }
  if (!base_only) {
    records.push_back(dir_record("/var/app"));
    for (std::size_t f = 0; f < kOwnFiles; ++f)
      records.push_back(file_record(fmt::format("/var/app/own{:03}", f), fmt::format("host {} file {}", h, f)));
  }
  std::string text;
  tb::StringSink sink(text);
  auto writer = tb::make_scan_writer(tb::ScanFormat::xml, sink);
  tb::ScanHeader header;
  header.scanner = "load_test";
  header.host.hostname = "load-" + std::to_string(h);
  header.roots = base_only ? std::vector<std::string>{"/opt/base"} : std::vector<std::string>{"/opt/base", "/var/app"};
  header.started_ns = kStart + static_cast<std::int64_t>(h) * 3'000'000'000;  // 10 simulated minutes
  EXPECT_TRUE(writer->begin(header));
  for (const tb::FileRecord& r : records) EXPECT_TRUE(writer->record(r));
  EXPECT_TRUE(writer->end({}, tb::ScanSummary{}));
  return text;
}

std::string gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::int64_t count(const fs::path& db, const char* sql) {
  sqlite3* handle = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
      n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return n;
}

TEST(ServerLoad, ConcurrentHostsAreAllAcknowledgedAndStoredExactlyOnce) {
  const fs::path dir = fs::temp_directory_path() / ("tb-load-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path db = dir / "store.db";
  const std::string cli = std::string(TB_TRUSTBASE_BINARY) + " --db " + db.string() + " token add --name ";
  const std::string admin = run(cli + "admin --role admin 2>/dev/null");
  const std::string poster = run(cli + "hosts --role host 2>/dev/null");
  ASSERT_FALSE(admin.empty());
  ASSERT_FALSE(poster.empty());

  std::vector<std::string> bodies;
  for (std::size_t h = 0; h < kHosts; ++h) bodies.push_back(gzip(scan_of(h)));
  // The chunked hosts' header documents and chunks, as trustbase-scan makes them.
  struct Chunked {
    std::string header;
    std::vector<tb::EncodedChunk> chunks;
  };
  std::vector<Chunked> chunked(kHosts);
  for (std::size_t h = 0; h < kHosts; h += 2) {
    auto doc = tb::parse_scan(scan_of(h));
    ASSERT_TRUE(doc) << doc.error().message;
    tb::StringSink sink(chunked[h].header);
    auto writer = tb::make_scan_writer(tb::ScanFormat::xml, sink);
    ASSERT_TRUE(writer->begin(doc->header));
    ASSERT_TRUE(writer->end(doc->errors, doc->summary));
    tb::ChunkBuilder builder;
    for (const tb::FileRecord& r : doc->manifest) ASSERT_TRUE(builder.add(r));
    chunked[h].chunks = builder.finish();
  }

  ServerProcess server(db, dir / "server.log");
  ASSERT_GT(server.port(), 0) << slurp(dir / "server.log");
  httplib::Client admin_client("127.0.0.1", server.port());
  admin_client.set_bearer_token_auth(admin.c_str());
  auto imported = admin_client.Post("/api/v1/signatures?name=base&version=1&install_root=/opt/base",
                                    scan_of(0, true), "application/xml");
  ASSERT_TRUE(imported);
  ASSERT_EQ(imported->status, 201) << imported->body;

  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::vector<std::string> problems;
  std::vector<std::int64_t> ids(kHosts, 0);
  std::vector<char> reported(kHosts, 0);  // not vector<bool>: written from several threads
  std::vector<std::thread> clients;
  for (std::size_t c = 0; c < kClients; ++c)
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", server.port());
      client.set_bearer_token_auth(poster.c_str());
      client.set_read_timeout(std::chrono::seconds(120));
      client.set_write_timeout(std::chrono::seconds(120));
      for (std::size_t h; (h = next++) < kHosts;) {
        const std::string path = "/api/v1/scans?host=load-" + std::to_string(h);
        httplib::Result res = h % 2 == 1
                                  ? client.Post(path.c_str(), httplib::Headers{{"Content-Encoding", "gzip"}}, bodies[h],
                                                "application/xml")
                                  : httplib::Result(nullptr, httplib::Error::Unknown);
        if (h % 2 == 0) {
          std::set<std::string> send;
          for (int round = 0; round < 3; ++round) {
            const std::string body = tb::encode_chunked_scan(
                chunked[h].header, chunked[h].chunks, [&](const tb::Sha256Digest& d) { return send.count(d.hex()) > 0; });
            res = client.Post(path.c_str(), body, std::string(tb::kChunkedScanMediaType).c_str());
            if (!res || res->status != 409) break;
            const auto answer = json::parse(res->body, nullptr, false);
            if (answer.is_discarded() || !answer.contains("missing_chunks")) break;
            for (const auto& d : answer["missing_chunks"]) send.insert(d.get<std::string>());
          }
        }
        std::string problem;
        if (!res) {
          problem = "no answer: " + httplib::to_string(res.error());
        } else if (res->status != 201) {
          problem = std::to_string(res->status) + " " + res->body.substr(0, 200);
        } else {
          const auto answer = json::parse(res->body, nullptr, false);
          if (answer.is_discarded() || !answer.contains("scan_id") || answer.value("host", "") != "load-" + std::to_string(h)) {
            problem = "unexpected answer " + res->body.substr(0, 200);
          } else {
            ids[h] = answer["scan_id"].get<std::int64_t>();
            // The verdict in counts and where the report is (GET below), not the report.
            reported[h] =
                answer["summary"].is_object() && !answer.contains("report") &&
                        answer.value("report_url", "") == "/api/v1/hosts/load-" + std::to_string(h) + "/report"
                    ? 1
                    : 0;
          }
        }
        if (!problem.empty()) {
          std::lock_guard lock(mutex);
          problems.push_back("host " + std::to_string(h) + ": " + problem);
        }
      }
    });
  for (auto& t : clients) t.join();

  EXPECT_TRUE(problems.empty()) << problems.size() << " failed, first: " << problems.front();
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), kHosts) << "scan ids acknowledged twice or not at all";
  for (std::size_t h = 0; h < kHosts; ++h)
    EXPECT_EQ(reported[h], 1) << "host " << h << ": no summary and report_url in the answer";

  auto hosts = admin_client.Get("/api/v1/hosts");
  ASSERT_TRUE(hosts);
  ASSERT_EQ(hosts->status, 200);
  const auto listed = json::parse(hosts->body)["hosts"];
  ASSERT_EQ(listed.size(), kHosts);
  std::set<std::int64_t> latest;
  for (const auto& h : listed) {
    EXPECT_EQ(h["scans"].get<std::size_t>(), 1U) << h.dump();
    latest.insert(h["latest_scan_id"].get<std::int64_t>());
  }
  EXPECT_EQ(latest, std::set<std::int64_t>(ids.begin(), ids.end()));

  // A host's report afterwards: the changed base file is there, on the right host only.
  auto report = admin_client.Get("/api/v1/hosts/load-24/report");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, 200);
  EXPECT_NE(report->body.find("/opt/base/d03/f007"), std::string::npos);
  auto unchanged = admin_client.Get("/api/v1/hosts/load-23/report");
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(unchanged->body.find("/opt/base/d03/f007"), std::string::npos);

  EXPECT_EQ(server.kill(SIGTERM), 0);
  EXPECT_EQ(count(db, "SELECT count(*) FROM scans"), static_cast<std::int64_t>(kHosts));
  EXPECT_EQ(count(db, "SELECT count(*) FROM hosts"), static_cast<std::int64_t>(kHosts));
  fs::remove_all(dir);
}

}  // namespace
