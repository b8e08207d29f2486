#include "services/indicators/indicators_api.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/api_fields.h"
#include "services/common/api_key.h"
#include "services/common/feed_stream.h"
#include "services/common/metrics.h"

namespace gnlc::indicators {
namespace {

using google::protobuf::util::TimeUtil;
using LocalizedTexts = google::protobuf::RepeatedPtrField<common::v1::LocalizedText>;

constexpr size_t kMaxCommentLength = 2000;
constexpr size_t kMaxIdLength = 128;

int ThisYear() {
  return static_cast<int>(absl::ToCivilYear(absl::Now(), absl::UTCTimeZone()).year());
}

// The caller's bearer token, forwarded to membership so that its own scope rules apply.
std::string CallerToken(const grpc::CallbackServerContext& ctx) {
  auto it = ctx.client_metadata().find("authorization");
  if (it == ctx.client_metadata().end()) return "";
  auto token = BearerToken(absl::string_view(it->second.data(), it->second.size()));
  return token.ok() ? *token : "";
}

bool IsCountryCode(absl::string_view s) {
  return s.size() == 2 && absl::ascii_isupper(s[0]) && absl::ascii_isupper(s[1]);
}

// "cities/{city}/datasets/{year}" -> (city, year), or field violations.
std::pair<std::string, int> ParseDatasetName(const std::string& name, absl::string_view field,
                                             FieldErrors& errors) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  int year = 0;
  if (parts.size() != 4 || parts[0] != "cities" || parts[2] != "datasets" || !IsValidId(parts[1]) ||
      !absl::SimpleAtoi(parts[3], &year)) {
    errors.Add(std::string(field),
               absl::StrCat("must be cities/{city_id}/datasets/{year}, got '", name, "'"));
    return {"", 0};
  }
  return {parts[1], year};
}

// --- Conversions ------------------------------------------------------------------------

void TextsToProto(const Texts& texts, LocalizedTexts* out) {
  for (const auto& [language, text] : texts) {
    auto* t = out->Add();
    t->set_language(language);
    t->set_text(text);
  }
}

v1::Catalog CatalogToProto(const Catalog& c) {
  v1::Catalog out;
  out.set_catalog_id(c.id());
  out.set_version(c.version());
  out.set_content_hash(c.content_hash());
  TextsToProto(c.title(), out.mutable_titles());
  out.set_jump_relative_change(c.jump_relative_change());
  out.set_jump_percentage_points(c.jump_percentage_points());
  for (const Dimension& d : c.dimensions()) {
    auto* dim = out.add_dimensions();
    dim->set_code(d.code);
    TextsToProto(d.name, dim->mutable_names());
    for (const std::string& fa_code : d.focus_areas) {
      const FocusArea& fa = *c.FindFocusArea(fa_code);
      auto* area = dim->add_focus_areas();
      area->set_code(fa.code);
      TextsToProto(fa.name, area->mutable_names());
      for (const std::string& f_code : fa.features) {
        const Feature& f = *c.FindFeature(f_code);
        auto* feature = area->add_features();
        feature->set_code(f.code);
        TextsToProto(f.name, feature->mutable_names());
        for (const SdgLink& link : f.sdg_links) {
          auto* l = feature->add_sdg_links();
          l->set_target(link.target);
          for (const auto& i : link.indicators) l->add_indicators(i);
          l->set_basis(link.basis);
        }
        for (const std::string& m_code : f.measures) {
          const Measure& m = *c.FindMeasure(m_code);
          auto* measure = feature->add_measures();
          measure->set_code(m.code);
          measure->set_feature(m.feature);
          TextsToProto(m.label, measure->mutable_labels());
          TextsToProto(m.definition, measure->mutable_definitions());
          TextsToProto(m.unit, measure->mutable_units());
          TextsToProto(m.note, measure->mutable_notes());
          measure->set_data_source(static_cast<v1::DataSource>(int(m.source) + 1));
          measure->set_value_type(static_cast<v1::ValueType>(int(m.type) + 1));
          measure->set_disaggregation(static_cast<v1::Disaggregation>(int(m.disaggregation) + 1));
          for (const auto& cat : CategoriesOf(m.disaggregation)) measure->add_categories(cat);
          measure->set_direction(static_cast<v1::Direction>(int(m.direction) + 1));
          measure->set_min(m.min);
          measure->set_max(m.max);
          for (const RatingLevel& level : m.scale) {
            auto* l = measure->add_scale();
            l->set_value(level.value);
            TextsToProto(level.labels, l->mutable_labels());
          }
        }
      }
    }
  }
  for (const SdgTarget& t : c.sdg_targets()) {
    auto* target = out.add_sdg_targets();
    target->set_code(t.code);
    TextsToProto(t.text, target->mutable_texts());
  }
  for (const SdgIndicator& i : c.sdg_indicators()) {
    auto* ind = out.add_sdg_indicators();
    ind->set_code(i.code);
    ind->set_target(i.target);
    TextsToProto(i.text, ind->mutable_texts());
  }
  for (const Theme& t : c.themes()) {
    auto* theme = out.add_themes();
    theme->set_code(t.code);
    TextsToProto(t.name, theme->mutable_names());
    for (const auto& f : t.features) theme->add_features(f);
    for (const auto& s : t.sdg_targets) theme->add_sdg_targets(s);
    for (const QuestionGroup& g : t.question_groups) {
      auto* group = theme->add_question_groups();
      group->set_code(g.code);
      TextsToProto(g.name, group->mutable_names());
      for (const Question& q : g.questions) {
        auto* question = group->add_questions();
        question->set_code(q.code);
        TextsToProto(q.text, question->mutable_texts());
      }
    }
  }
  return out;
}

void DatasetToProto(const Dataset& d, bool full_view, v1::Dataset* out) {
  out->set_name(d.Name());
  out->set_city_id(d.city_id);
  out->set_country_code(d.country);
  out->set_year(d.year);
  out->set_state(static_cast<v1::DatasetState>(d.state));
  out->set_revision(d.revision);
  out->set_published_revision(d.published_revision);
  // Others see the published copy's counts: the working copy of a new revision is not theirs.
  out->set_value_count(full_view ? d.value_count : d.published_value_count);
  out->set_warning_count(full_view ? d.warning_count : d.published_warning_count);
  out->set_etag(FormatEtag(d.etag));
  SetTime(out->mutable_create_time(), d.created_at_us);
  SetTime(out->mutable_update_time(), d.updated_at_us);
  // The review's comments are between the writers and the secretariat.
  if (!full_view) return;
  out->set_return_comment(d.return_comment);
  for (const ReviewRecord& r : d.history) {
    auto* step = out->add_history();
    step->set_action(r.action);
    step->set_state(static_cast<v1::DatasetState>(r.state));
    step->set_revision(r.revision);
    step->set_actor(r.actor);
    step->set_comment(r.comment);
    SetTime(step->mutable_time(), r.at_us);
  }
}

void FlagsToProto(const ValueFlags& f, v1::ValueFlags* out) {
  out->set_estimate(f.estimate);
  out->set_provisional(f.provisional);
  out->set_not_applicable(f.not_applicable);
  out->set_confidential(f.confidential);
}

void ValueToProto(const StoredValue& v, v1::Value* out) {
  out->set_dataset(v.key.DatasetName());
  out->set_measure(v.key.measure);
  out->set_category(v.key.category);
  if (v.value) out->set_value(*v.value);
  FlagsToProto(v.flags, out->mutable_flags());
  out->set_source(v.source);
  out->set_comment(v.comment);
  for (const Warning& w : v.warnings) {
    auto* warning = out->add_warnings();
    warning->set_code(w.code);
    warning->set_message(w.message);
  }
  out->set_stored_by(v.stored_by);
  SetTime(out->mutable_store_time(), v.stored_at_us);
}

ValueWrite WriteFromProto(const v1::ValueWrite& in) {
  ValueWrite w;
  w.key = {in.city_id(), in.year(), in.measure(), in.category()};
  if (in.has_value()) w.value = in.value();
  w.flags = {in.flags().estimate(), in.flags().provisional(), in.flags().not_applicable(),
             in.flags().confidential()};
  w.source = in.source();
  w.comment = in.comment();
  w.remove = in.remove();
  return w;
}

void ChangeToProto(const Change& c, v1::Change* out) {
  out->set_cursor(absl::StrCat(c.seq));
  out->set_kind(static_cast<v1::ChangeKind>(c.kind));
  out->set_dataset(ValueKey{c.city_id, c.year, "", ""}.DatasetName());
  out->set_city_id(c.city_id);
  out->set_country_code(c.country);
  out->set_year(c.year);
  out->set_measure(c.measure);
  out->set_category(c.category);
  if (c.new_value && c.new_value->value) out->set_value(*c.new_value->value);
  out->set_revision(c.revision);
  out->set_actor(c.actor);
  out->set_origin(c.origin);
  SetTime(out->mutable_time(), c.at_us);
}

void RejectionsToProto(const Rejections& rejections,
                       google::protobuf::RepeatedPtrField<v1::RowRejection>* out) {
  for (const auto& [code, r] : rejections) {
    auto* rejection = out->Add();
    rejection->set_code(code);
    for (int64_t row : r.rows) rejection->add_rows(row);
    rejection->set_example(r.example);
  }
}

void BatchToProto(const BatchResult& b, v1::BatchResult* out) {
  out->set_batch_id(b.batch_id);
  out->set_rows(b.rows);
  out->set_applied(b.applied);
  out->set_unchanged(b.unchanged);
  out->set_rejected(b.rejected);
  out->set_warnings(b.warnings);
  RejectionsToProto(b.rejections, out->mutable_rejections());
  out->set_replayed(b.replayed);
}

void JobToProto(const ImportJob& j, v1::ImportJob* out) {
  out->set_name(absl::StrCat("importJobs/", j.job_id));
  out->set_job_id(j.job_id);
  out->set_owner(j.owner);
  out->set_mode(static_cast<v1::SyncMode>(j.mode));
  for (const auto& c : j.scope_cities) out->mutable_scope()->add_city_ids(c);
  for (int y : j.scope_years) out->mutable_scope()->add_years(y);
  out->set_dry_run(j.dry_run);
  out->set_description(j.description);
  out->set_state(j.state == JobState::kOpen ? v1::OPEN : v1::COMMITTED);
  for (const auto& b : j.batches) out->add_acknowledged_batches(b);
  auto* s = out->mutable_summary();
  s->set_batches(j.summary.batches);
  s->set_rows(j.summary.rows);
  s->set_applied(j.summary.applied);
  s->set_unchanged(j.summary.unchanged);
  s->set_rejected(j.summary.rejected);
  s->set_warnings(j.summary.warnings);
  s->set_removed(j.summary.removed);
  RejectionsToProto(j.summary.rejections, s->mutable_rejections());
  SetTime(out->mutable_create_time(), j.created_at_us);
  SetTime(out->mutable_update_time(), j.updated_at_us);
}

std::string ValuePageToken(const ValueKey& k) {
  return EncodePageToken(
      absl::StrCat(k.city_id, "\x1f", k.year, "\x1f", k.measure, "\x1f", k.category));
}

std::optional<ValueKey> ParseValuePageToken(const std::string& token, FieldErrors& errors) {
  std::string raw = DecodePageToken(token, errors);
  if (raw.empty()) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(raw, '\x1f');
  ValueKey k;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[1], &k.year)) {
    errors.Add("page_token", "is not a token returned by this method");
    return std::nullopt;
  }
  k.city_id = parts[0];
  k.measure = parts[2];
  k.category = parts[3];
  return k;
}

