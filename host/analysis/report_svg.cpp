#include "host/analysis/report_svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace rig::analysis {
namespace {

constexpr double kPanelWidthPx = 320;
constexpr double kPanelHeightPx = 260;
constexpr double kMarginLeftPx = 52, kMarginRightPx = 14, kMarginTopPx = 30, kMarginBottomPx = 40;
constexpr double kTitleHeightPx = 34;
constexpr int kPanelsPerRow = 3;
constexpr double kCi95 = 1.959963984540054;  // the normal 97.5% quantile: a 95% confidence interval is +- this SE
constexpr std::array<const char*, kOutcomeTypeCount> kTypeColours{"#555555", "#1f77b4", "#ff7f0e", "#9467bd"};

std::string fmt(double x) {
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.4g", std::abs(x) < 1e-12 ? 0.0 : x);
  return buffer.data();
}

std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A "nice" tick spacing (1, 2 or 5 times a power of ten) giving about 4-8 ticks over `span`.
double tick_step(double span) {
  const double raw = span / 5.0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * power) return m * power;
  }
  return 10.0 * power;
}

// A symmetric range [-r, r] holding every value, at least [-1, 1], rounded out to a tick.
double symmetric_limit(double max_abs) {
  const double limit = std::max(1.0, max_abs * 1.1);
  const double step = tick_step(2 * limit);
  return std::ceil(limit / step) * step;
}

// Maps data to pixels inside one panel whose top-left corner is (x0, y0).
struct Panel {
  double x0, y0, x_min, x_max, y_min, y_max;
  double px(double x) const {
    return x0 + kMarginLeftPx + (x - x_min) / (x_max - x_min) * (kPanelWidthPx - kMarginLeftPx - kMarginRightPx);
  }
  double py(double y) const {
    return y0 + kMarginTopPx +
           (y_max - y) / (y_max - y_min) * (kPanelHeightPx - kMarginTopPx - kMarginBottomPx);
  }
};

void line(std::string& svg, double x1, double y1, double x2, double y2, std::string_view style) {
  svg += "<line x1=\"" + fmt(x1) + "\" y1=\"" + fmt(y1) + "\" x2=\"" + fmt(x2) + "\" y2=\"" + fmt(y2) + "\" " +
         std::string(style) + "/>\n";
}

void text(std::string& svg, double x, double y, std::string_view content, std::string_view attributes) {
  svg += "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" " + std::string(attributes) + ">" + escape(content) +
         "</text>\n";
}

// Frame, ticks, tick labels, axis labels and title of a panel.
void axes(std::string& svg, const Panel& p, std::span<const double> x_ticks, std::string_view x_label,
          std::string_view y_label, std::string_view title) {
  const double left = p.px(p.x_min), right = p.px(p.x_max), top = p.py(p.y_max), bottom = p.py(p.y_min);
  svg += "<rect x=\"" + fmt(left) + "\" y=\"" + fmt(top) + "\" width=\"" + fmt(right - left) + "\" height=\"" +
         fmt(bottom - top) + "\" fill=\"none\" stroke=\"#000\"/>\n";
  for (const double x : x_ticks) {
    line(svg, p.px(x), bottom, p.px(x), bottom + 4, "stroke=\"#000\"");
    text(svg, p.px(x), bottom + 16, fmt(x), "font-size=\"11\" text-anchor=\"middle\"");
  }
  const double step = tick_step(p.y_max - p.y_min);
  for (double y = std::ceil(p.y_min / step) * step; y <= p.y_max + 1e-9; y += step) {
    line(svg, left - 4, p.py(y), left, p.py(y), "stroke=\"#000\"");
    text(svg, left - 6, p.py(y) + 4, fmt(y), "font-size=\"11\" text-anchor=\"end\"");
  }
  text(svg, (left + right) / 2, bottom + 32, x_label, "font-size=\"12\" text-anchor=\"middle\"");
  const double mid_y = (top + bottom) / 2;
  svg += "<text x=\"" + fmt(p.x0 + 14) + "\" y=\"" + fmt(mid_y) + "\" font-size=\"12\" text-anchor=\"middle\" " +
         "transform=\"rotate(-90 " + fmt(p.x0 + 14) + " " + fmt(mid_y) + ")\">" + escape(y_label) + "</text>\n";
  text(svg, (left + right) / 2, p.y0 + 18, title, "font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\"");
}

// "3. name", cut to what fits a panel's title line.
std::string panel_title(std::size_t number, std::string_view subject) {
  constexpr std::size_t kMaxChars = 40;
  std::string title = std::to_string(number) + ". " + std::string(subject);
  if (title.size() > kMaxChars) title = title.substr(0, kMaxChars - 3) + "...";
  return title;
}

