// `barfill status --html FILE`: the coverage picture, one self-contained HTML page (inline CSS,
// SVG cells and a few lines of script; no network, no framework): a heatmap of series x week or
// month, cells classed complete / non-trading / suspicious / missing / failed with hover titles,
// a legend with the totals, series grouped by ticker and complete ones collapsed.
#pragma once

#include <string>

#include "cli/gap_selection.h"
#include "store/bar_store.h"

namespace barfill::cli {

/// At most this many series with problems get a heatmap row; the others are listed by name.
inline constexpr size_t kMostHeatmapRows = 2000;

/// Inspects the selected series of `store` one at a time and writes the page to `path`
/// (through a temporary file renamed into place, so a reader never sees half a page).
Status WriteCoveragePage(BarStore& store, const SelectedSeries& series, const GapSelection& selection, int64_t now_ms,
                         const std::string& path);

/// Whether `path` can take the page: not a directory, in a directory that exists. A kUsage error
/// naming the problem otherwise, so a bad path stops before the database is read.
Status CheckPagePath(const std::string& path);

}  // namespace barfill::cli
