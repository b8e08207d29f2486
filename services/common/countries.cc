#include "services/common/countries.h"

#include <cstdio>
#include <cstdlib>

#include "nlohmann/json.hpp"

namespace gnlc {

// Defined in the file CMake generates from the JSON sources (countries_data.cc.in).
extern const absl::string_view kIso3166Json;
extern const absl::string_view kIso4217Json;
extern const absl::string_view kUnescoRegionsJson;

namespace {

UnescoRegion RegionFromKey(absl::string_view key) {
  if (key == "AFRICA") return UnescoRegion::kAfrica;
  if (key == "ARAB_STATES") return UnescoRegion::kArabStates;
  if (key == "ASIA_PACIFIC") return UnescoRegion::kAsiaPacific;
  if (key == "EUROPE_NORTH_AMERICA") return UnescoRegion::kEuropeNorthAmerica;
  if (key == "LATIN_AMERICA_CARIBBEAN") return UnescoRegion::kLatinAmericaCaribbean;
  return UnescoRegion::kUnspecified;
}

}  // namespace

ReferenceData::ReferenceData() {
  // The data is compiled in, so a parse failure is a build defect: fail loudly at start.
  auto countries = nlohmann::json::parse(kIso3166Json, nullptr, false);
  auto currencies = nlohmann::json::parse(kIso4217Json, nullptr, false);
  auto regions = nlohmann::json::parse(kUnescoRegionsJson, nullptr, false);
  if (countries.is_discarded() || currencies.is_discarded() || regions.is_discarded()) {
    std::fputs("embedded reference data is corrupt\n", stderr);
    std::abort();
  }
  for (const auto& c : countries["3166-1"]) {
    Country country;
    country.code = c.value("alpha_2", "");
    country.name = c.value("common_name", c.value("name", ""));
    countries_[country.code] = std::move(country);
  }
  for (const auto& r : regions["countries"]) {
    auto it = countries_.find(r.value("code", ""));
    if (it == countries_.end()) continue;
    it->second.region = RegionFromKey(r.value("region", ""));
    it->second.unesco_status = r.value("status", "");
  }
  for (const auto& c : currencies["4217"]) currencies_.insert(c.value("alpha_3", ""));
}

const ReferenceData& ReferenceData::Get() {
  static const ReferenceData* data = new ReferenceData();
  return *data;
}

const Country* ReferenceData::FindCountry(absl::string_view code) const {
  auto it = countries_.find(code);
  return it == countries_.end() ? nullptr : &it->second;
}

bool ReferenceData::IsCurrency(absl::string_view code) const { return currencies_.contains(code); }

absl::string_view UnescoRegionName(UnescoRegion region) {
  switch (region) {
    case UnescoRegion::kAfrica:
      return "Africa";
    case UnescoRegion::kArabStates:
      return "Arab States";
    case UnescoRegion::kAsiaPacific:
      return "Asia and the Pacific";
    case UnescoRegion::kEuropeNorthAmerica:
      return "Europe and North America";
    case UnescoRegion::kLatinAmericaCaribbean:
      return "Latin America and the Caribbean";
    default:
      return "";
  }
}

}  // namespace gnlc
