#include "services/common/countries.h"

#include "gtest/gtest.h"

namespace gnlc {
namespace {

UnescoRegion RegionOf(const char* code) {
  const Country* c = ReferenceData::Get().FindCountry(code);
  return c ? c->region : UnescoRegion::kUnspecified;
}

TEST(ReferenceData, HasEveryIsoCountry) {
  EXPECT_GE(ReferenceData::Get().country_count(), 249u);
  ASSERT_NE(ReferenceData::Get().FindCountry("CN"), nullptr);
  EXPECT_EQ(ReferenceData::Get().FindCountry("XX"), nullptr);
  EXPECT_EQ(ReferenceData::Get().FindCountry("cn"), nullptr);
}

TEST(ReferenceData, UsesUnescosGroupingNotTheUnGeoscheme) {
  // Western Asia / North America in the UN geoscheme; Europe and North America for UNESCO.
  EXPECT_EQ(RegionOf("IL"), UnescoRegion::kEuropeNorthAmerica);
  EXPECT_EQ(RegionOf("CA"), UnescoRegion::kEuropeNorthAmerica);
  EXPECT_EQ(RegionOf("US"), UnescoRegion::kEuropeNorthAmerica);
  EXPECT_EQ(RegionOf("TR"), UnescoRegion::kEuropeNorthAmerica);
  // African countries in the Arab States.
  EXPECT_EQ(RegionOf("SD"), UnescoRegion::kArabStates);
  EXPECT_EQ(RegionOf("DJ"), UnescoRegion::kArabStates);
  EXPECT_EQ(RegionOf("SO"), UnescoRegion::kArabStates);
  EXPECT_EQ(RegionOf("MR"), UnescoRegion::kArabStates);
  EXPECT_EQ(RegionOf("EG"), UnescoRegion::kArabStates);
  EXPECT_EQ(RegionOf("NG"), UnescoRegion::kAfrica);
  EXPECT_EQ(RegionOf("KZ"), UnescoRegion::kAsiaPacific);
  EXPECT_EQ(RegionOf("CN"), UnescoRegion::kAsiaPacific);
  EXPECT_EQ(RegionOf("BR"), UnescoRegion::kLatinAmericaCaribbean);
  // Not in UNESCO: a country, but no region.
  EXPECT_EQ(RegionOf("LI"), UnescoRegion::kUnspecified);
}

TEST(ReferenceData, KnowsCurrencies) {
  EXPECT_TRUE(ReferenceData::Get().IsCurrency("EUR"));
  EXPECT_TRUE(ReferenceData::Get().IsCurrency("CNY"));
  EXPECT_FALSE(ReferenceData::Get().IsCurrency("XYZ"));
  EXPECT_FALSE(ReferenceData::Get().IsCurrency("eur"));
}

}  // namespace
}  // namespace gnlc
