// `rig report --csv FILE... --out DIR`: the Figure 2 style report (weights by lag per subject, index scatter)
// as DIR/report.svg and DIR/report.png. (`--subject ID` from the session store comes with the store.)
#include <CLI/CLI.hpp>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "command_registry.hpp"
#include "group_report.hpp"
#include "host/store/store.hpp"
#include "run_support.hpp"
#include "host/analysis/history_regression.hpp"
#include "host/analysis/report_svg.hpp"
#include "host/analysis/trial_csv.hpp"

extern char** environ;

namespace {

namespace analysis = rig::analysis;

struct ReportArguments {
  std::vector<std::string> csv_paths;
  std::vector<std::string> subjects;  // from the session database; "all" = every subject in it
  std::string db_path;
  std::string out_dir;
  std::string title = "Trial-history regression";
  int lags = analysis::kDefaultLags;
  double l2 = 0.0;
};

analysis::SubjectFit fit_subject(const std::string& path, const analysis::FitOptions& options) {
  const std::string text = rig::app::read_file(path, rig::app::kMaxDataFileBytes);
  try {
    return {std::filesystem::path(path).stem().string(),
            analysis::fit_history(analysis::parse_trials_csv(text), options)};
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

// Runs rsvg-convert (Debian librsvg2-bin) without a shell; returns its exit status, or -1 if it cannot start.
int convert_to_png(const std::string& svg_path, const std::string& png_path) {
  std::vector<std::string> argv_text{"rsvg-convert", "--format=png", "--output", png_path, svg_path};
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_report(const ReportArguments& args) {
  std::vector<analysis::SubjectFit> subjects;
  try {
    const analysis::FitOptions options = analysis::validated({.lags = args.lags, .l2 = args.l2});
    for (const auto& path : args.csv_paths) subjects.push_back(fit_subject(path, options));
    if (!args.subjects.empty()) {
      const auto db = rig::store::Store::open(args.db_path, rig::store::OpenOptions{.read_only = true, .clock_unix_us = {}});
      std::vector<std::string> ids = args.subjects;
      if (ids.size() == 1 && ids[0] == "all") {
        ids.clear();
        for (const auto& session : db.sessions()) {
          if (std::find(ids.begin(), ids.end(), session.subject_id) == ids.end()) ids.push_back(session.subject_id);
        }
      }
      for (const auto& id : ids) {
        const std::vector<analysis::TrialRecord> trials = rig::app::subject_history(db, id);
        if (trials.empty()) throw std::invalid_argument(args.db_path + ": no trials of subject '" + id + "'");
        subjects.push_back({id, analysis::fit_history(trials, options)});
      }
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "rig report: %s\n", e.what());
    return rig::app::kExitInvalid;
  } catch (const rig::app::InputError& e) {
    std::fprintf(stderr, "rig report: %s\n", e.what());
    return rig::app::kExitInvalid;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rig report: %s\n", e.what());
    return rig::app::kExitFailure;
  }
  for (const auto& s : subjects) {
    if (const auto state = analysis::estimability(s.fit); !state.estimable) {
      std::fprintf(stderr, "rig report: %s: %s (drawn without weights, left out of the scatter)\n", s.subject.c_str(),
                   state.reason.c_str());
    }
  }
  const std::filesystem::path dir(args.out_dir);
  std::filesystem::create_directories(dir);
  const std::string svg_path = (dir / "report.svg").string();
  const std::string png_path = (dir / "report.png").string();
  {
    std::ofstream out(svg_path, std::ios::binary);
    out << analysis::render_report_svg(subjects, args.title);
    if (!out) throw std::runtime_error("cannot write " + svg_path);
  }
  const int status = convert_to_png(svg_path, png_path);
  if (status != 0) {
    std::fprintf(stderr, "rig report: wrote %s, but rsvg-convert failed (%d); run scripts/setup for librsvg2-bin\n",
                 svg_path.c_str(), status);
    return rig::app::kExitFailure;
  }
  // Several subjects: the numbers behind the scatter, as `rig fit --subject ...` prints them.
  if (subjects.size() > 1) {
    std::vector<rig::app::FittedSubject> fits;
    for (const auto& s : subjects) fits.push_back({s.subject, s.fit, std::nullopt});
    rig::app::report_group(fits, false, 0);
    std::printf("\n");
  }
  std::printf("%s\n%s\n", svg_path.c_str(), png_path.c_str());
  return rig::app::kExitOk;
}

const rig::app::CommandRegistration kReportRegistration{
    "report", "Draw the weights-by-lag and index-scatter figure (SVG and PNG) for one or more subjects",
    [](CLI::App& command) {
      auto args = std::make_shared<ReportArguments>();
      auto* csv = command.add_option("--csv", args->csv_paths, "Trial CSV per subject (the file name is the subject's label)")
                      ->check(CLI::ExistingFile);
      auto* subject = command.add_option("--subject", args->subjects,
                                         "Subject id(s) from the session database, or 'all'");
      args->db_path = rig::store::Store::default_path();
      command.add_option("--db", args->db_path, "Session database (with --subject)")->capture_default_str();
      command.callback([csv, subject] {
        if (csv->count() == 0 && subject->count() == 0) throw CLI::ValidationError("give --subject ID... or --csv FILE...");
      });
      command.add_option("--out", args->out_dir, "Directory for report.svg and report.png")->required();
      command.add_option("--title", args->title, "Figure title")->capture_default_str();
      command.add_option("--lags", args->lags, "Trials of history per outcome type")
          ->check(CLI::Range(1, analysis::kMaxLags))
          ->capture_default_str();
      command.add_option("--l2", args->l2, "Ridge penalty on the weights; 0 = maximum likelihood")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      return [args] { return run_report(*args); };
    }};

}  // namespace
