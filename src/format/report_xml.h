// The XML forms of the analysis and drift reports: namespace urn:trustbase:report:1,
// described by schema/report-v1.xsd. Internal to format/: callers go through
// write_analysis_report / write_drift_report with ReportFormat::xml.
//
// Hand-written like the scan writer (no DOM). They carry what the JSON forms carry, with
// the scan document's conventions: raw-byte names as path="text" or path-b64="base64",
// informational text made plain text, times in RFC 3339 UTC with nine fraction digits.
#pragma once

#include <span>
#include <string>

#include "core/analysis.h"
#include "core/diff.h"
#include "format/analysis_report.h"
#include "format/drift_report.h"

namespace tb {

std::string xml_analysis_report(const AnalysisContext& context, const Analysis& analysis);
std::string xml_drift_report(const DriftContext& context, std::span<const DiffEntry> differences);

}  // namespace tb
