#include "sources/version_order.h"

#include <rpm/rpmver.h>

#include <cstdint>
#include <memory>

namespace tb {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// dpkg's weight of a non-digit character: the end and digits 0, '~' below everything,
// letters before other characters.
int order(std::string_view s, std::size_t i) {
  if (i >= s.size()) return 0;
  const char c = s[i];
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return static_cast<unsigned char>(c);
  if (c == '~') return -1;
  return static_cast<unsigned char>(c) + 256;
}

// dpkg's verrevcmp(): alternating runs of non-digits (compared by order()) and digits
// (compared as numbers, of any length).
int compare_part(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      const int ac = order(a, i), bc = order(b, j);
      if (ac != bc) return ac - bc;
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    int first_diff = 0;
    while (i < a.size() && j < b.size() && is_digit(a[i]) && is_digit(b[j])) {
      if (first_diff == 0) first_diff = a[i] - b[j];
      ++i;
      ++j;
    }
    if (i < a.size() && is_digit(a[i])) return 1;
    if (j < b.size() && is_digit(b[j])) return -1;
    if (first_diff != 0) return first_diff;
  }
  return 0;
}

struct DebianVersion {
  std::string_view epoch, upstream, revision;
};

DebianVersion split(std::string_view v) {
  DebianVersion out;
  if (const auto colon = v.find(':'); colon != std::string_view::npos) {
    out.epoch = v.substr(0, colon);
    v.remove_prefix(colon + 1);
  }
  if (const auto dash = v.rfind('-'); dash != std::string_view::npos) {
    out.revision = v.substr(dash + 1);
    v = v.substr(0, dash);
  }
  out.upstream = v;
  return out;
}

// Epochs are decimal numbers of any length: compare them as such.
int compare_epochs(std::string_view a, std::string_view b) {
  while (!a.empty() && a.front() == '0') a.remove_prefix(1);
  while (!b.empty() && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

struct RpmverDeleter {
  void operator()(rpmver_s* v) const { rpmverFree(v); }
};

}  // namespace

int compare_debian_versions(std::string_view a, std::string_view b) {
  const DebianVersion x = split(a), y = split(b);
  if (const int c = compare_epochs(x.epoch, y.epoch); c != 0) return c;
  if (const int c = compare_part(x.upstream, y.upstream); c != 0) return c;
  return compare_part(x.revision, y.revision);
}

int compare_rpm_versions(const std::string& a, const std::string& b) {
  std::unique_ptr<rpmver_s, RpmverDeleter> x(rpmverParse(a.c_str())), y(rpmverParse(b.c_str()));
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;  // unparsable: a stable order at least
  return rpmverCmp(x.get(), y.get());
}

int compare_versions(VersionScheme scheme, const std::string& a, const std::string& b) {
  return scheme == VersionScheme::debian ? compare_debian_versions(a, b) : compare_rpm_versions(a, b);
}

}  // namespace tb
