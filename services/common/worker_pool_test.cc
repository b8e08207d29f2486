#include "services/common/worker_pool.h"

#include <atomic>
#include <latch>
#include <set>

#include "gtest/gtest.h"

namespace gnlc {
namespace {

TEST(WorkerPool, RunsEveryAcceptedTaskBeforeDrainReturns) {
  std::atomic<int> ran{0};
  WorkerPool pool(2, 1000);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
  pool.Drain();
  EXPECT_EQ(ran, 500);
  EXPECT_FALSE(pool.TrySubmit([] {}));  // stopped
}

TEST(WorkerPool, RefusesBeyondItsQueue) {
  WorkerPool pool(1, 1);
  std::latch started(1), release(1);
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.count_down();
    release.wait();
  }));
  started.wait();  // the only worker is busy
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_FALSE(pool.TrySubmit([] {}));  // queue of one is full
  release.count_down();
}

TEST(WorkerPool, TellsEachWorkerItsIndex) {
  EXPECT_EQ(WorkerPool::CurrentWorker(), -1);
  WorkerPool pool(3, 100);
  std::mutex mu;
  std::set<int> seen;
  std::latch all(3);
  for (int i = 0; i < 3; ++i) {
    pool.TrySubmit([&] {
      {
        std::lock_guard lock(mu);
        seen.insert(WorkerPool::CurrentWorker());
      }
      all.arrive_and_wait();  // keeps three workers busy at once, so all three report
    });
  }
  pool.Drain();
  EXPECT_EQ(seen, (std::set<int>{0, 1, 2}));
}

}  // namespace
}  // namespace gnlc
