#include "config/scan_config.h"

namespace tb::config {

std::vector<Key> scan_keys(const ScanSettings& s) {
  // A destination given on the command line replaces the file's: -o cancels server.url
  // and --server cancels output.file, so an operator can always redirect one scan.
  return {
      texts("scan.roots", s.scan.roots, {"--root", "roots"}),
      texts("scan.excludes", s.scan.excludes, {"--exclude"}),
      text("scan.sysroot", s.scan.sysroot, {"--sysroot"}),
      boolean("scan.inventory", s.inventory, {"--inventory", "--no-inventory"}),
      boolean("scan.one_file_system", s.scan.one_file_system, {"--one-file-system"}),
      boolean("scan.scan_pseudo_fs", s.scan_pseudo_fs, {"--scan-pseudo-fs"}),
      integer("scan.jobs", s.scan.jobs, 0, 1024, {"--jobs"}),
      boolean("scan.nice", s.nice, {"--nice"}),
      real("scan.max_rate_mb_s", s.scan.max_rate_mb_s, 0, 1e9, {"--max-rate"}),
      integer("scan.max_listed_errors", s.scan.max_listed_errors, 0, 100'000'000, {"--max-listed-errors"}),
      text("output.file", s.output, {"--output", "--server"}),
      text("output.format", s.format, {"--format"}, {"xml", "json"}),
      boolean("output.quiet", s.quiet, {"--quiet"}),
      boolean("output.progress", s.progress, {"--progress"}),
      text("server.url", s.upload.server, {"--server", "--output"}),
      text("server.ca_file", s.upload.tls.ca_file, {"--ca-file", "--output"}),
      texts("server.pins", s.upload.tls.pins, {"--pin", "--output"}),
      text("server.signing_key", s.signing_key, {"--signing-key", "--output"}),
      text("server.token_file", s.token_file, {"--token-file", "--output"}),
      text("server.enrol_token_file", s.enrol_token_file, {"--enrol-token-file", "--output"}),
      text("server.host", s.upload.host, {"--host"}),
      text("server.cluster", s.upload.cluster, {"--cluster", "--output"}),
      text("server.role", s.upload.role, {"--role", "--output"}),
      integer("server.attempts", s.upload.attempts, 1, 100, {"--attempts"}),
      text("server.upload", s.upload_mode, {"--upload", "--output"}, {"chunks", "document"}),
      boolean("verify.enabled", s.verify, {"--verify", "--output"}),
      texts("verify.expect_patches", s.verify_query.expect_patches, {"--expect-patch"}),
      boolean("verify.cluster_identical", s.verify_query.cluster_identical, {"--cluster-identical"}),
      boolean("verify.allow_deviations", s.verify_query.allow_deviations, {"--allow-deviations"}),
  };
}

}  // namespace tb::config
