#include "services/common/logging.h"

#include <atomic>

#include "spdlog/sinks/stdout_sinks.h"

namespace gnlc {
namespace {
std::atomic<bool> json_format{true};
}

void InitLogging(absl::string_view format, absl::string_view level) {
  json_format = format != "text";
  auto logger = spdlog::stderr_logger_mt("gnlc");
  // JSON lines carry their own time and level; text lines get spdlog's prefix.
  logger->set_pattern(json_format ? "%v" : "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void LogEvent(spdlog::level::level_enum level, absl::string_view event, nlohmann::json fields) {
  if (!spdlog::should_log(level)) return;
  if (json_format) {
    nlohmann::json line = {{"ts", std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()},
                           {"level", spdlog::level::to_string_view(level).data()},
                           {"event", std::string(event)}};
    if (fields.is_object()) line.update(fields);
    spdlog::log(level, "{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string text(event.data(), event.size());
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) {
      text += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  spdlog::log(level, "{}", text);
}

}  // namespace gnlc
