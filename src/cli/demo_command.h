// `trustbase demo`: the simulated fleet, end to end (see demo_command.cpp).
#pragma once

#include <string>

namespace tb::cli {

struct DemoOptions {
  std::string dir;              // empty: a new directory under /tmp (kept for inspection)
  int clusters = 35;            // active/inactive pairs
  std::string format = "text";  // of the printed fleet report: text, json or html
  bool quiet = false;           // no step timings on stderr
};

// Exit status: 0 when the report found every planted deviation and nothing else, 1 when
// it did not, 2 when the demo could not run.
int run_demo(const DemoOptions& options);

}  // namespace tb::cli
