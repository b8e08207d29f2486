#include "services/common/principal.h"

#include "gtest/gtest.h"
#include "services/common/status.h"

namespace gnlc {
namespace {

TEST(ParsePrincipal, AcceptsEachRoleAndRoundTrips) {
  for (const char* text : {"secretariat", "national_commission:FR", "ministry:CN",
                           "city:cn-hangzhou", "partner:atlas", "service:indicators"}) {
    auto p = ParsePrincipal(text);
    ASSERT_TRUE(p.ok()) << text << ": " << p.status();
    EXPECT_EQ(p->ToString(), text);
  }
}

TEST(ParsePrincipal, RefusesMalformedOnes) {
  for (const char* text :
       {"", "anonymous", "secretariat:x", "national_commission:fr", "national_commission:FRA",
        "ministry:", "city:Hangzhou", "city:cn_hangzhou", "city:-x", "partner", "king:FR"}) {
    EXPECT_FALSE(ParsePrincipal(text).ok()) << text;
  }
}

TEST(IsValidId, FollowsTheSlugRule) {
  EXPECT_TRUE(IsValidId("cn-hangzhou"));
  EXPECT_TRUE(IsValidId("ab"));
  EXPECT_FALSE(IsValidId("a"));
  EXPECT_FALSE(IsValidId("1city"));
  EXPECT_FALSE(IsValidId("city-"));
  EXPECT_FALSE(IsValidId("City"));
  EXPECT_FALSE(IsValidId(std::string(64, 'a')));
}

TEST(Grant, CoversOnlyItsScope) {
  Grant commission{{Role::kNationalCommission, "FR", "k"}, Scope::kOwnCountry};
  EXPECT_TRUE(commission.Covers({"FR", "fr-paris", false}));
  EXPECT_FALSE(commission.Covers({"DE", "de-hamburg", false}));
  Grant city{{Role::kCity, "fr-paris", "k"}, Scope::kOwnCity};
  EXPECT_TRUE(city.Covers({"FR", "fr-paris", false}));
  EXPECT_FALSE(city.Covers({"FR", "fr-lyon", false}));
  Grant partner{{Role::kPartner, "atlas", "k"}, Scope::kPublished};
  EXPECT_TRUE(partner.Covers({"FR", "fr-paris", true}));
  EXPECT_FALSE(partner.Covers({"FR", "fr-paris", false}));
  absl::Status denied = partner.Check({"FR", "fr-paris", false});
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(denied), "OUT_OF_SCOPE");
}

TEST(Authorize, DeniesByDefault) {
  AccessTable table = {{"Read", {{Role::kPartner, Scope::kPublished}}}};
  Principal partner{Role::kPartner, "atlas", "k"};
  Principal secretariat{Role::kSecretariat, "", "k"};
  ASSERT_TRUE(Authorize(table, "Read", partner).ok());
  EXPECT_EQ(Authorize(table, "Read", partner)->scope, Scope::kPublished);
  // A role missing from the row, and an RPC missing from the table, are refused.
  EXPECT_EQ(Authorize(table, "Read", secretariat).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Authorize(table, "Write", secretariat).status().code(),
            absl::StatusCode::kPermissionDenied);
  // An anonymous caller is told to authenticate.
  EXPECT_EQ(Authorize(table, "Read", Principal{}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace gnlc
