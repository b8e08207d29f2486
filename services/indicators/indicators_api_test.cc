// The indicators server through gRPC, with a real membership server beside it (both
// in-process): authorization, bad input, review, idempotent writes, the sync stream with
// replays, resumption and a restart, replace-scope, the change feed, and membership outages.
#include "services/indicators/indicators_api.h"

#include <grpcpp/grpcpp.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/api_fields.h"
#include "services/common/api_key.h"
#include "services/common/authenticator.h"
#include "services/common/sql/testing.h"
#include "services/common/status.h"
#include "services/membership/membership_api.h"

namespace gnlc::indicators {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
namespace mv1 = ::gnlc::membership::v1;

v1::ValueWrite V(const std::string& city, int year, const std::string& measure,
                 std::optional<double> value, const std::string& category = "") {
  v1::ValueWrite w;
  w.set_city_id(city);
  w.set_year(year);
  w.set_measure(measure);
  w.set_category(category);
  if (value) w.set_value(*value);
  w.set_source("municipal statistics");
  return w;
}

class IndicatorsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    member_db_ = sql::OpenTestDatabase();
    ASSERT_TRUE(member_db_->skip_reason().empty()) << member_db_->skip_reason();
    member_store_ = std::make_unique<membership::MembershipStore>(member_db_->db());
    ASSERT_TRUE(member_store_->Migrate().ok());
    member_pool_ = std::make_unique<WorkerPool>(2, 100);
    member_metrics_ = std::make_unique<RpcMetrics>("membership");
    member_authn_ = std::make_unique<membership::StoreAuthenticator>(*member_store_);
    member_gate_ = std::make_unique<CallGate>("membership", membership::MembershipAccessTable(),
                                              *member_authn_, *member_pool_, *member_metrics_);
    membership_api_ =
        std::make_unique<membership::MembershipApi>(*member_store_, *member_gate_, stopping_);
    access_api_ = std::make_unique<membership::AccessApi>(*member_store_, *member_gate_);
    ServerConfig config;
    config.listen_address = "127.0.0.1:0";
    auto server = GrpcServer::Start(config, {membership_api_.get(), access_api_.get()}, {});
    ASSERT_TRUE(server.ok()) << server.status();
    member_server_ = std::move(*server);
    // Over TCP, as between the real servers (an in-process channel dies with its server).
    member_channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", member_server_->port()),
                                          grpc::InsecureChannelCredentials());

    secretariat_ = Key("secretariat");
    ministry_cn_ = Key("ministry:CN");
    ministry_fr_ = Key("ministry:FR");
    hangzhou_ = Key("city:cn-hangzhou");
    beijing_ = Key("city:cn-beijing");
    partner_ = Key("partner:oecd");
    CreateCity("cn-hangzhou", "Hangzhou", "CN");
    CreateCity("cn-beijing", "Beijing", "CN");
    CreateCity("fr-nantes", "Nantes", "FR");

    indicator_db_ = sql::OpenTestDatabase();
    ASSERT_TRUE(indicator_db_->skip_reason().empty());
    StartIndicators();
  }

  void TearDown() override {
    StopIndicators();
    stopping_ = true;
    if (member_server_) member_server_->Shutdown(absl::Seconds(5));
    if (member_pool_) member_pool_->Drain();
  }

  // The indicators server, on the same database each time (a restart keeps its data).
  void StartIndicators() {
    indicators_stopping_ = false;
    store_ = std::make_unique<IndicatorStore>(indicator_db_->db(), Catalog::Builtin());
    ASSERT_TRUE(store_->Migrate().ok());
    remote_keys_ = std::make_unique<RemoteAuthenticator>(member_channel_);
    keys_ = std::make_unique<CachingAuthenticator>(
        *remote_keys_, kKeyCacheTtl, std::chrono::steady_clock::now, kKeyStaleDuringOutage);
    cities_ = std::make_unique<MembershipCityDirectory>(member_channel_);
    pool_ = std::make_unique<WorkerPool>(4, 100);
    metrics_ = std::make_unique<RpcMetrics>("indicators");
    gate_ =
        std::make_unique<CallGate>("indicators", IndicatorAccessTable(), *keys_, *pool_, *metrics_);
    api_ = std::make_unique<IndicatorApi>(*store_, Catalog::Builtin(), *cities_, *gate_, *metrics_,
                                          indicators_stopping_);
    ServerConfig config;
    config.listen_address = "127.0.0.1:0";
    auto server = GrpcServer::Start(config, {api_.get()}, {});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::IndicatorService::NewStub(server_->InProcessChannel());
  }

  void StopIndicators() {
    indicators_stopping_ = true;
    if (api_) api_->EndSyncStreams();  // as main does
    if (server_) server_->Shutdown(absl::Seconds(5));
    if (pool_) pool_->Drain();
    stub_.reset();
    server_.reset();
    api_.reset();
    gate_.reset();
    metrics_.reset();
    pool_.reset();
    cities_.reset();
    keys_.reset();
    remote_keys_.reset();
    store_.reset();
  }

  std::string Key(const std::string& principal) {
    NewApiKey key = GenerateApiKey();
    EXPECT_TRUE(
        member_store_->InsertApiKey({key.key_id, key.hash, principal, "", NowMicros(), "test"}, {})
            .ok());
    return key.token;
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& key) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!key.empty()) ctx->AddMetadata("authorization", "Bearer " + key);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  void CreateCity(const std::string& id, const std::string& en, const std::string& country) {
    mv1::CreateCityRequest req;
    req.set_city_id(id);
    mv1::City& c = *req.mutable_city();
    auto* n = c.add_display_names();
    n->set_language("en");
    n->set_text(en);
    c.set_country_code(country);
    c.set_kind(mv1::CITY);
    c.set_population(500000);
    c.set_population_year(2022);
    c.mutable_governing_body()->set_name("City Council");
    c.mutable_governing_body()->set_elected(true);
    c.set_mayor("Mayor");
    c.mutable_contact()->set_email("office@example.org");
    mv1::CreateCityResponse resp;
    auto members = mv1::MembershipService::NewStub(member_channel_);
    grpc::Status st = members->CreateCity(As(secretariat_).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  grpc::Status Write(const std::string& key, std::vector<v1::ValueWrite> values,
                     v1::WriteValuesResponse* resp = nullptr, const std::string& request_id = "") {
    v1::WriteValuesRequest req;
    for (auto& v : values) *req.add_values() = std::move(v);
    req.set_request_id(request_id);
    v1::WriteValuesResponse local;
    return stub_->WriteValues(As(key).get(), req, resp ? resp : &local);
  }

  std::vector<v1::Value> List(const std::string& key, const std::string& city, bool working_copy,
                              grpc::Status* status = nullptr) {
    v1::ListValuesRequest req;
    req.set_city_id(city);
    req.set_working_copy(working_copy);
    v1::ListValuesResponse resp;
    grpc::Status st = stub_->ListValues(As(key).get(), req, &resp);
    if (status) *status = st;
    return {resp.values().begin(), resp.values().end()};
  }

  std::vector<v1::Change> Changes(const std::string& after = "") {
    v1::ListChangesRequest req;
    req.set_after_cursor(after);
    req.set_page_size(500);
    v1::ListChangesResponse resp;
    EXPECT_TRUE(stub_->ListChanges(As(secretariat_).get(), req, &resp).ok());
    return {resp.changes().begin(), resp.changes().end()};
  }

  // Moves a dataset through a step with a key; returns the status.
  template <typename Request, typename Response>
  grpc::Status Step(grpc::Status (v1::IndicatorService::Stub::*method)(grpc::ClientContext*,
                                                                       const Request&, Response*),
                    const std::string& key, const std::string& name,
                    const std::string& comment = "") {
    Request req;
    req.set_name(name);
    req.set_comment(comment);
    Response resp;
    return ((*stub_).*method)(As(key).get(), req, &resp);
  }

  void Publish(const std::string& name) {
    using S = v1::IndicatorService::Stub;
    ASSERT_TRUE(Step(&S::SubmitDataset, ministry_cn_, name).ok());
    ASSERT_TRUE(Step(&S::ValidateDataset, secretariat_, name).ok());
    ASSERT_TRUE(Step(&S::PublishDataset, secretariat_, name).ok());
  }

  std::unique_ptr<sql::TestDatabase> member_db_, indicator_db_;
  std::unique_ptr<membership::MembershipStore> member_store_;
  std::unique_ptr<WorkerPool> member_pool_;
  std::unique_ptr<RpcMetrics> member_metrics_;
  std::unique_ptr<membership::StoreAuthenticator> member_authn_;
  std::unique_ptr<CallGate> member_gate_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<membership::MembershipApi> membership_api_;
  std::unique_ptr<membership::AccessApi> access_api_;
  std::unique_ptr<GrpcServer> member_server_;
  std::shared_ptr<grpc::Channel> member_channel_;

  std::atomic<bool> indicators_stopping_{false};
  std::unique_ptr<IndicatorStore> store_;
  std::unique_ptr<RemoteAuthenticator> remote_keys_;
  std::unique_ptr<CachingAuthenticator> keys_;
  std::unique_ptr<MembershipCityDirectory> cities_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<RpcMetrics> metrics_;
  std::unique_ptr<CallGate> gate_;
  std::unique_ptr<IndicatorApi> api_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::IndicatorService::Stub> stub_;

  std::string secretariat_, ministry_cn_, ministry_fr_, hangzhou_, beijing_, partner_;
};

using S = v1::IndicatorService::Stub;

TEST(IndicatorAccessTable, NamesEveryRpc) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      "gnlc.indicators.v1.IndicatorService");
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_TRUE(IndicatorAccessTable().contains(service->method(i)->name()))
        << service->method(i)->name() << " is missing, so everyone is refused";
  }
}

