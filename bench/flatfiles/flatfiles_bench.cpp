// Flat files, side by side in one run: reading a stocks minute day file (gunzip + CSV + checks
// into BarBatch blocks) beside its ceilings, plain zlib inflate of the same bytes and the CSV
// split alone; the simulator generating such files; and a whole download through the S3 client
// over loopback. Counters: MB/s of CSV text (the uncompressed file) and rows/s.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "flatfiles/day_file_reader.h"
#include "flatfiles/s3_client.h"
#include "sim/s3_day_file.h"
#include "sim/sim_server.h"

namespace barfill {
namespace {

constexpr uint64_t kSeed = 7;
constexpr int kTickers = 400;  // x ~900 minutes: ~360 k rows, ~19 MB of CSV, ~5 MB gzip
constexpr size_t kPiece = 64 * 1024;  // what a network read hands over
const flatfiles::Dataset kStockMinute{AssetClass::kStock, flatfiles::FileTimeframe::kMinute};
const CalendarDay kDay{2025, 3, 4};

std::vector<Ticker> Universe() {
  std::vector<Ticker> tickers;
  for (int i = 0; i < kTickers; ++i) {
    std::string symbol;
    for (int n = i; symbol.size() < 4; n /= 26) symbol += static_cast<char>('A' + n % 26);
    tickers.push_back(*Ticker::Parse(symbol));
  }
  return tickers;
}

sim::DayFileContent Content() {
  sim::DayFileContent content;
  content.market = sim::Market(kSeed);
  content.dataset = kStockMinute;
  content.day = kDay;
  content.tickers = Universe();
  return content;
}

struct File {
  std::string csv;
  std::string gzip;         // as the simulator (and the vendor) serve it
  std::string stored_gzip;  // the same CSV in an uncompressed gzip container: parse cost alone
  int64_t rows = 0;
};

std::string GzipAtLevel(const std::string& text, int level) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

const File& TheFile() {
  static const File file = [] {
    File f;
    sim::WriteDayFileCsv(Content(), [&](std::string_view piece) { f.csv.append(piece); });
    f.gzip = sim::MakeDayFileObject(Content());
    f.stored_gzip = GzipAtLevel(f.csv, 0);
    for (const char c : f.csv) f.rows += c == '\n';
    f.rows -= 1;  // the header
    return f;
  }();
  return file;
}

void Count(benchmark::State& state) {
  const File& f = TheFile();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(f.csv.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * f.rows);
  state.counters["csv_MB"] = static_cast<double>(f.csv.size()) / 1e6;
  state.counters["gzip_MB"] = static_cast<double>(f.gzip.size()) / 1e6;
}

/// Ceiling 1: zlib inflate of the same bytes in the same pieces, output thrown away.
void BM_InflateOnly(benchmark::State& state) {
  const File& f = TheFile();
  std::vector<char> out(256 * 1024);
  for (auto _ : state) {
    z_stream z{};
    inflateInit2(&z, 16 + MAX_WBITS);
    size_t total = 0;
    for (size_t at = 0; at < f.gzip.size(); at += kPiece) {
      const size_t n = std::min(kPiece, f.gzip.size() - at);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(f.gzip.data() + at));
      z.avail_in = static_cast<uInt>(n);
      do {
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        inflate(&z, Z_NO_FLUSH);
        total += out.size() - z.avail_out;
      } while (z.avail_out == 0);
    }
    inflateEnd(&z);
    benchmark::DoNotOptimize(total);
  }
  Count(state);
}
BENCHMARK(BM_InflateOnly)->Unit(benchmark::kMillisecond);

/// Ceiling 1b: the command line, `gzip -dc FILE | wc -l` (two processes, a pipe).
void BM_GzipCommandLine(benchmark::State& state) {
  const std::string path = "/tmp/barfill_flatfiles_bench_" + std::to_string(getpid()) + ".csv.gz";
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(TheFile().gzip.data(), 1, TheFile().gzip.size(), f);
    std::fclose(f);
  }
  const std::string command = "gzip -dc " + path + " | wc -l";
  int64_t lines = 0;
  for (auto _ : state) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr || std::fscanf(pipe, "%ld", &lines) != 1) state.SkipWithError("gzip | wc failed");
    if (pipe != nullptr) pclose(pipe);
  }
  std::remove(path.c_str());
  if (lines != TheFile().rows + 1) state.SkipWithError("gzip | wc counted the wrong number of lines");
  Count(state);
}
BENCHMARK(BM_GzipCommandLine)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Ceiling 2: finding every line and comma of the CSV text (memchr), nothing parsed.
void BM_SplitCsvOnly(benchmark::State& state) {
  const File& f = TheFile();
  for (auto _ : state) {
    size_t fields = 0;
    const char* p = f.csv.data();
    const char* end = p + f.csv.size();
    while (p < end) {
      const char* line_end = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (line_end == nullptr) line_end = end;
      for (const char* c = p; (c = static_cast<const char*>(std::memchr(c, ',', static_cast<size_t>(line_end - c)))); ++c) {
        ++fields;
      }
      p = line_end + 1;
    }
    benchmark::DoNotOptimize(fields);
  }
  Count(state);
}
BENCHMARK(BM_SplitCsvOnly)->Unit(benchmark::kMillisecond);