// A grant reads the working copy only where it may write or review.
absl::Status CheckWorkingCopyRead(const Grant& grant) {
  if (grant.scope != Scope::kPublished) return absl::OkStatus();
  return ErrorWithReason(absl::StatusCode::kPermissionDenied, "WORKING_COPY_DENIED",
                         absl::StrCat(grant.principal.ToString(),
                                      " reads published data only; leave working_copy unset"));
}

}  // namespace

const AccessTable& IndicatorAccessTable() {
  using R = Role;
  using S = Scope;
  // Reads: published data is open to everyone; the working copy only within the caller's scope.
  static const std::vector<std::pair<Role, Scope>> kRead = {
      {R::kSecretariat, S::kAll},
      {R::kService, S::kAll},
      {R::kNationalCommission, S::kOwnCountry},
      {R::kMinistry, S::kOwnCountry},
      {R::kCity, S::kOwnCity},
      {R::kPartner, S::kPublished},
      {R::kAnonymous, S::kPublished}};
  // History shows unpublished changes: writers, reviewers and services only.
  static const std::vector<std::pair<Role, Scope>> kHistory = {
      {R::kSecretariat, S::kAll},
      {R::kService, S::kAll},
      {R::kNationalCommission, S::kOwnCountry},
      {R::kMinistry, S::kOwnCountry},
      {R::kCity, S::kOwnCity}};
  // The city's coordinator and its country's ministry write and submit.
  static const std::vector<std::pair<Role, Scope>> kWrite = {{R::kMinistry, S::kOwnCountry},
                                                             {R::kCity, S::kOwnCity}};
  static const std::vector<std::pair<Role, Scope>> kReview = {{R::kSecretariat, S::kAll}};
  static const std::vector<std::pair<Role, Scope>> kJobs = {
      {R::kSecretariat, S::kAll}, {R::kMinistry, S::kOwnCountry}, {R::kCity, S::kOwnCity}};
  static const AccessTable* table = new AccessTable{
      {"GetCatalog", kRead},           {"GetDataset", kRead},
      {"ListDatasets", kRead},         {"WriteValues", kWrite},
      {"ListValues", kRead},           {"SubmitDataset", kWrite},
      {"ValidateDataset", kReview},    {"ReturnDataset", kReview},
      {"PublishDataset", kReview},     {"UnpublishDataset", kReview},
      {"OpenDatasetRevision", kWrite}, {"ListValueHistory", kHistory},
      {"GetDatasetAsOf", kHistory},    {"SyncValues", kWrite},
      {"GetImportJob", kJobs},         {"ListImportJobs", kJobs},
      {"ExportValues", kRead},         {"GetDatasetQuality", kRead},
      {"GetSdgView", kRead},           {"ListChanges", kRead},
      {"WatchChanges", kRead},
  };
  return *table;
}

