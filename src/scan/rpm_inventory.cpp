// The rpm half of scan/package_inventory.h: the installed headers of the rpm database,
// read with librpm (the database format, sqlite or bdb/ndb, is librpm's business).
#include <fcntl.h>
#include <sys/stat.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include <rpm/header.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmts.h>

#include "scan/package_inventory.h"

namespace tb {

namespace {

bool has_database(const std::string& dir) {
  // sqlite (rpm >= 4.16), Berkeley DB (older), ndb (SUSE).
  for (const char* file : {"rpmdb.sqlite", "Packages", "Packages.db"}) {
    struct stat st {};
    if (::lstat((dir + "/" + file).c_str(), &st) == 0 && S_ISREG(st.st_mode)) return true;
  }
  return false;
}

std::string header_string(Header h, rpmTagVal tag) {
  const char* s = headerGetString(h, tag);
  return s != nullptr ? std::string(s) : std::string();
}

}  // namespace

bool read_rpm_inventory(const std::string& sysroot, PackageInventory& out, const InventoryLimits& limits) {
  std::string root = sysroot.empty() ? std::string("/") : sysroot;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  const std::string prefix = root == "/" ? std::string() : root;
  // Where the distribution keeps it, not Debian's rpm default (~/.rpmdb, for building).
  std::string dbpath;
  for (const char* candidate : {"/usr/lib/sysimage/rpm", "/var/lib/rpm"}) {
    if (has_database(prefix + candidate)) {
      dbpath = candidate;
      break;
    }
  }
  if (dbpath.empty()) return false;

  // librpm keeps its configuration and macros process-wide: read them once, and serialise
  // use of the database path macro.
  static std::once_flag configured;
  static std::mutex macro_lock;
  std::call_once(configured, [] {
    rpmlogSetMask(RPMLOG_UPTO(RPMLOG_CRIT));  // failures come back as warnings, not stderr noise
    rpmReadConfigFiles(nullptr, nullptr);
  });
  const std::lock_guard lock(macro_lock);
  rpmPushMacro(nullptr, "_dbpath", nullptr, dbpath.c_str(), RMIL_CMDLINE);
  struct PopMacro {
    ~PopMacro() { rpmPopMacro(nullptr, "_dbpath"); }
  } pop;

  std::unique_ptr<rpmts_s, decltype(&rpmtsFree)> ts(rpmtsCreate(), rpmtsFree);
  if (!ts || rpmtsSetRootDir(ts.get(), root.c_str()) != 0) {
    out.warnings.push_back(InventoryWarning{PackageManager::rpm, "cannot use " + root + " as the rpm root"});
    return true;
  }
  rpmtsSetVSFlags(ts.get(), rpmtsVSFlags(ts.get()) | RPMVSF_MASK_NODIGESTS | RPMVSF_MASK_NOSIGNATURES);
  if (rpmtsOpenDB(ts.get(), O_RDONLY) != 0) {
    out.warnings.push_back(
        InventoryWarning{PackageManager::rpm, "cannot open the rpm database " + prefix + dbpath});
    return true;
  }
  std::unique_ptr<rpmdbMatchIterator_s, decltype(&rpmdbFreeIterator)> it(
      rpmtsInitIterator(ts.get(), RPMDBI_PACKAGES, nullptr, 0), rpmdbFreeIterator);
  bool full = false;
  while (it) {
    Header h = rpmdbNextIterator(it.get());  // owned by the iterator
    if (h == nullptr) break;
    InstalledPackage p;
    p.manager = PackageManager::rpm;
    p.name = header_string(h, RPMTAG_NAME);
    if (p.name == "gpg-pubkey") continue;  // imported keys, not software
    // "[E:]V-R", as signatures imported from .rpm files name their versions.
    p.version = header_string(h, RPMTAG_VERSION) + "-" + header_string(h, RPMTAG_RELEASE);
    if (headerIsEntry(h, RPMTAG_EPOCH) != 0) p.version = std::to_string(headerGetNumber(h, RPMTAG_EPOCH)) + ":" + p.version;
    p.arch = header_string(h, RPMTAG_ARCH);
    if (p.name.empty() || p.name.size() > limits.max_field_bytes || p.version.size() > limits.max_field_bytes ||
        p.arch.size() > limits.max_field_bytes) {
      if (out.warnings.size() < kMaxInventoryWarnings)
        out.warnings.push_back(InventoryWarning{PackageManager::rpm, "an rpm header without a usable name or "
                                                                     "with an over-long field; skipped"});
      continue;
    }
    if (out.packages.size() >= limits.max_packages) {
      if (!full && out.warnings.size() < kMaxInventoryWarnings)
        out.warnings.push_back(InventoryWarning{PackageManager::rpm, "more than " + std::to_string(limits.max_packages) +
                                                                         " installed packages; the rest left out"});
      full = true;
      break;
    }
    out.packages.push_back(std::move(p));
  }
  return true;
}

}  // namespace tb
