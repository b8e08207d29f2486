// The membership server through gRPC (in-process channel): authorization, bad input, the
// event stream, and key checks from another service's point of view.
#include "services/membership/membership_api.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <latch>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/api_key.h"
#include "services/common/sql/testing.h"
#include "services/common/status.h"

namespace gnlc::membership {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

class MembershipApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_db_ = sql::OpenTestDatabase();
    ASSERT_TRUE(test_db_->skip_reason().empty()) << test_db_->skip_reason();
    store_ = std::make_unique<MembershipStore>(test_db_->db());
    ASSERT_TRUE(store_->Migrate().ok());
    pool_ = std::make_unique<WorkerPool>(4, 100);
    metrics_ = std::make_unique<RpcMetrics>("membership");
    authenticator_ = std::make_unique<StoreAuthenticator>(*store_);
    gate_ = std::make_unique<CallGate>("membership", MembershipAccessTable(), *authenticator_,
                                       *pool_, *metrics_);
    membership_ = std::make_unique<MembershipApi>(*store_, *gate_, stopping_);
    access_ = std::make_unique<AccessApi>(*store_, *gate_);
    ServerConfig config;
    config.listen_address = "127.0.0.1:0";
    auto server = GrpcServer::Start(config, {membership_.get(), access_.get()}, {});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = server_->InProcessChannel();
    members_ = v1::MembershipService::NewStub(channel_);
    keys_ = access_v1::AccessService::NewStub(channel_);
    secretariat_ = Key("secretariat");
  }

  void TearDown() override {
    stopping_ = true;
    if (server_) server_->Shutdown(absl::Seconds(5));
    if (pool_) pool_->Drain();
  }

  // A key for a principal, stored directly (setting up, not under test).
  std::string Key(const std::string& principal) {
    NewApiKey key = GenerateApiKey();
    EXPECT_TRUE(
        store_->InsertApiKey({key.key_id, key.hash, principal, "", NowMicros(), "test"}, {}).ok());
    return key.token;
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& key) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!key.empty()) ctx->AddMetadata("authorization", "Bearer " + key);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  static v1::City CityProto(const std::string& en, const std::string& zh,
                            const std::string& country, int64_t population = 300000) {
    v1::City c;
    auto* n = c.add_display_names();
    n->set_language("en");
    n->set_text(en);
    n = c.add_display_names();
    n->set_language("zh");
    n->set_text(zh);
    c.set_country_code(country);
    c.set_kind(v1::CITY);
    c.set_population(population);
    c.set_population_year(2021);
    c.mutable_governing_body()->set_name("City Council");
    c.mutable_governing_body()->set_elected(true);
    c.set_mayor("Mayor");
    c.mutable_contact()->set_email("office@example.org");
    return c;
  }

  v1::City CreateCity(const std::string& en, const std::string& zh, const std::string& country) {
    v1::CreateCityRequest req;
    *req.mutable_city() = CityProto(en, zh, country);
    v1::CreateCityResponse resp;
    grpc::Status st = members_->CreateCity(As(secretariat_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.city();
  }

  v1::Application Draft(const std::string& city) {
    v1::CreateApplicationRequest req;
    req.mutable_application()->set_city(city);
    v1::CreateApplicationResponse resp;
    grpc::Status st = members_->CreateApplication(As(secretariat_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.application();
  }

  static v1::MayorSignature Signature() {
    v1::MayorSignature s;
    s.set_signatory("Mayor");
    s.mutable_signed_on()->set_year(2024);
    s.mutable_signed_on()->set_month(3);
    s.mutable_signed_on()->set_day(1);
    *s.mutable_beijing_declaration_adopted_on() = s.signed_on();
    *s.mutable_key_features_adopted_on() = s.signed_on();
    s.set_seal_affixed(true);
    return s;
  }

  v1::Application Submitted(const std::string& city) {
    v1::SubmitApplicationRequest req;
    req.set_name(Draft(city).name());
    *req.mutable_mayor_signature() = Signature();
    v1::SubmitApplicationResponse resp;
    grpc::Status st = members_->SubmitApplication(As(secretariat_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.application();
  }

  // Walks a new application of `city` (in `country`) to registration.
  void RegisterMember(const std::string& city, const std::string& country) {
    v1::EndorseApplicationRequest endorse;
    endorse.set_name(Submitted(city).name());
    endorse.set_commission_reference("REF-1");
    v1::EndorseApplicationResponse endorsed;
    ASSERT_TRUE(members_
                    ->EndorseApplication(As(Key("national_commission:" + country)).get(), endorse,
                                         &endorsed)
                    .ok());
    v1::RegisterMemberRequest reg;
    reg.set_application(endorse.name());
    v1::RegisterMemberResponse registered;
    ASSERT_TRUE(members_->RegisterMember(As(secretariat_).get(), reg, &registered).ok());
  }

  std::unique_ptr<sql::TestDatabase> test_db_;
  std::unique_ptr<MembershipStore> store_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<RpcMetrics> metrics_;
  std::unique_ptr<StoreAuthenticator> authenticator_;
  std::unique_ptr<CallGate> gate_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<MembershipApi> membership_;
  std::unique_ptr<AccessApi> access_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::MembershipService::Stub> members_;
  std::unique_ptr<access_v1::AccessService::Stub> keys_;
  std::string secretariat_;
};

TEST(AccessTable, NamesEveryRpcOfBothServices) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto* service : {pool->FindServiceByName("gnlc.membership.v1.MembershipService"),
                              pool->FindServiceByName("gnlc.access.v1.AccessService")}) {
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      EXPECT_TRUE(MembershipAccessTable().contains(service->method(i)->name()))
          << service->method(i)->name() << " is missing, so everyone is refused";
    }
  }
}

TEST_F(MembershipApiTest, CallersReachOnlyTheirOwnObjects) {
  v1::City paris = CreateCity("Paris", "巴黎", "FR");
  v1::City lyon = CreateCity("Lyon", "里昂", "FR");
  v1::Application submitted = Submitted(paris.name());

  // The commission of another country cannot decide a French application.
  v1::EndorseApplicationRequest endorse;
  endorse.set_name(submitted.name());
  endorse.set_commission_reference("X");
  v1::EndorseApplicationResponse endorsed;
  EXPECT_EQ(
      members_->EndorseApplication(As(Key("national_commission:DE")).get(), endorse, &endorsed)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // Nor can the secretariat: National Commissions decide.
  EXPECT_EQ(members_->EndorseApplication(As(secretariat_).get(), endorse, &endorsed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A coordinator of another city neither reads nor edits Paris's application or record.
  std::string lyon_key = Key("city:fr-lyon");
  v1::GetApplicationRequest get;
  get.set_name(submitted.name());
  v1::GetApplicationResponse got;
  EXPECT_EQ(members_->GetApplication(As(lyon_key).get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::UpdateCityRequest update;
  update.mutable_city()->set_name(paris.name());
  update.mutable_city()->set_mayor("Someone");
  update.mutable_update_mask()->add_paths("mayor");
  v1::UpdateCityResponse updated;
  EXPECT_EQ(members_->UpdateCity(As(lyon_key).get(), update, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  update.mutable_city()->set_name(lyon.name());
  EXPECT_TRUE(members_->UpdateCity(As(lyon_key).get(), update, &updated).ok());

  // A partner cannot read a draft, nor a city that is not a member.
  std::string partner = Key("partner:atlas");
  EXPECT_EQ(members_->GetApplication(As(partner).get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetCityRequest get_city;
  get_city.set_name(paris.name());
  v1::GetCityResponse city;
  EXPECT_EQ(members_->GetCity(As(partner).get(), get_city, &city).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // No key: the published register only; anything else asks for a key.
  v1::ListApplicationsRequest list;
  v1::ListApplicationsResponse apps;
  EXPECT_EQ(members_->ListApplications(As("").get(), list, &apps).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::ListCitiesRequest cities;
  v1::ListCitiesResponse listed;
  ASSERT_TRUE(members_->ListCities(As("").get(), cities, &listed).ok());
  EXPECT_EQ(listed.cities_size(), 0);

  // A malformed or revoked key is refused, not downgraded to anonymous.
  EXPECT_EQ(members_->ListCities(As("gnlc_nonsense").get(), cities, &listed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(store_->RevokeApiKey(*ApiKeyId(lyon_key), "test", "secretariat").ok());
  EXPECT_EQ(members_->ListCities(As(lyon_key).get(), cities, &listed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(MembershipApiTest, AMemberIsPublicButItsContactIsNot) {
  v1::City cork = CreateCity("Cork", "科克", "IE");
  RegisterMember(cork.name(), "IE");
  v1::GetCityRequest get;
  get.set_name(cork.name());
  v1::GetCityResponse anonymous, commission;
  ASSERT_TRUE(members_->GetCity(As("").get(), get, &anonymous).ok());
  EXPECT_EQ(anonymous.city().membership().status(), v1::ACTIVE);
  EXPECT_TRUE(anonymous.city().membership().award_eligible());
  EXPECT_FALSE(anonymous.city().has_contact());
  ASSERT_TRUE(members_->GetCity(As(Key("national_commission:IE")).get(), get, &commission).ok());
  EXPECT_EQ(commission.city().contact().email(), "office@example.org");
  // A commission lists its own country's cities and every published member.
  CreateCity("Berlin", "柏林", "DE");
  CreateCity("Galway", "戈尔韦", "IE");
  v1::ListCitiesRequest list;
  v1::ListCitiesResponse listed;
  ASSERT_TRUE(members_->ListCities(As(Key("national_commission:DE")).get(), list, &listed).ok());
  std::vector<std::string> ids;
  for (const auto& c : listed.cities()) ids.push_back(c.city_id());
  EXPECT_THAT(ids, ElementsAre("de-berlin", "ie-cork"));
}

// One bad request, the code it must get, and the fields it must name.
struct BadRequestCase {
  std::string what;
  std::function<grpc::Status()> call;
  grpc::StatusCode code;
  std::vector<std::string> fields;
};

TEST_F(MembershipApiTest, BadInputIsRefusedNamingEveryFieldAndWritesNothing) {
  v1::City city = CreateCity("Espoo", "埃斯波", "FI");
  v1::Application draft = Draft(city.name());
  v1::Application submitted = Submitted(CreateCity("Turku", "图尔库", "FI").name());
  std::string sec = secretariat_;
  std::string commission = Key("national_commission:FI");

  std::vector<BadRequestCase> cases = {
      {"city with every field wrong",
       [&] {
         v1::CreateCityRequest r;
         r.mutable_city()->add_display_names()->set_language("zh");
         r.mutable_city()->set_country_code("XX");
         r.mutable_city()->set_population(-1);
         r.mutable_city()->set_population_year(3000);
         r.mutable_city()->set_website("ftp://x");
         r.set_city_id("Bad Id");
         v1::CreateCityResponse out;
         return members_->CreateCity(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"city.display_names", "city.country_code", "city.kind", "city.population",
        "city.population_year", "city.governing_body.name", "city.mayor", "city.website",
        "city_id"}},
      {"malformed resource name",
       [&] {
         v1::GetCityRequest r;
         r.set_name("city/fi-espoo");
         v1::GetCityResponse out;
         return members_->GetCity(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"name"}},
      {"list with bad paging and filters",
       [&] {
         v1::ListCitiesRequest r;
         r.set_page_size(-1);
         r.set_page_token("!!not-a-token!!");
         r.set_country_code("ZZ");
         r.set_kind(static_cast<v1::CityKind>(42));
         v1::ListCitiesResponse out;
         return members_->ListCities(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"page_size", "page_token", "country_code", "kind"}},
      {"update of a fixed field",
       [&] {
         v1::UpdateCityRequest r;
         r.mutable_city()->set_name(city.name());
         r.mutable_update_mask()->add_paths("country_code");
         v1::UpdateCityResponse out;
         return members_->UpdateCity(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"update_mask"}},
      {"update that would make the city invalid",
       [&] {
         v1::UpdateCityRequest r;
         r.mutable_city()->set_name(city.name());
         r.mutable_city()->set_population(0);
         r.mutable_update_mask()->add_paths("population");
         v1::UpdateCityResponse out;
         return members_->UpdateCity(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"city.population"}},
      {"update with a stale etag",
       [&] {
         v1::UpdateCityRequest r;
         r.mutable_city()->set_name(city.name());
         r.mutable_city()->set_mayor("New Mayor");
         r.mutable_update_mask()->add_paths("mayor");
         r.set_etag("r999");
         v1::UpdateCityResponse out;
         return members_->UpdateCity(As(sec).get(), r, &out);
       },
       grpc::StatusCode::ABORTED,
       {}},
      {"submission with impossible and future dates",
       [&] {
         v1::SubmitApplicationRequest r;
         r.set_name(draft.name());
         *r.mutable_mayor_signature() = Signature();
         r.mutable_mayor_signature()->mutable_signed_on()->set_month(13);
         r.mutable_mayor_signature()->mutable_key_features_adopted_on()->set_year(2999);
         v1::SubmitApplicationResponse out;
         return members_->SubmitApplication(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"mayor_signature.signed_on", "mayor_signature.key_features_adopted_on"}},
      {"endorsement without the Commission's reference",
       [&] {
         v1::EndorseApplicationRequest r;
         r.set_name(submitted.name());
         v1::EndorseApplicationResponse out;
         return members_->EndorseApplication(As(commission).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"commission_reference"}},
      {"registration of an application that is not endorsed",
       [&] {
         v1::RegisterMemberRequest r;
         r.set_application(submitted.name());
         v1::RegisterMemberResponse out;
         return members_->RegisterMember(As(sec).get(), r, &out);
       },
       grpc::StatusCode::FAILED_PRECONDITION,
       {}},
      {"contribution in no currency, of no amount, on no date",
       [&] {
         v1::RecordContributionRequest r;
         r.set_parent(city.name());
         r.mutable_contribution()->mutable_amount()->set_currency_code("XYZ");
         r.mutable_contribution()->mutable_amount()->set_amount("-5");
         v1::RecordContributionResponse out;
         return members_->RecordContribution(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"contribution.amount.currency_code", "contribution.amount.amount",
        "contribution.received_on"}},
      {"focal point without the mayor's approval",
       [&] {
         v1::AddRepresentativeRequest r;
         r.set_parent(city.name());
         r.mutable_representative()->set_role(v1::FOCAL_POINT);
         v1::AddRepresentativeResponse out;
         return members_->AddRepresentative(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"representative.full_name", "representative.mayor_approval"}},
      {"key for a made-up principal",
       [&] {
         access_v1::IssueApiKeyRequest r;
         r.set_principal("king:XX");
         access_v1::IssueApiKeyResponse out;
         return keys_->IssueApiKey(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"principal"}},
      {"key for a commission of no country",
       [&] {
         access_v1::IssueApiKeyRequest r;
         r.set_principal("national_commission:QQ");
         access_v1::IssueApiKeyResponse out;
         return keys_->IssueApiKey(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"principal"}},
      {"event page after a made-up cursor",
       [&] {
         v1::ListMembershipEventsRequest r;
         r.set_after_cursor("abc");
         v1::ListMembershipEventsResponse out;
         return members_->ListMembershipEvents(As(sec).get(), r, &out);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"after_cursor"}},
  };

  int64_t events_before = *store_->LatestEventSeq();
  v1::GetCityRequest get;
  get.set_name(city.name());
  v1::GetCityResponse before;
  ASSERT_TRUE(members_->GetCity(As(sec).get(), get, &before).ok());
  for (const BadRequestCase& c : cases) {
    grpc::Status st = c.call();
    EXPECT_EQ(st.error_code(), c.code) << c.what << ": " << st.error_message();
    std::vector<std::string> named;
    for (const auto& v : FieldViolations(FromGrpcStatus(st))) named.push_back(v.field);
    for (const std::string& field : c.fields) {
      EXPECT_THAT(named, Contains(field)) << c.what;
    }
    EXPECT_FALSE(ErrorReason(FromGrpcStatus(st)).empty()) << c.what;
  }
  EXPECT_EQ(*store_->LatestEventSeq(), events_before) << "a refused request wrote an event";
  v1::GetCityResponse after;
  ASSERT_TRUE(members_->GetCity(As(sec).get(), get, &after).ok());
  EXPECT_EQ(after.city().etag(), before.city().etag());
  access_v1::ListApiKeysRequest list_keys;
  access_v1::ListApiKeysResponse keys;
  ASSERT_TRUE(keys_->ListApiKeys(As(sec).get(), list_keys, &keys).ok());
  EXPECT_EQ(keys.api_keys_size(), 2);  // the secretariat's and the Finnish commission's
}

TEST_F(MembershipApiTest, IneligibleSubmissionNamesEveryRequirement) {
  v1::CreateCityRequest create;
  *create.mutable_city() = CityProto("Hamlet", "小村", "FR", 4000);
  create.mutable_city()->mutable_governing_body()->set_elected(false);
  v1::CreateCityResponse created;
  ASSERT_TRUE(members_->CreateCity(As(secretariat_).get(), create, &created).ok());
  v1::SubmitApplicationRequest submit;
  submit.set_name(Draft(created.city().name()).name());
  submit.mutable_mayor_signature()->set_signatory("Mayor");
  v1::SubmitApplicationResponse out;
  grpc::Status st = members_->SubmitApplication(As(secretariat_).get(), submit, &out);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  absl::Status domain = FromGrpcStatus(st);
  EXPECT_EQ(ErrorReason(domain), "NOT_ELIGIBLE");
  std::vector<std::string> subjects;
  for (const auto& v : PreconditionViolations(domain)) subjects.push_back(v.subject);
  EXPECT_THAT(subjects, ElementsAre("city.population", "city.governing_body.elected",
                                    "mayor_signature.beijing_declaration_adopted_on",
                                    "mayor_signature.key_features_adopted_on",
                                    "mayor_signature.signatory", "mayor_signature.seal_affixed"));
}

TEST_F(MembershipApiTest, RetriedCreatesApplyOnce) {
  v1::CreateCityRequest req;
  *req.mutable_city() = CityProto("Cork", "科克", "IE");
  req.set_request_id("create-cork-1");
  v1::CreateCityResponse first, second;
  ASSERT_TRUE(members_->CreateCity(As(secretariat_).get(), req, &first).ok());
  int64_t events = *store_->LatestEventSeq();
  ASSERT_TRUE(members_->CreateCity(As(secretariat_).get(), req, &second).ok());
  EXPECT_EQ(second.city().name(), first.city().name());
  EXPECT_EQ(*store_->LatestEventSeq(), events);
  req.mutable_city()->set_population(1);  // the same request_id for another request
  EXPECT_EQ(members_->CreateCity(As(secretariat_).get(), req, &second).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Reads events from a watch stream until `count` arrived.
std::vector<v1::MembershipEvent> Follow(
    grpc::ClientReaderInterface<v1::WatchMembershipEventsResponse>& reader, int count) {
  std::vector<v1::MembershipEvent> out;
  v1::WatchMembershipEventsResponse response;
  while (static_cast<int>(out.size()) < count && reader.Read(&response)) {
    out.push_back(response.event());
  }
  return out;
}

TEST_F(MembershipApiTest, WatchResumesFromACursorWithoutGapsOrRepeats) {
  CreateCity("Cork", "科克", "IE");
  CreateCity("Espoo", "埃斯波", "FI");
  CreateCity("Turku", "图尔库", "FI");

  auto ctx = As(secretariat_);
  v1::WatchMembershipEventsRequest from_start;
  auto reader = members_->WatchMembershipEvents(ctx.get(), from_start);
  auto first = Follow(*reader, 2);
  ASSERT_EQ(first.size(), 2u);
  ctx->TryCancel();  // the follower drops after two events
  reader->Finish();

  CreateCity("Galway", "戈尔韦", "IE");  // happens while nobody follows
  auto ctx2 = As(secretariat_);
  v1::WatchMembershipEventsRequest resume;
  resume.set_after_cursor(first.back().cursor());
  auto reader2 = members_->WatchMembershipEvents(ctx2.get(), resume);
  auto rest = Follow(*reader2, 2);   // Turku and Galway, already stored
  CreateCity("Oulu", "奥卢", "FI");  // a live one
  auto live = Follow(*reader2, 1);
  ctx2->TryCancel();
  reader2->Finish();

  std::vector<std::string> cities;
  for (const auto& list : {first, rest, live}) {
    for (const auto& e : list) cities.push_back(e.city());
  }
  EXPECT_THAT(cities, ElementsAre("cities/ie-cork", "cities/fi-espoo", "cities/fi-turku",
                                  "cities/ie-galway", "cities/fi-oulu"));
}

TEST_F(MembershipApiTest, WatchShowsAnonymousFollowersPublishedEventsOnly) {
  CreateCity("Espoo", "埃斯波", "FI");
  v1::City cork = CreateCity("Cork", "科克", "IE");
  RegisterMember(cork.name(), "IE");
  auto ctx = As("");
  auto reader = members_->WatchMembershipEvents(ctx.get(), {});
  auto events = Follow(*reader, 1);
  ctx->TryCancel();
  reader->Finish();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::MEMBER_REGISTERED);
  EXPECT_EQ(events[0].city(), "cities/ie-cork");
}

TEST_F(MembershipApiTest, WatchFromNowSkipsTheHistory) {
  CreateCity("Cork", "科克", "IE");
  auto ctx = As(secretariat_);
  v1::WatchMembershipEventsRequest req;
  req.set_start_at_now(true);
  auto reader = members_->WatchMembershipEvents(ctx.get(), req);
  // The watch is admitted asynchronously: keep writing (a bounded number of times) until the
  // watcher has something new. Cork was history before the watch began and must never come.
  std::atomic<bool> received{false};
  std::thread writer([&] {
    for (int i = 0; i < 100 && !received; ++i) {
      CreateCity("Town " + std::to_string(i), "镇", "FI");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto events = Follow(*reader, 1);
  received = true;
  writer.join();
  ctx->TryCancel();
  reader->Finish();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].city(), "cities/ie-cork");
}

TEST_F(MembershipApiTest, OtherServicesHonourARevocationWithinTheCacheTtl) {
  std::string partner = Key("partner:atlas");
  RemoteAuthenticator remote(channel_);
  std::chrono::steady_clock::time_point now{};
  CachingAuthenticator cached(remote, kKeyCacheTtl, [&] { return now; });
  auto who = cached.Authenticate(partner);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->ToString(), "partner:atlas");

  access_v1::RevokeApiKeyRequest revoke;
  revoke.set_name("apiKeys/" + *ApiKeyId(partner));
  access_v1::RevokeApiKeyResponse revoked;
  ASSERT_TRUE(keys_->RevokeApiKey(As(secretariat_).get(), revoke, &revoked).ok());
  // Membership itself refuses at once ...
  EXPECT_EQ(remote.Authenticate(partner).status().code(), absl::StatusCode::kUnauthenticated);
  // ... another service's cache may honour it until the TTL, and no longer.
  now += kKeyCacheTtl - std::chrono::seconds(1);
  EXPECT_TRUE(cached.Authenticate(partner).ok());
  now += std::chrono::seconds(2);
  EXPECT_EQ(cached.Authenticate(partner).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(MembershipApiTest, ShutdownEndsWatchStreamsSoFollowersResumeElsewhere) {
  CreateCity("Cork", "科克", "IE");
  auto ctx = As(secretariat_);
  auto reader = members_->WatchMembershipEvents(ctx.get(), {});
  ASSERT_EQ(Follow(*reader, 1).size(), 1u);  // caught up, now polling
  stopping_ = true;
  v1::WatchMembershipEventsResponse more;
  EXPECT_FALSE(reader->Read(&more));
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
}

// The text an HTTP GET of `path` on 127.0.0.1:port returns (headers included).
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  close(fd);
  return out;
}

TEST_F(MembershipApiTest, MetricsCountCallsErrorsAndLatencyPerMethod) {
  CreateCity("Cork", "科克", "IE");
  v1::GetCityRequest missing;
  missing.set_name("cities/nowhere");
  v1::GetCityResponse out;
  ASSERT_EQ(members_->GetCity(As(secretariat_).get(), missing, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto endpoint = MetricsEndpoint::Start("127.0.0.1:0", *metrics_);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  std::string page = HttpGet((*endpoint)->port(), "/metrics");
  EXPECT_THAT(page,
              ::testing::HasSubstr("gnlc_rpc_calls_total{code=\"OK\",method=\"CreateCity\",service="
                                   "\"membership\"} 1"));
  EXPECT_THAT(page, ::testing::HasSubstr(
                        "gnlc_rpc_calls_total{code=\"NOT_FOUND\",method=\"GetCity\",service="
                        "\"membership\"} 1"));
  EXPECT_THAT(page,
              ::testing::HasSubstr("gnlc_rpc_duration_seconds_count{method=\"GetCity\",service="
                                   "\"membership\"} 1"));
}

// Holds every call inside authentication until released, so a test has a call in flight.
class HeldAuthenticator final : public Authenticator {
 public:
  absl::StatusOr<Principal> Authenticate(absl::string_view) override {
    entered.count_down();
    release.wait();
    return Principal{Role::kPartner, "atlas", "k"};
  }
  std::latch entered{1};
  std::latch release{1};
};

// The server is shut down while a call is inside it; the call must still get its answer.
// (gRPC's callback server waits for outstanding reactors whatever the grace, so this guards our
// order of shutdown, server before pool, rather than the grace period's length.)
TEST_F(MembershipApiTest, ShutdownLetsInFlightCallsFinish) {
  HeldAuthenticator held;
  CallGate gate("membership", MembershipAccessTable(), held, *pool_, *metrics_);
  AccessApi access(*store_, gate);
  ServerConfig config;
  config.listen_address = "127.0.0.1:0";
  auto server = GrpcServer::Start(config, {&access}, {});
  ASSERT_TRUE(server.ok());
  // Over TCP as clients connect: the in-process transport closes at shutdown.
  auto stub = access_v1::AccessService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));

  grpc::Status in_flight;
  access_v1::WhoAmIResponse who;
  std::thread caller([&] { in_flight = stub->WhoAmI(As("gnlc_any").get(), {}, &who); });
  held.entered.wait();  // the call is inside the server
  std::thread stopper([&] { (*server)->Shutdown(absl::Seconds(10)); });
  // Shutdown has begun and waits for the call; let the call go on and finish.
  while (!(*server)->shutting_down()) std::this_thread::yield();
  held.release.count_down();
  caller.join();
  stopper.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();
  EXPECT_EQ(who.principal(), "partner:atlas");
}

// Reads a whole file.
std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(MembershipApiTest, ServesTlsWhenCertificatesAreConfigured) {
  std::string dir = ::testing::TempDir() + "/gnlc-tls-" + std::to_string(getpid());
  std::string cert = dir + "/server.crt", key = dir + "/server.key";
  std::string make = "mkdir -p " + dir +
                     " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
                     " -nodes -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost"
                     " -keyout " +
                     key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make.c_str()), 0) << "openssl could not make a test certificate";
  ServerConfig config;
  config.listen_address = "127.0.0.1:0";
  config.tls_cert_file = cert;
  config.tls_key_file = key;
  auto server = GrpcServer::Start(config, {access_.get()}, {});
  ASSERT_TRUE(server.ok()) << server.status();
  std::string target = "localhost:" + std::to_string((*server)->port());

  grpc::SslCredentialsOptions trust;
  trust.pem_root_certs = Slurp(cert);
  auto tls =
      access_v1::AccessService::NewStub(grpc::CreateChannel(target, grpc::SslCredentials(trust)));
  access_v1::WhoAmIResponse who;
  grpc::Status st = tls->WhoAmI(As(secretariat_).get(), {}, &who);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(who.principal(), "secretariat");

  auto plain = access_v1::AccessService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  EXPECT_EQ(plain->WhoAmI(As(secretariat_).get(), {}, &who).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  (*server)->Shutdown(absl::Seconds(1));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gnlc::membership
