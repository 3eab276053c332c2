#include "demo/demo_fleet.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string_view>
#include <system_error>

#include "os/process.h"

namespace tb::demo {
namespace {

namespace fs = std::filesystem;

// Deterministic bytes per (package, path, revision): the same catalogue on every run
// and machine, so demo reports can be compared across runs.
std::string content_for(std::string_view seed_text, std::size_t size) {
  std::uint64_t seed = 1469598103934665603ull;  // FNV-1a: stable, unlike std::hash
  for (unsigned char c : seed_text) seed = (seed ^ c) * 1099511628211ull;
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<std::size_t>(8, size - i));
  }
  return out;
}

std::size_t size_for(std::string_view path) {
  std::size_t h = 0;
  for (unsigned char c : path) h = h * 31 + c;
  return 1024 + (h % 15) * 1024;  // 1..15 KiB
}

struct Component {
  std::string name;
  std::string description;
  std::string prefix;                     // install directory
  std::vector<std::string> binaries;      // under prefix/bin
  std::vector<std::string> libraries;     // under prefix/lib
  int data_files = 0;                     // prefix/share/data-NN.dat
  std::vector<std::string> conffiles;     // absolute
  // releases, oldest first: version -> files whose content changes in it (relative to prefix),
  // and files it adds
  struct Release {
    std::string version;
    std::vector<std::string> changed;
    std::vector<std::string> added;
  };
  std::vector<Release> releases;
};

std::vector<Component> components() {
  Component trader{"acme-trader", "ACME order routing and trading engine", "/opt/acme/trader",
                   {"trader", "trader-admin", "feed-handler"},
                   {"libquote.so", "libpricing.so", "liborder.so", "libfix42.so", "libsession.so", "libmarket.so",
                    "librisk-client.so", "libaudit.so"},
                   24,
                   {"/etc/acme/trader.conf", "/etc/acme/trader-logging.xml"},
                   {{"4.2.0", {}, {}},
                    {"4.2.1", {"lib/libpricing.so", "lib/liborder.so", "bin/trader"}, {}},
                    {"4.2.2", {"lib/libquote.so", "lib/libpricing.so", "bin/feed-handler", "lib/libsession.so"},
                     {"lib/libfix44.so"}}}};
  Component mq{"acme-mq", "ACME low-latency message bus", "/opt/acme/mq",
               {"mqd", "mqctl"},
               {"libmq.so", "libmq-shm.so", "libmq-tcp.so"},
               12,
               {"/etc/acme/mq.conf"},
               {{"9.1.0", {}, {}}, {"9.1.1", {"lib/libmq-shm.so", "bin/mqd"}, {}}}};
  Component risk{"acme-risk", "ACME pre-trade risk checks", "/opt/acme/risk",
                 {"riskd"},
                 {"libvar.so", "liblimits.so"},
                 10,
                 {"/etc/acme/risk.conf"},
                 {{"2.0.0", {}, {}}}};
  return {trader, mq, risk};
}

std::string conf_text(const std::string& path) {
  return "# " + path + "\n# managed by the ACME installer\nlisten = 0.0.0.0:9000\nlog_level = info\n";
}

}  // namespace

std::vector<PackageSpec> demo_catalogue() {
  std::vector<PackageSpec> out;
  for (const Component& c : components()) {
    std::map<std::string, std::string> files;  // relative -> revision seed
    std::map<std::string, std::uint32_t> modes;
    for (const auto& b : c.binaries) files["bin/" + b] = "", modes["bin/" + b] = 0755;
    for (const auto& l : c.libraries) files["lib/" + l] = "", modes["lib/" + l] = 0644;
    for (int i = 0; i < c.data_files; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "share/data-%02d.dat", i);
      files[name] = "", modes[name] = 0644;
    }
    for (const auto& r : c.releases) {
      for (const auto& ch : r.changed) files[ch] = r.version;
      for (const auto& a : r.added) files[a] = r.version, modes[a] = 0644;
      PackageSpec p{c.name, r.version, c.description, {}};
      for (const auto& [rel, rev] : files) {
        const std::string path = c.prefix + "/" + rel;
        p.files.push_back({path, content_for(c.name + path + rev, size_for(path)), modes[rel], false});
      }
      for (const auto& conf : c.conffiles) p.files.push_back({conf, conf_text(conf), 0644, true});
      std::sort(p.files.begin(), p.files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
      out.push_back(std::move(p));
    }
  }
  return out;
}

