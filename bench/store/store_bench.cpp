// Loads the same rows (default 50 symbols x 100,000 consecutive 1-minute bars = 5 M, as in
// docs/design.md §12) through barfill's writers and through their ceilings, alternating the order
// between repetitions, and prints rows/s (median and best) and the ratio to the ceiling:
//   PostgreSQL: psql \copy ... (FORMAT binary) of an equivalent file into the empty table, beside
//     CommitChunks (replace-range, the default) into the empty table and over a full one (re-run),
//     and the staging-merge method on both.
//   SQLite: one prepared INSERT in one transaction, beside CommitChunks into an empty file and
//     over a full one.
// Needs the PG* environment of scripts/with-postgres.sh (see bench/store/run.sh).
#include <sqlite3.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "store/bar_store.h"
#include "store/copy_binary.h"
#include "store/pg_connection.h"

namespace barfill {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int symbols = 50;
  int bars_per_symbol = 100000;
  int chunk_bars = 25000;
  int chunks_per_commit = 10;
  int repeat = 3;
  bool postgres = true;
  bool sqlite = true;
  bool merge = true;
  std::string work_dir = "/tmp/barfill-store-bench";
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "store_bench: %s\n", message.c_str());
  std::exit(1);
}

template <typename T>
T Check(Result<T> result, std::string_view what) {
  if (!result) Die(std::string(what) + ": " + result.error().message);
  return std::move(*result);
}

void Check(const Status& status, std::string_view what) {
  if (!status) Die(std::string(what) + ": " + status.error().message);
}

/// The rows, cut into chunks as the engine would hand them over.
struct Workload {
  std::vector<Series> series;
  std::vector<Chunk> chunks;
  std::vector<BarBatch> bars;  ///< parallel to chunks
  size_t rows = 0;

  std::vector<std::vector<ChunkWrite>> Groups(int chunks_per_commit) const {
    std::vector<std::vector<ChunkWrite>> groups;
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (i % chunks_per_commit == 0) groups.emplace_back();
      groups.back().push_back(ChunkWrite{chunks[i], &bars[i], 1});
    }
    return groups;
  }
};

/// Deterministic stock-like minute bars: prices with 2 decimals, vwap with 4, integer volume.
Workload MakeWorkload(const Options& o) {
  Workload w;
  const int64_t start = CalendarDay{2024, 1, 2}.DaysSinceEpoch() * kMsPerDay;
  uint64_t state = 88172645463325252ull;
  const auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int s = 0; s < o.symbols; ++s) {
    const std::string symbol = std::string("S") + char('A' + s / 26 % 26) + char('A' + s % 26);
    const Series series{*Ticker::Parse(symbol), Timeframe(1, Timespan::kMinute), true};
    w.series.push_back(series);
    double price = 50.0 + s;
    for (int c = 0; c * o.chunk_bars < o.bars_per_symbol; ++c) {
      const int first = c * o.chunk_bars;
      const int n = std::min(o.chunk_bars, o.bars_per_symbol - first);
      BarBatch batch;
      batch.reserve(n);
      for (int i = first; i < first + n; ++i) {
        price = std::max(1.0, price + (static_cast<double>(next() % 21) - 10.0) / 100.0);
        Bar bar;
        bar.t = start + static_cast<int64_t>(i) * kMsPerMinute;
        bar.open = std::round(price * 100) / 100;
        bar.high = bar.open + static_cast<double>(next() % 50) / 100;
        bar.low = bar.open - static_cast<double>(next() % 50) / 100;
        bar.close = std::round((bar.low + bar.high) * 50) / 100;
        bar.volume = static_cast<double>(100 + next() % 100000);
        bar.vwap = std::round((bar.open + bar.close) * 5000) / 10000;
        bar.trades = static_cast<int64_t>(1 + next() % 500);
        batch.push_back(bar);
      }
      w.chunks.push_back(Chunk{series, TimeRange{start + int64_t{first} * kMsPerMinute,
                                                 start + int64_t{first + n} * kMsPerMinute}});
      w.rows += batch.size();
      w.bars.push_back(std::move(batch));
    }
  }
  return w;
}

