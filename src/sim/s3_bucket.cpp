#include "sim/s3_bucket.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "sim/hash.h"
#include "sim/s3_day_file.h"
#include "sim/s3_sigv4.h"

namespace barfill::sim {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr int64_t kDayFileLagInNewYorkMs = -2 * kMsPerHour;  // 22:00 on the session date
constexpr int64_t kDayFileLagInUtcMs = kMsPerHour;           // 01:00 the next day
constexpr int64_t kMinuteFileEarliestMs = 6 * kMsPerHour;    // 06:00 the next day...
constexpr int64_t kMinuteFileSpreadMinutes = 5 * 60;         // ...to 11:00

constexpr AssetClass kAssets[] = {AssetClass::kStock, AssetClass::kCrypto, AssetClass::kFx, AssetClass::kIndex,
                                  AssetClass::kOption};
constexpr flatfiles::FileTimeframe kTimeframes[] = {flatfiles::FileTimeframe::kMinute,
                                                    flatfiles::FileTimeframe::kDay};

}  // namespace

std::vector<Ticker> DefaultUniverse() {
  std::vector<Ticker> universe;
  for (const char* symbol : {"AAPL", "MSFT", "BRK.B", "SPY", "X:BTCUSD", "X:ETHUSD", "C:EURUSD", "C:USDJPY",
                             "I:SPX", "I:NDX", "O:SPY251219C00650000"}) {
    universe.push_back(*Ticker::Parse(symbol));
  }
  return universe;
}

int64_t PublicationMs(flatfiles::Dataset dataset, CalendarDay day, std::string_view key) {
  const MarketZone zone = ZoneFor(dataset.asset);
  const int64_t day_end = zone.DayStartMs(day.AddDays(1));
  if (dataset.timeframe == flatfiles::FileTimeframe::kDay) {
    return day_end + (zone.IsUtc() ? kDayFileLagInUtcMs : kDayFileLagInNewYorkMs);
  }
  const auto spread = static_cast<int64_t>(HashText(key) % static_cast<uint64_t>(kMinuteFileSpreadMinutes));
  return day_end + kMinuteFileEarliestMs + spread * kMsPerMinute;
}

// ---- the object cache -----------------------------------------------------------------------

struct FlatFileBucket::Cache {
  using Future = std::shared_future<std::shared_ptr<const StoredObject>>;
  struct Slot {
    std::shared_ptr<const StoredObject> object;
    std::list<std::string>::iterator position;
  };

  std::mutex mu;
  size_t budget = 0;
  size_t held = 0;
  std::list<std::string> recent;  // front = most recently used
  std::unordered_map<std::string, Slot> objects;
  std::unordered_map<std::string, Future> pending;  // being generated: later askers wait for it
  std::unordered_map<std::string, ObjectMeta> meta;
  BucketCacheStats stats;

  /// Keeps `object` under `id`, dropping the least recently used objects over the budget.
  void Keep(const std::string& id, std::shared_ptr<const StoredObject> object) {
    if (object->bytes.size() > budget) return;
    recent.push_front(id);
    held += object->bytes.size();
    objects[id] = Slot{std::move(object), recent.begin()};
    while (held > budget && !recent.empty()) {
      const auto victim = objects.find(recent.back());
      held -= victim->second.object->bytes.size();
      objects.erase(victim);
      recent.pop_back();
    }
  }
};

// ---- the bucket -----------------------------------------------------------------------------

FlatFileBucket::FlatFileBucket(const S3SimOptions& options, Market market)
    : options_(options), market_(std::move(market)), universe_(options.universe.empty() ? DefaultUniverse() : options.universe),
      cache_(std::make_unique<Cache>()) {
  cache_->budget = options_.cache_bytes;
  std::map<std::string, const S3FaultRule*> faults;
  for (const S3FaultRule& rule : options_.faults) {
    if (rule.fault != S3Fault::kReset && rule.fault != S3Fault::kSlowDown) faults[rule.key] = &rule;
  }
  for (const AssetClass asset : kAssets) {
    const bool present = std::any_of(universe_.begin(), universe_.end(),
                                     [&](const Ticker& t) { return t.asset_class() == asset; });
    if (!present) continue;
    for (const flatfiles::FileTimeframe timeframe : kTimeframes) {
      const flatfiles::Dataset dataset{asset, timeframe};
      for (CalendarDay day = options_.first_day; day <= options_.last_day; day = day.AddDays(1)) {
        if (!flatfiles::PublishesFileOn(asset, day)) continue;
        BucketEntry entry;
        entry.key = flatfiles::KeyFor(dataset, day);
        entry.dataset = dataset;
        entry.day = day;
        entry.published_ms = PublicationMs(dataset, day, entry.key);
        if (const auto found = faults.find(entry.key); found != faults.end()) {
          const S3FaultRule& rule = *found->second;
          if (rule.fault == S3Fault::kMissing) {
            entry.published_ms = rule.delay_ms > 0 ? entry.published_ms + rule.delay_ms : kNever;
          } else {
            entry.content_fault = rule.fault;
          }
        }
        entries_.push_back(std::move(entry));
      }
    }
  }
  std::sort(entries_.begin(), entries_.end(), [](const BucketEntry& a, const BucketEntry& b) { return a.key < b.key; });
}

