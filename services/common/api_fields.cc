#include "services/common/api_fields.h"

#include <chrono>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/api_key.h"

namespace gnlc {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ParseName(absl::string_view name, absl::string_view collection, absl::string_view field,
                      FieldErrors& errors) {
  std::string prefix = absl::StrCat(collection, "/");
  if (!absl::StartsWith(name, prefix) || name.size() == prefix.size() ||
      name.substr(prefix.size()).find('/') != absl::string_view::npos) {
    errors.Add(std::string(field), absl::StrCat("must be ", collection, "/{id}, got '", name, "'"));
    return "";
  }
  return std::string(name.substr(prefix.size()));
}

int PageSize(int requested, FieldErrors& errors) {
  if (requested < 0) errors.Add("page_size", "must not be negative");
  if (requested <= 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

std::string EncodePageToken(absl::string_view last) { return absl::WebSafeBase64Escape(last); }

std::string DecodePageToken(const std::string& token, FieldErrors& errors) {
  std::string out;
  if (!token.empty() && !absl::WebSafeBase64Unescape(token, &out)) {
    errors.Add("page_token", "is not a token returned by this method");
  }
  return out;
}

std::string FormatEtag(int64_t revision) { return absl::StrCat("r", revision); }

std::optional<int64_t> ParseEtag(const std::string& etag, FieldErrors& errors) {
  if (etag.empty()) return std::nullopt;
  int64_t revision = 0;
  if (!absl::StartsWith(etag, "r") || !absl::SimpleAtoi(etag.substr(1), &revision)) {
    errors.Add("etag", "is not an etag returned by this service");
    return std::nullopt;
  }
  return revision;
}

int64_t ParseCursor(const std::string& cursor, absl::string_view field, FieldErrors& errors) {
  int64_t seq = 0;
  if (!cursor.empty() && (!absl::SimpleAtoi(cursor, &seq) || seq < 0)) {
    errors.Add(std::string(field), "is not a cursor returned by this service");
  }
  return seq;
}

std::string RequestFingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  if (const auto* f = copy->GetDescriptor()->FindFieldByName("request_id")) {
    copy->GetReflection()->ClearField(copy.get(), f);
  }
  std::string bytes;
  copy->SerializeToString(&bytes);
  return Sha256Hex(bytes);
}

void SetTime(google::protobuf::Timestamp* out, int64_t us) {
  if (us != 0) *out = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(us);
}

void LimitToGrant(const Grant& grant, std::string& scope_country, std::string& scope_city,
                  bool& published_only) {
  switch (grant.scope) {
    case Scope::kAll:
      break;
    case Scope::kOwnCountry:
      scope_country = grant.principal.id;
      break;
    case Scope::kOwnCity:
      scope_city = grant.principal.id;
      break;
    case Scope::kPublished:
      published_only = true;
      break;
  }
}

absl::Status CheckRead(const Grant& grant, const ObjectScope& object) {
  if (object.published) return absl::OkStatus();
  return grant.Check(object);
}

}  // namespace gnlc
