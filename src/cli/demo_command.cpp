// `trustbase demo`: a trading firm's fleet in miniature, end to end with the real
// programs — packages built with dpkg-deb and imported, clusters and promotion stages
// set, a server started on SQLite, every simulated host scanned by trustbase-scan
// (enrolling itself), snapshots published, and the fleet report printed. Finally the
// report is checked against the deviations planted on purpose: each must be found and
// attributed, and nothing else may be reported.
#include "cli/demo_command.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "demo/demo_fleet.h"
#include "os/process.h"

namespace tb::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

class Demo {
 public:
  Demo(const DemoOptions& options, fs::path dir)
      : options_(options), dir_(std::move(dir)), db_((dir_ / "trustbase.db").string()) {}

  int run();

 private:
  // Runs `trustbase --db DB args...`; fails on a non-zero exit.
  Expected<std::string> trustbase(std::vector<std::string> args, bool allow_nonzero = false);
  void step(const std::string& what, Clock::time_point since) const;
  Expected<void> build_and_import(const demo::FleetPlan& plan);
  Expected<void> set_up_clusters(const demo::FleetPlan& plan);
  Expected<void> scan_hosts(const demo::FleetPlan& plan, const std::string& url);
  Expected<int> check(const demo::FleetPlan& plan);

  const DemoOptions& options_;
  fs::path dir_;
  std::string db_;
  std::string self_ = executable_dir_program("trustbase");
  std::string scanner_ = executable_dir_program("trustbase-scan");

  static std::string executable_dir_program(const std::string& name) {
    const fs::path sibling = fs::path(os::executable_dir()) / name;
    return fs::exists(sibling) ? sibling.string() : name;
  }
};

void Demo::step(const std::string& what, Clock::time_point since) const {
  if (options_.quiet) return;
  const double s = std::chrono::duration<double>(Clock::now() - since).count();
  fmt::print(stderr, "demo: {:<60} {:6.2f} s\n", what, s);
}

Expected<std::string> Demo::trustbase(std::vector<std::string> args, bool allow_nonzero) {
  args.insert(args.begin(), {self_, "--db", db_});
  auto r = os::run_process(args);
  if (!r) return tl::unexpected(r.error());
  if (r->exit_code != 0 && !(allow_nonzero && r->exit_code == 1)) {
    std::string cmd;
    for (std::size_t i = 3; i < args.size(); ++i) cmd += " " + args[i];
    return fail(ErrorCode::io, "trustbase" + cmd + " failed (exit " + std::to_string(r->exit_code) + "): " + r->err);
  }
  return std::move(r->out);
}

Expected<void> Demo::build_and_import(const demo::FleetPlan& plan) {
  const auto t0 = Clock::now();
  const fs::path packages = dir_ / "packages";
  fs::create_directories(packages);
  std::vector<std::string> args = {"import"};
  for (const demo::PackageSpec& p : plan.catalogue) {
    auto deb = demo::build_deb(p, packages);
    if (!deb) return tl::unexpected(deb.error());
    args.push_back(deb->string());
  }
  step(fmt::format("built {} .deb packages with dpkg-deb", plan.catalogue.size()), t0);
  const auto t1 = Clock::now();
  if (auto r = trustbase(args); !r) return tl::unexpected(r.error());
  step("imported them as product and patch signatures", t1);
  return {};
}

Expected<void> Demo::set_up_clusters(const demo::FleetPlan& plan) {
  const auto t0 = Clock::now();
  for (const std::string& c : plan.clusters)
    if (auto r = trustbase({"cluster", "add", c, "--description", "active/inactive failover pair"}); !r)
      return tl::unexpected(r.error());
  for (const demo::StagePlan& s : plan.stages)
    if (auto r = trustbase({"promote", s.patch, "--cluster", s.cluster, "--stage", std::string(to_string(s.stage))});
        !r)
      return tl::unexpected(r.error());
  step(fmt::format("{} clusters, {} promotions", plan.clusters.size(), plan.stages.size()), t0);
  return {};
}

