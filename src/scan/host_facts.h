// Facts about the scanned host, read once at the start of a scan.
#pragma once

#include <string_view>

#include "core/scan_document.h"

namespace tb {

HostFacts collect_host_facts();

// Parses os-release text (KEY=value, optionally quoted) into the os_* fields.
void parse_os_release(std::string_view text, HostFacts& facts);

}  // namespace tb
