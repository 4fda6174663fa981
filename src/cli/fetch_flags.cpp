#include "cli/fetch_flags.h"

#include <CLI/CLI.hpp>

namespace barfill::cli {

void AddFetchFlags(CLI::App* cmd, engine::RunSettings& s) {
  cmd->add_option("--db", s.db_url, "sqlite:PATH or postgresql://... (default $BARFILL_DB or sqlite:barfill.db)");
  cmd->add_option("--base-url", s.base_url, "API base URL (default https://api.polygon.io; https://api.massive.com works too)");
  cmd->add_option("--api-key", s.api_key, "API key (default $POLYGON_API_KEY or $MASSIVE_API_KEY)");
  cmd->add_flag("--api-key-in-query", s.api_key_in_query, "Send the key as ?apiKey= instead of an Authorization header");
  cmd->add_option("--rate", s.rate, "Request rate: free (5/min), paid (100/s), N/min or N/s (default paid)");
  cmd->add_option("--concurrency", s.concurrency, "Requests in flight, 1..256 (default 8)");
  cmd->add_option("--ca-file", s.ca_file, "Extra CA bundle for TLS (e.g. a self-signed test server)");
  cmd->add_option("--compression", s.compression, "Ask for gzip: auto (default: on, off for a server on this machine), on, off");
  cmd->add_option("--stall-timeout", s.stall_timeout_s, "Seconds a response may stall (under 1 KB/s) before it is retried (default 20, crypto 30)");
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

}  // namespace barfill::cli
