// The corporate-actions tables and the adjusted views, in both dialects (docs/corporate-actions.md).
// A fresh database gets them with the rest of the schema; an older one through the migration step
// below. The views compute split-adjusted prices with exactly the operations of
// SplitAdjustedPrice (core/corporate_actions.h), so SQL, `barfill export` and the simulator agree.
#pragma once

#include <array>
#include <string_view>

#include "store/sql_session.h"

namespace barfill::store {

inline constexpr std::string_view kActionsWhat =
    "corporate actions: tables splits, dividends, split_overrides, barfill_actions_sync and "
    "barfill_adjustment_factors, views bars_split_adjusted and bars_total_return, and ledger ranges can be stale";

// Per dialect: time columns as the bars table has them, and how an adjusted price is rounded
// (trunc(x * 10^4 + 0.5) / 10^4 in doubles; SQLite's CAST AS INTEGER truncates the same way).
#define BARFILL_ACTIONS_TABLES(TS, REAL, BOOL, ROUND_OPEN, ROUND_HIGH, ROUND_LOW, ROUND_CLOSE, ROUND_VWAP, F8)    \
  "CREATE TABLE IF NOT EXISTS splits (id text PRIMARY KEY, ticker text NOT NULL, execution_date text NOT NULL, "  \
  "split_from " REAL ", split_to " REAL ", adjustment_type text, vendor_factor " REAL ", "                       \
  "exponent_form " BOOL " NOT NULL, status text NOT NULL, status_reason text, first_seen " TS " NOT NULL, "      \
  "last_seen " TS " NOT NULL)",                                                                                   \
      "CREATE INDEX IF NOT EXISTS splits_by_ticker ON splits (ticker, execution_date)",                         \
      "CREATE TABLE IF NOT EXISTS dividends (id text PRIMARY KEY, ticker text NOT NULL, cash_amount " REAL       \
      ", currency text, declaration_date text, ex_dividend_date text NOT NULL, record_date text, pay_date text, " \
      "frequency bigint, distribution_type text, split_adjusted_cash_amount " REAL ", vendor_factor " REAL       \
      ", exponent_form " BOOL " NOT NULL, own_factor " REAL ", status text NOT NULL, status_reason text, "       \
      "first_seen " TS " NOT NULL, last_seen " TS " NOT NULL)",                                                  \
      "CREATE INDEX IF NOT EXISTS dividends_by_ticker ON dividends (ticker, ex_dividend_date)",                 \
      "CREATE TABLE IF NOT EXISTS split_overrides (split_id text PRIMARY KEY, decision text NOT NULL "           \
      "CHECK (decision IN ('use', 'ignore')), note text, decided_at " TS " NOT NULL)",                           \
      "CREATE TABLE IF NOT EXISTS barfill_actions_sync (ticker text PRIMARY KEY, synced_at " TS " NOT NULL, "   \
      "splits bigint NOT NULL, dividends bigint NOT NULL, flagged bigint NOT NULL)",                             \
      "CREATE TABLE IF NOT EXISTS barfill_adjustment_factors (ticker text NOT NULL, from_ts " TS " NOT NULL, "   \
      "to_ts " TS " NOT NULL, split_price " REAL " NOT NULL, split_volume " REAL " NOT NULL, dividend " REAL     \
      " NOT NULL, PRIMARY KEY (ticker, from_ts))",                                                               \
      "CREATE VIEW bars_split_adjusted AS SELECT b.ticker, b.timeframe, b.ts, "                                  \
      "CASE WHEN f.ticker IS NULL THEN b.open ELSE " ROUND_OPEN " END AS open, "                                 \
      "CASE WHEN f.ticker IS NULL THEN b.high ELSE " ROUND_HIGH " END AS high, "                                 \
      "CASE WHEN f.ticker IS NULL THEN b.low ELSE " ROUND_LOW " END AS low, "                                    \
      "CASE WHEN f.ticker IS NULL THEN b.close ELSE " ROUND_CLOSE " END AS close, "                              \
      "CASE WHEN f.ticker IS NULL THEN b.volume ELSE b.volume * f.split_volume END AS volume, "                  \
      "CASE WHEN f.ticker IS NULL OR b.vwap IS NULL THEN b.vwap ELSE " ROUND_VWAP " END AS vwap, b.trades "      \
      "FROM bars b LEFT JOIN barfill_adjustment_factors f ON f.ticker = b.ticker AND b.ts >= f.from_ts AND "     \
      "b.ts < f.to_ts WHERE b.adjusted = " F8,                                                                   \
      "CREATE VIEW bars_total_return AS SELECT b.ticker, b.timeframe, b.ts, "                                    \
      "coalesce(b.open * f.split_price * f.dividend, b.open) AS open, "                                          \
      "coalesce(b.high * f.split_price * f.dividend, b.high) AS high, "                                          \
      "coalesce(b.low * f.split_price * f.dividend, b.low) AS low, "                                             \
      "coalesce(b.close * f.split_price * f.dividend, b.close) AS close, "                                       \
      "coalesce(b.volume * f.split_volume, b.volume) AS volume, "                                                \
      "CASE WHEN f.ticker IS NULL THEN b.vwap ELSE b.vwap * f.split_price * f.dividend END AS vwap, b.trades "   \
      "FROM bars b LEFT JOIN barfill_adjustment_factors f ON f.ticker = b.ticker AND b.ts >= f.from_ts AND "     \
      "b.ts < f.to_ts WHERE b.adjusted = " F8

#define BARFILL_PG_ROUND(column) "trunc(b." column " * f.split_price * 10000::float8 + 0.5::float8) / 10000::float8"
#define BARFILL_SQLITE_ROUND(column) "CAST(b." column " * f.split_price * 10000.0 + 0.5 AS INTEGER) / 10000.0"

inline constexpr std::array<std::string_view, 9> kPostgresActionsTables = {
    BARFILL_ACTIONS_TABLES("timestamptz", "double precision", "boolean", BARFILL_PG_ROUND("open"),
                           BARFILL_PG_ROUND("high"), BARFILL_PG_ROUND("low"), BARFILL_PG_ROUND("close"),
                           BARFILL_PG_ROUND("vwap"), "false")};
inline constexpr std::array<std::string_view, 9> kSqliteActionsTables = {
    BARFILL_ACTIONS_TABLES("INTEGER", "REAL", "INTEGER", BARFILL_SQLITE_ROUND("open"), BARFILL_SQLITE_ROUND("high"),
                           BARFILL_SQLITE_ROUND("low"), BARFILL_SQLITE_ROUND("close"), BARFILL_SQLITE_ROUND("vwap"),
                           "0")};

#undef BARFILL_PG_ROUND
#undef BARFILL_SQLITE_ROUND
#undef BARFILL_ACTIONS_TABLES

/// The ledger's state check with 'stale' (ranges whose adjusted bars a changed split made wrong).
inline constexpr std::array<std::string_view, 2> kPostgresLedgerStale = {
    "ALTER TABLE barfill_ledger DROP CONSTRAINT IF EXISTS barfill_ledger_state_check",
    "ALTER TABLE barfill_ledger ADD CONSTRAINT barfill_ledger_state_check CHECK (state IN ('done', 'failed', "
    "'empty', 'stale'))",
};
/// SQLite cannot change a check: the ledger is copied into a table that has the new one.
inline constexpr std::array<std::string_view, 4> kSqliteLedgerStale = {
    "CREATE TABLE barfill_ledger_stale (ticker TEXT NOT NULL, timeframe TEXT NOT NULL, "
    "adjusted INTEGER NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL, "
    "state TEXT NOT NULL CHECK (state IN ('done', 'failed', 'empty', 'stale')), rows INTEGER NOT NULL, "
    "attempts INTEGER NOT NULL, last_error TEXT, updated_at INTEGER NOT NULL, "
    "requests INTEGER NOT NULL DEFAULT 0, base_aggregates INTEGER, "
    "PRIMARY KEY (ticker, timeframe, adjusted, from_ts, to_ts)) WITHOUT ROWID",
    "INSERT INTO barfill_ledger_stale SELECT ticker, timeframe, adjusted, from_ts, to_ts, state, rows, attempts, "
    "last_error, updated_at, requests, base_aggregates FROM barfill_ledger",
    "DROP TABLE barfill_ledger",
    "ALTER TABLE barfill_ledger_stale RENAME TO barfill_ledger",
};

/// `a` then `b`, as one array (a schema made of parts).
template <size_t N, size_t M>
constexpr std::array<std::string_view, N + M> JoinStatements(const std::array<std::string_view, N>& a,
                                                             const std::array<std::string_view, M>& b) {
  std::array<std::string_view, N + M> out{};
  for (size_t i = 0; i < N; ++i) out[i] = a[i];
  for (size_t i = 0; i < M; ++i) out[N + i] = b[i];
  return out;
}

}  // namespace barfill::store