// What ministries' syncs move, for the operators' dashboards.
struct IndicatorApi::SyncCounters {
  explicit SyncCounters(prometheus::Registry& registry)
      : rows(prometheus::BuildCounter()
                 .Name("gnlc_indicators_sync_rows_total")
                 .Help("Rows received by SyncValues, by outcome")
                 .Register(registry)),
        batches(prometheus::BuildCounter()
                    .Name("gnlc_indicators_sync_batches_total")
                    .Help("Batches acknowledged by SyncValues, by whether they were replays")
                    .Register(registry)),
        applied(rows.Add({{"outcome", "applied"}})),
        unchanged(rows.Add({{"outcome", "unchanged"}})),
        rejected(rows.Add({{"outcome", "rejected"}})),
        fresh(batches.Add({{"replayed", "false"}})),
        replayed(batches.Add({{"replayed", "true"}})) {}

  void Count(const BatchResult& b) {
    if (b.replayed) {
      replayed.Increment();
      return;  // its rows were counted the first time
    }
    fresh.Increment();
    applied.Increment(static_cast<double>(b.applied));
    unchanged.Increment(static_cast<double>(b.unchanged));
    rejected.Increment(static_cast<double>(b.rejected));
  }

  prometheus::Family<prometheus::Counter>& rows;
  prometheus::Family<prometheus::Counter>& batches;
  prometheus::Counter& applied;
  prometheus::Counter& unchanged;
  prometheus::Counter& rejected;
  prometheus::Counter& fresh;
  prometheus::Counter& replayed;
};

IndicatorApi::IndicatorApi(IndicatorStore& store, const Catalog& catalog, CityDirectory& cities,
                           CallGate& gate, RpcMetrics& metrics, const std::atomic<bool>& stopping)
    : store_(store),
      catalog_(catalog),
      cities_(cities),
      gate_(gate),
      stopping_(stopping),
      catalog_proto_(CatalogToProto(catalog)),
      sync_counters_(std::make_unique<SyncCounters>(*metrics.registry())) {}

IndicatorApi::~IndicatorApi() = default;

// --- Shared checks --------------------------------------------------------------------------

absl::StatusOr<std::map<std::string, std::string>> IndicatorApi::CheckCities(
    const Grant& grant, const std::string& token, std::span<const NumberedWrite> rows,
    absl::string_view field) {
  std::map<std::string, std::string> countries;
  std::map<std::string, absl::Status> failures;
  FieldErrors errors;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& city = rows[i].write.key.city_id;
    if (!countries.contains(city) && !failures.contains(city)) {
      auto info = cities_.Lookup(city, token);
      if (info.ok()) {
        GNLC_RETURN_IF_ERROR(grant.Check({info->country, info->city_id, false}));
        countries[city] = info->country;
      } else if (info.status().code() == absl::StatusCode::kNotFound) {
        failures[city] = info.status();
      } else {
        return info.status();  // out of the caller's reach, or membership unavailable
      }
    }
    if (auto f = failures.find(city); f != failures.end()) {
      errors.Add(absl::StrCat(field, "[", i, "].city_id"), std::string(f->second.message()));
    }
  }
  GNLC_RETURN_IF_ERROR(errors.ToStatus());
  return countries;
}

absl::StatusOr<Dataset> IndicatorApi::ReadableDataset(const Grant& grant, const std::string& name,
                                                      bool working_copy) {
  FieldErrors errors;
  auto [city, year] = ParseDatasetName(name, "name", errors);
  GNLC_RETURN_IF_ERROR(errors.ToStatus());
  if (working_copy) GNLC_RETURN_IF_ERROR(CheckWorkingCopyRead(grant));
  GNLC_ASSIGN_OR_RETURN(Dataset d, store_.GetDataset(city, year));
  bool visible = !working_copy && d.published_revision > 0;
  if (!visible && !grant.Covers({d.country, d.city_id, false})) {
    // Unpublished datasets of others do not exist for this caller.
    return ErrorWithReason(absl::StatusCode::kNotFound, "NOT_FOUND",
                           absl::StrCat("dataset '", name, "' does not exist"),
                           {{"resource", name}});
  }
  return d;
}

absl::StatusOr<ValueFilter> IndicatorApi::ValueFilterFor(const Grant& grant,
                                                         const std::string& city_id,
                                                         const std::string& country, int year,
                                                         const std::string& measure,
                                                         const std::string& feature,
                                                         bool working_copy, FieldErrors& errors) {
  ValueFilter f;
  if (!city_id.empty() && !IsValidId(city_id)) errors.Add("city_id", "is not a city id");
  if (!country.empty() && !IsCountryCode(country)) {
    errors.Add("country_code", "must be an ISO 3166-1 alpha-2 code such as CN");
  }
  if (year != 0 && (year < kFirstReportingYear || year > ThisYear())) {
    errors.Add("year",
               absl::StrCat("must be a reporting year ", kFirstReportingYear, "..", ThisYear()));
  }
  if (!measure.empty() && catalog_.FindMeasure(measure) == nullptr) {
    errors.Add("measure", absl::StrCat("'", measure, "' is not a measure of the catalog"));
  }
  if (!feature.empty() && !catalog_.IsNode(feature)) {
    errors.Add("feature",
               absl::StrCat("'", feature, "' is not a dimension, focus area or key feature code"));
  }
  f.city_id = city_id;
  f.country = country;
  f.year = year;
  if (!feature.empty()) f.measures = catalog_.MeasuresUnder(feature);
  if (!measure.empty()) {
    if (f.measures.empty() || std::count(f.measures.begin(), f.measures.end(), measure) > 0) {
      f.measures = {measure};
    } else {
      f.measures = {"-"};  // a measure outside the feature: nothing matches
    }
  }
  f.working_copy = working_copy;
  if (working_copy) GNLC_RETURN_IF_ERROR(CheckWorkingCopyRead(grant));
  switch (grant.scope) {
    case Scope::kAll:
      f.confidential_everywhere = true;
      break;
    case Scope::kOwnCountry:
      f.confidential_country = grant.principal.id;
      if (working_copy) f.scope_country = grant.principal.id;
      break;
    case Scope::kOwnCity:
      f.confidential_city = grant.principal.id;
      if (working_copy) f.scope_city = grant.principal.id;
      break;
    case Scope::kPublished:
      break;
  }
  return f;
}

// --- Catalog and datasets ------------------------------------------------------------------

