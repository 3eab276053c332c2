// trustbase-scan: the lightweight, non-persistent scanner client.
//
// Exit status (documented in docs/trustbase-scan.md):
//   0  scan complete, every entry recorded (with --server: and the host is clean)
//   1  scan complete, but some entries could not be read (listed under <errors>);
//      with --server: or the server found deviations
//   2  usage error or fatal error (no document, or an incomplete one removed; the
//      server unreachable after all retries, or refusing the scan)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "client/gzip_file.h"
#include "client/upload.h"
#include "config/scan_config.h"
#include "format/byte_sink.h"
#include "format/scan_writer.h"
#include "scan/host_facts.h"
#include "scan/package_inventory.h"
#include "scan/scanner.h"
#include "scan/throttle.h"

#ifndef TB_VERSION
#define TB_VERSION "0.0.0"
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFileErrors = 1;
constexpr int kExitFatal = 2;

// Set from SIGINT/SIGTERM; a signal handler can reach nothing but a static.
std::atomic<bool> g_cancel{false};
extern "C" void on_signal(int) { g_cancel.store(true); }

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Deep trees keep one descriptor per level open; the default soft limit (1024) is low.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : std::min<rlim_t>(rl.rlim_max, 65536);
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

// The output file is written under a temporary name and renamed when complete, so a
// killed scan never leaves a truncated document that looks like a finished one.
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)), partial_(path_ + ".partial") {}
  ~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && fd_ != -1 && !in_place_) ::unlink(partial_.c_str());
  }
  tb::Expected<int> open() {
    // A device, FIFO or socket (/dev/null, a pipe to another program) is written in
    // place: renaming a .partial over it would replace /dev/null with a regular file.
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      if (S_ISDIR(st.st_mode)) return tb::fail(tb::ErrorCode::io, fmt::format("cannot write {}: is a directory", path_));
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0) {
        const int err = errno;
        fd_ = -2;
        return tb::fail(tb::ErrorCode::io, fmt::format("cannot open {}: {}", path_, ::strerrordesc_np(err)));
      }
      in_place_ = true;
      return fd_;
    }
    fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int err = errno;
      fd_ = -2;
      return tb::fail(tb::ErrorCode::io, fmt::format("cannot create {}: {}", partial_, ::strerrordesc_np(err)));
    }
    return fd_;
  }
  tb::Expected<void> commit() {
    if (in_place_) {
      const int rc = ::close(fd_);
      fd_ = -2;
      committed_ = true;
      if (rc != 0) return tb::fail(tb::ErrorCode::io, fmt::format("cannot write {}: {}", path_, ::strerrordesc_np(errno)));
      return {};
    }
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      const int err = errno;
      fd_ = -2;
      return tb::fail(tb::ErrorCode::io, fmt::format("cannot write {}: {}", partial_, ::strerrordesc_np(err)));
    }
    fd_ = -2;
    if (::rename(partial_.c_str(), path_.c_str()) != 0) {
      const int err = errno;
      return tb::fail(tb::ErrorCode::io, fmt::format("cannot rename {} to {}: {}", partial_, path_, ::strerrordesc_np(err)));
    }
    committed_ = true;
    return {};
  }

 private:
  std::string path_, partial_;
  int fd_ = -1;
  bool committed_ = false;
  bool in_place_ = false;  // not a regular file: written directly, never renamed over
};

int fatal(const std::string& message) {
  fmt::print(stderr, "trustbase-scan: {}\n", message);
  return kExitFatal;
}

// The server's JSON answer to the upload, parsed once; nullopt (with the reason printed)
// when the scan was refused or the answer is not JSON.
std::optional<nlohmann::json> read_answer(const tb::UploadResponse& response) {
  nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
  if (answer.is_discarded()) {
    fatal(fmt::format("server answered {} with an unreadable body", response.status));
    return std::nullopt;
  }
  if (response.status != 201) {
    const std::string why = answer.is_object() && answer.contains("error") && answer["error"].is_string()
                                ? answer["error"].get<std::string>()
                                : response.body;
    fatal(fmt::format("server refused the scan ({}): {}", response.status, why));
    return std::nullopt;
  }
  return answer;
}

