#include "engine/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace barfill::engine {
namespace {

TEST(BoundedQueue, BlocksOnCountAndWeightAndDrainsAfterClose) {
  BoundedQueue<int> queue(3, 10, [](const int& v) { return static_cast<size_t>(v); });
  EXPECT_TRUE(queue.Push(6));
  EXPECT_TRUE(queue.Push(4));  // weight 10: full by weight
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    queue.Push(5);
    pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(pushed.load()) << "a push over the weight limit waits";
  EXPECT_EQ(*queue.Pop(), 6);  // weight 4 left, 5 fits
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(queue.size(), 2u);
  queue.Close();
  EXPECT_FALSE(queue.Push(1)) << "closed";
  EXPECT_EQ(*queue.Pop(), 4);
  EXPECT_EQ(*queue.Pop(), 5);
  EXPECT_FALSE(queue.Pop().has_value());
}

TEST(BoundedQueue, AnItemHeavierThanTheLimitStillPassesAlone) {
  BoundedQueue<int> queue(2, 10, [](const int& v) { return static_cast<size_t>(v); });
  EXPECT_TRUE(queue.Push(50));
  EXPECT_EQ(*queue.TryPop(), 50);
  EXPECT_FALSE(queue.TryPop().has_value());
}

TEST(BoundedQueue, ManyProducersOneConsumerLoseNothing) {
  BoundedQueue<int> queue(4);
  constexpr int kPerProducer = 2000;
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) queue.Push(p * kPerProducer + i);
    });
  }
  int64_t sum = 0;
  int count = 0;
  std::thread consumer([&] {
    while (auto v = queue.Pop()) {
      sum += *v;
      ++count;
    }
  });
  for (auto& t : producers) t.join();
  queue.Close();
  consumer.join();
  const int64_t n = 4 * kPerProducer;
  EXPECT_EQ(count, n);
  EXPECT_EQ(sum, n * (n - 1) / 2);
}

}  // namespace
}  // namespace barfill::engine
