// Promotion stages: how far a patch has been rolled out in a cluster, and what that
// means for each member. A patch is tested first (on test machines outside the
// cluster), then deployed on the inactive members of a failover pair, then on all.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tb {

enum class Stage : std::uint8_t {
  tested,    // validated on test machines; no member of the cluster is expected to run it
  inactive,  // expected on members whose role is "inactive"
  active,    // expected on every member
};
std::string_view to_string(Stage stage) noexcept;
std::optional<Stage> stage_from_string(std::string_view name) noexcept;

// The roles the stages know; any other role label (e.g. "dr", "test") only expects
// patches promoted to `active`.
inline constexpr std::string_view kRoleActive = "active";
inline constexpr std::string_view kRoleInactive = "inactive";

// Whether a member with `role` is expected to run a patch at `stage`.
constexpr bool expected_on(std::string_view role, Stage stage) noexcept {
  switch (stage) {
    case Stage::active: return true;
    case Stage::inactive: return role == kRoleInactive;
    case Stage::tested: return false;
  }
  return false;
}

}  // namespace tb