// "3 added, 1 removed, 0 modified" from {"added": 3, ...}, in the order of `keys`.
std::string counts_line(const nlohmann::json& counts, std::initializer_list<const char*> keys) {
  std::string out;
  for (const char* key : keys)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", counts.value(key, std::uint64_t{0}), key);
  return out;
}

// Prints the server's verdict briefly, from the answer's fields (the whole report stays on
// the server, at report_url), and returns the exit status: 0 clean, 1 deviations.
//   scan 12 stored for host web01
//   result: DEVIATIONS
//   deviations: 3 added, 1 removed, 2 modified
//   signatures: 14 complete, 1 partial, 1480 absent
//   packages: 1 inventory issue, 2 unverified          (when the inventory found any)
//   report: http://trust:8750/api/v1/hosts/web01/report
int print_verdict(const nlohmann::json& answer, std::string_view server) {
  try {
    const bool clean = answer.at("clean").get<bool>();
    fmt::print("scan {} stored for host {}\n", answer.at("scan_id").get<long long>(), answer.at("host").get<std::string>());
    fmt::print("result: {}\n", clean ? "clean" : "DEVIATIONS");
    if (const auto summary = answer.find("summary"); summary != answer.end() && summary->is_object()) {
      if (const auto d = summary->find("deviations"); d != summary->end() && d->is_object()) {
        const bool none = d->value("added", 0) == 0 && d->value("removed", 0) == 0 && d->value("modified", 0) == 0;
        fmt::print("deviations: {}\n", none ? "none" : counts_line(*d, {"added", "removed", "modified"}));
      }
      if (const auto sigs = summary->find("signatures"); sigs != summary->end() && sigs->is_object()) {
        std::string line;
        for (const auto& [state, n] : sigs->items())
          line += fmt::format("{}{} {}", line.empty() ? "" : ", ", n.get<std::uint64_t>(), state);
        fmt::print("signatures: {}\n", line.empty() ? "none known" : line);
      }
      const auto issues = summary->value("inventory_issues", std::uint64_t{0});
      const auto unverified = summary->value("unverified", std::uint64_t{0});
      if (issues != 0 || unverified != 0)
        fmt::print("packages: {} inventory issue{}, {} unverified\n", issues, issues == 1 ? "" : "s", unverified);
    }
    if (const auto url = answer.find("report_url"); url != answer.end() && url->is_string()) {
      std::string_view base = server;
      while (!base.empty() && base.back() == '/') base.remove_suffix(1);
      fmt::print("report: {}{}\n", base, url->get<std::string>());
    }
    return clean ? kExitOk : kExitFileErrors;
  } catch (const nlohmann::json::exception& e) {
    return fatal(fmt::format("unexpected answer from the server: {}", e.what()));
  }
}