Expected<FleetPlan> plan_fleet(int clusters) {
  if (clusters < 4) return fail(ErrorCode::invalid_argument, "the demo needs at least 4 clusters");
  if (clusters > 999) return fail(ErrorCode::invalid_argument, "the demo makes at most 999 clusters");
  FleetPlan plan;
  plan.catalogue = demo_catalogue();
  static constexpr const char* kDesks[] = {"fx", "eq", "rates", "credit", "commod"};
  const auto n = static_cast<std::size_t>(clusters);
  for (std::size_t i = 0; i < n; ++i) {
    char name[48];
    std::snprintf(name, sizeof name, "%s-%02zu", kDesks[i % std::size(kDesks)], i + 1);
    plan.clusters.emplace_back(name);
  }
  // Promotion groups for the newest trader patch: first third active everywhere, second
  // third on the inactive members only, last third still in test.
  auto group = [n](std::size_t i) { return 3 * i / n; };
  auto trader_stage = [&](std::size_t i) {
    return group(i) == 0 ? Stage::active : group(i) == 1 ? Stage::inactive : Stage::tested;
  };
  auto mq_stage = [](std::size_t i) { return i % 2 == 0 ? Stage::active : Stage::inactive; };
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& c = plan.clusters[i];
    plan.stages.push_back({c, "acme-trader@4.2.1", Stage::active});
    plan.stages.push_back({c, "acme-trader@4.2.2", trader_stage(i)});
    plan.stages.push_back({c, "acme-mq@9.1.1", mq_stage(i)});
    for (const char* role : {"active", "inactive"}) {
      HostPlan h{c + (role[0] == 'a' ? "-a" : "-b"), c, role, {}};
      h.installed.push_back(expected_on(role, trader_stage(i)) ? "acme-trader@4.2.2" : "acme-trader@4.2.1");
      h.installed.push_back(expected_on(role, mq_stage(i)) ? "acme-mq@9.1.1" : "acme-mq@9.1.0");
      h.installed.push_back("acme-risk@2.0.0");
      plan.hosts.push_back(std::move(h));
    }
  }
  auto host = [&](std::size_t cluster, char member) -> HostPlan& {
    return plan.hosts[2 * cluster + (member == 'a' ? 0 : 1)];
  };
  auto first_in_group = [&](std::size_t g) {
    for (std::size_t i = 0; i < n; ++i)
      if (group(i) == g) return i;
    return std::size_t{0};
  };
  const std::size_t a0 = first_in_group(0), b0 = first_in_group(1), c0 = first_in_group(2);
  const std::size_t odd = (n - 1) % 2 == 1 ? n - 1 : n - 2;  // an acme-mq "inactive" cluster

  // The inactive member of a fully promoted cluster: a library edited by hand.
  plan.planted.push_back({host(a0, 'b').name, "modified", "/opt/acme/trader/lib/libquote.so", "acme-trader@4.2.2",
                          "someone patched a trader library by hand"});
  // Half of the newest patch copied to an inactive member that should have all of it.
  host(b0, 'b').installed[0] = "acme-trader@4.2.1";
  plan.planted.push_back({host(b0, 'b').name, "partial", "", "acme-trader@4.2.2",
                          "the 4.2.2 deployment stopped half way"});
  // An inactive member left one middleware release behind.
  host(odd, 'b').installed[1] = "acme-mq@9.1.0";
  plan.planted.push_back({host(odd, 'b').name, "missing", "", "acme-mq@9.1.1",
                          "the middleware patch never reached this member"});
  // A patch still in test found on a production member.
  host(c0, 'a').installed[0] = "acme-trader@4.2.2";
  plan.planted.push_back({host(c0, 'a').name, "unexpected", "", "acme-trader@4.2.2",
                          "a patch still in test installed on an active member"});
  // Drift from the cluster's reference snapshot.
  plan.planted.push_back({host(1, 'b').name, "added", "/opt/acme/trader/bin/debug-shell", "",
                          "an unknown binary dropped next to the trader"});
  plan.planted.push_back({host(n - 1, 'b').name, "modified", "/opt/acme/risk/lib/libvar.so", "acme-risk@2.0.0",
                          "the risk engine's VaR library differs from its twin's"});
  plan.planted.push_back({host(2, 'b').name, "modified", "/usr/local/bin/market-hours.sh", "",
                          "a local script edited on one member only"});
  // An edited configuration file: reported, but not as tampering.
  plan.planted.push_back({host(1, 'a').name, "config-changed", "/etc/acme/trader.conf", "acme-trader@4.2.2",
                          "an operator tuned the trader's configuration"});
  // The config change lives on a trader the stage gives 4.2.2 or 4.2.1: name the installed one.
  plan.planted.back().signature = host(1, 'a').installed[0];
  return plan;
}

