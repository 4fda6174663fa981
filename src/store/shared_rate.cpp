#include "store/shared_rate.h"

#include <openssl/sha.h>

#include "store/pg_connection.h"

namespace barfill::store {
namespace {

// One statement reserves n slots: it reads the row under a row lock, moves the arrival time
// past them, and earns the rate back after enough answers without a 429 (additive increase, in
// interval terms), all on the database's clock.
//   $1 key hash, $2 n, $3 min interval (configured rate), $4 successes, $5 recover after,
//   $6 recover step (permille of the configured rate), $7 burst
constexpr std::string_view kReserve =
    "WITH cur AS (SELECT tat, greatest(interval_us, $3) AS iv, success_run, clock_timestamp() AS now "
    "FROM barfill_rate WHERE key_hash = $1 FOR UPDATE), "
    "upd AS (UPDATE barfill_rate r SET "
    "tat = greatest(cur.tat, cur.now) + make_interval(secs => ($2 * cur.iv)::float8 / 1e6), "
    "success_run = CASE WHEN cur.iv <= $3 THEN 0 ELSE (cur.success_run + $4) % $5 END, "
    "interval_us = CASE WHEN cur.iv <= $3 OR cur.success_run + $4 < $5 THEN cur.iv ELSE "
    "greatest($3, (1e6 / (1e6 / cur.iv + ((cur.success_run + $4) / $5) * $6 / 1000.0 * 1e6 / $3))::bigint) END, "
    "updated_at = cur.now FROM cur WHERE r.key_hash = $1 RETURNING 1) "
    "SELECT (extract(epoch from greatest(cur.tat, cur.now) - cur.now) * 1e6)::bigint, cur.iv, "
    "cur.iv * ($7 - 1) FROM cur, upd";

// A 429: everyone pauses; the first report of an episode (the pause was over) cuts the rate;
// after the pause one request goes first, then the lowered rate (no burst into the limit).
//   $1 key hash, $2 pause us, $3 min interval, $4 max interval, $5 burst, $6 decrease permille
constexpr std::string_view kPause =
    "UPDATE barfill_rate SET "
    "interval_us = CASE WHEN clock_timestamp() >= paused_until "
    "THEN least($4, (greatest(interval_us, $3) * 1000 / $6)) ELSE interval_us END, "
    "decreases = decreases + CASE WHEN clock_timestamp() >= paused_until THEN 1 ELSE 0 END, "
    "rate_limited = rate_limited + 1, success_run = 0, "
    "paused_until = greatest(paused_until, clock_timestamp() + make_interval(secs => $2::float8 / 1e6)), "
    "tat = greatest(tat, greatest(paused_until, clock_timestamp() + make_interval(secs => $2::float8 / 1e6)) + "
    "make_interval(secs => (($5 - 1) * interval_us)::float8 / 1e6)), updated_at = clock_timestamp() "
    "WHERE key_hash = $1";

constexpr std::string_view kCreateRow =
    "INSERT INTO barfill_rate (key_hash, tat, paused_until, interval_us, updated_at) "
    "VALUES ($1, clock_timestamp(), clock_timestamp(), $2, clock_timestamp()) ON CONFLICT (key_hash) DO NOTHING";

}  // namespace

std::string RateKeyHash(std::string_view api_key) {
  // A prefix keeps the digest from matching a plain SHA-256 of the key found elsewhere.
  const std::string salted = "barfill-rate-limit:" + std::string(api_key);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(salted.data()), salted.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (const unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

struct SharedRateRow::Impl {
  std::unique_ptr<PgLink> link;
  SharedRateSettings settings;
};

SharedRateRow::SharedRateRow(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SharedRateRow::~SharedRateRow() = default;

Result<std::unique_ptr<SharedRateRow>> SharedRateRow::Open(const std::string& db_url, SharedRateSettings settings,
                                                           const StoreOptions& options) {
  auto link = OpenPgLink(db_url, "a shared rate limit", options);
  if (!link) return Fail(link.error());
  auto impl = std::make_unique<Impl>();
  impl->link = std::move(*link);
  impl->settings = std::move(settings);
  const SharedRateSettings& s = impl->settings;
  const Status done = impl->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    return c.Exec(kCreateRow, {std::string_view(s.key_hash), s.min_interval_us});
  });
  if (!done) return Fail(done.error());
  return std::unique_ptr<SharedRateRow>(new SharedRateRow(std::move(impl)));
}

Result<RateSlots> SharedRateRow::Reserve(int n, int successes) {
  const SharedRateSettings& s = impl_->settings;
  RateSlots slots;
  bool found = false;
  const Status done = impl_->link->WithRetries([&]() -> Status {
    BARFILL_TRY(impl_->link->EnsureConnected());
    return impl_->link->conn().Query(
        kReserve,
        {std::string_view(s.key_hash), int64_t{n}, s.min_interval_us, int64_t{successes}, int64_t{s.recover_after},
         int64_t{s.recover_step_permille}, int64_t{s.burst}},
        [&](const SqlRow& row) -> Status {
          found = true;
          slots.base_us = row.Int(0);
          slots.interval_us = row.Int(1);
          slots.tolerance_us = row.Int(2);
          return Ok();
        });
  });
  if (!done) return Fail(done.error());
  if (!found) return Fail(ErrorCode::kDatabase, impl_->link->Describe() + ": the shared rate limit row is missing (deleted while workers ran?); restart the workers");
  return slots;
}

Status SharedRateRow::Pause(int64_t pause_us) {
  const SharedRateSettings& s = impl_->settings;
  return impl_->link->WithRetries([&]() -> Status {
    BARFILL_TRY(impl_->link->EnsureConnected());
    return impl_->link->conn().Exec(kPause, {std::string_view(s.key_hash), pause_us, s.min_interval_us, s.max_interval_us,
                                             int64_t{s.burst}, int64_t{s.decrease_permille}});
  });
}

Result<SharedRateState> SharedRateRow::Read() {
  SharedRateState state;
  const Status done = impl_->link->WithRetries([&]() -> Status {
    BARFILL_TRY(impl_->link->EnsureConnected());
    return impl_->link->conn().Query(
        "SELECT interval_us, rate_limited, decreases, greatest(0, (extract(epoch from paused_until - clock_timestamp()) "
        "* 1000)::bigint) FROM barfill_rate WHERE key_hash = $1",
        {std::string_view(impl_->settings.key_hash)}, [&](const SqlRow& row) -> Status {
          state.rate_per_s = row.Int(0) > 0 ? 1e6 / static_cast<double>(row.Int(0)) : 0;
          state.rate_limited = row.Int(1);
          state.decreases = row.Int(2);
          state.paused_for_ms = row.Int(3);
          return Ok();
        });
  });
  if (!done) return Fail(done.error());
  return state;
}

}  // namespace barfill::store
