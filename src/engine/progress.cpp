#include "engine/progress.h"

namespace barfill::engine {

ProgressTicker::ProgressTicker(std::chrono::milliseconds interval, std::function<ProgressSnapshot()> read,
                               std::function<void(const ProgressSnapshot&)> tell)
    : interval_(interval), read_(std::move(read)), tell_(std::move(tell)) {}

ProgressTicker::~ProgressTicker() { Finish(); }

void ProgressTicker::Start() {
  if (interval_.count() <= 0 || !tell_) return;
  thread_ = std::thread([this] { Loop(); });
}

void ProgressTicker::Finish() {
  {
    std::lock_guard lock(mutex_);
    if (done_) return;
    done_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    ProgressSnapshot last = read_();
    last.final = true;
    tell_(last);
  }
}

void ProgressTicker::Loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [&] { return done_; })) {
    lock.unlock();
    tell_(read_());
    lock.lock();
  }
}

}  // namespace barfill::engine