Expected<void> Demo::scan_hosts(const demo::FleetPlan& plan, const std::string& url) {
  const auto t0 = Clock::now();
  const fs::path hosts = dir_ / "hosts";
  for (const demo::HostPlan& h : plan.hosts)
    if (auto r = demo::materialize_host(plan, h, hosts / h.name); !r) return r;
  step(fmt::format("wrote {} host trees", plan.hosts.size()), t0);

  const auto t1 = Clock::now();
  auto enrol = trustbase({"token", "add", "--name", "demo-enrolment", "--role", "enrol"});
  if (!enrol) return tl::unexpected(enrol.error());
  const fs::path enrol_file = dir_ / "enrolment.token";
  {
    std::string token = *enrol;
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
    FILE* f = std::fopen(enrol_file.c_str(), "w");
    if (f == nullptr) return fail(ErrorCode::io, "cannot write " + enrol_file.string());
    std::fputs(token.c_str(), f);
    std::fclose(f);
  }
  // Two scanners at a time: each host is small, and this machine may have two cores.
  auto scan_one = [&](const demo::HostPlan& h) -> Expected<void> {
    auto r = os::run_process({scanner_,
                              "--sysroot",
                              (hosts / h.name).string(),
                              "--root",
                              "/opt",
                              "--root",
                              "/etc/acme",
                              "--root",
                              "/usr/local",
                              "--server",
                              url,
                              "--host",
                              h.name,
                              "--enrol-token-file",
                              enrol_file.string(),
                              "--token-file",
                              (hosts / (h.name + ".token")).string(),
                              "--cluster",
                              h.cluster,
                              "--role",
                              h.role,
                              "--quiet",
                              "--jobs",
                              "1"});
    if (!r) return tl::unexpected(r.error());
    // 0 clean, 1 deviations found: both mean the scan was stored.
    if (r->exit_code != 0 && r->exit_code != 1)
      return fail(ErrorCode::io, "trustbase-scan failed on " + h.name + ": " + r->err);
    return {};
  };
  for (std::size_t i = 0; i < plan.hosts.size(); i += 2) {
    auto second = i + 1 < plan.hosts.size() ? std::async(std::launch::async, scan_one, std::cref(plan.hosts[i + 1]))
                                            : std::future<Expected<void>>{};
    auto first = scan_one(plan.hosts[i]);
    if (second.valid())
      if (auto r = second.get(); !r) return r;
    if (!first) return first;
  }
  step(fmt::format("scanned and enrolled {} hosts through the server", plan.hosts.size()), t1);

  const auto t2 = Clock::now();
  for (const demo::HostPlan& h : plan.hosts)
    if (h.role == "active")
      if (auto r = trustbase({"snapshot", "publish", "--cluster", h.cluster, "--from", h.name}); !r)
        return tl::unexpected(r.error());
  step("published each cluster's active member as its reference", t2);
  return {};
}

// What the report says, reduced to comparable facts: (host, kind, path or signature, attribution).
struct Finding {
  std::string host, kind, what, attributed;
  auto operator<=>(const Finding&) const = default;
};

std::string owners_text(const json& owners) {
  std::string out;
  for (const auto& o : owners) out += (out.empty() ? "" : ",") + o.get<std::string>();
  return out;
}

Expected<int> Demo::check(const demo::FleetPlan& plan) {
  std::set<Finding> expected, found;
  for (const demo::Planted& p : plan.planted) {
    if (p.kind == "partial" || p.kind == "missing" || p.kind == "unexpected")
      expected.insert({p.host, p.kind, p.signature, p.signature});
    else if (p.kind == "config-changed")
      expected.insert({p.host, "config_changed", p.path, p.signature});
    else if (p.signature.rfind("acme-trader@", 0) == 0)  // a patch's file edited: the patch is tampered
      expected.insert({p.host, "tampered", p.signature, p.signature});
    else  // drift from the cluster's snapshot, attributed to its product (or to none)
      expected.insert({p.host, p.kind, p.path, p.signature});
    // A product's file edited: the product is tampered, a problem of the fleet report too.
    if (p.kind == "modified" && !p.signature.empty() && p.signature.rfind("acme-trader@", 0) != 0)
      expected.insert({p.host, "tampered", p.signature, p.signature});
  }

  auto fleet = trustbase({"report", "fleet", "--format", "json"}, true);
  if (!fleet) return tl::unexpected(fleet.error());
  const json report = json::parse(*fleet, nullptr, false);
  if (report.is_discarded()) return fail(ErrorCode::parse, "report fleet printed invalid JSON");
  for (const auto& p : report.at("problems")) {
    const std::string sig = p.value("signature", "");
    found.insert({p.at("host").get<std::string>(), p.at("problem").get<std::string>(), sig, sig});
  }
  for (const auto& c : report.at("clusters")) {
    if (c.at("drifting").empty()) continue;
    auto cluster = trustbase({"report", "cluster", c.at("name").get<std::string>(), "--format", "json"}, true);
    if (!cluster) return tl::unexpected(cluster.error());
    const json drift = json::parse(*cluster, nullptr, false);
    if (drift.is_discarded()) return fail(ErrorCode::parse, "report cluster printed invalid JSON");
    for (const auto& m : drift.at("drift").at("members"))
      for (const auto& d : m.at("deviations"))
        found.insert({m.at("host").get<std::string>(), d.at("change").get<std::string>(),
                      d.at("path").get<std::string>(), owners_text(d.at("owners"))});
  }
  // A patched file edited by hand is the patch's tampering and, at a path its releases
  // list with content none of them has, drift from the cluster's reference too.
  for (const demo::Planted& p : plan.planted)
    if (p.kind == "modified" && p.signature.rfind("acme-trader@", 0) == 0)
      for (const Finding& f : found)
        if (f.host == p.host && f.kind == "modified" && f.what == p.path) expected.insert(f);
  // Configuration changes are not problems; they show in each host's own report.
  for (const demo::HostPlan& h : plan.hosts) {
    auto host = trustbase({"report", "host", h.name, "--format", "json"}, true);
    if (!host) return tl::unexpected(host.error());
    const json r = json::parse(*host, nullptr, false);
    if (r.is_discarded()) return fail(ErrorCode::parse, "report host printed invalid JSON");
    for (const auto& v : r.at("signatures")) {
      // Every release of the package lists the conffile: count the edit on the release in
      // force only (not the ones patched over or superseded).
      if (v.at("state") != "complete" || !v.at("patched_by").empty()) continue;
      for (const auto& i : v.at("issues"))
        if (i.at("kind") == "config_changed")
          found.insert(
              {h.name, "config_changed", i.at("path").get<std::string>(), v.at("signature").get<std::string>()});
    }
  }

  if (options_.quiet) return expected == found ? 0 : 1;
  fmt::print("\nplanted deviations, and what the report says about them:\n");
  for (const demo::Planted& p : plan.planted) {
    bool hit = false;
    for (const Finding& e : expected)
      if (e.host == p.host && found.count(e) && (e.what == p.path || e.what == p.signature)) hit = true;
    fmt::print("  {} {:<12} {:<15} {:<36} {}\n", hit ? "found  " : "MISSED ", p.host, p.kind,
               p.path.empty() ? p.signature : p.path, p.story);
  }
  std::size_t extra = 0;
  for (const Finding& f : found)
    if (!expected.count(f)) {
      if (extra++ == 0) fmt::print("reported but not planted:\n");
      fmt::print("  {} {} {} [{}]\n", f.host, f.kind, f.what, f.attributed);
    }
  for (const Finding& e : expected)
    if (!found.count(e))
      fmt::print("  expected {} {} {} [{}]: not reported as such\n", e.host, e.kind, e.what, e.attributed);
  const bool ok = expected == found;
  fmt::print("{}\n", ok ? "every planted deviation was found and attributed, and nothing else was reported"
                        : "the report does NOT match the planted deviations");
  return ok ? 0 : 1;
}