grpc::ServerUnaryReactor* IndicatorApi::GetCatalog(grpc::CallbackServerContext* ctx,
                                                   const v1::GetCatalogRequest*,
                                                   v1::GetCatalogResponse* resp) {
  return gate_.Unary(ctx, "GetCatalog", [this, resp](const Grant&) -> absl::Status {
    *resp->mutable_catalog() = catalog_proto_;
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IndicatorApi::GetDataset(grpc::CallbackServerContext* ctx,
                                                   const v1::GetDatasetRequest* req,
                                                   v1::GetDatasetResponse* resp) {
  return gate_.Unary(ctx, "GetDataset", [this, req, resp](const Grant& grant) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(Dataset d, ReadableDataset(grant, req->name(), false));
    DatasetToProto(d, grant.Covers({d.country, d.city_id, false}), resp->mutable_dataset());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IndicatorApi::ListDatasets(grpc::CallbackServerContext* ctx,
                                                     const v1::ListDatasetsRequest* req,
                                                     v1::ListDatasetsResponse* resp) {
  return gate_.Unary(ctx, "ListDatasets", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    DatasetFilter f;
    if (!req->city_id().empty() && !IsValidId(req->city_id())) {
      errors.Add("city_id", "is not a city id");
    }
    if (!req->country_code().empty() && !IsCountryCode(req->country_code())) {
      errors.Add("country_code", "must be an ISO 3166-1 alpha-2 code such as CN");
    }
    f.city_id = req->city_id();
    f.country = req->country_code();
    f.year = req->year();
    f.state = static_cast<DatasetState>(req->state());
    f.limit = PageSize(req->page_size(), errors);
    std::string after = DecodePageToken(req->page_token(), errors);
    if (!after.empty()) {
      std::vector<std::string> parts = absl::StrSplit(after, '\x1f');
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &f.after_year)) {
        errors.Add("page_token", "is not a token returned by this method");
      } else {
        f.after_city = parts[0];
      }
    }
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    LimitToGrant(grant, f.scope_country, f.scope_city, f.published_only);
    GNLC_ASSIGN_OR_RETURN(auto datasets, store_.ListDatasets(f));
    for (const Dataset& d : datasets) {
      DatasetToProto(d, grant.Covers({d.country, d.city_id, false}), resp->add_datasets());
    }
    if (static_cast<int>(datasets.size()) == f.limit) {
      resp->set_next_page_token(
          EncodePageToken(absl::StrCat(datasets.back().city_id, "\x1f", datasets.back().year)));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IndicatorApi::WriteValues(grpc::CallbackServerContext* ctx,
                                                    const v1::WriteValuesRequest* req,
                                                    v1::WriteValuesResponse* resp) {
  return gate_.Unary(
      ctx, "WriteValues", [this, ctx, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        if (req->values().empty()) errors.Add("values", "send at least one value");
        if (req->values_size() > kMaxWriteValues) {
          errors.Add("values", absl::StrCat("at most ", kMaxWriteValues,
                                            " values per request; use SyncValues for bulk data"));
        }
        if (req->request_id().size() > kMaxIdLength) {
          errors.Add("request_id", "must be at most 128 characters");
        }
        int this_year = ThisYear();
        std::vector<NumberedWrite> rows;
        for (int i = 0; i < req->values_size(); ++i) {
          const v1::ValueWrite& in = req->values(i);
          std::string at = absl::StrCat("values[", i, "].");
          if (!IsValidId(in.city_id())) errors.Add(at + "city_id", "is not a city id");
          if (in.source().size() > kMaxCommentLength) errors.Add(at + "source", "is too long");
          if (in.comment().size() > kMaxCommentLength) errors.Add(at + "comment", "is too long");
          ValueWrite w = WriteFromProto(in);
          for (const RowProblem& p : CheckValueWrite(catalog_, w, this_year)) {
            errors.Add(at + p.field, p.message);
          }
          rows.push_back({0, std::move(w)});
        }
        GNLC_RETURN_IF_ERROR(errors.ToStatus());

        Idempotency idem{grant.principal.ToString(), req->request_id(), RequestFingerprint(*req)};
        auto replay = [&]() -> absl::StatusOr<bool> {
          GNLC_ASSIGN_OR_RETURN(auto answer, store_.RecordedAnswer(idem, "WriteValues"));
          if (!answer) return false;
          std::string bytes;
          if (!absl::Base64Unescape(*answer, &bytes) || !resp->ParseFromString(bytes)) {
            return absl::InternalError("a recorded answer is unreadable");
          }
          return true;
        };
        if (!idem.request_id.empty()) {
          GNLC_ASSIGN_OR_RETURN(bool replayed, replay());
          if (replayed) return absl::OkStatus();
        }
        GNLC_ASSIGN_OR_RETURN(auto countries,
                              CheckCities(grant, CallerToken(*ctx), rows, "values"));
        WriteOrigin origin{
            grant.principal.ToString(),
            idem.request_id.empty() ? "" : absl::StrCat("requests/", idem.request_id)};
        v1::WriteValuesResponse answer;
        auto encode = [&answer](const WriteOutcome& out) {
          answer.Clear();
          for (const StoredValue& v : out.stored) ValueToProto(v, answer.add_values());
          answer.set_removed(static_cast<int32_t>(out.removed));
          return absl::Base64Escape(answer.SerializeAsString());
        };
        auto outcome = store_.WriteValues(rows, countries, origin, /*strict=*/true, idem, encode);
        if (!outcome.ok() && ErrorReason(outcome.status()) == "REQUEST_REPLAYED") {
          // A concurrent retry of the same request committed first: answer as it did.
          GNLC_ASSIGN_OR_RETURN(bool replayed, replay());
          if (replayed) return absl::OkStatus();
        }
        if (!outcome.ok()) return outcome.status();
        encode(*outcome);
        *resp = std::move(answer);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IndicatorApi::ListValues(grpc::CallbackServerContext* ctx,
                                                   const v1::ListValuesRequest* req,
                                                   v1::ListValuesResponse* resp) {
  return gate_.Unary(ctx, "ListValues", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    GNLC_ASSIGN_OR_RETURN(
        ValueFilter f, ValueFilterFor(grant, req->city_id(), req->country_code(), req->year(),
                                      req->measure(), req->feature(), req->working_copy(), errors));
    f.limit = PageSize(req->page_size(), errors);
    f.after = ParseValuePageToken(req->page_token(), errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(auto values, store_.ListValues(f));
    for (const StoredValue& v : values) ValueToProto(v, resp->add_values());
    if (static_cast<int>(values.size()) == f.limit) {
      resp->set_next_page_token(ValuePageToken(values.back().key));
    }
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::ExportValuesResponse>* IndicatorApi::ExportValues(
    grpc::CallbackServerContext* ctx, const v1::ExportValuesRequest* req) {
  constexpr int kPage = 500;
  auto filter = std::make_shared<ValueFilter>();
  auto start = [this, req, filter](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    GNLC_ASSIGN_OR_RETURN(
        *filter, ValueFilterFor(grant, req->city_id(), req->country_code(), req->year(),
                                req->measure(), req->feature(), req->working_copy(), errors));
    filter->limit = kPage;
    return errors.ToStatus();
  };
  auto next = [this, filter]() -> absl::StatusOr<std::vector<v1::ExportValuesResponse>> {
    GNLC_ASSIGN_OR_RETURN(auto values, store_.ListValues(*filter));
    std::vector<v1::ExportValuesResponse> out;
    if (values.empty()) return out;
    out.emplace_back();
    for (const StoredValue& v : values) ValueToProto(v, out.back().add_values());
    filter->after = values.back().key;
    return out;
  };
  return new FeedStream<v1::ExportValuesResponse>(
      gate_, ctx, "ExportValues", stopping_, start, next,
      FeedStream<v1::ExportValuesResponse>::Mode::kUntilEmpty);
}

// --- Review -------------------------------------------------------------------------------

grpc::ServerUnaryReactor* IndicatorApi::ReviewStep(grpc::CallbackServerContext* ctx,
                                                   absl::string_view method, DatasetAction action,
                                                   const std::string& name, const std::string& etag,
                                                   const std::string& comment, v1::Dataset* out) {
  return gate_.Unary(ctx, method, [=, this](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    auto [city, year] = ParseDatasetName(name, "name", errors);
    auto expected = ParseEtag(etag, errors);
    const DatasetStep& step = StepOf(action);
    if (step.comment_required && comment.empty()) {
      errors.Add("comment", absl::StrCat("say why you ", step.name, " the dataset"));
    }
    if (comment.size() > kMaxCommentLength) errors.Add("comment", "must be at most 2000 bytes");
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(Dataset current, store_.GetDataset(city, year));
    GNLC_RETURN_IF_ERROR(grant.Check({current.country, current.city_id, false}));
    GNLC_ASSIGN_OR_RETURN(
        Dataset d, store_.Step(city, year, action, grant.principal.ToString(), comment, expected));
    DatasetToProto(d, true, out);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IndicatorApi::SubmitDataset(grpc::CallbackServerContext* ctx,
                                                      const v1::SubmitDatasetRequest* req,
                                                      v1::SubmitDatasetResponse* resp) {
  return ReviewStep(ctx, "SubmitDataset", DatasetAction::kSubmit, req->name(), req->etag(),
                    req->comment(), resp->mutable_dataset());
}

grpc::ServerUnaryReactor* IndicatorApi::ValidateDataset(grpc::CallbackServerContext* ctx,
                                                        const v1::ValidateDatasetRequest* req,
                                                        v1::ValidateDatasetResponse* resp) {
  return ReviewStep(ctx, "ValidateDataset", DatasetAction::kValidate, req->name(), req->etag(),
                    req->comment(), resp->mutable_dataset());
}

grpc::ServerUnaryReactor* IndicatorApi::ReturnDataset(grpc::CallbackServerContext* ctx,
                                                      const v1::ReturnDatasetRequest* req,
                                                      v1::ReturnDatasetResponse* resp) {
  return ReviewStep(ctx, "ReturnDataset", DatasetAction::kReturn, req->name(), req->etag(),
                    req->comment(), resp->mutable_dataset());
}

grpc::ServerUnaryReactor* IndicatorApi::PublishDataset(grpc::CallbackServerContext* ctx,
                                                       const v1::PublishDatasetRequest* req,
                                                       v1::PublishDatasetResponse* resp) {
  return ReviewStep(ctx, "PublishDataset", DatasetAction::kPublish, req->name(), req->etag(),
                    req->comment(), resp->mutable_dataset());
}

grpc::ServerUnaryReactor* IndicatorApi::UnpublishDataset(grpc::CallbackServerContext* ctx,
                                                         const v1::UnpublishDatasetRequest* req,
                                                         v1::UnpublishDatasetResponse* resp) {
  return ReviewStep(ctx, "UnpublishDataset", DatasetAction::kUnpublish, req->name(), req->etag(),
                    req->comment(), resp->mutable_dataset());
}

grpc::ServerUnaryReactor* IndicatorApi::OpenDatasetRevision(
    grpc::CallbackServerContext* ctx, const v1::OpenDatasetRevisionRequest* req,
    v1::OpenDatasetRevisionResponse* resp) {
  return ReviewStep(ctx, "OpenDatasetRevision", DatasetAction::kOpenRevision, req->name(),
                    req->etag(), req->comment(), resp->mutable_dataset());
}

// --- History ------------------------------------------------------------------------------

grpc::ServerUnaryReactor* IndicatorApi::ListValueHistory(grpc::CallbackServerContext* ctx,
                                                         const v1::ListValueHistoryRequest* req,
                                                         v1::ListValueHistoryResponse* resp) {
  return gate_.Unary(
      ctx, "ListValueHistory", [this, req, resp](const Grant& grant) -> absl::Status {
        FieldErrors errors;
        auto [city, year] = ParseDatasetName(req->dataset(), "dataset", errors);
        if (catalog_.FindMeasure(req->measure()) == nullptr) {
          errors.Add("measure",
                     absl::StrCat("'", req->measure(), "' is not a measure of the catalog"));
        }
        GNLC_RETURN_IF_ERROR(errors.ToStatus());
        GNLC_ASSIGN_OR_RETURN(Dataset d, ReadableDataset(grant, req->dataset(), true));
        GNLC_ASSIGN_OR_RETURN(auto changes,
                              store_.ValueHistory({city, year, req->measure(), req->category()}));
        for (const Change& c : changes) {
          auto* out = resp->add_changes();
          if (c.old_value) ValueToProto(*c.old_value, out->mutable_old_value());
          if (c.new_value) ValueToProto(*c.new_value, out->mutable_new_value());
          out->set_actor(c.actor);
          out->set_origin(c.origin);
          SetTime(out->mutable_time(), c.at_us);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IndicatorApi::GetDatasetAsOf(grpc::CallbackServerContext* ctx,
                                                       const v1::GetDatasetAsOfRequest* req,
                                                       v1::GetDatasetAsOfResponse* resp) {
  return gate_.Unary(ctx, "GetDatasetAsOf", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    auto [city, year] = ParseDatasetName(req->name(), "name", errors);
    if (!req->has_as_of()) errors.Add("as_of", "say the time to read the dataset at");
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(Dataset d, ReadableDataset(grant, req->name(), true));
    GNLC_ASSIGN_OR_RETURN(
        auto values,
        store_.DatasetAsOf(city, year, TimeUtil::TimestampToMicroseconds(req->as_of())));
    for (const StoredValue& v : values) ValueToProto(v, resp->add_values());
    return absl::OkStatus();
  });
}

// --- Quality and the SDG view ---------------------------------------------------------------

grpc::ServerUnaryReactor* IndicatorApi::GetDatasetQuality(grpc::CallbackServerContext* ctx,
                                                          const v1::GetDatasetQualityRequest* req,
                                                          v1::GetDatasetQualityResponse* resp) {
  return gate_.Unary(
      ctx, "GetDatasetQuality", [this, req, resp](const Grant& grant) -> absl::Status {
        GNLC_ASSIGN_OR_RETURN(Dataset d, ReadableDataset(grant, req->name(), req->working_copy()));
        FieldErrors errors;
        GNLC_ASSIGN_OR_RETURN(ValueFilter f, ValueFilterFor(grant, d.city_id, "", d.year, "", "",
                                                            req->working_copy(), errors));
        f.limit = 100000;
        GNLC_ASSIGN_OR_RETURN(auto values, store_.ListValues(f));
        // A measure is reported when it has any value; one marked not applicable leaves the count
        // of expected measures instead.
        std::set<std::string> reported, not_applicable;
        for (const StoredValue& v : values) {
          (v.flags.not_applicable ? not_applicable : reported).insert(v.key.measure);
          if (v.flags.estimate) resp->set_estimates(resp->estimates() + 1);
          if (v.flags.provisional) resp->set_provisional(resp->provisional() + 1);
          if (v.flags.not_applicable) resp->set_not_applicable(resp->not_applicable() + 1);
          if (!v.warnings.empty()) ValueToProto(v, resp->add_values_with_warnings());
        }
        auto completeness = [&](const std::string& code, v1::NodeCompleteness* out) {
          int expected = 0, got = 0;
          for (const std::string& m : catalog_.MeasuresUnder(code)) {
            if (not_applicable.contains(m) && !reported.contains(m)) continue;
            ++expected;
            if (reported.contains(m)) ++got;
          }
          out->set_code(code);
          out->set_measures_expected(expected);
          out->set_measures_reported(got);
          out->set_completeness(expected == 0 ? 1.0 : double(got) / expected);
        };
        int expected = 0, got = 0;
        for (const Dimension& dim : catalog_.dimensions()) {
          for (const std::string& fa : dim.focus_areas) {
            completeness(fa, resp->add_focus_areas());
            expected += resp->focus_areas().rbegin()->measures_expected();
            got += resp->focus_areas().rbegin()->measures_reported();
            for (const std::string& feature : catalog_.FindFocusArea(fa)->features) {
              completeness(feature, resp->add_features());
            }
          }
        }
        for (const Measure& m : catalog_.measures()) {
          if (!reported.contains(m.code) && !not_applicable.contains(m.code)) {
            resp->add_missing_measures(m.code);
          }
        }
        resp->set_dataset(d.Name());
        resp->set_measures_expected(expected);
        resp->set_measures_reported(got);
        resp->set_completeness(expected == 0 ? 1.0 : double(got) / expected);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* IndicatorApi::GetSdgView(grpc::CallbackServerContext* ctx,
                                                   const v1::GetSdgViewRequest* req,
                                                   v1::GetSdgViewResponse* resp) {
  return gate_.Unary(ctx, "GetSdgView", [this, req, resp](const Grant& grant) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(Dataset d, ReadableDataset(grant, req->name(), req->working_copy()));
    FieldErrors errors;
    GNLC_ASSIGN_OR_RETURN(ValueFilter f, ValueFilterFor(grant, d.city_id, "", d.year, "", "",
                                                        req->working_copy(), errors));
    f.limit = 100000;
    GNLC_ASSIGN_OR_RETURN(auto values, store_.ListValues(f));
    resp->set_dataset(d.Name());
    for (const SdgTarget& target : catalog_.sdg_targets()) {
      v1::SdgGroup group;
      std::set<std::string> features, indicators;
      for (const Dimension& dim : catalog_.dimensions()) {
        for (const std::string& fa : dim.focus_areas) {
          for (const std::string& code : catalog_.FindFocusArea(fa)->features) {
            for (const SdgLink& link : catalog_.FindFeature(code)->sdg_links) {
              if (link.target != target.code) continue;
              features.insert(code);
              indicators.insert(link.indicators.begin(), link.indicators.end());
            }
          }
        }
      }
      if (features.empty()) continue;
      group.mutable_target()->set_code(target.code);
      TextsToProto(target.text, group.mutable_target()->mutable_texts());
      for (const std::string& code : indicators) {
        const SdgIndicator* ind = catalog_.FindSdgIndicator(code);
        if (ind == nullptr) continue;
        auto* out = group.add_indicators();
        out->set_code(ind->code);
        out->set_target(ind->target);
        TextsToProto(ind->text, out->mutable_texts());
      }
      for (const std::string& code : features) group.add_features(code);
      for (const StoredValue& v : values) {
        // A value of a measure a later catalog dropped belongs to no feature.
        const Measure* m = catalog_.FindMeasure(v.key.measure);
        if (m != nullptr && features.contains(m->feature)) ValueToProto(v, group.add_values());
      }
      *resp->add_groups() = std::move(group);
    }
    return absl::OkStatus();
  });
}

// --- Change feed --------------------------------------------------------------------------

namespace {

absl::StatusOr<ChangeFilter> ChangeFilterFor(const Grant& grant, const std::string& city_id,
                                             const std::string& country,
                                             const std::string& cursor) {
  FieldErrors errors;
  ChangeFilter f;
  if (!city_id.empty() && !IsValidId(city_id)) errors.Add("city_id", "is not a city id");
  if (!country.empty() && !IsCountryCode(country)) {
    errors.Add("country_code", "must be an ISO 3166-1 alpha-2 code such as CN");
  }
  f.city_id = city_id;
  f.country = country;
  f.after_seq = ParseCursor(cursor, "after_cursor", errors);
  GNLC_RETURN_IF_ERROR(errors.ToStatus());
  LimitToGrant(grant, f.scope_country, f.scope_city, f.published_only);
  return f;
}

}  // namespace

grpc::ServerUnaryReactor* IndicatorApi::ListChanges(grpc::CallbackServerContext* ctx,
                                                    const v1::ListChangesRequest* req,
                                                    v1::ListChangesResponse* resp) {
  return gate_.Unary(ctx, "ListChanges", [this, req, resp](const Grant& grant) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(
        ChangeFilter f,
        ChangeFilterFor(grant, req->city_id(), req->country_code(), req->after_cursor()));
    FieldErrors errors;
    f.limit = PageSize(req->page_size(), errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(auto page, store_.ListChanges(f));
    for (const Change& c : page.changes) ChangeToProto(c, resp->add_changes());
    resp->set_last_cursor(absl::StrCat(page.scanned_to));
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::WatchChangesResponse>* IndicatorApi::WatchChanges(
    grpc::CallbackServerContext* ctx, const v1::WatchChangesRequest* req) {
  constexpr int kPage = 200;
  auto filter = std::make_shared<ChangeFilter>();
  auto start = [this, req, filter](const Grant& grant) -> absl::Status {
    GNLC_ASSIGN_OR_RETURN(
        *filter, ChangeFilterFor(grant, req->city_id(), req->country_code(), req->after_cursor()));
    filter->limit = kPage;
    if (req->start_at_now()) {
      GNLC_ASSIGN_OR_RETURN(filter->after_seq, store_.LatestChangeSeq());
    }
    return absl::OkStatus();
  };
  auto next = [this, filter]() -> absl::StatusOr<std::vector<v1::WatchChangesResponse>> {
    GNLC_ASSIGN_OR_RETURN(auto page, store_.ListChanges(*filter));
    filter->after_seq = page.scanned_to;
    std::vector<v1::WatchChangesResponse> out;
    if (page.changes.empty()) return out;
    out.emplace_back();
    for (const Change& c : page.changes) ChangeToProto(c, out.back().add_changes());
    return out;
  };
  return new FeedStream<v1::WatchChangesResponse>(gate_, ctx, "WatchChanges", stopping_, start,
                                                  next);
}

// --- Import jobs and bulk sync ----------------------------------------------------------------

namespace {

// A job is seen by the principal that opened it and by the secretariat.
absl::Status CheckJobOwner(const Grant& grant, const ImportJob& job) {
  if (grant.scope == Scope::kAll || job.owner == grant.principal.ToString()) {
    return absl::OkStatus();
  }
  return ErrorWithReason(absl::StatusCode::kPermissionDenied, "NOT_JOB_OWNER",
                         absl::StrCat("importJobs/", job.job_id, " belongs to ", job.owner));
}

}  // namespace

grpc::ServerUnaryReactor* IndicatorApi::GetImportJob(grpc::CallbackServerContext* ctx,
                                                     const v1::GetImportJobRequest* req,
                                                     v1::GetImportJobResponse* resp) {
  return gate_.Unary(ctx, "GetImportJob", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    std::string id = ParseName(req->name(), "importJobs", "name", errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    GNLC_ASSIGN_OR_RETURN(ImportJob job, store_.GetJob(id));
    GNLC_RETURN_IF_ERROR(CheckJobOwner(grant, job));
    JobToProto(job, resp->mutable_job());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IndicatorApi::ListImportJobs(grpc::CallbackServerContext* ctx,
                                                       const v1::ListImportJobsRequest* req,
                                                       v1::ListImportJobsResponse* resp) {
  return gate_.Unary(ctx, "ListImportJobs", [this, req, resp](const Grant& grant) -> absl::Status {
    FieldErrors errors;
    int limit = PageSize(req->page_size(), errors);
    std::string after = DecodePageToken(req->page_token(), errors);
    GNLC_RETURN_IF_ERROR(errors.ToStatus());
    std::string owner = grant.scope == Scope::kAll ? "" : grant.principal.ToString();
    GNLC_ASSIGN_OR_RETURN(auto jobs, store_.ListJobs(owner, after, limit));
    for (const ImportJob& j : jobs) JobToProto(j, resp->add_jobs());
    if (static_cast<int>(jobs.size()) == limit) {
      resp->set_next_page_token(EncodePageToken(jobs.back().job_id));
    }
    return absl::OkStatus();
  });
}

// One sync stream: strictly one message at a time (read, apply on the pool, acknowledge, read
// the next), so a batch is acknowledged only after its transaction committed and a slow
// database slows the client instead of queueing batches in memory.
class IndicatorApi::SyncReactor final
    : public grpc::ServerBidiReactor<v1::SyncValuesRequest, v1::SyncValuesResponse> {
 public:
  SyncReactor(IndicatorApi& api, grpc::CallbackServerContext* ctx)
      : api_(api), ctx_(ctx), token_(CallerToken(*ctx)), started_(absl::Now()) {
    {
      std::lock_guard lock(api_.streams_mu_);
      api_.streams_.insert(this);
    }
    StartRead(&request_);
  }

  // From EndSyncStreams, under streams_mu_ (so the reactor is still alive).
  void Cancel() { ctx_->TryCancel(); }

  void OnReadDone(bool ok) override {
    // The client finished sending: an uncommitted job stays open to be resumed.
    if (!ok) return Done(absl::OkStatus());
    if (!api_.gate_.pool().TrySubmit([this] { Handle(); })) {
      Done(ErrorWithReason(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                           "the server is at capacity; resume the job from its last "
                           "acknowledged batch"));
    }
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Done(absl::CancelledError("the client went away"));
    StartRead(&request_);
  }

  void OnDone() override {
    {
      std::lock_guard lock(api_.streams_mu_);
      api_.streams_.erase(this);
    }
    delete this;
  }

 private:
  void Handle() {
    if (api_.stopping_) {
      return Done(ErrorWithReason(absl::StatusCode::kUnavailable, "SHUTTING_DOWN",
                                  "the server is shutting down; resume the job from its last "
                                  "acknowledged batch"));
    }
    if (!grant_) {
      auto grant = api_.gate_.Admit(*ctx_, "SyncValues");
      if (!grant.ok()) return Done(grant.status());
      grant_ = *grant;
    }
    response_.Clear();
    absl::Status st;
    switch (request_.message_case()) {
      case v1::SyncValuesRequest::kStart:
        st = Start(request_.start());
        break;
      case v1::SyncValuesRequest::kBatch:
        st = Batch(request_.batch());
        break;
      case v1::SyncValuesRequest::kCommit:
        st = Commit();
        break;
      default:
        st = InvalidArgumentError({{"message", "send start, then batches, then commit"}});
    }
    if (!st.ok()) return Done(st);
    StartWrite(&response_);
  }

  absl::Status Start(const v1::SyncStart& start) {
    if (job_) {
      return PreconditionError("JOB_ALREADY_STARTED", "this stream already has a job",
                               {{"SYNC_STREAM", "start", "send start once per stream"}});
    }
    if (!start.job_id().empty()) {
      GNLC_ASSIGN_OR_RETURN(ImportJob job, api_.store_.GetJob(start.job_id()));
      GNLC_RETURN_IF_ERROR(CheckJobOwner(*grant_, job));
      job_ = std::move(job);
    } else {
      FieldErrors errors;
      ImportJob job;
      job.owner = grant_->principal.ToString();
      job.dry_run = start.dry_run();
      job.description = start.description();
      if (job.description.size() > kMaxCommentLength) {
        errors.Add("start.description", "must be at most 2000 bytes");
      }
      switch (start.mode()) {
        case v1::MERGE:
          job.mode = SyncMode::kMerge;
          break;
        case v1::REPLACE_SCOPE:
          job.mode = SyncMode::kReplaceScope;
          break;
        default:
          errors.Add("start.mode", "choose MERGE or REPLACE_SCOPE");
      }
      if (start.mode() == v1::REPLACE_SCOPE &&
          (start.scope().city_ids().empty() || start.scope().years().empty())) {
        errors.Add("start.scope", "REPLACE_SCOPE needs the cities and years it replaces");
      }
      for (int i = 0; i < start.scope().city_ids_size(); ++i) {
        if (!IsValidId(start.scope().city_ids(i))) {
          errors.Add(absl::StrCat("start.scope.city_ids[", i, "]"), "is not a city id");
        }
        job.scope_cities.push_back(start.scope().city_ids(i));
      }
      for (int i = 0; i < start.scope().years_size(); ++i) {
        int year = start.scope().years(i);
        if (year < kFirstReportingYear || year > ThisYear()) {
          errors.Add(
              absl::StrCat("start.scope.years[", i, "]"),
              absl::StrCat("must be a reporting year ", kFirstReportingYear, "..", ThisYear()));
        }
        job.scope_years.push_back(year);
      }
      GNLC_RETURN_IF_ERROR(errors.ToStatus());
      // The scope's cities must exist and be the caller's to replace.
      std::vector<NumberedWrite> probes;
      for (const auto& city : job.scope_cities) probes.push_back({0, {{city, 0, "", ""}}});
      GNLC_RETURN_IF_ERROR(
          api_.CheckCities(*grant_, token_, probes, "start.scope.city_ids").status());
      GNLC_ASSIGN_OR_RETURN(job_, api_.store_.CreateJob(std::move(job)));
    }
    JobToProto(*job_, response_.mutable_job());
    return absl::OkStatus();
  }

  absl::Status Batch(const v1::SyncBatch& batch) {
    if (!job_) {
      return PreconditionError("NO_JOB", "send start before batches",
                               {{"SYNC_STREAM", "batch", "open or resume a job first"}});
    }
    FieldErrors errors;
    if (batch.batch_id().empty() || batch.batch_id().size() > kMaxIdLength) {
      errors.Add("batch.batch_id", "give each batch an id of 1-128 characters");
    }
    if (batch.rows_size() > kMaxBatchRows) {
      errors.Add("batch.rows", absl::StrCat("at most ", kMaxBatchRows, " rows per batch"));
    }
    if (batch.first_row() < 0) errors.Add("batch.first_row", "must not be negative");
    GNLC_RETURN_IF_ERROR(errors.ToStatus());

    int this_year = ThisYear();
    int64_t first = batch.first_row() > 0 ? batch.first_row() : 1;
    Rejections rejected;
    auto reject = [&rejected](const std::string& code, int64_t row, const std::string& message) {
      Rejection& r = rejected[code];
      if (r.example.empty()) r.example = absl::StrCat("row ", row, ": ", message);
      r.rows.push_back(row);
    };
    std::vector<NumberedWrite> rows;
    rows.reserve(batch.rows_size());
    for (int i = 0; i < batch.rows_size(); ++i) {
      int64_t number = first + i;
      ValueWrite w = WriteFromProto(batch.rows(i));
      if (!IsValidId(w.key.city_id)) {
        reject("UNKNOWN_CITY", number, absl::StrCat("'", w.key.city_id, "' is not a city id"));
        continue;
      }
      auto problems = CheckValueWrite(api_.catalog_, w, this_year);
      if (!problems.empty()) {
        reject(problems[0].code, number, problems[0].message);
        continue;
      }
      GNLC_ASSIGN_OR_RETURN(std::string city_problem, CityProblem(w.key.city_id));
      if (!city_problem.empty()) {
        reject(city_problem, number,
               city_problem == "UNKNOWN_CITY"
                   ? absl::StrCat("no city '", w.key.city_id, "' in the member register")
                   : absl::StrCat("city '", w.key.city_id, "' is outside ",
                                  grant_->principal.ToString(), "'s reach"));
        continue;
      }
      if (job_->mode == SyncMode::kReplaceScope &&
          (std::count(job_->scope_cities.begin(), job_->scope_cities.end(), w.key.city_id) == 0 ||
           std::count(job_->scope_years.begin(), job_->scope_years.end(), w.key.year) == 0)) {
        reject("OUT_OF_SCOPE", number,
               absl::StrCat(w.key.DatasetName(), " is outside the job's declared scope"));
        continue;
      }
      rows.push_back({number, std::move(w)});
    }
    GNLC_ASSIGN_OR_RETURN(
        BatchResult result,
        api_.store_.ApplyBatch(*job_, batch.batch_id(), Sha256Hex(batch.SerializeAsString()),
                               batch.rows_size(), rows, rejected, countries_,
                               grant_->principal.ToString()));
    api_.sync_counters_->Count(result);
    BatchToProto(result, response_.mutable_batch());
    return absl::OkStatus();
  }

  // "" when the city may be written by this caller, else the rejection code. Membership
  // outages end the stream (UNAVAILABLE): the batch is not acknowledged and can be resent.
  absl::StatusOr<std::string> CityProblem(const std::string& city_id) {
    if (countries_.contains(city_id)) return std::string();
    if (auto known = refused_.find(city_id); known != refused_.end()) return known->second;
    auto info = api_.cities_.Lookup(city_id, token_);
    std::string problem;
    if (info.ok()) {
      if (grant_->Covers({info->country, info->city_id, false})) {
        countries_[city_id] = info->country;
        return std::string();
      }
      problem = "CITY_OUT_OF_SCOPE";
    } else if (info.status().code() == absl::StatusCode::kNotFound) {
      problem = "UNKNOWN_CITY";
    } else if (info.status().code() == absl::StatusCode::kPermissionDenied) {
      problem = "CITY_OUT_OF_SCOPE";
    } else {
      return info.status();
    }
    refused_[city_id] = problem;
    return problem;
  }

  absl::Status Commit() {
    if (!job_) {
      return PreconditionError("NO_JOB", "send start before commit",
                               {{"SYNC_STREAM", "commit", "open or resume a job first"}});
    }
    GNLC_ASSIGN_OR_RETURN(job_, api_.store_.CommitJob(job_->job_id, grant_->principal.ToString()));
    JobToProto(*job_, response_.mutable_committed());
    return absl::OkStatus();
  }

  void Done(const absl::Status& status) {
    if (finished_.exchange(true)) return;
    api_.gate_.Record("SyncValues", status, absl::Now() - started_);
    Finish(ToGrpcStatus(status));
  }

  IndicatorApi& api_;
  grpc::CallbackServerContext* ctx_;
  const std::string token_;
  const absl::Time started_;
  std::optional<Grant> grant_;
  std::optional<ImportJob> job_;
  std::map<std::string, std::string> countries_;  // cities this caller may write
  std::map<std::string, std::string> refused_;    // city -> rejection code
  v1::SyncValuesRequest request_;
  v1::SyncValuesResponse response_;
  std::atomic<bool> finished_{false};
};

void IndicatorApi::EndSyncStreams() {
  std::lock_guard lock(streams_mu_);
  for (SyncReactor* stream : streams_) stream->Cancel();
}

grpc::ServerBidiReactor<v1::SyncValuesRequest, v1::SyncValuesResponse>* IndicatorApi::SyncValues(
    grpc::CallbackServerContext* ctx) {
  return new SyncReactor(*this, ctx);
}

}  // namespace gnlc::indicators
