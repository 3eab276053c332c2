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
  bool include_absent = false;      // list signatures that are not installed at all
};

Expected<void> write_analysis_report(ReportFormat format, const AnalysisContext& context, const Analysis& analysis,
                                     ByteSink& sink);

// True when the host matches what is installed: no signature partial or tampered, no
// deviating file, and no package its package manager lists at a version its files deny. (Expected states per stage come with the fleet issue.)
bool analysis_is_clean(const Analysis& analysis);

}  // namespace tb