void weights_panel(std::string& svg, double x0, double y0, const SubjectFit& subject, std::size_t number,
                   bool legend) {
  const HistoryFit& fit = subject.fit;
  double max_abs = 0.0;
  for (const auto& by_lag : fit.weights) {
    for (const auto& w : by_lag) {
      if (w && std::isfinite(w->value)) max_abs = std::max(max_abs, std::abs(w->value) + (std::isfinite(w->se) ? w->se : 0.0));
    }
  }
  const double limit = symmetric_limit(max_abs);
  const Panel p{x0, y0, 0.5, fit.lags + 0.5, -limit, limit};
  std::vector<double> ticks;
  for (int k = 1; k <= fit.lags; ++k) ticks.push_back(k);
  axes(svg, p, ticks, "trials back", "weight (log-odds)", panel_title(number, subject.subject));
  line(svg, p.px(p.x_min), p.py(0), p.px(p.x_max), p.py(0), "stroke=\"#999\" stroke-dasharray=\"4 3\"");
  // A fit that cannot be read says so instead of drawing numbers that mean nothing.
  if (const auto state = estimability(fit); !state.estimable) {
    text(svg, p.px(p.x_min) + 6, p.py(limit) + 14, state.reason, "font-size=\"10\" fill=\"#d62728\"");
    return;
  }
  for (int type = 0; type < kOutcomeTypeCount; ++type) {
    const auto& by_lag = fit.weights[static_cast<std::size_t>(type)];
    const std::string colour = kTypeColours[static_cast<std::size_t>(type)];
    std::string points;
    auto flush = [&] {
      if (!points.empty()) {
        svg += "<polyline fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\" points=\"" + points + "\"/>\n";
      }
      points.clear();
    };
    for (int k = 1; k <= fit.lags; ++k) {
      const auto& w = by_lag[static_cast<std::size_t>(k - 1)];
      if (!w || !std::isfinite(w->value)) {
        flush();
        continue;
      }
      const double x = p.px(k + 0.06 * (type - 1.5));  // a small dodge keeps the error bars apart
      points += fmt(x) + "," + fmt(p.py(w->value)) + " ";
      if (std::isfinite(w->se)) {
        line(svg, x, p.py(std::max(-limit, w->value - w->se)), x, p.py(std::min(limit, w->value + w->se)),
             "stroke=\"" + colour + "\"");
      }
      svg += "<circle cx=\"" + fmt(x) + "\" cy=\"" + fmt(p.py(w->value)) + "\" r=\"3\" fill=\"" + colour + "\"/>\n";
    }
    flush();
    if (legend) {
      const double ly = p.py(limit) + 14 + 14 * type;
      line(svg, p.px(p.x_max) - 96, ly - 4, p.px(p.x_max) - 80, ly - 4, "stroke=\"" + colour + "\" stroke-width=\"2\"");
      text(svg, p.px(p.x_max) - 76, ly, outcome_name(static_cast<OutcomeType>(type)), "font-size=\"11\"");
    }
  }
}

// The indices of a subject the scatter can show: a readable fit with a controllable index (the distractor index
// may be missing: no distractor ever delivered).
bool in_scatter(const SubjectFit& s) {
  return estimability(s.fit).estimable && s.fit.controllable_index && std::isfinite(s.fit.controllable_index->value);
}

