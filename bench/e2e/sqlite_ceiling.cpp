// The SQLite ceiling for the end-to-end benchmark: the same rows barfill stored, read into
// memory, then inserted into a fresh file with one prepared INSERT in one transaction (the
// fastest way SQLite loads rows, docs/design.md §12). Prints rows and seconds as JSON.
//   sqlite_ceiling SOURCE.db TARGET.db
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct Row {
  std::string ticker;
  std::string timeframe;
  int64_t adjusted, ts;
  double open, high, low, close, volume, vwap;
  int64_t trades;
  bool has_vwap, has_trades;
};

int Exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite_ceiling: %s: %s\n", sql, message);
    sqlite3_free(message);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: sqlite_ceiling SOURCE.db TARGET.db\n");
    return 2;
  }
  sqlite3* src = nullptr;
  if (sqlite3_open_v2(argv[1], &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return 1;
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(src,
                     "SELECT ticker, timeframe, adjusted, ts, open, high, low, close, volume, vwap, trades "
                     "FROM bars ORDER BY ticker, timeframe, adjusted, ts",
                     -1, &select, nullptr);
  std::vector<Row> rows;
  while (sqlite3_step(select) == SQLITE_ROW) {
    Row r;
    r.ticker = reinterpret_cast<const char*>(sqlite3_column_text(select, 0));
    r.timeframe = reinterpret_cast<const char*>(sqlite3_column_text(select, 1));
    r.adjusted = sqlite3_column_int64(select, 2);
    r.ts = sqlite3_column_int64(select, 3);
    r.open = sqlite3_column_double(select, 4);
    r.high = sqlite3_column_double(select, 5);
    r.low = sqlite3_column_double(select, 6);
    r.close = sqlite3_column_double(select, 7);
    r.volume = sqlite3_column_double(select, 8);
    r.has_vwap = sqlite3_column_type(select, 9) != SQLITE_NULL;
    r.vwap = sqlite3_column_double(select, 9);
    r.has_trades = sqlite3_column_type(select, 10) != SQLITE_NULL;
    r.trades = sqlite3_column_int64(select, 10);
    rows.push_back(std::move(r));
  }
  sqlite3_finalize(select);
  sqlite3_close(src);

  std::remove(argv[2]);
  sqlite3* db = nullptr;
  if (sqlite3_open(argv[2], &db) != SQLITE_OK) return 1;
  if (Exec(db, "PRAGMA journal_mode=WAL") || Exec(db, "PRAGMA synchronous=NORMAL") ||
      Exec(db, "CREATE TABLE bars (ticker TEXT NOT NULL, timeframe TEXT NOT NULL, adjusted INTEGER NOT NULL, "
               "ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL, "
               "volume REAL NOT NULL, vwap REAL, trades INTEGER, PRIMARY KEY (ticker, timeframe, adjusted, ts)) "
               "WITHOUT ROWID")) {
    return 1;
  }
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO bars VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1, &insert, nullptr);
  const auto start = std::chrono::steady_clock::now();
  Exec(db, "BEGIN");
  for (const Row& r : rows) {
    sqlite3_bind_text(insert, 1, r.ticker.data(), static_cast<int>(r.ticker.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert, 2, r.timeframe.data(), static_cast<int>(r.timeframe.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert, 3, r.adjusted);
    sqlite3_bind_int64(insert, 4, r.ts);
    sqlite3_bind_double(insert, 5, r.open);
    sqlite3_bind_double(insert, 6, r.high);
    sqlite3_bind_double(insert, 7, r.low);
    sqlite3_bind_double(insert, 8, r.close);
    sqlite3_bind_double(insert, 9, r.volume);
    if (r.has_vwap) sqlite3_bind_double(insert, 10, r.vwap); else sqlite3_bind_null(insert, 10);
    if (r.has_trades) sqlite3_bind_int64(insert, 11, r.trades); else sqlite3_bind_null(insert, 11);
    if (sqlite3_step(insert) != SQLITE_DONE) {
      std::fprintf(stderr, "sqlite_ceiling: insert failed: %s\n", sqlite3_errmsg(db));
      return 1;
    }
    sqlite3_reset(insert);
  }
  Exec(db, "COMMIT");
  sqlite3_finalize(insert);
  sqlite3_close(db);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"rows\":%zu,\"seconds\":%.3f}\n", rows.size(), seconds);
  return 0;
}
