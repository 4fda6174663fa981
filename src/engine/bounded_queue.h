// A blocking multi-producer/multi-consumer queue bounded by item count and by total weight (e.g.
// bars): the back-pressure that keeps memory flat when fetchers outrun the writer.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>

namespace barfill::engine {

template <typename T>
class BoundedQueue {
 public:
  /// At most `capacity` items and, unless the queue is empty, at most `max_weight` in total as
  /// measured by `weight` (an item heavier than the limit still passes through an empty queue).
  explicit BoundedQueue(size_t capacity, size_t max_weight = std::numeric_limits<size_t>::max(),
                        std::function<size_t(const T&)> weight = nullptr)
      : capacity_(capacity == 0 ? 1 : capacity), max_weight_(max_weight), weight_(std::move(weight)) {}

  /// Blocks while the queue is full. Returns false (dropping `item`) once the queue is closed.
  bool Push(T item) {
    const size_t w = weight_ ? weight_(item) : 0;
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] {
      return closed_ || (items_.size() < capacity_ && (items_.empty() || weight_in_ + w <= max_weight_));
    });
    if (closed_) return false;
    weight_in_ += w;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  /// Blocks until an item is there; nullopt once the queue is closed and drained.
  std::optional<T> Pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return TakeFront();
  }

  /// Never blocks: an item if one is queued now.
  std::optional<T> TryPop() {
    std::lock_guard lock(mutex_);
    return TakeFront();
  }

  /// No more pushes; consumers drain what is left, then get nullopt.
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  std::optional<T> TakeFront() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    if (weight_) weight_in_ -= weight_(item);
    not_full_.notify_all();  // a lighter item may fit where a heavier one waits
    return item;
  }

  const size_t capacity_;
  const size_t max_weight_;
  const std::function<size_t(const T&)> weight_;
  size_t weight_in_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace barfill::engine