// Prints the deployment gate's JSON verdict (GET .../verify) as a few lines and returns
// whether it passed, read from its "ok" field:
//   host web01 (cluster payments, role active, scan 12): FAILED
//     partial      app-fix1@1  (partial; stage inactive)
//     deviations   4 deviating files: 3 that no signature explains, 1 attributed to app@1.0
std::optional<bool> print_gate(const std::string& body) {
  const nlohmann::json gate = nlohmann::json::parse(body, nullptr, false);
  if (gate.is_discarded() || !gate.is_object() || !gate.contains("ok") || !gate["ok"].is_boolean()) return std::nullopt;
  const auto text = [](const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const bool ok = gate["ok"].get<bool>();
  std::string cluster = text(gate, "cluster");
  std::string head = fmt::format("host {} (cluster {}, role {}", text(gate, "host"), cluster.empty() ? "-" : cluster,
                                 text(gate, "role"));
  if (const auto scan = gate.find("scan"); scan != gate.end() && scan->is_object())
    head += fmt::format(", scan {} of {}", scan->value("id", 0LL), text(*scan, "started"));
  fmt::print("{}): {}\n", head, ok ? "OK" : "FAILED");
  if (const auto reasons = gate.find("reasons"); reasons != gate.end() && reasons->is_array())
    for (const auto& r : *reasons) {
      if (!r.is_object()) continue;
      std::string problem = text(r, "problem");
      std::replace(problem.begin(), problem.end(), '_', ' ');
      std::string line = fmt::format("  {:<12}", problem);
      if (const std::string sig = text(r, "signature"); !sig.empty()) {
        line += " " + sig;
        std::string facts = text(r, "observed");
        if (const std::string stage = text(r, "stage"); !stage.empty())
          facts += (facts.empty() ? "" : "; ") + std::string("stage ") + stage;
        if (!facts.empty()) line += "  (" + facts + ")";
      }
      if (const auto count = r.find("count"); count != r.end() && count->is_number_unsigned()) {
        const auto n = count->get<std::uint64_t>();
        line += fmt::format(" {} {}", n,
                            problem == "deviations" ? (n == 1 ? "deviating file" : "deviating files")
                                                    : (n == 1 ? "package" : "packages"));
        if (r.contains("unexplained") || r.contains("attributed")) {
          std::string parts;
          if (const auto u = r.value("unexplained", std::uint64_t{0}); u != 0)
            parts += fmt::format("{} that no signature explains", u);
          if (const auto a = r.value("attributed", std::uint64_t{0}); a != 0) {
            std::string to;
            if (const auto names = r.find("attributed_to"); names != r.end() && names->is_array())
              for (const auto& name : *names)
                if (name.is_string()) to += (to.empty() ? "" : ", ") + name.get<std::string>();
            parts += fmt::format("{}{} attributed to {}", parts.empty() ? "" : ", ", a, to);
          }
          if (!parts.empty()) line += ": " + parts;
        }
      }
      if (const auto drift = r.find("drift"); drift != r.end() && drift->is_object())
        line += fmt::format(" snapshot v{}: {}", drift->value("snapshot_version", 0LL),
                            counts_line(*drift, {"added", "removed", "modified"}));
      if (const std::string detail = text(r, "detail"); !detail.empty()) line += " " + detail;
      fmt::print("{}\n", line);
    }
  return ok;
}

tb::Expected<std::string> read_token(const std::string& token, const std::string& token_file) {
  if (!token.empty()) return token;
  if (const char* env = std::getenv("TRUSTBASE_TOKEN"); env != nullptr && *env != '\0') return std::string(env);
  if (token_file.empty()) return tb::fail(tb::ErrorCode::invalid_argument, "--server needs a token (--token-file, $TRUSTBASE_TOKEN or --token)");
  std::ifstream in(token_file);
  std::string t;
  if (!in || !std::getline(in, t) || t.empty())
    return tb::fail(tb::ErrorCode::io, "cannot read a token from " + token_file);
  return t;
}

// Saves the host token an enrolment returned: written to PATH.tmp (created exclusively,
// mode 0600, so nothing planted there is followed or reused), synced, then renamed over
// PATH, so PATH is either absent or complete.
// Writes a secret (token, private key) to `path`: mode 0600 from the start, fsynced, renamed
// into place, so it is whole or absent after a crash.
tb::Expected<void> save_secret(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  auto error = [&](const std::string& what) {
    const int err = errno;
    return tb::fail(tb::ErrorCode::io, fmt::format("cannot {} {}: {}", what, tmp, ::strerrordesc_np(err)));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST && ::unlink(tmp.c_str()) == 0)  // left by an interrupted run
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return error("create");
  const std::string& line = content;
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  if (!written) {
    auto e = error("write");
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::close(fd) != 0) return error("write");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = error("rename to " + path + ":");
    ::unlink(tmp.c_str());
    return e;
  }
  // The directory entry too: a power cut must not lose the only copy of the token.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

tb::Expected<void> save_token(const std::string& path, const std::string& token) {
  return save_secret(path, token + "\n");
}

// The host's Ed25519 signing key from `path`; a new one is made and saved there when the
// file does not exist and `may_create` (enrolment, --print-public-key).
tb::Expected<tb::SigningKey> load_signing_key(const std::string& path, bool may_create, bool* created) {
  *created = false;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno != ENOENT || !may_create)
      return tb::fail(tb::ErrorCode::io, fmt::format("cannot read signing key {}: {}{}", path, ::strerrordesc_np(errno),
                                                     errno == ENOENT ? " (make one with --print-public-key, then "
                                                                       "register it: trustbase host key)"
                                                                     : ""));
    auto key = tb::SigningKey::generate();
    if (!key) return tl::unexpected(key.error());
    if (auto saved = save_secret(path, key->to_pem()); !saved) return tl::unexpected(saved.error());
    *created = true;
    return key;
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    fmt::print(stderr, "trustbase-scan: warning: {} is readable by others (chmod 600 it)\n", path);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto key = tb::SigningKey::from_pem(pem);
  if (!key) return tb::fail(key.error().code, path + ": " + key.error().message);
  return key;
}

}  // namespace

