// A server stream of pages: reads them on the worker pool and writes them one at a time.
// A change feed (kFollow) polls again after a short pause when caught up (an alarm, so no
// thread waits), so writers on other replicas become visible at the next poll; an export
// (kUntilEmpty) ends at the first empty page. Either ends with UNAVAILABLE when the server
// shuts down, so the follower resumes from its last cursor elsewhere.
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "services/common/server.h"
#include "services/common/status.h"

namespace gnlc {

template <typename Response>
class FeedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  // Runs once, on the pool, with the caller's grant: sets up the follower's position.
  using Start = std::function<absl::Status(const Grant&)>;
  // The next responses after the last one sent; empty when caught up. Runs on the pool.
  using Next = std::function<absl::StatusOr<std::vector<Response>>()>;

  enum class Mode { kFollow, kUntilEmpty };

  static constexpr absl::Duration kPollInterval = absl::Milliseconds(250);

  FeedStream(CallGate& gate, grpc::CallbackServerContext* ctx, std::string method,
             const std::atomic<bool>& stopping, Start start, Next next, Mode mode = Mode::kFollow)
      : mode_(mode),
        gate_(gate),
        ctx_(ctx),
        method_(std::move(method)),
        stopping_(stopping),
        start_(std::move(start)),
        next_(std::move(next)),
        started_at_(absl::Now()) {
    Submit([this] { Admit(); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Done(absl::CancelledError("the follower went away"));
    std::lock_guard lock(mu_);
    pending_.pop_front();
    if (!pending_.empty()) {
      this->StartWrite(&pending_.front());
      return;
    }
    Submit([this] { Fetch(); });
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    for (grpc::Alarm& alarm : alarms_) alarm.Cancel();
  }
  void OnDone() override { delete this; }

 private:
  void Submit(std::function<void()> task) {
    if (!gate_.pool().TrySubmit(std::move(task))) {
      Done(ErrorWithReason(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                           "the server is at capacity; resume from your last cursor"));
    }
  }

  void Admit() {
    auto grant = gate_.Admit(*ctx_, method_);
    if (!grant.ok()) return Done(grant.status());
    if (absl::Status st = start_(*grant); !st.ok()) return Done(st);
    Fetch();
  }

  void Fetch() {
    if (ctx_->IsCancelled()) return Done(absl::CancelledError("cancelled"));
    if (stopping_) {
      return Done(ErrorWithReason(absl::StatusCode::kUnavailable, "SHUTTING_DOWN",
                                  "the server is shutting down; resume from your last cursor"));
    }
    auto batch = next_();
    if (!batch.ok()) return Done(batch.status());
    if (batch->empty() && mode_ == Mode::kUntilEmpty) return Done(absl::OkStatus());
    std::lock_guard lock(mu_);
    if (batch->empty()) {
      // Two alarms taken in turn: the next poll may be set while the last alarm's callback
      // is still returning, and an alarm must not be re-set from under its own callback.
      next_alarm_ = 1 - next_alarm_;
      alarms_[next_alarm_].Set(absl::ToChronoTime(absl::Now() + kPollInterval),
                               [this](bool) { Submit([this] { Fetch(); }); });
      return;
    }
    for (Response& r : *batch) pending_.push_back(std::move(r));
    this->StartWrite(&pending_.front());
  }

  void Done(const absl::Status& status) {
    if (finished_.exchange(true)) return;
    gate_.Record(method_, status, absl::Now() - started_at_);
    this->Finish(ToGrpcStatus(status));
  }

  const Mode mode_;
  CallGate& gate_;
  grpc::CallbackServerContext* ctx_;
  const std::string method_;
  const std::atomic<bool>& stopping_;
  Start start_;
  Next next_;
  const absl::Time started_at_;
  std::mutex mu_;
  std::deque<Response> pending_;
  std::atomic<bool> finished_{false};
  grpc::Alarm alarms_[2];
  int next_alarm_ = 0;  // guarded by mu_
};

}  // namespace gnlc
