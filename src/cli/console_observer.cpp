#include "cli/console_observer.h"

#include <cstdio>

namespace barfill::cli {
namespace {

constexpr auto kTtyInterval = std::chrono::milliseconds(500);
constexpr auto kLogInterval = std::chrono::seconds(5);

std::string Compact(double n) {
  char buf[32];
  if (n >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  else if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 1e4) std::snprintf(buf, sizeof buf, "%.0fk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

/// Time left if the rest goes as fast as the `settled` of `total` so far.
std::string Eta(double elapsed_s, int64_t settled, int64_t total) {
  if (settled == 0 || settled >= total) return "--";
  const double left = elapsed_s * static_cast<double>(total - settled) / static_cast<double>(settled);
  char buf[32];
  if (left < 100) std::snprintf(buf, sizeof buf, "%.0fs", left);
  else if (left < 6000) {
    const auto whole = static_cast<long long>(left);
    std::snprintf(buf, sizeof buf, "%lldm%02llds", whole / 60, whole % 60);
  }
  else std::snprintf(buf, sizeof buf, "%.1fh", left / 3600);
  return buf;
}

}  // namespace

std::string FormatProgress(const engine::ProgressSnapshot& s) {
  if (s.files_total > 0) {
    const double done = static_cast<double>(s.files_settled) / static_cast<double>(s.files_total);
    const double rate = s.elapsed_s > 0 ? static_cast<double>(s.rows) / s.elapsed_s : 0;
    char buf[512];
    std::snprintf(buf, sizeof buf, "files %lld/%lld (%.1f%%)%s  %.1f MiB  rows %s  %s rows/s  requests %lld  ETA %s",
                  static_cast<long long>(s.files_settled), static_cast<long long>(s.files_total), 100 * done,
                  s.files_failed > 0 ? (" " + std::to_string(s.files_failed) + " failed").c_str() : "",
                  static_cast<double>(s.bytes) / (1 << 20), Compact(static_cast<double>(s.rows)).c_str(),
                  Compact(rate).c_str(), static_cast<long long>(s.requests),
                  Eta(s.elapsed_s, s.files_settled, s.files_total).c_str());
    return buf;
  }
  // The grouped-daily phase settles market days, not ranges.
  const char* unit = s.phase == "grouped daily" ? "days" : "ranges";
  const double pct = s.ranges_total > 0 ? 100.0 * static_cast<double>(s.ranges_settled) / static_cast<double>(s.ranges_total) : 100.0;
  const double rate = s.elapsed_s > 0 ? static_cast<double>(s.rows) / s.elapsed_s : 0;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "series %lld/%lld  %s %lld/%lld (%.1f%%)%s  pages %lld  rows %s  %s rows/s  requests %lld  retries %lld  429s %lld  ETA %s",
                static_cast<long long>(s.series_finished), static_cast<long long>(s.series_total), unit,
                static_cast<long long>(s.ranges_settled), static_cast<long long>(s.ranges_total), pct,
                s.ranges_failed > 0 ? (" " + std::to_string(s.ranges_failed) + " failed").c_str() : "",
                static_cast<long long>(s.pages),
                Compact(static_cast<double>(s.rows)).c_str(), Compact(rate).c_str(),
                static_cast<long long>(s.requests), static_cast<long long>(s.retries),
                static_cast<long long>(s.rate_limited), Eta(s.elapsed_s, s.ranges_settled, s.ranges_total).c_str());
  return buf;
}

ConsoleObserver::ConsoleObserver(bool tty, bool show_progress, std::function<void(size_t)> on_committed)
    : tty_(tty), show_progress_(show_progress), on_committed_(std::move(on_committed)) {}

std::chrono::milliseconds ConsoleObserver::ProgressInterval() const {
  if (!show_progress_) return std::chrono::milliseconds(0);
  return tty_ ? kTtyInterval : std::chrono::duration_cast<std::chrono::milliseconds>(kLogInterval);
}

void ConsoleObserver::OnProgress(const engine::ProgressSnapshot& s) {
  if (!show_progress_) return;
  const std::string line = FormatProgress(s);
  std::lock_guard lock(mutex_);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s %s%s", s.phase.c_str(), line.c_str(), s.final ? "\n" : "");
  } else {
    std::fprintf(stderr, "[%7.1fs] %s %s\n", s.elapsed_s, s.phase.c_str(), line.c_str());
  }
  std::fflush(stderr);
}

void ConsoleObserver::OnWarning(const std::string& line) {
  std::lock_guard lock(mutex_);
  if (!warned_.insert(line).second) return;
  // On its own line even while a live progress line is shown.
  std::fprintf(stderr, "%s%s\n", tty_ ? "\r\033[K" : "", line.c_str());
}

void ConsoleObserver::OnCommitted(size_t pages) {
  if (on_committed_) on_committed_(pages);
}

}  // namespace barfill::cli
