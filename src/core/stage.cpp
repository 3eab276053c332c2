#include "core/stage.h"

namespace tb {

std::string_view to_string(Stage stage) noexcept {
  switch (stage) {
    case Stage::tested: return "tested";
    case Stage::inactive: return "inactive";
    case Stage::active: return "active";
  }
  return "?";
}

std::optional<Stage> stage_from_string(std::string_view name) noexcept {
  if (name == "tested") return Stage::tested;
  if (name == "inactive") return Stage::inactive;
  if (name == "active") return Stage::active;
  return std::nullopt;
}

}  // namespace tb
