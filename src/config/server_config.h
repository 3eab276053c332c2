// server.toml: the configuration file of `trustbase serve` (docs/config.md), bound to the
// variables its command-line options fill (cli/server_commands.h, cli/store_commands.h).
#pragma once

#include <vector>

#include "cli/server_commands.h"
#include "cli/store_commands.h"
#include "config/config_file.h"

namespace tb::config {

inline constexpr const char* kDefaultServerConfig = "/etc/trustbase/server.toml";

// The keys of server.toml, each with the flags that override it ("--db" is the global
// option of `trustbase`; $TRUSTBASE_DB counts as giving it).
std::vector<Key> server_keys(ServeArgs& serve, StoreArgs& store);

}  // namespace tb::config
