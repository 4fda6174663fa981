#include "cli/api_flags.h"

#include <CLI/CLI.hpp>

namespace barfill::cli {

void AddDbFlag(CLI::App* cmd, std::string* db_url) {
  cmd->add_option("--db", *db_url, "sqlite:PATH or postgresql://... (default $BARFILL_DB or sqlite:barfill.db)");
}

void AddApiFlags(CLI::App* cmd, engine::RunSettings* run) {
  cmd->add_option("--base-url", run->base_url, "API base URL (default https://api.polygon.io; https://api.massive.com works too)");
  cmd->add_option("--api-key", run->api_key, "API key (default $POLYGON_API_KEY or $MASSIVE_API_KEY)");
  cmd->add_flag("--api-key-in-query", run->api_key_in_query, "Send the key as ?apiKey= instead of an Authorization header");
  cmd->add_option("--rate", run->rate, "Request rate: free (5/min), paid (100/s), N/min or N/s (default paid)");
  cmd->add_option("--concurrency", run->concurrency, "Requests in flight, 1..256 (default 8)");
  cmd->add_option("--ca-file", run->ca_file, "Extra CA bundle for TLS (e.g. a self-signed test server)");
  cmd->add_option("--compression", run->compression, "Ask for gzip: auto (default: on, off for a server on this machine), on, off");
  cmd->add_option("--stall-timeout", run->stall_timeout_s, "Seconds a response may stall (under 1 KB/s) before it is retried (default 20, crypto 30)");
}

void AddActionsFlags(CLI::App* cmd, engine::RunSettings& s, std::string& prefer) {
  cmd->add_option("--prefer", prefer,
                  "Conflicting split rows of one day: none (default: unused until `barfill actions resolve`) or "
                  "price-jump (the row whose ratio the raw prices across the day show)");
  cmd->add_flag("--compare-v3", s.actions.compare_v3,
                "Also read the deprecated /v3/reference/splits and report where it disagrees with v1 (v1 is used)");
  cmd->add_flag("--refresh-stale", s.actions.refresh_stale,
                "Fetch again every stale adjusted range of these tickers now, not only the plan's");
}

Error InFlagTerms(Error error) {
  static constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
      {"concurrency ", "--concurrency "}, {"rate ", "--rate "}, {"base URL ", "--base-url "},
      {"compression ", "--compression "}, {"stall timeout ", "--stall-timeout "}, {"writers ", "--writers "},
      {"refresh sessions ", "--refresh-sessions "}, {"source ", "--source "}, {"files URL ", "--files-url "},
      {"grouped ", "--grouped "}, {"files per transaction ", "--files-per-transaction "}};
  if (error.message.starts_with("no API key given")) {
    error.message = "Polygon API key missing: set POLYGON_API_KEY (or MASSIVE_API_KEY) or pass --api-key (flat files alone: --source files)";
    return error;
  }
  for (const auto& [setting, flag] : kFlags) {
    if (error.message.starts_with(setting)) {
      error.message = std::string(flag) + error.message.substr(setting.size());
      break;
    }
  }
  return error;
}

}  // namespace barfill::cli
