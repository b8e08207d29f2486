// Every flag of the gnlc CLI. absl parses flags anywhere on the command line, so the options
// of each subcommand are plain flags too; each may also come from GNLC_<NAME> in the
// environment (gnlc::ParseCommandLine).
#pragma once

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

// Connection and output (defined in flags.cc; the service addresses in
// services/common/config.cc).
ABSL_DECLARE_FLAG(std::string, membership_addr);
ABSL_DECLARE_FLAG(std::string, indicators_addr);
ABSL_DECLARE_FLAG(std::string, key_file);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(absl::Duration, timeout);
ABSL_DECLARE_FLAG(bool, json);

// Shared by several commands.
ABSL_DECLARE_FLAG(std::string, request_id);
ABSL_DECLARE_FLAG(std::string, etag);
ABSL_DECLARE_FLAG(std::string, reason);
ABSL_DECLARE_FLAG(std::string, comment);
ABSL_DECLARE_FLAG(std::string, country);
ABSL_DECLARE_FLAG(std::string, city);
ABSL_DECLARE_FLAG(int32_t, page_size);
ABSL_DECLARE_FLAG(std::string, page_token);
ABSL_DECLARE_FLAG(bool, all);
ABSL_DECLARE_FLAG(std::string, file);

// cities
ABSL_DECLARE_FLAG(std::string, city_id);
ABSL_DECLARE_FLAG(std::string, fields);
ABSL_DECLARE_FLAG(std::string, region);
ABSL_DECLARE_FLAG(std::string, status);
ABSL_DECLARE_FLAG(std::string, kind);
ABSL_DECLARE_FLAG(std::string, query);

// applications
ABSL_DECLARE_FLAG(std::string, state);
ABSL_DECLARE_FLAG(std::string, motivation);
ABSL_DECLARE_FLAG(std::string, signatory);
ABSL_DECLARE_FLAG(std::string, signed_on);
ABSL_DECLARE_FLAG(bool, seal);
ABSL_DECLARE_FLAG(std::string, beijing_adopted_on);
ABSL_DECLARE_FLAG(std::string, key_features_adopted_on);
ABSL_DECLARE_FLAG(std::string, reference);

// keys
ABSL_DECLARE_FLAG(std::string, principal);
ABSL_DECLARE_FLAG(std::string, description);
ABSL_DECLARE_FLAG(bool, include_revoked);

// representatives
ABSL_DECLARE_FLAG(std::string, role);
ABSL_DECLARE_FLAG(std::string, name);
ABSL_DECLARE_FLAG(std::string, title);
ABSL_DECLARE_FLAG(std::string, email);
ABSL_DECLARE_FLAG(std::string, phone);
ABSL_DECLARE_FLAG(std::string, approved_by);
ABSL_DECLARE_FLAG(std::string, approved_on);
ABSL_DECLARE_FLAG(std::string, approval_document);
ABSL_DECLARE_FLAG(bool, include_removed);

// contributions
ABSL_DECLARE_FLAG(std::string, amount);
ABSL_DECLARE_FLAG(std::string, currency);
ABSL_DECLARE_FLAG(std::string, received_on);
ABSL_DECLARE_FLAG(std::string, note);

// events
ABSL_DECLARE_FLAG(std::string, after);
ABSL_DECLARE_FLAG(bool, from_now);

// indicators
ABSL_DECLARE_FLAG(int32_t, year);
ABSL_DECLARE_FLAG(std::string, measure);
ABSL_DECLARE_FLAG(std::string, feature);
ABSL_DECLARE_FLAG(bool, working_copy);
ABSL_DECLARE_FLAG(std::string, mode);
ABSL_DECLARE_FLAG(bool, dry_run);
ABSL_DECLARE_FLAG(std::string, job);
ABSL_DECLARE_FLAG(int32_t, batch_rows);
ABSL_DECLARE_FLAG(std::string, out);
