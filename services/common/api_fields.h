// Request fields every service's API adapter reads the same way (AIP conventions): resource
// names, pages, etags, cursors, idempotency fingerprints, timestamps, and the list filter a
// grant allows. Kept here so that each adapter holds only its own service's logic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/common/principal.h"
#include "services/common/status.h"

namespace gnlc {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

// Microseconds since the Unix epoch, now.
int64_t NowMicros();

// The id in "<collection>/<id>", or "" and a field violation.
std::string ParseName(absl::string_view name, absl::string_view collection, absl::string_view field,
                      FieldErrors& errors);

// The page size to use: the default for 0, at most kMaxPageSize; negative is an error.
int PageSize(int requested, FieldErrors& errors);
// Page tokens are the last key of the previous page, opaque to the client.
std::string EncodePageToken(absl::string_view last);
std::string DecodePageToken(const std::string& token, FieldErrors& errors);

// Etags are "r<revision>".
std::string FormatEtag(int64_t revision);
std::optional<int64_t> ParseEtag(const std::string& etag, FieldErrors& errors);

// Change-feed cursors are the decimal sequence number of the last change seen.
int64_t ParseCursor(const std::string& cursor, absl::string_view field, FieldErrors& errors);

// A hash of the request without its request_id: a retry must send the same request.
std::string RequestFingerprint(const google::protobuf::Message& request);

// Sets a timestamp from microseconds since the epoch; leaves it unset for 0.
void SetTime(google::protobuf::Timestamp* out, int64_t us);

// Narrows a list to what the grant reaches (published objects stay visible to all).
void LimitToGrant(const Grant& grant, std::string& scope_country, std::string& scope_city,
                  bool& published_only);

// Reads of a published object are open to every role that may call the RPC at all.
absl::Status CheckRead(const Grant& grant, const ObjectScope& object);

}  // namespace gnlc