int main(int argc, char** argv) {
  tb::ScanOptions opts;
  std::string output = "-";
  std::string format_name = "xml";
  bool quiet = false, force_progress = false, scan_pseudo = false, nice = false;
  std::vector<std::string> positional_roots;
  tb::UploadOptions upload;
  std::string token, token_file, enrol_token_file;

  CLI::App app{"trustbase-scan: walk directory trees, SHA-256 every file, write a scan document."};
  app.set_version_flag("--version", "trustbase-scan " TB_VERSION);
  app.add_option("--root,-r", opts.roots, "Directory (or file) to scan; repeatable")->type_name("DIR")->allow_extra_args(false);
  app.add_option("roots", positional_roots, "More roots")->type_name("DIR");
  app.add_option("-o,--output", output, "Write the document to FILE ('-' = stdout)")->type_name("FILE");
  app.add_option("--format", format_name, "Document format")->check(CLI::IsMember({"xml", "json"}));
  app.add_option("--exclude,-e", opts.excludes,
                 "Skip matching entries: a glob with '/' matches the absolute path, without '/' the name")
      ->type_name("GLOB")->allow_extra_args(false);
  app.add_option("--sysroot", opts.sysroot,
                 "Scan the system mounted or unpacked at DIR as if it were / (images, chroots, containers); "
                 "without a root, all of it")
      ->type_name("DIR");
  bool inventory = true;
  app.add_flag("--inventory,!--no-inventory", inventory,
               "List the installed packages (dpkg status, rpm database; under --sysroot) in the document "
               "(default: on, when the system has a package database)");
  app.add_flag("--one-file-system,-x", opts.one_file_system, "Do not descend into other mounted file systems");
  app.add_flag("--scan-pseudo-fs", scan_pseudo, "Also descend into /proc, /sys, cgroup and other pseudo file systems");
  app.add_option("--jobs,-j", opts.jobs, "Hashing threads (default: number of CPUs)")->check(CLI::Range(0u, 1024u));
  app.add_flag("--nice", nice, "Lowest CPU priority and idle I/O class, to stay out of production's way");
  app.add_option("--max-rate", opts.max_rate_mb_s, "Cap the read rate at this many MB/s (default: no cap)")
      ->check(CLI::NonNegativeNumber)->type_name("MB/S");
  app.add_option("--max-listed-errors", opts.max_listed_errors, "List at most this many errors (all are counted)");
  app.add_option("--server", upload.server, "Send the scan to this trustbase server (http://HOST:PORT or https://HOST:PORT)")
      ->type_name("URL");
  app.add_option("--ca-file", upload.tls.ca_file, "https: PEM file of the CA that signed the server's certificate "
                 "(default: the system's CAs)")->type_name("FILE");
  app.add_option("--pin", upload.tls.pins, "https: trust the server by its public key alone: sha256//BASE64, as the "
                 "server logs it at start; repeatable (old and new key during a rotation)")
      ->type_name("PIN")->allow_extra_args(false);
  app.add_option("--token-file", token_file, "File holding the bearer token (or $TRUSTBASE_TOKEN)")->type_name("FILE");
  app.add_option("--token", token, "Bearer token (visible in ps: prefer --token-file)");
  app.add_option("--host", upload.host,
                 "Host name written in the document and filed under by the server (default: this host's name)")
      ->type_name("NAME");
  app.add_option("--enrol-token-file", enrol_token_file,
                 "Enrolment token: when the --token-file does not exist yet, enrol this host with it and save "
                 "the host token the server returns there")
      ->type_name("FILE");
  app.add_option("--cluster", upload.cluster, "Enrolment: the cluster this host belongs to")->type_name("NAME");
  app.add_option("--role", upload.role, "Enrolment: this host's role in its cluster (active, inactive...)")
      ->type_name("ROLE");
  std::string signing_key_file;
  bool print_public_key = false;
  app.add_option("--signing-key", signing_key_file,
                 "Sign each upload with this host's Ed25519 key (PEM; made on enrolment when missing)")
      ->type_name("FILE");
  app.add_flag("--print-public-key", print_public_key,
               "Print the --signing-key's public key (making the key first if the file does not exist) and exit: "
               "what an admin registers with trustbase host key");
  std::string upload_mode = "chunks";
  app.add_option("--upload", upload_mode,
                 "How the scan goes to the server: chunks (default: directory chunks by digest, their content only "
                 "when the server lacks it) or document (the whole scan document)")
      ->check(CLI::IsMember({"chunks", "document"}));
  app.add_option("--attempts", upload.attempts, "Upload attempts while the server is away (default 6)")
      ->check(CLI::Range(1u, 100u));
  bool verify = false;
  tb::VerifyQuery verify_query;
  app.add_flag("--verify", verify,
               "After the upload, ask the server whether the host is in its expected state (the deployment gate): "
               "exit 0 when it is, 1 with the reasons otherwise");
  app.add_option("--expect-patch", verify_query.expect_patches,
                 "With --verify: a patch (NAME@VERSION) that must be completely installed; repeatable")
      ->type_name("NAME@VERSION")->allow_extra_args(false);
  app.add_flag("--cluster-identical", verify_query.cluster_identical,
               "With --verify: the host must match its cluster's reference snapshot");
  app.add_flag("--allow-deviations", verify_query.allow_deviations,
               "With --verify: files outside every signature do not fail the gate");
  app.add_flag("--quiet,-q", quiet, "No progress line");
  app.add_flag("--progress", force_progress, "Progress line even when stderr is not a terminal");
  std::string config_file;
  app.add_option("--config", config_file,
                 std::string("Configuration file (TOML, see trustbase-scan.toml(5)); default: ") +
                     tb::config::kDefaultScanConfig + " when it exists. Options given here override it")
      ->type_name("FILE");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitFatal;
  }
  if (const auto config = tb::config::choose_file(config_file, tb::config::kDefaultScanConfig)) {
    const auto keys = tb::config::scan_keys({opts, upload, verify_query, output, format_name, token_file,
                                             enrol_token_file, scan_pseudo, inventory, nice, quiet,
                                             force_progress, verify, signing_key_file, upload_mode});
    auto applied = tb::config::apply_file(*config, keys, [&app](std::string_view flag) {
      const CLI::Option* option = app.get_option_no_throw(std::string(flag));
      return option != nullptr && option->count() > 0;
    });
    if (!applied) return fatal(applied.error().message);
  }
  if (print_public_key) {
    if (signing_key_file.empty()) return fatal("--print-public-key needs --signing-key FILE");
    bool created = false;
    auto key = load_signing_key(signing_key_file, true, &created);
    if (!key) return fatal(key.error().message);
    if (created) fmt::print(stderr, "trustbase-scan: new signing key in {}\n", signing_key_file);
    fmt::print("{}\n", tb::encode_public_key(key->public_key()));
    return 0;
  }
  opts.roots.insert(opts.roots.end(), positional_roots.begin(), positional_roots.end());
  // A system image without roots is scanned whole: "/" inside the sysroot.
  if (opts.roots.empty() && !opts.sysroot.empty()) opts.roots.emplace_back("/");
  if (opts.roots.empty())
    return fatal("no root given (use --root DIR, or --sysroot DIR for a whole image); see --help");
  // Enrolment: the first run on a new host, when its token file does not exist yet.
  bool enrolling = false;
  if (!enrol_token_file.empty() || !upload.cluster.empty() || !upload.role.empty()) {
    if (upload.server.empty()) return fatal("--enrol-token-file, --cluster and --role need --server");
    if (enrol_token_file.empty()) return fatal("--cluster and --role are given when enrolling: add --enrol-token-file");
    if (token_file.empty()) return fatal("--enrol-token-file needs --token-file (where the host token is kept)");
    if (!token.empty()) return fatal("--enrol-token-file and --token are exclusive");
    enrolling = ::access(token_file.c_str(), F_OK) != 0 && errno == ENOENT;
  }
  if (upload.server.empty() && (!upload.tls.ca_file.empty() || !upload.tls.pins.empty()))
    return fatal("--ca-file and --pin need --server");
  if (!upload.server.empty()) {
    if (output != "-") return fatal("--server and -o are exclusive: the document goes to one place");
    // A bad URL, pin or CA file is found before the scan, not after an hour of hashing.
    if (auto checked = tb::ServerConnection::open(upload.server, upload.tls); !checked)
      return fatal(checked.error().message);
    auto t = enrolling ? read_token("", enrol_token_file) : read_token(token, token_file);
    if (!t) return fatal(t.error().message);
    upload.token = *t;
  }
  std::optional<tb::SigningKey> signing_key;
  if (!signing_key_file.empty()) {
    if (upload.server.empty()) return fatal("--signing-key needs --server");
    bool created = false;
    auto key = load_signing_key(signing_key_file, enrolling, &created);
    if (!key) return fatal(key.error().message);
    signing_key.emplace(std::move(*key));
    upload.signing_key = &*signing_key;
    // The server learns the key with the enrolment; afterwards an admin changes it.
    upload.offer_key = enrolling;
    if (created && !quiet) fmt::print(stderr, "trustbase-scan: new signing key in {}\n", signing_key_file);
  }
  opts.skip_pseudo_fs = !scan_pseudo;
  opts.cancel = &g_cancel;

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe becomes a write error we report
  raise_fd_limit();
  if (nice && !tb::lower_process_priority())
    fmt::print(stderr, "trustbase-scan: warning: could not lower the process priority\n");

  auto roots = tb::resolve_roots(opts);
  if (!roots) return fatal(roots.error().message);

  tb::ScanHeader header;
  header.scanner = "trustbase-scan " TB_VERSION;
  header.host = tb::collect_host_facts();
  // --host names the document's host, whether it is written (-o) or sent (--server).
  if (!upload.host.empty()) header.host.hostname = upload.host;
  header.roots = roots->shown;
  header.excludes = opts.excludes;
  header.one_file_system = opts.one_file_system;
  header.skip_pseudo_fs = opts.skip_pseudo_fs;
  header.started_ns = now_ns();
  if (inventory) {
    header.inventory = tb::collect_package_inventory(roots->sysroot);
    if (header.inventory && !quiet)
      for (const tb::InventoryWarning& w : header.inventory->warnings)
        fmt::print(stderr, "trustbase-scan: warning: {}: {}\n", tb::to_string(w.manager), w.message);
  }

  std::optional<OutputFile> file;
  std::unique_ptr<tb::GzipTempFile> upload_file;
  int out_fd = STDOUT_FILENO;
  if (!upload.server.empty()) {
    auto f = tb::GzipTempFile::create();
    if (!f) return fatal(f.error().message);
    upload_file = std::move(*f);
  } else if (output != "-") {
    file.emplace(output);
    auto fd = file->open();
    if (!fd) return fatal(fd.error().message);
    out_fd = *fd;
  }
  tb::FdSink fd_sink(out_fd);
  tb::ByteSink& sink = upload_file ? static_cast<tb::ByteSink&>(*upload_file) : fd_sink;
  const tb::ScanFormat format = format_name == "json" ? tb::ScanFormat::json : tb::ScanFormat::xml;
  auto writer = tb::make_scan_writer(format, sink);
  if (auto st = writer->begin(header); !st) return fatal(st.error().message);

  // A chunked upload (format/chunked_scan.h) sends the manifest as directory chunks; the
  // document is written all the same, for a server that does not take chunks.
  const bool chunked = upload_file && upload_mode == "chunks";
  tb::ChunkBuilder chunks;
  tb::ScanProgress progress;
  tb::Expected<tb::ScanOutcome> outcome;
  {
    tb::ProgressLine line(progress, force_progress || (!quiet && ::isatty(STDERR_FILENO)));
    outcome = tb::scan(
        opts,
        [&](const tb::FileRecord& r) -> tb::Expected<void> {
          if (chunked)
            if (auto added = chunks.add(r); !added) return added;
          return writer->record(r);
        },
        &progress);
  }
  if (!outcome) return fatal(outcome.error().message);
  outcome->summary.finished_ns = now_ns();
  if (auto st = writer->end(outcome->errors, outcome->summary); !st) return fatal(st.error().message);
  if (file) {
    if (auto st = file->commit(); !st) return fatal(st.error().message);
  }

  const tb::ScanSummary& s = outcome->summary;
  if (!quiet)
    fmt::print(stderr, "trustbase-scan: {} files, {} directories, {} symlinks, {} other, {:.1f} MiB hashed, {} errors\n",
               s.files, s.directories, s.symlinks, s.others, static_cast<double>(s.bytes_hashed) / (1 << 20), s.errors);
  if (upload_file) {
    if (auto st = upload_file->finish(); !st) return fatal(st.error().message);
    if (!quiet)
      fmt::print(stderr, "trustbase-scan: sending {:.1f} MiB ({:.1f} MiB uncompressed) to {}\n",
                 static_cast<double>(upload_file->compressed_bytes()) / (1 << 20),
                 static_cast<double>(upload_file->raw_bytes()) / (1 << 20), upload.server);
    // Enrolment wants ?host=, and a signature names the host it is for.
    if ((enrolling || signing_key) && upload.host.empty()) upload.host = header.host.hostname;
    const auto log = [](const std::string& line) { fmt::print(stderr, "trustbase-scan: {}\n", line); };
    tb::Expected<tb::UploadResponse> response = tb::fail(tb::ErrorCode::internal, "not sent");
    if (chunked) {
      std::string header_document;
      tb::StringSink header_sink(header_document);
      auto header_writer = tb::make_scan_writer(format, header_sink);
      if (auto st = header_writer->begin(header); !st) return fatal(st.error().message);
      if (auto st = header_writer->end(outcome->errors, outcome->summary); !st) return fatal(st.error().message);
      const std::vector<tb::EncodedChunk> encoded = chunks.finish();
      response = tb::upload_chunked_scan(upload, header_document, encoded, log);
      if (response && (response->status == 400 || response->status == 415)) {
        log(fmt::format("the server refused the chunked upload ({}): sending the whole document", response->status));
        response = tb::upload_scan(upload, *upload_file, format, log);
      }
    } else {
      response = tb::upload_scan(upload, *upload_file, format, log);
    }
    if (!response) return fatal(response.error().message);
    // The answer is a verdict summary and the report's URL; parsed once, its text let go.
    const std::optional<nlohmann::json> answer = read_answer(*response);
    std::string().swap(response->body);
    if (!answer) return kExitFatal;
    if (enrolling) {
      const auto host_token = answer->find("host_token");
      if (host_token == answer->end() || !host_token->is_string())
        return fatal("the server enrolled the scan but returned no host token");
      if (auto st = save_token(token_file, host_token->get<std::string>()); !st)
        return fatal(fmt::format("host {} is enrolled, but its token could not be saved ({}); revoke the host's "
                                 "token on the server and enrol again",
                                 upload.host, st.error().message));
      if (!quiet) fmt::print(stderr, "trustbase-scan: enrolled host {}; its token is in {}\n", upload.host, token_file);
      upload.token = host_token->get<std::string>();
    }
    const int verdict = print_verdict(*answer, upload.server);
    if (verdict == kExitFatal) return verdict;
    if (verify) {
      // The host's own token now (enrolment just gave it one); the answer names the host.
      std::string host = upload.host;
      if (const auto named = answer->find("host"); named != answer->end() && named->is_string())
        host = named->get<std::string>();
      auto gate = tb::fetch_verdict(upload, host, verify_query);
      if (!gate) return fatal(gate.error().message);
      if (gate->status != 200) {
        const nlohmann::json error = nlohmann::json::parse(gate->body, nullptr, false);
        const std::string why = error.is_object() && error.contains("error") && error["error"].is_string()
                                    ? error["error"].get<std::string>()
                                    : gate->body;
        return fatal(fmt::format("server refused to verify ({}): {}", gate->status, why));
      }
      const std::optional<bool> passed = print_gate(gate->body);
      if (!passed) return fatal("unexpected answer from the server's deployment gate: " + gate->body.substr(0, 200));
      return *passed ? kExitOk : kExitFileErrors;
    }
    return s.errors == 0 ? verdict : kExitFileErrors;
  }
  return s.errors == 0 ? kExitOk : kExitFileErrors;
}