TEST_F(IndicatorsApiTest, CatalogIsOpenToEveryone) {
  v1::GetCatalogResponse resp;
  ASSERT_TRUE(stub_->GetCatalog(As("").get(), {}, &resp).ok());
  EXPECT_EQ(resp.catalog().dimensions_size(), 3);
  EXPECT_EQ(resp.catalog().themes_size(), 3);
  EXPECT_EQ(resp.catalog().content_hash(), Catalog::Builtin().content_hash());
  const auto& literacy = resp.catalog().dimensions(0).focus_areas(0).features(0).measures(0);
  EXPECT_EQ(literacy.code(), "1.1.1a");
  EXPECT_EQ(literacy.disaggregation(), v1::SEX);
  EXPECT_THAT(literacy.categories(), ElementsAre("male", "female", "total"));
}

TEST_F(IndicatorsApiTest, MinistryWritesSecretariatPublishesPartnerReadsPublishedOnly) {
  v1::ValueWrite secret = V("cn-hangzhou", 2023, "1.2.2a", 4.1, "total");
  secret.mutable_flags()->set_confidential(true);
  v1::WriteValuesResponse written;
  ASSERT_TRUE(
      Write(ministry_cn_,
            {V("cn-hangzhou", 2023, "1.1.2a", 61), V("cn-hangzhou", 2023, "1.3.2b", 4), secret},
            &written)
          .ok());
  ASSERT_EQ(written.values_size(), 3);
  EXPECT_EQ(written.values(0).stored_by(), "ministry:CN");

  // Nothing is published yet; partners may not read the working copy at all.
  EXPECT_THAT(List(partner_, "cn-hangzhou", false), IsEmpty());
  grpc::Status denied;
  List(partner_, "cn-hangzhou", true, &denied);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(List(hangzhou_, "cn-hangzhou", true), SizeIs(3));

  const std::string name = "cities/cn-hangzhou/datasets/2023";
  // Writers submit; only the secretariat validates and publishes.
  EXPECT_EQ(Step(&S::ValidateDataset, ministry_cn_, name).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  Publish(name);

  EXPECT_THAT(List(partner_, "cn-hangzhou", false), SizeIs(2));  // the confidential one hidden
  EXPECT_THAT(List("", "cn-hangzhou", false), SizeIs(2));
  EXPECT_THAT(List(ministry_cn_, "cn-hangzhou", false), SizeIs(3));
  EXPECT_THAT(List(ministry_fr_, "cn-hangzhou", false), SizeIs(2));
  v1::GetDatasetRequest get;
  get.set_name(name);
  v1::GetDatasetResponse got;
  ASSERT_TRUE(stub_->GetDataset(As(partner_).get(), get, &got).ok());
  EXPECT_EQ(got.dataset().state(), v1::PUBLISHED);
  EXPECT_THAT(got.dataset().history(), IsEmpty());  // the review is not the partner's business

  // Published data changes only through a new revision.
  grpc::Status locked = Write(ministry_cn_, {V("cn-hangzhou", 2023, "1.1.2a", 70)});
  EXPECT_EQ(locked.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(locked.error_message(), HasSubstr("revision"));
  ASSERT_TRUE(Step(&S::OpenDatasetRevision, hangzhou_, name).ok());
  ASSERT_TRUE(
      Write(hangzhou_, {V("cn-hangzhou", 2023, "1.1.2a", 70), V("cn-hangzhou", 2023, "1.2.3a", 12)})
          .ok());
  for (const auto& v : List(partner_, "cn-hangzhou", false)) {
    if (v.measure() == "1.1.2a") EXPECT_EQ(v.value(), 61);
  }
  // Counts too: a partner sees the published revision's, the writers their working copy's.
  ASSERT_TRUE(stub_->GetDataset(As(partner_).get(), get, &got).ok());
  EXPECT_EQ(got.dataset().value_count(), 3);
  ASSERT_TRUE(stub_->GetDataset(As(ministry_cn_).get(), get, &got).ok());
  EXPECT_EQ(got.dataset().value_count(), 4);
  // The return needs its reason.
  ASSERT_TRUE(Step(&S::SubmitDataset, hangzhou_, name).ok());
  grpc::Status no_reason = Step(&S::ReturnDataset, secretariat_, name);
  EXPECT_EQ(no_reason.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Step(&S::ReturnDataset, secretariat_, name, "cite the election year").ok());
  ASSERT_TRUE(stub_->GetDataset(As(hangzhou_).get(), get, &got).ok());
  EXPECT_EQ(got.dataset().state(), v1::DRAFT);
  EXPECT_EQ(got.dataset().return_comment(), "cite the election year");
}

struct BadWrite {
  std::string name;
  std::vector<v1::ValueWrite> values;
  grpc::StatusCode code;
  std::vector<std::string> fields;  // every field the error must name
};

TEST_F(IndicatorsApiTest, BadInputIsRefusedNamingEveryFieldAndWritesNothing) {
  v1::ValueWrite na_with_value = V("cn-hangzhou", 2023, "1.1.2a", 5);
  na_with_value.mutable_flags()->set_not_applicable(true);
  std::vector<BadWrite> cases = {
      {"unknown measure",
       {V("cn-hangzhou", 2023, "9.9.9a", 1)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].measure"}},
      {"percent 140",
       {V("cn-hangzhou", 2023, "1.1.2a", 140)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].value"}},
      {"rating 6",
       {V("cn-hangzhou", 2023, "1.3.2b", 6)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].value"}},
      {"rating 2.5",
       {V("cn-hangzhou", 2023, "1.3.2b", 2.5)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].value"}},
      {"negative count",
       {V("cn-hangzhou", 2023, "2.2.3a", -3)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].value"}},
      {"wrong disaggregation",
       {V("cn-hangzhou", 2023, "1.1.1a", 90, "girls")},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].category"}},
      {"year 3000",
       {V("cn-hangzhou", 3000, "1.1.2a", 60)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].year"}},
      {"NaN",
       {V("cn-hangzhou", 2023, "1.1.2a", std::nan(""))},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].value"}},
      {"not applicable with a number",
       {na_with_value},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].value"}},
      {"no value",
       {V("cn-hangzhou", 2023, "1.1.2a", std::nullopt)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].value"}},
      {"malformed city id",
       {V("Hangzhou!", 2023, "1.1.2a", 60)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].city_id"}},
      {"unknown city",
       {V("cn-atlantis", 2023, "1.1.2a", 60)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[0].city_id"}},
      {"a city of another country",
       {V("fr-nantes", 2023, "1.1.2a", 60)},
       grpc::StatusCode::PERMISSION_DENIED,
       {}},
      {"nothing to write", {}, grpc::StatusCode::INVALID_ARGUMENT, {"values"}},
      // One good row does not carry bad ones: all are named, nothing is written.
      {"several bad rows",
       {V("cn-hangzhou", 2023, "1.1.2a", 60), V("cn-hangzhou", 2023, "1.1.2a", 140),
        V("cn-hangzhou", 3000, "1.3.2b", 2.5)},
       grpc::StatusCode::INVALID_ARGUMENT,
       {"values[1].value", "values[2].year", "values[2].value"}},
  };
  size_t changes_before = Changes().size();
  for (const BadWrite& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::Status st = Write(ministry_cn_, c.values);
    EXPECT_EQ(st.error_code(), c.code) << st.error_message();
    std::vector<std::string> fields;
    for (const auto& v : FieldViolations(FromGrpcStatus(st))) fields.push_back(v.field);
    for (const auto& f : c.fields) EXPECT_THAT(fields, testing::Contains(f));
  }
  EXPECT_EQ(Changes().size(), changes_before);
  v1::ListDatasetsResponse datasets;
  ASSERT_TRUE(stub_->ListDatasets(As(secretariat_).get(), {}, &datasets).ok());
  EXPECT_THAT(datasets.datasets(), IsEmpty());
}

TEST_F(IndicatorsApiTest, CallersReachOnlyTheirOwnCities) {
  EXPECT_EQ(Write(beijing_, {V("cn-hangzhou", 2023, "1.1.2a", 60)}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Write(partner_, {V("cn-hangzhou", 2023, "1.1.2a", 60)}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Write(secretariat_, {V("cn-hangzhou", 2023, "1.1.2a", 60)}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // the secretariat reviews, it does not report
  EXPECT_EQ(Write("", {V("cn-hangzhou", 2023, "1.1.2a", 60)}).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Write(hangzhou_, {V("cn-hangzhou", 2023, "1.1.2a", 60)}).ok());

  const std::string name = "cities/cn-hangzhou/datasets/2023";
  EXPECT_EQ(Step(&S::SubmitDataset, ministry_fr_, name).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Step(&S::SubmitDataset, beijing_, name).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetDatasetRequest get;
  get.set_name(name);
  v1::GetDatasetResponse got;
  EXPECT_EQ(stub_->GetDataset(As(ministry_fr_).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);  // unpublished data of others does not show
  v1::ListValueHistoryRequest history;
  history.set_dataset(name);
  history.set_measure("1.1.2a");
  v1::ListValueHistoryResponse past;
  EXPECT_EQ(stub_->ListValueHistory(As(partner_).get(), history, &past).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->ListValueHistory(As(ministry_cn_).get(), history, &past).ok());
  ASSERT_EQ(past.changes_size(), 1);
  EXPECT_EQ(past.changes(0).actor(), "city:cn-hangzhou");
  // A French ministry lists only published data and its own country's.
  v1::ListDatasetsResponse listed;
  ASSERT_TRUE(stub_->ListDatasets(As(ministry_fr_).get(), {}, &listed).ok());
  EXPECT_THAT(listed.datasets(), IsEmpty());
}

TEST_F(IndicatorsApiTest, RetriedWriteIsAppliedOnce) {
  v1::WriteValuesResponse first, second;
  ASSERT_TRUE(Write(ministry_cn_, {V("cn-hangzhou", 2023, "1.1.2a", 61)}, &first, "req-1").ok());
  ASSERT_TRUE(Write(ministry_cn_, {V("cn-hangzhou", 2023, "1.1.2a", 61)}, &second, "req-1").ok());
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
  EXPECT_THAT(Changes(), SizeIs(1));
  EXPECT_EQ(Changes()[0].origin(), "requests/req-1");
  grpc::Status reused =
      Write(ministry_cn_, {V("cn-hangzhou", 2023, "1.1.2a", 62)}, nullptr, "req-1");
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(Changes(), SizeIs(1));
}

// A client of the sync stream that sends one message and waits for its answer.
class SyncClient {
 public:
  SyncClient(v1::IndicatorService::Stub& stub, const std::string& key) {
    ctx_.AddMetadata("authorization", "Bearer " + key);
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    stream_ = stub.SyncValues(&ctx_);
  }

  v1::SyncValuesResponse Send(const v1::SyncValuesRequest& req) {
    v1::SyncValuesResponse resp;
    EXPECT_TRUE(stream_->Write(req));
    EXPECT_TRUE(stream_->Read(&resp)) << Finish().error_message();
    return resp;
  }

  v1::ImportJob Start(v1::SyncMode mode, const std::string& job_id = "",
                      std::vector<std::string> cities = {}, std::vector<int> years = {},
                      bool dry_run = false) {
    v1::SyncValuesRequest req;
    req.mutable_start()->set_mode(mode);
    req.mutable_start()->set_job_id(job_id);
    req.mutable_start()->set_dry_run(dry_run);
    for (const auto& c : cities) req.mutable_start()->mutable_scope()->add_city_ids(c);
    for (int y : years) req.mutable_start()->mutable_scope()->add_years(y);
    return Send(req).job();
  }

  v1::BatchResult Batch(const std::string& id, std::vector<v1::ValueWrite> rows,
                        int64_t first_row = 1) {
    v1::SyncValuesRequest req;
    req.mutable_batch()->set_batch_id(id);
    req.mutable_batch()->set_first_row(first_row);
    for (auto& r : rows) *req.mutable_batch()->add_rows() = std::move(r);
    return Send(req).batch();
  }

  v1::ImportJob Commit() {
    v1::SyncValuesRequest req;
    req.mutable_commit();
    return Send(req).committed();
  }

  grpc::Status Finish() {
    finished_ = true;
    stream_->WritesDone();
    return stream_->Finish();
  }

  // A client that goes away without finishing drops the connection.
  ~SyncClient() {
    if (finished_) return;
    ctx_.TryCancel();
    stream_->Finish();
  }

 private:
  bool finished_ = false;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SyncValuesRequest, v1::SyncValuesResponse>> stream_;
};

TEST_F(IndicatorsApiTest, SyncAcknowledgesBatchesGroupsRejectionsAndAppliesRetriesOnce) {
  std::string job_id;
  {
    SyncClient sync(*stub_, ministry_cn_);
    v1::ImportJob job = sync.Start(v1::MERGE);
    job_id = job.job_id();
    EXPECT_EQ(job.state(), v1::OPEN);
    v1::BatchResult b1 =
        sync.Batch("b1",
                   {V("cn-hangzhou", 2023, "1.1.2a", 61), V("cn-hangzhou", 2023, "1.1.2a", 140),
                    V("fr-nantes", 2023, "1.1.2a", 50), V("cn-atlantis", 2023, "1.1.2a", 50),
                    V("cn-beijing", 2023, "1.3.2b", 2.5), V("cn-beijing", 2023, "1.3.2b", 9)},
                   101);
    EXPECT_EQ(b1.rows(), 6);
    EXPECT_EQ(b1.applied(), 1);
    EXPECT_EQ(b1.rejected(), 5);
    std::map<std::string, std::vector<int64_t>> rows;
    for (const auto& r : b1.rejections()) rows[r.code()] = {r.rows().begin(), r.rows().end()};
    EXPECT_THAT(rows["OUT_OF_RANGE"], ElementsAre(102, 106));
    EXPECT_THAT(rows["CITY_OUT_OF_SCOPE"], ElementsAre(103));
    EXPECT_THAT(rows["UNKNOWN_CITY"], ElementsAre(104));
    EXPECT_THAT(rows["NOT_AN_INTEGER"], ElementsAre(105));

    // The same batch again (the client did not see the ack): applied once, same answer.
    v1::BatchResult again =
        sync.Batch("b1",
                   {V("cn-hangzhou", 2023, "1.1.2a", 61), V("cn-hangzhou", 2023, "1.1.2a", 140),
                    V("fr-nantes", 2023, "1.1.2a", 50), V("cn-atlantis", 2023, "1.1.2a", 50),
                    V("cn-beijing", 2023, "1.3.2b", 2.5), V("cn-beijing", 2023, "1.3.2b", 9)},
                   101);
    EXPECT_TRUE(again.replayed());
    EXPECT_EQ(again.applied(), 1);
    EXPECT_THAT(Changes(), SizeIs(1));
    // Operators see the rows once, and the replay as a replay.
    std::string exposition = metrics_->Render();
    EXPECT_THAT(exposition, HasSubstr("gnlc_indicators_sync_rows_total{outcome=\"applied\"} 1"));
    EXPECT_THAT(exposition, HasSubstr("gnlc_indicators_sync_rows_total{outcome=\"rejected\"} 5"));
    EXPECT_THAT(exposition, HasSubstr("gnlc_indicators_sync_batches_total{replayed=\"true\"} 1"));
    // The connection drops here, before commit.
  }
  {
    SyncClient sync(*stub_, ministry_cn_);
    v1::ImportJob resumed = sync.Start(v1::SYNC_MODE_UNSPECIFIED, job_id);
    EXPECT_THAT(resumed.acknowledged_batches(), ElementsAre("b1"));
    EXPECT_EQ(sync.Batch("b2", {V("cn-beijing", 2023, "1.1.2a", 55)}).applied(), 1);
    v1::ImportJob done = sync.Commit();
    EXPECT_EQ(done.state(), v1::COMMITTED);
    EXPECT_EQ(done.summary().batches(), 2);
    EXPECT_EQ(done.summary().applied(), 2);
    EXPECT_EQ(done.summary().rejected(), 5);
    EXPECT_TRUE(sync.Finish().ok());
  }
  // Another ministry cannot read the job.
  v1::GetImportJobRequest get;
  get.set_name("importJobs/" + job_id);
  v1::GetImportJobResponse got;
  EXPECT_EQ(stub_->GetImportJob(As(ministry_fr_).get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->GetImportJob(As(secretariat_).get(), get, &got).ok());
  EXPECT_EQ(got.job().summary().applied(), 2);
}

TEST_F(IndicatorsApiTest, AJobSurvivesAServerRestart) {
  std::string job_id;
  {
    SyncClient sync(*stub_, ministry_cn_);
    job_id = sync.Start(v1::MERGE).job_id();
    EXPECT_EQ(sync.Batch("b1", {V("cn-hangzhou", 2023, "1.1.2a", 61)}).applied(), 1);
  }
  StopIndicators();
  StartIndicators();
  SyncClient sync(*stub_, ministry_cn_);
  v1::ImportJob resumed = sync.Start(v1::SYNC_MODE_UNSPECIFIED, job_id);
  EXPECT_THAT(resumed.acknowledged_batches(), ElementsAre("b1"));
  EXPECT_EQ(resumed.summary().applied(), 1);
  EXPECT_TRUE(sync.Batch("b1", {V("cn-hangzhou", 2023, "1.1.2a", 61)}).replayed());
  EXPECT_EQ(sync.Batch("b2", {V("cn-hangzhou", 2023, "1.3.2b", 3)}).applied(), 1);
  EXPECT_EQ(sync.Commit().summary().applied(), 2);
  EXPECT_THAT(Changes(), SizeIs(2));
}

TEST_F(IndicatorsApiTest, ShutdownEndsSyncStreamsIdleBetweenBatches) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + ministry_cn_);
  auto stream = stub_->SyncValues(&ctx);
  v1::SyncValuesRequest start;
  start.mutable_start()->set_mode(v1::MERGE);
  v1::SyncValuesResponse resp;
  ASSERT_TRUE(stream->Write(start));
  ASSERT_TRUE(stream->Read(&resp));
  std::string job_id = resp.job().job_id();
  // The client now waits before its next batch; the server is told to stop.
  indicators_stopping_ = true;
  api_->EndSyncStreams();
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The job is still there to resume.
  v1::GetImportJobRequest get;
  get.set_name("importJobs/" + job_id);
  v1::GetImportJobResponse got;
  indicators_stopping_ = false;
  ASSERT_TRUE(stub_->GetImportJob(As(ministry_cn_).get(), get, &got).ok());
  EXPECT_EQ(got.job().state(), v1::OPEN);
}

TEST_F(IndicatorsApiTest, ReplaceScopeRemovesValuesTheJobDidNotSend) {
  ASSERT_TRUE(Write(ministry_cn_,
                    {V("cn-hangzhou", 2023, "1.1.2a", 61), V("cn-hangzhou", 2023, "1.3.2b", 4),
                     V("cn-beijing", 2023, "1.1.2a", 50)})
                  .ok());
  SyncClient sync(*stub_, ministry_cn_);
  sync.Start(v1::REPLACE_SCOPE, "", {"cn-hangzhou"}, {2023});
  v1::BatchResult b =
      sync.Batch("b1", {V("cn-hangzhou", 2023, "1.1.2a", 62), V("cn-beijing", 2023, "1.1.2a", 51)});
  ASSERT_EQ(b.rejections_size(), 1);
  EXPECT_EQ(b.rejections(0).code(), "OUT_OF_SCOPE");
  EXPECT_EQ(sync.Commit().summary().removed(), 1);
  std::vector<std::string> left;
  for (const auto& v : List(ministry_cn_, "cn-hangzhou", true)) left.push_back(v.measure());
  EXPECT_THAT(left, ElementsAre("1.1.2a"));
  EXPECT_THAT(List(ministry_cn_, "cn-beijing", true), SizeIs(1));  // outside the scope
  EXPECT_EQ(Changes().back().kind(), v1::VALUE_REMOVED);
}

TEST_F(IndicatorsApiTest, ReplaceScopeMustNameTheCallersOwnCities) {
  v1::SyncValuesRequest req;
  req.mutable_start()->set_mode(v1::REPLACE_SCOPE);
  req.mutable_start()->mutable_scope()->add_city_ids("fr-nantes");
  req.mutable_start()->mutable_scope()->add_years(2023);
  v1::SyncValuesResponse resp;
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + ministry_cn_);
  auto stream = stub_->SyncValues(&ctx);
  ASSERT_TRUE(stream->Write(req));
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);

  grpc::ClientContext ctx2;
  ctx2.AddMetadata("authorization", "Bearer " + ministry_cn_);
  auto stream2 = stub_->SyncValues(&ctx2);
  req.mutable_start()->clear_scope();
  ASSERT_TRUE(stream2->Write(req));
  EXPECT_FALSE(stream2->Read(&resp));
  grpc::Status st = stream2->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("start.scope"));
}

TEST_F(IndicatorsApiTest, ChangeFeedResumesFromACursorWithoutGapsOrRepeats) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Write(ministry_cn_, {V("cn-hangzhou", 2023, "1.1.2a", 60 + i)}).ok());
  }
  std::vector<std::string> seen;
  std::string cursor;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + secretariat_);
    v1::WatchChangesRequest req;
    auto reader = stub_->WatchChanges(&ctx, req);
    v1::WatchChangesResponse resp;
    while (seen.size() < 2 && reader->Read(&resp)) {
      for (const auto& c : resp.changes()) {
        if (seen.size() < 2) {
          seen.push_back(c.cursor());
          cursor = c.cursor();
        }
      }
    }
    ctx.TryCancel();
    reader->Finish();
  }
  for (int i = 3; i < 5; ++i) {
    ASSERT_TRUE(Write(ministry_cn_, {V("cn-hangzhou", 2023, "1.1.2a", 60 + i)}).ok());
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + secretariat_);
  v1::WatchChangesRequest req;
  req.set_after_cursor(cursor);
  auto reader = stub_->WatchChanges(&ctx, req);
  v1::WatchChangesResponse resp;
  std::vector<double> values;
  while (values.size() < 3 && reader->Read(&resp)) {
    for (const auto& c : resp.changes()) {
      seen.push_back(c.cursor());
      values.push_back(c.value());
    }
  }
  ctx.TryCancel();
  reader->Finish();
  EXPECT_THAT(values, ElementsAre(62, 63, 64));
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], std::to_string(i + 1));
}

TEST_F(IndicatorsApiTest, WhenMembershipIsDownReadsWorkAndWritesSaySo) {
  ASSERT_TRUE(Write(ministry_cn_, {V("cn-hangzhou", 2023, "1.1.2a", 61)}).ok());
  EXPECT_THAT(List(ministry_cn_, "cn-hangzhou", true), SizeIs(1));  // the key is now cached
  stopping_ = true;
  member_server_->Shutdown(absl::Seconds(1));

  grpc::Status read;
  EXPECT_THAT(List(ministry_cn_, "cn-hangzhou", true, &read), SizeIs(1));
  EXPECT_TRUE(read.ok()) << read.error_message();
  grpc::Status write = Write(ministry_cn_, {V("cn-beijing", 2023, "1.1.2a", 50)});
  EXPECT_EQ(write.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(write.error_message(), HasSubstr("membership"));
  EXPECT_THAT(List(ministry_cn_, "cn-beijing", true), IsEmpty());
}

TEST_F(IndicatorsApiTest, QualityReportAndSdgView) {
  v1::ValueWrite na = V("cn-hangzhou", 2023, "1.2.3b", std::nullopt);
  na.mutable_flags()->set_not_applicable(true);
  ASSERT_TRUE(Write(ministry_cn_, {V("cn-hangzhou", 2023, "1.1.1a", 96, "male"),
                                   V("cn-hangzhou", 2023, "1.1.1a", 94, "female"),
                                   V("cn-hangzhou", 2023, "1.1.1a", 99, "total"),
                                   V("cn-hangzhou", 2023, "1.2.3a", 12), na})
                  .ok());
  v1::GetDatasetQualityRequest req;
  req.set_name("cities/cn-hangzhou/datasets/2023");
  req.set_working_copy(true);
  v1::GetDatasetQualityResponse q;
  ASSERT_TRUE(stub_->GetDatasetQuality(As(ministry_cn_).get(), req, &q).ok());
  EXPECT_EQ(q.measures_expected(), 59);  // 60 less the one not applicable
  EXPECT_EQ(q.measures_reported(), 2);
  EXPECT_EQ(q.not_applicable(), 1);
  EXPECT_EQ(q.missing_measures_size(), 57);
  ASSERT_EQ(q.values_with_warnings_size(), 1);
  EXPECT_EQ(q.values_with_warnings(0).warnings(0).code(), "SEX_SPLIT_INCONSISTENT");
  for (const auto& f : q.features()) {
    if (f.code() == "1.2.3") {
      EXPECT_EQ(f.measures_expected(), 1);
      EXPECT_EQ(f.completeness(), 1.0);
    }
  }

  v1::GetSdgViewRequest sdg;
  sdg.set_name(req.name());
  sdg.set_working_copy(true);
  v1::GetSdgViewResponse view;
  ASSERT_TRUE(stub_->GetSdgView(As(ministry_cn_).get(), sdg, &view).ok());
  bool found = false;
  for (const auto& g : view.groups()) {
    if (g.target().code() != "4.6") continue;
    found = true;
    EXPECT_THAT(g.features(), testing::Contains("1.1.1"));
    EXPECT_EQ(g.values_size(), 3);
    ASSERT_GE(g.indicators_size(), 1);
    EXPECT_EQ(g.indicators(0).code(), "4.6.1");
  }
  EXPECT_TRUE(found);
}

TEST_F(IndicatorsApiTest, ListsPageThroughEveryValueAndDatasetOnce) {
  ASSERT_TRUE(
      Write(ministry_cn_,
            {V("cn-hangzhou", 2022, "1.1.2a", 60), V("cn-hangzhou", 2023, "1.1.2a", 61),
             V("cn-hangzhou", 2023, "1.1.1a", 95, "female"),
             V("cn-hangzhou", 2023, "1.1.1a", 97, "male"), V("cn-beijing", 2023, "1.3.2b", 4)})
          .ok());
  std::vector<std::string> seen;
  v1::ListValuesRequest req;
  req.set_country_code("CN");
  req.set_working_copy(true);
  req.set_page_size(2);
  for (int page = 0; page < 10; ++page) {
    v1::ListValuesResponse resp;
    ASSERT_TRUE(stub_->ListValues(As(ministry_cn_).get(), req, &resp).ok());
    for (const auto& v : resp.values())
      seen.push_back(v.dataset() + " " + v.measure() + v.category());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_THAT(seen, ElementsAre("cities/cn-beijing/datasets/2023 1.3.2b",
                                "cities/cn-hangzhou/datasets/2022 1.1.2a",
                                "cities/cn-hangzhou/datasets/2023 1.1.1afemale",
                                "cities/cn-hangzhou/datasets/2023 1.1.1amale",
                                "cities/cn-hangzhou/datasets/2023 1.1.2a"));
  // The feature filter takes a key feature, a focus area or a dimension.
  v1::ListValuesRequest by_feature;
  by_feature.set_feature("1.1.1");
  by_feature.set_working_copy(true);
  v1::ListValuesResponse feature_values;
  ASSERT_TRUE(stub_->ListValues(As(ministry_cn_).get(), by_feature, &feature_values).ok());
  EXPECT_EQ(feature_values.values_size(), 2);
  by_feature.set_feature("1.1.9");
  EXPECT_EQ(stub_->ListValues(As(ministry_cn_).get(), by_feature, &feature_values).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  std::vector<std::string> datasets;
  v1::ListDatasetsRequest list;
  list.set_page_size(1);
  for (int page = 0; page < 10; ++page) {
    v1::ListDatasetsResponse resp;
    ASSERT_TRUE(stub_->ListDatasets(As(secretariat_).get(), list, &resp).ok());
    for (const auto& d : resp.datasets()) datasets.push_back(d.name());
    if (resp.next_page_token().empty()) break;
    list.set_page_token(resp.next_page_token());
  }
  EXPECT_THAT(datasets,
              ElementsAre("cities/cn-beijing/datasets/2023", "cities/cn-hangzhou/datasets/2022",
                          "cities/cn-hangzhou/datasets/2023"));
}

TEST_F(IndicatorsApiTest, ExportStreamsEveryPublishedValue) {
  std::vector<v1::ValueWrite> rows;
  for (const Measure& m : Catalog::Builtin().measures()) {
    for (const auto& cat : CategoriesOf(m.disaggregation)) {
      rows.push_back(
          V("cn-hangzhou", 2023, m.code, m.type == ValueType::kRating ? 3 : m.min + 1, cat));
    }
  }
  ASSERT_TRUE(Write(ministry_cn_, rows).ok());
  Publish("cities/cn-hangzhou/datasets/2023");
  grpc::ClientContext ctx;
  v1::ExportValuesRequest req;
  req.set_country_code("CN");
  auto reader = stub_->ExportValues(&ctx, req);
  v1::ExportValuesResponse page;
  size_t total = 0;
  while (reader->Read(&page)) total += page.values_size();
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(total, rows.size());
}

}  // namespace
}  // namespace gnlc::indicators
