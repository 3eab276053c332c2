// `trustbase import --watch DIR`: a feed directory polled for new packages, each
// imported once (sources/feed.h); and the lines a poll prints, shared with
// `trustbase serve --feed DIR`.
#pragma once

#include <string>
#include <vector>

#include "cli/store_commands.h"
#include "sources/feed.h"

namespace tb {

// One line per imported or failed file, then the poll's summary; nothing for a poll
// that found nothing new.
std::vector<std::string> feed_poll_lines(const FeedPoll& poll);

// Polls until SIGTERM or SIGINT (or once, with --once). Exit status: 0 ok; 1 with --once,
// some package failed; 2 usage error, unusable store or feed directory.
int run_import_watch(const StoreArgs& store, const ImportArgs& args);

}  // namespace tb
