#include "support/statsmodels_reference.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "host/analysis/trial_csv.hpp"
#include "support/run_command.hpp"

namespace rig::analysis::test_support {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string run(const std::string& command, int& status) {
  auto r = rig::testing::run_command(command);
  status = r.exit_code;
  return std::move(r.output);
}

std::string exact(double x) {
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.17g", x);
  return buffer.data();
}

}  // namespace

bool statsmodels_available() {
  int status = 0;
  run(std::string(kPython) + " -c 'import statsmodels, pandas' 2>/dev/null", status);
  return status == 0;
}

StatsmodelsFit statsmodels_fit(std::span<const TrialRecord> trials, int lags, const StatsmodelsOptions& options) {
  static std::atomic<int> counter{0};
  const auto path = std::filesystem::temp_directory_path() /
                    ("rig-analysis-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".csv");
  {
    std::ofstream file(path);
    file << trials_to_csv(trials);
    if (!file) throw std::runtime_error("cannot write " + path.string());
  }
  int status = 0;
  const std::string out = run(std::string(kPython) + " " + RIG_STATSMODELS_SCRIPT + " " + path.string() +
                                  " --lags " + std::to_string(lags) + " --tol " + exact(options.tolerance) +
                                  " --repeat " + std::to_string(options.repeat),
                              status);
  std::filesystem::remove(path);
  if (status != 0) throw std::runtime_error("statsmodels_fit.py failed (status " + std::to_string(status) + ")");
  const auto j = nlohmann::json::parse(out);
  StatsmodelsFit fit;
  fit.columns = j.at("columns").get<std::vector<std::string>>();
  fit.params = j.at("params").get<std::map<std::string, double>>();
  fit.bse = j.at("bse").get<std::map<std::string, double>>();
  fit.llf = j.at("llf").get<double>();
  fit.n = j.at("n").get<std::size_t>();
  fit.converged = j.at("converged").get<bool>();
  fit.fit_seconds = j.at("fit_seconds").get<double>();
  return fit;
}

}  // namespace rig::analysis::test_support
