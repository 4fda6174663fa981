// How a finished run is shown: the human report and the JSON one (--report-json).
#pragma once

#include <cstdint>
#include <string>

#include "engine/report.h"

namespace barfill::cli {

/// 1234567 -> "1,234,567".
std::string Thousands(int64_t n);

/// The human report printed at the end of a run.
std::string FormatReport(const engine::RunReport& report);

/// The report as JSON, with its outcome and the process exit code, for --report-json.
std::string ReportToJson(const engine::RunReport& report);

}  // namespace barfill::cli
