#include "services/common/config.h"

#include <cstdlib>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

ABSL_DECLARE_FLAG(std::string, membership_addr);
ABSL_DECLARE_FLAG(std::string, database);
ABSL_DECLARE_FLAG(std::string, redis);
ABSL_DECLARE_FLAG(int, workers);
ABSL_DECLARE_FLAG(std::string, log_format);
ABSL_DECLARE_FLAG(std::string, tls_cert);

namespace gnlc {
namespace {

using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  absl::FlagSaver saver_;  // every test starts from the defaults
};

std::vector<std::string> BadSettings(const absl::Status& status) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolations(status)) out.push_back(v.field);
  return out;
}

TEST_F(ConfigTest, ValidSettingsLoad) {
  absl::SetFlag(&FLAGS_database, "sqlite:/tmp/x.db");
  auto config = ServerConfigFromFlags("membership");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "127.0.0.1:50051");
  EXPECT_EQ(config->database_url, "sqlite:/tmp/x.db");
}

TEST_F(ConfigTest, EveryBadSettingIsNamedWithItsVariable) {
  absl::SetFlag(&FLAGS_membership_addr, "nowhere");
  absl::SetFlag(&FLAGS_database, "mysql://x");
  absl::SetFlag(&FLAGS_redis, "redis");
  absl::SetFlag(&FLAGS_workers, 0);
  absl::SetFlag(&FLAGS_log_format, "xml");
  absl::SetFlag(&FLAGS_tls_cert, "/etc/cert.pem");  // without a key
  absl::Status status = ServerConfigFromFlags("membership").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  auto bad = BadSettings(status);
  for (const char* setting :
       {"--membership_addr (GNLC_MEMBERSHIP_ADDR)", "--database (GNLC_DATABASE)",
        "--redis (GNLC_REDIS)", "--workers (GNLC_WORKERS)", "--log_format (GNLC_LOG_FORMAT)",
        "--tls_key (GNLC_TLS_KEY)"}) {
    EXPECT_THAT(bad, Contains(setting));
  }
}

TEST_F(ConfigTest, PlaintextOnlyOnLoopback) {
  absl::SetFlag(&FLAGS_database, "sqlite:/tmp/x.db");
  absl::SetFlag(&FLAGS_membership_addr, "0.0.0.0:50051");
  absl::Status status = ServerConfigFromFlags("membership").status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("plaintext is served only on loopback"));
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:1"));
}

TEST_F(ConfigTest, EnvironmentSetsFlagsAndTheCommandLineWins) {
  setenv("GNLC_WORKERS", "3", 1);
  setenv("GNLC_DATABASE", "sqlite:/tmp/env.db", 1);
  std::string prog = "test", arg = "--workers=5";
  std::vector<char*> argv = {prog.data(), arg.data()};
  ParseCommandLine(static_cast<int>(argv.size()), argv.data(), "test");
  unsetenv("GNLC_WORKERS");
  unsetenv("GNLC_DATABASE");
  EXPECT_EQ(absl::GetFlag(FLAGS_workers), 5);
  EXPECT_EQ(absl::GetFlag(FLAGS_database), "sqlite:/tmp/env.db");
}

}  // namespace
}  // namespace gnlc
