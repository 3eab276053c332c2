// The demo fleet generator: a plan with every planted deviation where it can be told
// apart, real .deb packages, and host trees that hold what the plan says.
#include "demo/demo_fleet.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace tb::demo {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/tb-demo-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

const PackageSpec& package(const FleetPlan& plan, const std::string& id) {
  for (const auto& p : plan.catalogue)
    if (p.id() == id) return p;
  throw std::runtime_error("no package " + id);
}

TEST(DemoPlan, TooFewClustersIsRefused) {
  EXPECT_FALSE(plan_fleet(3));
  EXPECT_FALSE(plan_fleet(1000));
}

TEST(DemoPlan, PairsPerClusterAndPlantsOnDistinctFacts) {
  auto plan = plan_fleet(35);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->clusters.size(), 35u);
  ASSERT_EQ(plan->hosts.size(), 70u);
  std::set<std::string> names;
  for (const auto& h : plan->hosts) {
    names.insert(h.name);
    EXPECT_TRUE(h.role == "active" || h.role == "inactive") << h.name;
    EXPECT_EQ(h.installed.size(), 3u) << h.name;
  }
  EXPECT_EQ(names.size(), 70u);
  EXPECT_EQ(plan->stages.size(), 35u * 3);
  EXPECT_EQ(plan->planted.size(), 8u);
  std::set<std::pair<std::string, std::string>> facts;
  for (const auto& p : plan->planted) {
    EXPECT_TRUE(names.count(p.host)) << p.host;
    EXPECT_TRUE(facts.insert({p.host, p.path.empty() ? p.signature : p.path}).second) << p.host << " " << p.path;
  }
}

TEST(DemoPlan, EveryClusterSizeFromFourKeepsAllPlants) {
  for (int n : {4, 5, 7, 12}) {
    auto plan = plan_fleet(n);
    ASSERT_TRUE(plan) << n;
    EXPECT_EQ(plan->planted.size(), 8u) << n;
    std::set<std::string> kinds;
    for (const auto& p : plan->planted) kinds.insert(p.kind);
    EXPECT_EQ(kinds, (std::set<std::string>{"added", "config-changed", "missing", "modified", "partial", "unexpected"}));
  }
}

TEST(DemoCatalogue, LaterReleasesChangeOnlyTheirFiles) {
  const auto catalogue = demo_catalogue();
  auto plan = plan_fleet(4);
  ASSERT_TRUE(plan);
  const auto& v0 = package(*plan, "acme-trader@4.2.0");
  const auto& v1 = package(*plan, "acme-trader@4.2.1");
  const auto& v2 = package(*plan, "acme-trader@4.2.2");
  ASSERT_EQ(v0.files.size(), v1.files.size());
  EXPECT_EQ(v2.files.size(), v1.files.size() + 1);  // libfix44.so added
  std::size_t changed = 0;
  for (std::size_t i = 0; i < v0.files.size(); ++i) {
    ASSERT_EQ(v0.files[i].path, v1.files[i].path);
    if (v0.files[i].content != v1.files[i].content) ++changed;
  }
  EXPECT_EQ(changed, 3u);
  EXPECT_EQ(demo_catalogue()[5].files[3].content, catalogue[5].files[3].content) << "not deterministic";
}

TEST(DemoPackages, BuildsARealDebWithConffiles) {
  TempDir dir;
  auto plan = plan_fleet(4);
  ASSERT_TRUE(plan);
  const auto& mq = package(*plan, "acme-mq@9.1.1");
  auto deb = build_deb(mq, dir.path);
  ASSERT_TRUE(deb) << deb.error().message;
  EXPECT_EQ(deb->filename(), "acme-mq_9.1.1_amd64.deb");
  EXPECT_EQ(run("dpkg-deb -f " + deb->string() + " Package Version"), "Package: acme-mq\nVersion: 9.1.1\n");
  EXPECT_EQ(run("dpkg-deb --ctrl-tarfile " + deb->string() + " | tar -xOf - ./conffiles"), "/etc/acme/mq.conf\n");
  const std::string listing = run("dpkg-deb -c " + deb->string());
  for (const auto& f : mq.files) EXPECT_NE(listing.find("." + f.path), std::string::npos) << f.path;
  EXPECT_FALSE(fs::exists(dir.path / ".staging-acme-mq_9.1.1"));
}

TEST(DemoHosts, TreesHoldTheInstalledReleasesAndThePlants) {
  TempDir dir;
  auto plan = plan_fleet(4);
  ASSERT_TRUE(plan);
  for (const auto& h : plan->hosts) ASSERT_TRUE(materialize_host(*plan, h, dir.path / h.name)) << h.name;
  const auto& v1 = package(*plan, "acme-trader@4.2.1");
  const auto& v2 = package(*plan, "acme-trader@4.2.2");
  for (const auto& p : plan->planted) {
    const fs::path root = dir.path / p.host;
    if (p.kind == "added") {
      EXPECT_TRUE(fs::exists(root / p.path.substr(1))) << p.host;
    } else if (p.kind == "modified" || p.kind == "config-changed") {
      EXPECT_NE(slurp(root / p.path.substr(1)).find(p.kind == "modified" ? "by hand" : "debug"), std::string::npos);
    } else if (p.kind == "partial") {
      std::size_t from_v2 = 0, from_v1 = 0;
      for (const auto& f : v2.files) {
        const std::string on_host = slurp(root / f.path.substr(1));
        if (on_host == f.content) ++from_v2;
      }
      for (std::size_t i = 0; i < v1.files.size(); ++i)
        if (slurp(root / v1.files[i].path.substr(1)) == v1.files[i].content) ++from_v1;
      EXPECT_LT(from_v2, v2.files.size()) << "the whole patch was applied";
      EXPECT_LT(from_v1, v1.files.size()) << "nothing of the patch was applied";
    }
  }
}

TEST(DemoHosts, MembersOfACleanClusterAreIdentical) {
  TempDir dir;
  auto plan = plan_fleet(35);
  ASSERT_TRUE(plan);
  std::set<std::string> planted_hosts;
  for (const auto& p : plan->planted) planted_hosts.insert(p.host);
  const HostPlan* a = nullptr;
  const HostPlan* b = nullptr;
  for (std::size_t i = 0; i + 1 < plan->hosts.size() && a == nullptr; i += 2)
    if (!planted_hosts.count(plan->hosts[i].name) && !planted_hosts.count(plan->hosts[i + 1].name) &&
        plan->hosts[i].installed == plan->hosts[i + 1].installed)
      a = &plan->hosts[i], b = &plan->hosts[i + 1];
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(materialize_host(*plan, *a, dir.path / a->name));
  ASSERT_TRUE(materialize_host(*plan, *b, dir.path / b->name));
  EXPECT_EQ(run("diff -r " + (dir.path / a->name).string() + " " + (dir.path / b->name).string() + " && echo same"),
            "same\n");
}

}  // namespace
}  // namespace tb::demo
