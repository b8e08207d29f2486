#include "services/common/authenticator.h"

#include "gtest/gtest.h"
#include "services/common/status.h"

namespace gnlc {
namespace {

// Answers from a table and counts how often it was asked.
class TableAuthenticator final : public Authenticator {
 public:
  absl::StatusOr<Principal> Authenticate(absl::string_view token) override {
    ++calls;
    if (down) return absl::UnavailableError("key store down");
    if (token == "good") return Principal{Role::kPartner, "atlas", "k1"};
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "API_KEY_INVALID", "no");
  }
  int calls = 0;
  bool down = false;
};

class CachingAuthenticatorTest : public ::testing::Test {
 protected:
  std::chrono::steady_clock::time_point now_{};
  TableAuthenticator inner_;
  CachingAuthenticator cache_{inner_, std::chrono::seconds(30), [this] { return now_; }};
};

TEST_F(CachingAuthenticatorTest, RemembersAnswersForTheTtlOnly) {
  ASSERT_TRUE(cache_.Authenticate("good").ok());
  now_ += std::chrono::seconds(29);
  EXPECT_EQ(cache_.Authenticate("good")->id, "atlas");
  EXPECT_EQ(inner_.calls, 1);
  now_ += std::chrono::seconds(2);  // past the TTL: the revocation bound
  ASSERT_TRUE(cache_.Authenticate("good").ok());
  EXPECT_EQ(inner_.calls, 2);
}

TEST_F(CachingAuthenticatorTest, RemembersRefusalsButNotOutages) {
  EXPECT_EQ(cache_.Authenticate("bad").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(cache_.Authenticate("bad").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(inner_.calls, 1);
  inner_.down = true;
  EXPECT_EQ(cache_.Authenticate("other").status().code(), absl::StatusCode::kUnavailable);
  inner_.down = false;
  EXPECT_EQ(cache_.Authenticate("other").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(inner_.calls, 3);  // the outage was not cached
}

TEST_F(CachingAuthenticatorTest, AcceptsRecentlyVerifiedKeysThroughAnOutageOnly) {
  CachingAuthenticator cache(
      inner_, std::chrono::seconds(30), [this] { return now_; }, std::chrono::minutes(10));
  ASSERT_TRUE(cache.Authenticate("good").ok());
  EXPECT_EQ(cache.Authenticate("bad").status().code(), absl::StatusCode::kUnauthenticated);
  inner_.down = true;
  now_ += std::chrono::minutes(5);  // past the TTL, within the outage allowance
  EXPECT_EQ(cache.Authenticate("good")->id, "atlas");
  EXPECT_EQ(cache.Authenticate("bad").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache.Authenticate("never-seen").status().code(), absl::StatusCode::kUnavailable);
  now_ += std::chrono::minutes(6);  // too old now
  EXPECT_EQ(cache.Authenticate("good").status().code(), absl::StatusCode::kUnavailable);
  // Without the allowance (the default), an outage refuses at once.
  inner_.down = false;
  ASSERT_TRUE(cache_.Authenticate("good").ok());
  inner_.down = true;
  now_ += std::chrono::seconds(31);
  EXPECT_EQ(cache_.Authenticate("good").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace gnlc
