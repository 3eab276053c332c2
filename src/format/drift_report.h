// Reports of the differences between two manifests (a host against another host, or
// against a reference snapshot), as text for people and JSON for programs.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/diff.h"
#include "core/scan_document.h"
#include "format/byte_sink.h"

namespace tb {

enum class ReportFormat { text, json, xml };  // xml: schema/report-v1.xsd
// "text", "json" or "xml"; nullopt for anything else.
std::optional<ReportFormat> report_format_from_string(std::string_view name) noexcept;

// What was compared with what: the header facts of both scans and the attributes compared.
struct DriftContext {
  const ScanHeader* before = nullptr;  // the reference side
  const ScanHeader* after = nullptr;   // the side under examination
  AttrSet compared;
};

Expected<void> write_drift_report(ReportFormat format, const DriftContext& context,
                                  std::span<const DiffEntry> differences, ByteSink& sink);

// A path made safe for a terminal: bytes that are not plain text become \xNN escapes
// (and a backslash becomes \\), so a hostile name cannot rewrite the operator's screen.
std::string printable(std::string_view bytes);

}  // namespace tb