void ReadWith(benchmark::State& state, const std::string& bytes, const flatfiles::DayFileReaderOptions& options) {
  const auto key = *flatfiles::ParseKey(flatfiles::KeyFor(kStockMinute, kDay));
  int64_t bars = 0;
  for (auto _ : state) {
    flatfiles::DayFileReader reader(key, [&](const Ticker&, const BarBatch& b) {
      bars += static_cast<int64_t>(b.size());
      return Ok();
    }, options);
    for (size_t at = 0; at < bytes.size(); at += kPiece) {
      if (!reader.Feed(std::string_view(bytes).substr(at, kPiece))) state.SkipWithError("feed failed");
    }
    if (!reader.Finish()) state.SkipWithError("finish failed");
  }
  benchmark::DoNotOptimize(bars);
  Count(state);
}

/// barfill: gunzip + split + parse + checks + BarBatch blocks.
void BM_ReadDayFile(benchmark::State& state) { ReadWith(state, TheFile().gzip, {}); }
BENCHMARK(BM_ReadDayFile)->Unit(benchmark::kMillisecond);

/// The same without inflate's share (an uncompressed gzip container).
void BM_ReadDayFileStored(benchmark::State& state) { ReadWith(state, TheFile().stored_gzip, {}); }
BENCHMARK(BM_ReadDayFileStored)->Unit(benchmark::kMillisecond);

/// Keeping 10 tickers of 400: the other rows are skipped before any number is parsed.
void BM_ReadDayFileFiltered(benchmark::State& state) {
  flatfiles::DayFileReaderOptions options;
  const std::vector<Ticker> universe = Universe();
  for (int i = 0; i < 10; ++i) options.filter.only.insert(universe[static_cast<size_t>(i) * 40].symbol());
  ReadWith(state, TheFile().gzip, options);
}
BENCHMARK(BM_ReadDayFileFiltered)->Unit(benchmark::kMillisecond);

/// The simulator: GroundTruth + CSV text + gzip (level 1) + nothing else.
void BM_GenerateDayFile(benchmark::State& state) {
  const sim::DayFileContent content = Content();
  for (auto _ : state) benchmark::DoNotOptimize(sim::MakeDayFileObject(content));
  Count(state);
}
BENCHMARK(BM_GenerateDayFile)->Unit(benchmark::kMillisecond);

/// The simulator without gzip: GroundTruth + CSV text.
void BM_GenerateCsvOnly(benchmark::State& state) {
  const sim::DayFileContent content = Content();
  for (auto _ : state) {
    size_t bytes = 0;
    sim::WriteDayFileCsv(content, [&](std::string_view piece) { bytes += piece.size(); });
    benchmark::DoNotOptimize(bytes);
  }
  Count(state);
}
BENCHMARK(BM_GenerateCsvOnly)->Unit(benchmark::kMillisecond);

/// End to end on loopback: signed GET from the simulator (object cached) streamed into the
/// reader.
void BM_DownloadAndRead(benchmark::State& state) {
  sim::SimOptions options;
  options.seed = kSeed;
  options.s3.universe = Universe();
  options.s3.first_day = kDay;
  options.s3.last_day = kDay;
  options.s3.test_symbols = false;
  options.s3.signing.access_key_id = "AKIDBENCH";
  options.s3.signing.secret_access_key = "bench-secret";
  auto server = sim::SimServer::Start(options);
  if (!server) {
    state.SkipWithError(server.error().message.c_str());
    return;
  }
  flatfiles::S3Options client_options;
  client_options.endpoint = (*server)->BaseUrl();
  client_options.access_key_id = "AKIDBENCH";
  client_options.secret_access_key = "bench-secret";
  auto client = flatfiles::S3Client::Create(client_options);
  const std::string key = flatfiles::KeyFor(kStockMinute, kDay);
  const auto parsed = *flatfiles::ParseKey(key);
  // Generate the object once before timing: the loop measures transfer and reading.
  if (!(*client)->Head(key)) state.SkipWithError("HEAD failed");
  (void)(*client)->Get(key, {}, [](std::string_view) { return Ok(); });
  int64_t bars = 0;
  for (auto _ : state) {
    flatfiles::DayFileReader reader(parsed, [&](const Ticker&, const BarBatch& b) {
      bars += static_cast<int64_t>(b.size());
      return Ok();
    });
    flatfiles::ObjectDownload download(client->get(), key);
    if (!download.Continue([&](std::string_view bytes) { return reader.Feed(bytes); })) {
      state.SkipWithError("download failed");
    }
    if (!reader.Finish()) state.SkipWithError("finish failed");
  }
  (*server)->Stop();
  benchmark::DoNotOptimize(bars);
  Count(state);
}
BENCHMARK(BM_DownloadAndRead)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace barfill

BENCHMARK_MAIN();
