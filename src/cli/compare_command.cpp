#include "cli/compare_command.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/diff.h"
#include "format/drift_report.h"
#include "format/scan_reader.h"

namespace tb {

namespace {

constexpr int kIdentical = 0, kDifferent = 1, kError = 2;

Expected<ScanDocument> load(const std::string& path) { return parse_scan_file(path); }

}  // namespace

CLI::App* add_compare_command(CLI::App& app, CompareArgs& args) {
  CLI::App* cmd = app.add_subcommand("compare", "Compare two scans file by file (reference, then examined)");
  cmd->add_option("reference", args.reference, "Reference scan document (XML or JSON)")->required();
  cmd->add_option("examined", args.examined, "Scan document to examine against it")->required();
  cmd->add_option("--ignore", args.ignore,
                  "Attributes left out, comma-separated: type,size,mode,uid,gid,mtime,content,target "
                  "(default: mtime, which differs between hosts deployed at different times)");
  cmd->add_option("--format", args.format, "Report format")->check(CLI::IsMember({"text", "json", "xml"}));
  return cmd;
}

int run_compare(const CompareArgs& args) {
  const auto ignored = parse_attr_list(args.ignore);
  if (!ignored) {
    fmt::print(stderr, "trustbase compare: unknown attribute in --ignore '{}'\n", args.ignore);
    return kError;
  }
  AttrSet compared;
  for (Attr a : {Attr::type, Attr::size, Attr::mode, Attr::uid, Attr::gid, Attr::mtime, Attr::sha256, Attr::link_target})
    if (!ignored->has(a)) compared |= a;

  auto reference = load(args.reference);
  if (!reference) {
    fmt::print(stderr, "trustbase compare: {}\n", reference.error().message);
    return kError;
  }
  auto examined = load(args.examined);
  if (!examined) {
    fmt::print(stderr, "trustbase compare: {}\n", examined.error().message);
    return kError;
  }
  const std::vector<DiffEntry> differences = diff(reference->manifest, examined->manifest, compared);
  FdSink out(STDOUT_FILENO);
  const DriftContext context{&reference->header, &examined->header, compared | Attr::type};
  if (auto st = write_drift_report(report_format_from_string(args.format).value_or(ReportFormat::text), context,
                                   differences, out);
      !st) {
    fmt::print(stderr, "trustbase compare: {}\n", st.error().message);
    return kError;
  }
  return differences.empty() ? kIdentical : kDifferent;
}

}  // namespace tb
