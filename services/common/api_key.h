// API key secrets: "gnlc_<key id>_<secret>". The key id is public (listed, revoked by name);
// the whole token is stored only as a SHA-256 hash, compared in constant time.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gnlc {

struct NewApiKey {
  std::string key_id;  // 16 hex characters
  std::string token;   // what the caller sends as "Bearer <token>"
  std::string hash;    // hex SHA-256 of the token: the only thing stored
};

// A fresh key from libsodium's CSPRNG (a 256-bit secret).
NewApiKey GenerateApiKey();

// The key id inside a token, or UNAUTHENTICATED when the token is not shaped like one.
absl::StatusOr<std::string> ApiKeyId(absl::string_view token);

// Hex SHA-256 of a token.
std::string HashApiKey(absl::string_view token);

// Hex SHA-256 of any bytes (request fingerprints, content hashes).
std::string Sha256Hex(absl::string_view bytes);

// Constant-time comparison of two hashes.
bool SameApiKeyHash(absl::string_view a, absl::string_view b);

// The token from an "authorization" header value ("Bearer <token>"); UNAUTHENTICATED when
// the header is present but malformed.
absl::StatusOr<std::string> BearerToken(absl::string_view header);

}  // namespace gnlc
