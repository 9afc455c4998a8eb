// The report figure (like the paper's Figure 2) as SVG text.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "host/analysis/history_regression.hpp"

namespace rig::analysis {

struct SubjectFit {
  std::string subject;  // label on the panel and in the scatter
  HistoryFit fit;
};

// One numbered panel per subject with its weights by lag for the four outcome types (lines, +-1 SE bars, gaps where a
// weight is missing; a fit that cannot be read (estimability()) shows its reason instead) and a last panel with the
// index scatter across subjects, the paper's Figure 2d (distractor index on x, controllable index on y, 95%
// confidence intervals, the diagonal and the axes through 0; points labelled with the panel numbers; the group
// mean +-1 SE across subjects as a red diamond; unreadable fits left out, with a note). Sizes in SVG user units
// (px).
// Thread-safe (pure). Throws std::invalid_argument when `subjects` is empty.
std::string render_report_svg(std::span<const SubjectFit> subjects, std::string_view title);

}  // namespace rig::analysis