namespace {

Expected<void> write_file(const fs::path& path, std::string_view content, std::uint32_t mode) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return fail(ErrorCode::io, path.parent_path().string() + ": " + ec.message());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(ErrorCode::io, path.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return fail(ErrorCode::io, path.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, mode);
  if (::close(fd) != 0) return fail(ErrorCode::io, path.string() + ": " + std::strerror(errno));
  return {};
}

const PackageSpec* find_package(const FleetPlan& plan, std::string_view id) {
  for (const PackageSpec& p : plan.catalogue)
    if (p.id() == id) return &p;
  return nullptr;
}

}  // namespace

Expected<fs::path> build_deb(const PackageSpec& package, const fs::path& out_dir) {
  const fs::path staging = out_dir / (".staging-" + package.name + "_" + package.version);
  std::error_code ec;
  fs::remove_all(staging, ec);
  for (const PackageFile& f : package.files)
    if (auto r = write_file(staging / f.path.substr(1), f.content, f.mode); !r) return tl::unexpected(r.error());
  std::string control = "Package: " + package.name + "\nVersion: " + package.version +
                        "\nArchitecture: amd64\nMaintainer: ACME Release Engineering <release@acme.example>\n"
                        "Section: misc\nPriority: optional\nDescription: " + package.description + "\n";
  std::string conffiles;
  for (const PackageFile& f : package.files)
    if (f.conffile) conffiles += f.path + "\n";
  if (auto r = write_file(staging / "DEBIAN/control", control, 0644); !r) return tl::unexpected(r.error());
  if (!conffiles.empty())
    if (auto r = write_file(staging / "DEBIAN/conffiles", conffiles, 0644); !r) return tl::unexpected(r.error());
  const fs::path deb = out_dir / (package.name + "_" + package.version + "_amd64.deb");
  auto built = os::run_process({"dpkg-deb", "--root-owner-group", "-Zgzip", "--build", staging.string(), deb.string()});
  fs::remove_all(staging, ec);
  if (!built) return tl::unexpected(built.error());
  if (built->exit_code != 0) return fail(ErrorCode::io, "dpkg-deb failed for " + package.id() + ": " + built->err);
  return deb;
}

Expected<void> materialize_host(const FleetPlan& plan, const HostPlan& host, const fs::path& root) {
  std::map<std::string, const PackageFile*> files;
  for (const std::string& id : host.installed) {
    const PackageSpec* p = find_package(plan, id);
    if (p == nullptr) return fail(ErrorCode::invalid_argument, "unknown package " + id);
    for (const PackageFile& f : p->files) files[f.path] = &f;
  }
  for (const auto& [path, f] : files)
    if (auto r = write_file(root / path.substr(1), f->content, f->mode); !r) return r;
  // Unpackaged but identical on every member: part of the reference snapshot.
  const std::string script = "#!/bin/sh\n# market hours, local time\necho 08:00-17:30\n";
  if (auto r = write_file(root / "usr/local/bin/market-hours.sh", script, 0755); !r) return r;

  for (const Planted& p : plan.planted) {
    if (p.host != host.name) continue;
    const fs::path target = root / (p.path.empty() ? std::string{} : p.path.substr(1));
    if (p.kind == "modified" || p.kind == "config-changed") {
      std::ifstream in(target, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      text += p.kind == "config-changed" ? "log_level = debug\n" : "\n# patched by hand\n";
      if (auto r = write_file(target, text, 0644); !r) return r;
    } else if (p.kind == "added") {
      if (auto r = write_file(target, "#!/bin/sh\nexec /bin/sh -i\n", 0755); !r) return r;
    } else if (p.kind == "partial") {
      // The first half of the files the patch changes, copied over the installed release.
      const PackageSpec* patch = find_package(plan, p.signature);
      if (patch == nullptr) return fail(ErrorCode::invalid_argument, "unknown package " + p.signature);
      std::vector<const PackageFile*> changed;
      for (const PackageFile& f : patch->files) {
        auto it = files.find(f.path);
        if (it == files.end() || it->second->content != f.content) changed.push_back(&f);
      }
      for (std::size_t i = 0; i < (changed.size() + 1) / 2; ++i)
        if (auto r = write_file(root / changed[i]->path.substr(1), changed[i]->content, changed[i]->mode); !r)
          return r;
    }
  }
  return {};
}

}  // namespace tb::demo