void scatter_panel(std::string& svg, double x0, double y0, std::span<const SubjectFit> subjects) {
  double max_abs = 0.0;
  for (const auto& s : subjects) {
    if (!in_scatter(s)) continue;
    for (const auto* e : {&s.fit.controllable_index, &s.fit.distractor_index}) {
      if (*e && std::isfinite((*e)->value)) {
        max_abs = std::max(max_abs, std::abs((*e)->value) + (std::isfinite((*e)->se) ? kCi95 * (*e)->se : 0.0));
      }
    }
  }
  const double limit = symmetric_limit(max_abs);
  const Panel p{x0, y0, -limit, limit, -limit, limit};
  std::vector<double> ticks;
  const double step = tick_step(2 * limit);
  for (double x = -limit; x <= limit + 1e-9; x += step) ticks.push_back(x);
  axes(svg, p, ticks, "distractor index", "controllable index", "indices across subjects (95% CI)");
  line(svg, p.px(-limit), p.py(0), p.px(limit), p.py(0), "stroke=\"#999\"");
  line(svg, p.px(0), p.py(-limit), p.px(0), p.py(limit), "stroke=\"#999\"");
  line(svg, p.px(-limit), p.py(-limit), p.px(limit), p.py(limit), "stroke=\"#999\" stroke-dasharray=\"4 3\"");
  const auto clamp = [&](double v) { return std::clamp(v, -limit, limit); };
  std::vector<double> group_c, group_d;
  int left_out = 0;
  for (std::size_t number = 1; number <= subjects.size(); ++number) {
    const SubjectFit& s = subjects[number - 1];
    if (!in_scatter(s)) {
      ++left_out;
      continue;
    }
    const auto& c = s.fit.controllable_index;
    // A subject without a distractor index (no distractor ever delivered) sits on x = 0, drawn hollow.
    const auto& d = s.fit.distractor_index;
    const bool has_d = d && std::isfinite(d->value);
    const double x = has_d ? d->value : 0.0;
    if (has_d) {
      group_c.push_back(c->value);
      group_d.push_back(d->value);
    }
    if (std::isfinite(c->se)) {
      line(svg, p.px(x), p.py(clamp(c->value - kCi95 * c->se)), p.px(x), p.py(clamp(c->value + kCi95 * c->se)),
           "stroke=\"#1f77b4\"");
    }
    if (has_d && std::isfinite(d->se)) {
      line(svg, p.px(clamp(x - kCi95 * d->se)), p.py(c->value), p.px(clamp(x + kCi95 * d->se)), p.py(c->value),
           "stroke=\"#ff7f0e\"");
    }
    svg += "<circle cx=\"" + fmt(p.px(x)) + "\" cy=\"" + fmt(p.py(c->value)) + "\" r=\"4\" " +
           (has_d ? "fill=\"#000\"" : "fill=\"#fff\" stroke=\"#000\"") + "/>\n";
    // Points carry the panel numbers: names would overlap where subjects are close.
    text(svg, p.px(x) + 6, p.py(c->value) - 6, std::to_string(number), "font-size=\"10\"");
  }
  // The group mean (over subjects with both indices), +-1 SE across subjects, as a red diamond.
  if (!group_c.empty()) {
    const auto mean_se = [](const std::vector<double>& v) {
      double mean = 0.0;
      for (double x : v) mean += x / static_cast<double>(v.size());
      double squares = 0.0;
      for (double x : v) squares += (x - mean) * (x - mean);
      const double se = v.size() > 1 ? std::sqrt(squares / static_cast<double>(v.size() - 1) / static_cast<double>(v.size())) : 0.0;
      return std::pair{mean, se};
    };
    const auto [mc, sc] = mean_se(group_c);
    const auto [md, sd] = mean_se(group_d);
    line(svg, p.px(md), p.py(clamp(mc - sc)), p.px(md), p.py(clamp(mc + sc)), "stroke=\"#d62728\" stroke-width=\"2\"");
    line(svg, p.px(clamp(md - sd)), p.py(mc), p.px(clamp(md + sd)), p.py(mc), "stroke=\"#d62728\" stroke-width=\"2\"");
    const double cx = p.px(md), cy = p.py(mc);
    svg += "<polygon points=\"" + fmt(cx) + "," + fmt(cy - 7) + " " + fmt(cx + 7) + "," + fmt(cy) + " " + fmt(cx) + "," +
           fmt(cy + 7) + " " + fmt(cx - 7) + "," + fmt(cy) + "\" fill=\"#d62728\"/>\n";
    text(svg, p.px(-limit) + 6, p.py(limit) + 14,
         "red: mean of " + std::to_string(group_c.size()) + " (+-1 SE across subjects)", "font-size=\"10\" fill=\"#d62728\"");
  }
  if (left_out > 0) {
    text(svg, p.px(-limit) + 6, p.py(limit) + 28,
         std::to_string(left_out) + " not shown: fit not readable yet (see the panels)", "font-size=\"10\"");
  }
}

}  // namespace

std::string render_report_svg(std::span<const SubjectFit> subjects, std::string_view title) {
  if (subjects.empty()) throw std::invalid_argument("the report needs at least one subject");
  const int panels = static_cast<int>(subjects.size()) + 1;
  const int columns = std::min(panels, kPanelsPerRow);
  const int rows = (panels + columns - 1) / columns;
  const double width = columns * kPanelWidthPx;
  const double height = kTitleHeightPx + rows * kPanelHeightPx;
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    fmt(width) + "\" height=\"" + fmt(height) + "\" viewBox=\"0 0 " + fmt(width) + " " + fmt(height) +
                    "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  text(svg, width / 2, 22, title, "font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\"");
  for (int i = 0; i < panels; ++i) {
    const double x0 = (i % columns) * kPanelWidthPx;
    const double y0 = kTitleHeightPx + (i / columns) * kPanelHeightPx;
    if (i + 1 < panels) {
      weights_panel(svg, x0, y0, subjects[static_cast<std::size_t>(i)], static_cast<std::size_t>(i) + 1, i == 0);
    } else {
      scatter_panel(svg, x0, y0, subjects);
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace rig::analysis
