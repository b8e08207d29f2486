#include "services/common/api_key.h"

#include "gtest/gtest.h"

namespace gnlc {
namespace {

TEST(ApiKey, GeneratedKeysAreUniqueAndCarryTheirId) {
  NewApiKey a = GenerateApiKey(), b = GenerateApiKey();
  EXPECT_NE(a.token, b.token);
  EXPECT_NE(a.key_id, b.key_id);
  EXPECT_EQ(a.key_id.size(), 16u);
  auto id = ApiKeyId(a.token);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, a.key_id);
  EXPECT_EQ(a.hash, HashApiKey(a.token));
  EXPECT_EQ(a.token.find(a.hash), std::string::npos);
}

TEST(ApiKey, HashIsSha256AndComparedExactly) {
  // SHA-256 of the empty string.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_TRUE(SameApiKeyHash(HashApiKey("x"), HashApiKey("x")));
  EXPECT_FALSE(SameApiKeyHash(HashApiKey("x"), HashApiKey("y")));
  EXPECT_FALSE(SameApiKeyHash("abc", "ab"));
}

TEST(ApiKey, MalformedTokensAreUnauthenticated) {
  for (const char* token : {"", "abc", "gnlc_", "gnlc_0123456789abcdef", "gnlc_0123456789ABCDEF_s",
                            "gnlc_0123_secret"}) {
    EXPECT_EQ(ApiKeyId(token).status().code(), absl::StatusCode::kUnauthenticated) << token;
  }
}

TEST(BearerToken, ReadsTheAuthorizationHeader) {
  EXPECT_EQ(*BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(*BearerToken("bearer   abc  "), "abc");
  EXPECT_FALSE(BearerToken("Basic abc").ok());
  EXPECT_FALSE(BearerToken("Bearer ").ok());
  EXPECT_FALSE(BearerToken("abc").ok());
}

}  // namespace
}  // namespace gnlc
