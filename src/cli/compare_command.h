// `trustbase compare REFERENCE EXAMINED`: the file-by-file differences between two
// scans, e.g. a cluster member against the member whose scan is the reference.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace tb {

struct CompareArgs {
  std::string reference;            // scan document (XML or JSON)
  std::string examined;             // scan document (XML or JSON)
  std::string ignore = "mtime";     // attributes left out of the comparison
  std::string format = "text";      // text | json | xml
};

// Registers the subcommand; `args` must outlive the parse.
CLI::App* add_compare_command(CLI::App& app, CompareArgs& args);

// Exit status: 0 identical, 1 differences found, 2 error (message on stderr).
int run_compare(const CompareArgs& args);

}  // namespace tb
