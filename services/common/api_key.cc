#include "services/common/api_key.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace gnlc {
namespace {

constexpr absl::string_view kPrefix = "gnlc_";
constexpr size_t kKeyIdLength = 16;

void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();  // no CSPRNG: nothing about keys can be trusted
}

absl::Status BadToken(absl::string_view why) {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated, "API_KEY_INVALID",
                         absl::StrCat("the API key is not valid: ", why));
}

}  // namespace

NewApiKey GenerateApiKey() {
  EnsureSodium();
  unsigned char id[kKeyIdLength / 2];
  unsigned char secret[32];
  randombytes_buf(id, sizeof id);
  randombytes_buf(secret, sizeof secret);
  NewApiKey key;
  key.key_id = absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(id), sizeof id));
  std::string secret_text;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(secret), sizeof secret),
                            &secret_text);
  key.token = absl::StrCat(kPrefix, key.key_id, "_", secret_text);
  key.hash = HashApiKey(key.token);
  return key;
}

absl::StatusOr<std::string> ApiKeyId(absl::string_view token) {
  if (!absl::StartsWith(token, kPrefix)) return BadToken("it does not start with 'gnlc_'");
  absl::string_view rest = token.substr(kPrefix.size());
  if (rest.size() <= kKeyIdLength + 1 || rest[kKeyIdLength] != '_') {
    return BadToken("expected gnlc_<16 hex digits>_<secret>");
  }
  absl::string_view id = rest.substr(0, kKeyIdLength);
  for (char c : id) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return BadToken("malformed key id");
  }
  return std::string(id);
}

std::string HashApiKey(absl::string_view token) { return Sha256Hex(token); }

std::string Sha256Hex(absl::string_view token) {
  EnsureSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

bool SameApiKeyHash(absl::string_view a, absl::string_view b) {
  EnsureSodium();
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<std::string> BearerToken(absl::string_view header) {
  absl::string_view value = absl::StripAsciiWhitespace(header);
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
    return BadToken("the authorization header must be 'Bearer <key>'");
  }
  absl::string_view token = absl::StripAsciiWhitespace(value.substr(7));
  if (token.empty()) return BadToken("the bearer token is empty");
  return std::string(token);
}

}  // namespace gnlc
