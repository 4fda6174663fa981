// A TCP fault proxy for chaos tests, in the spirit of Toxiproxy (docs/fault-model.md §5): it listens
// on 127.0.0.1, forwards every connection to an upstream host:port, and applies "toxics" per
// direction that can be changed while connections are open: reset_peer, limit_data, latency
// (+ jitter), bandwidth, slicer, black hole (Toxiproxy's timeout=0), down, and two
// connection-level ones for keep-alive: close after idle and stale after idle.
//
// It knows one thing about HTTP/1.1: a client speaks, then the server answers. Each such turn is
// an *exchange* (a request and its response): byte counts and dice restart with every exchange,
// so "reset the response after 2000 bytes" hits every answer on a keep-alive connection, not
// only the first one. A stream that is not HTTP is one long exchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace barfill::testing {

/// The toxics of one direction. Probabilities are drawn once per exchange with the proxy's seeded
/// dice; a probability of 0 turns the toxic off.
struct DirectionToxics {
  /// The first bytes of each exchange in this direction are held back latency ± jitter.
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds jitter{0};
  /// At most this many bytes per second per connection; 0 = unlimited.
  int64_t bandwidth_bytes_per_s = 0;
  /// Forward in pieces of slice_bytes ± slice_variation with slice_delay between them; 0 = off.
  size_t slice_bytes = 0;
  size_t slice_variation = 0;
  std::chrono::microseconds slice_delay{0};
  /// limit_data: forward this many bytes of the exchange, then close the connection (FIN).
  int64_t limit_bytes = 0;
  double limit_probability = 0;
  /// reset_peer: forward this many bytes of the exchange (0 = none), then reset the client (RST).
  int64_t reset_after_bytes = 0;
  double reset_probability = 0;
  /// timeout=0: swallow this direction's bytes, never forward them, never close. Lifting the
  /// toxic (probability 0 again) lets later bytes of a swallowed exchange through.
  double black_hole_probability = 0;
  /// Corrupt: after `corrupt_marker` the next digit is changed (e.g. `"resultsCount":` 720 ->
  /// 820), so a body keeps its length but lies. Empty = off.
  std::string corrupt_marker;
  double corrupt_probability = 0;
  /// Downstream only: limit, reset, black hole and corrupt apply only to exchanges whose request
  /// contains this text (e.g. "cursor=" for the later pages of a next_url chain). Empty = all.
  std::string only_if_request_contains;
};

struct Toxics {
  DirectionToxics upstream;    ///< client -> server
  DirectionToxics downstream;  ///< server -> client
  /// The server's keep-alive timeout: a connection idle this long is closed (FIN). 0 = off.
  std::chrono::milliseconds close_after_idle{0};
  /// A middlebox that forgot an idle connection: the next request on a connection idle this long
  /// is answered with a reset, the classic "Broken pipe" / reset on reuse. 0 = off.
  std::chrono::milliseconds stale_after_idle{0};
};

/// What the proxy did, for assertions that a toxic really fired.
struct ProxyStats {
  int64_t connections = 0;     ///< accepted and connected upstream
  int64_t exchanges = 0;       ///< request/response turns
  int64_t bytes_upstream = 0;  ///< forwarded client -> server
  int64_t bytes_downstream = 0;
  int64_t resets = 0;          ///< reset_peer fired
  int64_t limits = 0;          ///< limit_data fired
  int64_t black_holes = 0;     ///< exchanges swallowed
  int64_t corruptions = 0;     ///< digits changed
  int64_t idle_closes = 0;
  int64_t stale_resets = 0;
  int64_t conditional_hits = 0;  ///< downstream toxics that fired on a matching request
};

class FaultProxy {
 public:
  /// Listens on 127.0.0.1:0 (`seed` drives the dice) and forwards to upstream_host:upstream_port.
  static Result<std::unique_ptr<FaultProxy>> Start(const std::string& upstream_host, int upstream_port,
                                                   uint64_t seed = 1);
  virtual ~FaultProxy() = default;

  /// "http://127.0.0.1:PORT"
  virtual std::string BaseUrl() const = 0;
  virtual int Port() const = 0;

  /// Replaces the toxics. Open connections pick them up at their next exchange (dice) or their
  /// next bytes (latency, bandwidth, slicer, lifting a black hole).
  virtual void SetToxics(const Toxics& toxics) = 0;
  /// Down: the listening socket is closed (connects are refused) and every open connection is
  /// closed. Up again: listens on the same port. Returns once the change is in effect.
  virtual Status SetDown(bool down) = 0;

  virtual ProxyStats Stats() const = 0;
  /// Closes everything and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace barfill::testing