struct Sample {
  std::string store;
  std::string name;
  bool ceiling = false;
  std::vector<double> seconds;
};

class Results {
 public:
  void Add(const std::string& store, const std::string& name, bool ceiling, double seconds) {
    auto it = std::find_if(samples_.begin(), samples_.end(),
                           [&](const Sample& s) { return s.store == store && s.name == name; });
    if (it == samples_.end()) {
      samples_.push_back(Sample{store, name, ceiling, {}});
      it = samples_.end() - 1;
    }
    it->seconds.push_back(seconds);
    std::fprintf(stderr, "  %-10s %-46s %7.2f s\n", store.c_str(), name.c_str(), seconds);
  }

  void Print(size_t rows) const {
    std::printf("\n%zu rows per run; rows/s as median (best) over runs; ratio = median rows/s "
                "against the store's ceiling median\n",
                rows);
    std::printf("%-10s  %-46s  %4s  %9s  %19s  %6s\n", "store", "case", "runs", "median s",
                "rows/s median (best)", "ratio");
    for (const Sample& s : samples_) {
      const double median = Median(s.seconds);
      const double best = *std::min_element(s.seconds.begin(), s.seconds.end());
      const Sample* ceiling = nullptr;
      for (const Sample& c : samples_) {
        if (c.store == s.store && c.ceiling) ceiling = &c;
      }
      char ratio[16] = "-";
      if (ceiling != nullptr) std::snprintf(ratio, sizeof ratio, "%.2f", Median(ceiling->seconds) / median);
      std::printf("%-10s  %-46s  %4zu  %9.2f  %9.0fk (%6.0fk)  %6s\n", s.store.c_str(),
                  s.name.c_str(), s.seconds.size(), median, rows / median / 1000,
                  rows / best / 1000, ratio);
    }
  }

 private:
  static double Median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  std::vector<Sample> samples_;
};