FlatFileBucket::~FlatFileBucket() = default;

const BucketEntry* FlatFileBucket::Find(std::string_view key) const {
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                                   [](const BucketEntry& e, std::string_view k) { return e.key < k; });
  return it != entries_.end() && it->key == key ? &*it : nullptr;
}

std::optional<ObjectVersion> FlatFileBucket::VersionAt(const BucketEntry& entry, int64_t now_ms) const {
  if (entry.published_ms == kNever || now_ms < entry.published_ms) return std::nullopt;
  ObjectVersion version;
  version.last_modified_ms = entry.published_ms;
  for (const S3Republication& again : options_.republications) {
    if (again.key != entry.key || again.at_ms < entry.published_ms || again.at_ms > now_ms) continue;
    ++version.revision;
    version.last_modified_ms = std::max(version.last_modified_ms, again.at_ms);
  }
  return version;
}

bool FlatFileBucket::Entitled(const BucketEntry& entry, int64_t now_ms) const {
  if (!options_.entitled_assets.empty()) {
    const std::string_view folder = flatfiles::AssetDirectory(entry.dataset.asset);
    if (std::find(options_.entitled_assets.begin(), options_.entitled_assets.end(), folder) ==
        options_.entitled_assets.end()) {
      return false;
    }
  }
  if (options_.history_days > 0) {
    const CalendarDay today = ZoneFor(entry.dataset.asset).DayOf(now_ms);
    if (entry.day < today.AddDays(-options_.history_days)) return false;
  }
  return true;
}

std::shared_ptr<const StoredObject> FlatFileBucket::Object(const BucketEntry& entry, int revision) {
  const std::string id = entry.key + "#" + std::to_string(revision);
  std::promise<std::shared_ptr<const StoredObject>> promise;
  std::unique_lock<std::mutex> lock(cache_->mu);
  if (const auto found = cache_->objects.find(id); found != cache_->objects.end()) {
    cache_->recent.splice(cache_->recent.begin(), cache_->recent, found->second.position);
    ++cache_->stats.hits;
    return found->second.object;
  }
  if (const auto waiting = cache_->pending.find(id); waiting != cache_->pending.end()) {
    // Someone is generating it already: wait for theirs rather than making it twice.
    const Cache::Future future = waiting->second;
    lock.unlock();
    return future.get();
  }
  cache_->pending.emplace(id, promise.get_future().share());
  lock.unlock();

  const auto started = std::chrono::steady_clock::now();
  DayFileContent content;
  content.market = market_;
  content.dataset = entry.dataset;
  content.day = entry.day;
  content.revision = revision;
  content.fault = entry.content_fault;
  content.test_symbols = options_.test_symbols;
  for (const Ticker& ticker : universe_) {
    if (ticker.asset_class() == entry.dataset.asset) content.tickers.push_back(ticker);
  }
  auto object = std::make_shared<StoredObject>();
  object->bytes = MakeDayFileObject(content);
  object->etag = Md5Hex(object->bytes);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  {
    std::lock_guard<std::mutex> relock(cache_->mu);
    cache_->pending.erase(id);
    cache_->meta[id] = ObjectMeta{static_cast<int64_t>(object->bytes.size()), object->etag};
    ++cache_->stats.generated;
    cache_->stats.generated_bytes += static_cast<int64_t>(object->bytes.size());
    cache_->stats.generation_s += seconds;
    cache_->Keep(id, object);
  }
  promise.set_value(object);
  return object;
}

ObjectMeta FlatFileBucket::Meta(const BucketEntry& entry, int revision) {
  {
    std::lock_guard<std::mutex> lock(cache_->mu);
    const auto found = cache_->meta.find(entry.key + "#" + std::to_string(revision));
    if (found != cache_->meta.end()) return found->second;
  }
  const auto object = Object(entry, revision);
  return ObjectMeta{static_cast<int64_t>(object->bytes.size()), object->etag};
}

std::vector<ObjectMeta> FlatFileBucket::Metas(const std::vector<Version>& versions) {
  std::vector<ObjectMeta> metas(versions.size());
  std::vector<size_t> missing;
  {
    std::lock_guard<std::mutex> lock(cache_->mu);
    for (size_t i = 0; i < versions.size(); ++i) {
      const auto found = cache_->meta.find(versions[i].entry->key + "#" + std::to_string(versions[i].version.revision));
      if (found != cache_->meta.end()) {
        metas[i] = found->second;
      } else {
        missing.push_back(i);
      }
    }
  }
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t k = next++; k < missing.size(); k = next++) {
      const Version& v = versions[missing[k]];
      metas[missing[k]] = Meta(*v.entry, v.version.revision);
    }
  };
  const size_t helpers = std::min<size_t>(missing.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < helpers; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return metas;
}

BucketCacheStats FlatFileBucket::CacheStats() const {
  std::lock_guard<std::mutex> lock(cache_->mu);
  return cache_->stats;
}

}  // namespace barfill::sim