int Demo::run() {
  auto plan = demo::plan_fleet(options_.clusters);
  if (!plan) {
    fmt::print(stderr, "trustbase demo: {}\n", plan.error().message);
    return 2;
  }
  const auto start = Clock::now();
  if (!options_.quiet)
    fmt::print(stderr, "demo: {} clusters of an active/inactive pair under {}\n", plan->clusters.size(), dir_.string());
  auto fail_with = [](const Error& e) {
    fmt::print(stderr, "trustbase demo: {}\n", e.message);
    return 2;
  };
  if (auto r = build_and_import(*plan); !r) return fail_with(r.error());
  if (auto r = set_up_clusters(*plan); !r) return fail_with(r.error());

  auto server =
      os::ChildProcess::start({self_, "--db", db_, "serve", "--listen", "127.0.0.1:0"}, (dir_ / "server.log").string());
  if (!server) return fail_with(server.error());
  auto line = server->read_line();
  if (!line) return fail_with(line.error());
  const std::string prefix = "listening on ";
  if (line->rfind(prefix, 0) != 0) return fail_with(Error{ErrorCode::io, "unexpected server output: " + *line});
  const std::string url = "http://" + line->substr(prefix.size());
  if (!options_.quiet)
    fmt::print(stderr, "demo: server on {} (SQLite {}, log {})\n", url, db_, (dir_ / "server.log").string());
  if (auto r = scan_hosts(*plan, url); !r) return fail_with(r.error());
  server->stop();

  const auto t0 = Clock::now();
  auto report = trustbase({"report", "fleet", "--format", options_.format}, /*allow_nonzero=*/true);
  if (!report) return fail_with(report.error());
  auto html = trustbase({"report", "fleet", "--format", "html"}, true);
  if (html) {
    FILE* f = std::fopen((dir_ / "fleet.html").c_str(), "w");
    if (f != nullptr) {
      std::fputs(html->c_str(), f);
      std::fclose(f);
    }
  }
  step("fleet report", t0);
  fmt::print("{}", *report);
  auto checked = check(*plan);
  if (!checked) return fail_with(checked.error());
  if (!options_.quiet) {
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    fmt::print(stderr, "demo: done in {:.1f} s; store {}, HTML report {}\n", s, db_, (dir_ / "fleet.html").string());
  }
  return *checked;
}

}  // namespace

int run_demo(const DemoOptions& options) {
  fs::path dir = options.dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/trustbase-demo-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      fmt::print(stderr, "trustbase demo: cannot create a temporary directory\n");
      return 2;
    }
    dir = tmpl;
  } else {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_empty(dir, ec)) {
      fmt::print(stderr, "trustbase demo: {} is not empty\n", dir.string());
      return 2;
    }
  }
  Demo demo(options, fs::absolute(dir));
  return demo.run();
}

}  // namespace tb::cli
