// Reports of an analysis (a host's scan judged against the signatures): which products
// and patches are installed and in what state, then every deviating file with the
// signatures it belongs to — a remediation list.
#pragma once

#include "core/analysis.h"
#include "core/scan_document.h"
#include "format/byte_sink.h"
#include "format/drift_report.h"

namespace tb {

struct AnalysisContext {
  const ScanHeader* scan = nullptr;
  std::string host;                 // as stored (may differ from the scan's own hostname)
  bool include_absent = false;      // --all: every signature (absent ones too) and every
                                    // deviation; the text report otherwise shows a summary,
                                    // the problems and the largest groups only
  bool verbose = false;             // text: list `replaced` files too (normal patching)
};

Expected<void> write_analysis_report(ReportFormat format, const AnalysisContext& context, const Analysis& analysis,
                                     ByteSink& sink);

}  // namespace tb
