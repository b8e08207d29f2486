// Reference data: ISO 3166-1 countries, ISO 4217 currencies (from Debian's iso-codes) and
// UNESCO's five regions (data/unesco_regions.json), embedded in the binary at build time.
#pragma once

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace gnlc {

// Values match gnlc.common.v1.UnescoRegion.
enum class UnescoRegion {
  kUnspecified = 0,
  kAfrica = 1,
  kArabStates = 2,
  kAsiaPacific = 3,
  kEuropeNorthAmerica = 4,
  kLatinAmericaCaribbean = 5,
};

struct Country {
  std::string code;  // ISO 3166-1 alpha-2
  std::string name;  // English short name
  // kUnspecified for countries and territories outside UNESCO's membership.
  UnescoRegion region = UnescoRegion::kUnspecified;
  // "member_state", "associate_member", "former_member_state" or "" (not in UNESCO).
  std::string unesco_status;
};

class ReferenceData {
 public:
  // The data embedded in this binary, parsed on first use.
  static const ReferenceData& Get();

  // The country with this alpha-2 code (upper case), or null.
  const Country* FindCountry(absl::string_view code) const;
  // True for an active ISO 4217 alphabetic code ("EUR").
  bool IsCurrency(absl::string_view code) const;
  size_t country_count() const { return countries_.size(); }
  const absl::flat_hash_map<std::string, Country>& Countries() const { return countries_; }

 private:
  ReferenceData();
  absl::flat_hash_map<std::string, Country> countries_;
  absl::flat_hash_set<std::string> currencies_;
};

// "Africa", "Arab States", ... as UNESCO writes them.
absl::string_view UnescoRegionName(UnescoRegion region);

}  // namespace gnlc
