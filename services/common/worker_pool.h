// A fixed set of threads that run blocking work (SQL, Redis) off the gRPC callback threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gnlc {

class WorkerPool {
 public:
  // threads workers; at most max_queued tasks wait beyond those running.
  WorkerPool(int threads, size_t max_queued);
  // Runs every task already accepted, then joins.
  ~WorkerPool();

  // Queues a task; false (and the task is dropped) when the queue is full or the pool stops.
  bool TrySubmit(std::function<void()> task);

  // Stops accepting tasks and waits for the queued ones to finish.
  void Drain();

  // The index (0..threads-1) of the worker running the caller, or -1 off the pool. Lets a
  // worker own per-thread resources such as a Redis connection.
  static int CurrentWorker();

  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void Loop(int index);

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gnlc
