// Software signatures: the expected manifest of a product release or a patch.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/manifest.h"

namespace tb {

enum class SignatureKind : std::uint8_t { product, patch };
std::string_view to_string(SignatureKind kind) noexcept;
std::optional<SignatureKind> signature_kind_from_string(std::string_view name) noexcept;

// "name@version": how signatures refer to each other and how reports name them.
struct SignatureRef {
  std::string name;
  std::string version;

  std::string id() const { return name + "@" + version; }
  // Parses "name@version" (the last '@' splits: names may contain '@', versions not).
  static std::optional<SignatureRef> parse(std::string_view id);
  auto operator<=>(const SignatureRef&) const = default;
};

struct SignatureInfo {
  SignatureRef ref;
  std::string vendor;
  SignatureKind kind = SignatureKind::product;
  std::optional<SignatureRef> patches;     // patch only: the release it applies to
  std::vector<SignatureRef> supersedes;    // earlier patches whose files this one replaces
  std::string install_root = "/";          // where the manifest's paths were rooted
  std::string source;                      // where it came from (package file name, directory...)
  std::optional<Sha256Digest> source_sha256;  // hash of the package file, when there is one
  std::string architecture;                // package architecture ("amd64", "noarch"...); empty if none
  // Paths of the manifest that are configuration (.deb conffiles, rpm %config): an admin
  // may edit them, so a changed one is `config_changed`, not tampering. Sorted, unique.
  std::vector<std::string> config_paths;   // byte order, unique
  std::string tag_id;                      // SWID tags: the tag's tagId (how patch tags link); else empty
  bool operator==(const SignatureInfo&) const = default;

  bool is_config(std::string_view path) const;
};

// A signature's manifest holds absolute paths (install root applied). Regular files
// carry sha256; attributes a package cannot know (mtime, often uid/gid) are absent.
struct Signature {
  SignatureInfo info;
  Manifest manifest;
};

}  // namespace tb
