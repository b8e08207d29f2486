// Structured logs: one JSON object per line (or key=value text for a terminal), through spdlog.
#pragma once

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace gnlc {

// format: "json" or "text"; level: "debug", "info", "warn", "error".
void InitLogging(absl::string_view format, absl::string_view level);

// Logs `event` with its fields, e.g. LogEvent(spdlog::level::info, "rpc", {{"method", m}}).
void LogEvent(spdlog::level::level_enum level, absl::string_view event, nlohmann::json fields = {});

}  // namespace gnlc