double Time(const std::function<void()>& run) {
  const auto start = Clock::now();
  run();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void CommitAll(BarStore& store, const std::vector<std::vector<ChunkWrite>>& groups) {
  for (const auto& group : groups) Check(store.CommitChunks(group), "CommitChunks");
}

// ---- PostgreSQL ------------------------------------------------------------------------------

constexpr const char* kBenchDb = "barfill_store_bench";

void Sql(store::PgConnection& conn, const std::string& sql) {
  Check(conn.Run(sql, sql), "SQL");
}

int64_t CountBars(store::PgConnection& conn) {
  int64_t count = -1;
  Check(conn.Query("SELECT count(*) FROM bars", {}, [&](const store::SqlRow& row) {
    count = row.Int(0);
    return Ok();
  }), "count");
  return count;
}

/// Empty table, settled server: what every "empty target" run starts from.
void ResetPg(store::PgConnection& conn) {
  Sql(conn, "TRUNCATE bars, barfill_ledger");
  Sql(conn, "CHECKPOINT");
}

/// Full table, vacuumed and analyzed, settled server: what every re-run starts from.
void SettlePg(store::PgConnection& conn, size_t rows) {
  if (CountBars(conn) != static_cast<int64_t>(rows)) Die("bars table does not hold the workload");
  Sql(conn, "VACUUM ANALYZE bars");
  Sql(conn, "CHECKPOINT");
}

void RunPsqlCopy(const std::string& file) {
  const std::string command = "psql -X -q -v ON_ERROR_STOP=1 -d " + std::string(kBenchDb) +
                              " -c \"\\copy bars (" + std::string(store::kCopyColumns) +
                              ") from '" + file + "' with (format binary)\"";
  const int status = std::system(command.c_str());
  if (status != 0) Die("psql \\copy failed: " + command);
}

void BenchPostgres(const Options& o, const Workload& w, Results& results) {
  auto admin = Check(store::PgConnection::Open("", std::chrono::seconds(10)), "connect");
  Sql(*admin, std::string("DROP DATABASE IF EXISTS ") + kBenchDb);
  Sql(*admin, std::string("CREATE DATABASE ") + kBenchDb);
  const std::string url = std::string("dbname=") + kBenchDb;
  auto conn = Check(store::PgConnection::Open(url, std::chrono::seconds(10)), "connect");
  StoreOptions replace_options;
  auto replace = Check(OpenStore(url, replace_options), "open");
  Check(replace->Migrate(), "migrate");
  StoreOptions merge_options;
  merge_options.pg_write_method = PgWriteMethod::kStagingMerge;
  auto merge = Check(OpenStore(url, merge_options), "open");
  // As in docs/design.md §12: autovacuum may not start in the middle of a timed run.
  Sql(*conn, "ALTER TABLE bars SET (autovacuum_enabled = false)");
  Sql(*conn, "ALTER TABLE barfill_ledger SET (autovacuum_enabled = false)");

  // The ceiling's input: the same rows, in the same order, as one COPY BINARY file.
  const std::string file = o.work_dir + "/bars.copy";
  {
    std::FILE* out = std::fopen(file.c_str(), "wb");
    if (out == nullptr) Die("cannot write " + file);
    store::CopyBinaryEncoder encoder([&](std::string_view piece) -> Status {
      if (std::fwrite(piece.data(), 1, piece.size(), out) != piece.size()) Die("write " + file);
      return Ok();
    });
    Check(encoder.Begin(), "encode");
    for (size_t i = 0; i < w.chunks.size(); ++i) {
      Check(encoder.Append(w.chunks[i].series, w.bars[i], 0, w.bars[i].size()), "encode");
    }
    Check(encoder.Finish(), "encode");
    std::fclose(out);
  }
  std::fprintf(stderr, "postgresql: %s, COPY file %.0f MB\n", replace->Describe().c_str(),
               static_cast<double>(std::filesystem::file_size(file)) / 1e6);
  const auto groups = w.Groups(o.chunks_per_commit);

  for (int r = 0; r < o.repeat; ++r) {
    std::fprintf(stderr, "postgresql run %d/%d\n", r + 1, o.repeat);
    const auto ceiling = [&] {
      ResetPg(*conn);
      results.Add("postgresql", "psql \\copy (FORMAT binary), empty table", true,
                  Time([&] { RunPsqlCopy(file); }));
      if (CountBars(*conn) != static_cast<int64_t>(w.rows)) Die("\\copy lost rows");
    };
    const auto barfill = [&] {
      ResetPg(*conn);
      results.Add("postgresql", "barfill replace-range, empty table", false,
                  Time([&] { CommitAll(*replace, groups); }));
    };
    // Alternate which goes first, so drift in the VM's speed does not favour one.
    if (r % 2 == 0) {
      ceiling();
      barfill();
    } else {
      barfill();
      ceiling();  // leaves the same rows in the table for the re-run
    }
    SettlePg(*conn, w.rows);
    results.Add("postgresql", "barfill replace-range, re-run over full table", false,
                Time([&] { CommitAll(*replace, groups); }));
    if (o.merge) {
      ResetPg(*conn);
      results.Add("postgresql", "barfill staging-merge, empty table", false,
                  Time([&] { CommitAll(*merge, groups); }));
      SettlePg(*conn, w.rows);
      results.Add("postgresql", "barfill staging-merge, re-run over full table", false,
                  Time([&] { CommitAll(*merge, groups); }));
    }
    if (CountBars(*conn) != static_cast<int64_t>(w.rows)) Die("a re-run changed the row count");
  }
  std::filesystem::remove(file);
  replace.reset();
  merge.reset();
  conn.reset();
  Sql(*admin, std::string("DROP DATABASE ") + kBenchDb);
}

// ---- SQLite ----------------------------------------------------------------------------------

/// The ceiling: one prepared INSERT with bound values in one transaction, same table and pragmas.
void SqliteCeiling(const std::string& path, const Workload& w) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("sqlite open");
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; BEGIN", nullptr, nullptr,
               nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO bars (ticker, timeframe, adjusted, ts, open, high, low, close, "
                     "volume, vwap, trades) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     -1, &insert, nullptr);
  for (size_t c = 0; c < w.chunks.size(); ++c) {
    const Series& series = w.chunks[c].series;
    const std::string timeframe = series.timeframe.ToString();
    const BarBatch& b = w.bars[c];
    // Bindings persist across sqlite3_reset: the series columns are bound once per chunk.
    sqlite3_bind_text(insert, 1, series.ticker.symbol().c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 2, timeframe.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int(insert, 3, 1);
    for (size_t i = 0; i < b.size(); ++i) {
      sqlite3_bind_int64(insert, 4, b.t[i]);
      sqlite3_bind_double(insert, 5, b.open[i]);
      sqlite3_bind_double(insert, 6, b.high[i]);
      sqlite3_bind_double(insert, 7, b.low[i]);
      sqlite3_bind_double(insert, 8, b.close[i]);
      sqlite3_bind_double(insert, 9, b.volume[i]);
      sqlite3_bind_double(insert, 10, b.vwap[i]);
      sqlite3_bind_int64(insert, 11, b.trades[i]);
      if (sqlite3_step(insert) != SQLITE_DONE) Die(std::string("sqlite insert: ") + sqlite3_errmsg(db));
      sqlite3_reset(insert);
    }
  }
  sqlite3_finalize(insert);
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) Die("sqlite commit");
  sqlite3_close(db);
}

void BenchSqlite(const Options& o, const Workload& w, Results& results) {
  const std::string path = o.work_dir + "/bench.db";
  const auto fresh = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto store = Check(OpenStore("sqlite:" + path), "open");
    Check(store->Migrate(), "migrate");
    return store;
  };
  const auto groups = w.Groups(o.chunks_per_commit);
  for (int r = 0; r < o.repeat; ++r) {
    std::fprintf(stderr, "sqlite run %d/%d\n", r + 1, o.repeat);
    const auto ceiling = [&] {
      fresh().reset();
      results.Add("sqlite", "one prepared INSERT, one transaction, empty file", true,
                  Time([&] { SqliteCeiling(path, w); }));
    };
    std::unique_ptr<BarStore> store;
    const auto barfill = [&] {
      store = fresh();
      results.Add("sqlite", "barfill CommitChunks, empty file", false,
                  Time([&] { CommitAll(*store, groups); }));
    };
    if (r % 2 == 0) {
      ceiling();
      barfill();
    } else {
      barfill();
      store.reset();
      ceiling();  // leaves the same rows in the file for the re-run
      store = Check(OpenStore("sqlite:" + path), "open");
    }
    results.Add("sqlite", "barfill CommitChunks, re-run over full file", false,
                Time([&] { CommitAll(*store, groups); }));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&] {
      if (i + 1 >= argc) Die("missing value for " + arg);
      return std::string(argv[++i]);
    };
    if (arg == "--symbols") o.symbols = std::stoi(value());
    else if (arg == "--bars-per-symbol") o.bars_per_symbol = std::stoi(value());
    else if (arg == "--chunk-bars") o.chunk_bars = std::stoi(value());
    else if (arg == "--chunks-per-commit") o.chunks_per_commit = std::stoi(value());
    else if (arg == "--repeat") o.repeat = std::stoi(value());
    else if (arg == "--work-dir") o.work_dir = value();
    else if (arg == "--no-postgres") o.postgres = false;
    else if (arg == "--no-sqlite") o.sqlite = false;
    else if (arg == "--no-merge") o.merge = false;
    else Die("unknown argument " + arg);
  }
  return o;
}

}  // namespace
}  // namespace barfill

int main(int argc, char** argv) {
  using namespace barfill;
  const Options o = ParseArgs(argc, argv);
  std::filesystem::create_directories(o.work_dir);
  const Workload w = MakeWorkload(o);
  std::fprintf(stderr, "workload: %d symbols x %d 1-minute bars = %zu rows, %zu chunks of <= %d, "
                       "%d chunks per CommitChunks\n",
               o.symbols, o.bars_per_symbol, w.rows, w.chunks.size(), o.chunk_bars,
               o.chunks_per_commit);
  Results results;
  if (o.postgres) BenchPostgres(o, w, results);
  if (o.sqlite) BenchSqlite(o, w, results);
  results.Print(w.rows);
  return 0;
}
