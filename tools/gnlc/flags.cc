#include "tools/gnlc/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, key_file, "",
          "file holding the API key to send as 'authorization: Bearer <key>' (GNLC_API_KEY, "
          "holding the key itself, takes precedence)");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signed the server's certificate; when set the CLI speaks TLS, "
          "otherwise plaintext (loopback only)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of each call (not of a watch)");
ABSL_FLAG(bool, json, false, "print responses as JSON (one document per command)");

ABSL_FLAG(std::string, request_id, "",
          "idempotency key: repeating a create with the same request_id does it only once");
ABSL_FLAG(std::string, etag, "", "only change the object if its etag is still this one");
ABSL_FLAG(std::string, reason, "", "why (recorded in the history)");
ABSL_FLAG(std::string, comment, "", "comment recorded in the history");
ABSL_FLAG(std::string, country, "", "ISO 3166-1 alpha-2 country code, e.g. CN");
ABSL_FLAG(std::string, city, "", "city id (cn-hangzhou) or name (cities/cn-hangzhou)");
ABSL_FLAG(int32_t, page_size, 0, "items per page (0: the server's default)");
ABSL_FLAG(std::string, page_token, "", "continue a list from this token");
ABSL_FLAG(bool, all, false, "follow next_page_token and list every page");
ABSL_FLAG(std::string, file, "", "JSON file holding a gnlc.membership.v1.City");

ABSL_FLAG(std::string, city_id, "", "id for a new city (derived from country and name if empty)");
ABSL_FLAG(std::string, fields, "", "comma-separated fields to update, e.g. population,mayor");
ABSL_FLAG(std::string, region, "",
          "UNESCO region: africa, arab_states, asia_pacific, europe_north_america, "
          "latin_america_caribbean");
ABSL_FLAG(std::string, status, "", "membership status: not_a_member, active, suspended, withdrawn");
ABSL_FLAG(std::string, kind, "", "city, town, village, municipality or community");
ABSL_FLAG(std::string, query, "", "part of a city's name in any language");

ABSL_FLAG(std::string, state, "",
          "application state: draft, submitted, endorsed, declined, withdrawn, registered");
ABSL_FLAG(std::string, motivation, "", "the city's statement of commitment");
ABSL_FLAG(std::string, signatory, "", "the mayor who signed the application");
ABSL_FLAG(std::string, signed_on, "", "day the application was signed, YYYY-MM-DD");
ABSL_FLAG(bool, seal, false, "the application bears the city's official seal");
ABSL_FLAG(std::string, beijing_adopted_on, "",
          "day the mayor adopted the Beijing Declaration, YYYY-MM-DD");
ABSL_FLAG(std::string, key_features_adopted_on, "",
          "day the mayor adopted the Key Features of Learning Cities, YYYY-MM-DD");
ABSL_FLAG(std::string, reference, "", "the National Commission's reference for its endorsement");

ABSL_FLAG(std::string, principal, "",
          "principal of a key: secretariat, national_commission:FR, city:cn-hangzhou, ...");
ABSL_FLAG(std::string, description, "", "what a key is for");
ABSL_FLAG(bool, include_revoked, false, "also list revoked keys");

ABSL_FLAG(std::string, role, "", "representative role: mayor, focal_point or other");
ABSL_FLAG(std::string, name, "", "full name of a representative");
ABSL_FLAG(std::string, title, "", "title of a representative");
ABSL_FLAG(std::string, email, "", "e-mail address");
ABSL_FLAG(std::string, phone, "", "telephone number");
ABSL_FLAG(std::string, approved_by, "", "who approved the representative (the mayor)");
ABSL_FLAG(std::string, approved_on, "", "day of the mayor's approval, YYYY-MM-DD");
ABSL_FLAG(std::string, approval_document, "",
          "where the approval is filed (letter number, document link)");
ABSL_FLAG(bool, include_removed, false, "also list removed representatives");

ABSL_FLAG(std::string, amount, "", "decimal amount, e.g. 1500.00");
ABSL_FLAG(std::string, currency, "", "ISO 4217 currency code, e.g. EUR");
ABSL_FLAG(std::string, received_on, "", "day the contribution was received, YYYY-MM-DD");
ABSL_FLAG(std::string, note, "", "note on a contribution");

ABSL_FLAG(std::string, after, "", "resume after this event cursor");
ABSL_FLAG(bool, from_now, false, "skip past events and watch only new ones");

ABSL_FLAG(int32_t, year, 0, "reporting year, e.g. 2023");
ABSL_FLAG(std::string, measure, "", "measure code of the Key Features, e.g. 1.1.1a");
ABSL_FLAG(std::string, feature, "", "key feature, focus area or dimension code, e.g. 2.2.1");
ABSL_FLAG(bool, working_copy, false,
          "read the working copy (writers and the secretariat) instead of published data");
ABSL_FLAG(std::string, mode, "merge",
          "import mode: merge (write the rows) or replace (also remove values of the file's "
          "cities and years that the file does not hold)");
ABSL_FLAG(bool, dry_run, false, "check every row and report; store nothing");
ABSL_FLAG(std::string, job, "", "resume this import job (its id) after an interruption");
ABSL_FLAG(int32_t, batch_rows, 1000, "rows per acknowledged batch of an import");
ABSL_FLAG(std::string, out, "", "write to this file instead of standard output");
