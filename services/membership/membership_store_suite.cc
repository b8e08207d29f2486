// The membership store's contract, run on SQLite (membership_store_test) and PostgreSQL
// (membership_store_pgtest).
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/countries.h"
#include "services/common/sql/testing.h"
#include "services/common/status.h"
#include "services/membership/membership_store.h"

namespace gnlc::membership {
namespace {

using ::testing::ElementsAre;

const Guard<City> kAllow = [](const City&) { return absl::OkStatus(); };
const Guard<Application, City> kAllowStep = [](const Application&, const City&) {
  return absl::OkStatus();
};

City MakeCity(std::string id, std::string country, std::string en, std::string zh) {
  City c;
  c.id = std::move(id);
  c.country = std::move(country);
  c.names = {{"en", std::move(en)}, {"zh", std::move(zh)}};
  c.kind = CityKind::kCity;
  c.population = 500000;
  c.population_year = 2022;
  c.governing_body = "City Council";
  c.governing_body_elected = true;
  c.mayor = "Mayor";
  return c;
}

class MembershipStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    test_db_ = sql::OpenTestDatabase();
    if (!test_db_->skip_reason().empty()) GTEST_SKIP() << test_db_->skip_reason();
    store_ = std::make_unique<MembershipStore>(test_db_->db());
    ASSERT_TRUE(store_->Migrate().ok());
  }

  City Create(const City& c, Idempotency idem = {}) {
    auto created = store_->CreateCity(c, "secretariat", idem);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : City{};
  }

  Application Step(
      const std::string& id, ApplicationAction action,
      std::function<void(Application&)> mutate = [](Application&) {}) {
    auto app = store_->ApplyAction(id, action, std::nullopt, kAllowStep, mutate, "tester", "");
    EXPECT_TRUE(app.ok()) << app.status();
    return app.ok() ? *app : Application{};
  }

  // Walks a new application of the city to registration.
  Application Register(const std::string& city_id) {
    Application draft;
    draft.city_id = city_id;
    auto app = store_->CreateApplication(draft, kAllow, "tester", {});
    EXPECT_TRUE(app.ok()) << app.status();
    Step(app->id, ApplicationAction::kSubmit);
    Step(app->id, ApplicationAction::kEndorse);
    return Step(app->id, ApplicationAction::kRegister);
  }

  std::vector<EventKind> Kinds(EventFilter filter = {}) {
    filter.limit = 1000;
    std::vector<EventKind> out;
    auto events = store_->ListEvents(filter);
    EXPECT_TRUE(events.ok()) << events.status();
    for (const Event& e : *events) out.push_back(e.kind);
    return out;
  }

  std::vector<std::string> Ids(const CityFilter& filter, const std::string& after = "",
                               int limit = 100) {
    std::vector<std::string> out;
    auto cities = store_->ListCities(filter, after, limit);
    EXPECT_TRUE(cities.ok()) << cities.status();
    for (const City& c : *cities) out.push_back(c.id);
    return out;
  }

  std::unique_ptr<sql::TestDatabase> test_db_;
  std::unique_ptr<MembershipStore> store_;
};

TEST_F(MembershipStoreSuite, CityRoundTripsWithItsNamesAndAnEvent) {
  Create(MakeCity("cn-hangzhou", "CN", "Hangzhou", "杭州"));
  auto city = store_->GetCity("cn-hangzhou");
  ASSERT_TRUE(city.ok());
  EXPECT_EQ(city->names.at("zh"), "杭州");
  EXPECT_EQ(city->member_status, MemberStatus::kNotAMember);
  EXPECT_EQ(city->revision, 1);
  EXPECT_THAT(Kinds(), ElementsAre(EventKind::kCityCreated));
  EXPECT_EQ(store_->GetCity("nowhere").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MembershipStoreSuite, CreateIsIdempotentPerRequestId) {
  City c = MakeCity("ie-cork", "IE", "Cork", "科克");
  Idempotency idem{"secretariat", "req-1", "fingerprint-a"};
  City first = Create(c, idem);
  City again = Create(c, idem);
  EXPECT_EQ(again.create_time_us, first.create_time_us);
  EXPECT_THAT(Kinds(), ElementsAre(EventKind::kCityCreated));  // applied once
  auto other = store_->CreateCity(c, "secretariat", {"secretariat", "req-1", "fingerprint-b"});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  auto duplicate = store_->CreateCity(c, "secretariat", {});
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorReason(duplicate.status()), "CITY_EXISTS");
}

TEST_F(MembershipStoreSuite, RegistrationMakesAnActiveMemberWithHistory) {
  Create(MakeCity("fi-espoo", "FI", "Espoo", "埃斯波"));
  Application app = Register("fi-espoo");
  EXPECT_EQ(app.state, ApplicationState::kRegistered);
  std::vector<std::string> actions;
  for (const auto& t : app.history) actions.push_back(t.action);
  EXPECT_THAT(actions, ElementsAre("created", "submitted", "endorsed", "registered"));
  City city = *store_->GetCity("fi-espoo");
  EXPECT_EQ(city.member_status, MemberStatus::kActive);
  EXPECT_EQ(city.member_application, app.id);
  ASSERT_EQ(city.status_history.size(), 1u);
  EXPECT_EQ(city.status_history[0].change, "registered");
  EXPECT_THAT(Kinds(), ElementsAre(EventKind::kCityCreated, EventKind::kApplicationCreated,
                                   EventKind::kApplicationSubmitted,
                                   EventKind::kApplicationEndorsed, EventKind::kMemberRegistered));
  // A member cannot apply again.
  Application another;
  another.city_id = "fi-espoo";
  EXPECT_EQ(store_->CreateApplication(another, kAllow, "t", {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(MembershipStoreSuite, OneOpenApplicationPerCity) {
  Create(MakeCity("co-medellin", "CO", "Medellín", "麦德林"));
  Application draft;
  draft.city_id = "co-medellin";
  auto first = store_->CreateApplication(draft, kAllow, "t", {});
  ASSERT_TRUE(first.ok());
  auto second = store_->CreateApplication(draft, kAllow, "t", {});
  EXPECT_EQ(ErrorReason(second.status()), "OPEN_APPLICATION_EXISTS");
  Step(first->id, ApplicationAction::kWithdraw);
  EXPECT_TRUE(store_->CreateApplication(draft, kAllow, "t", {}).ok());
}

TEST_F(MembershipStoreSuite, RefusedStepsWriteNothing) {
  Create(MakeCity("eg-aswan", "EG", "Aswan", "阿斯旺"));
  Application draft;
  draft.city_id = "eg-aswan";
  Application app = *store_->CreateApplication(draft, kAllow, "t", {});
  size_t events = Kinds().size();
  // A guard that refuses (the caller's scope, eligibility).
  auto refused = store_->ApplyAction(
      app.id, ApplicationAction::kSubmit, std::nullopt,
      [](const Application&, const City&) { return absl::PermissionDeniedError("no"); },
      [](Application& a) { a.motivation = "changed"; }, "t", "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  // A stale etag.
  auto stale = store_->ApplyAction(
      app.id, ApplicationAction::kSubmit, app.revision + 7, kAllowStep, [](Application&) {}, "t",
      "");
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  // A step the state machine does not allow.
  auto wrong = store_->ApplyAction(
      app.id, ApplicationAction::kRegister, std::nullopt, kAllowStep, [](Application&) {}, "t", "");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  Application after = *store_->GetApplication(app.id);
  EXPECT_EQ(after.state, ApplicationState::kDraft);
  EXPECT_EQ(after.revision, app.revision);
  EXPECT_EQ(after.motivation, "");
  EXPECT_EQ(Kinds().size(), events);
}

TEST_F(MembershipStoreSuite, ReturnedApplicationGoesBackToDraftWithTheComment) {
  Create(MakeCity("au-melton", "AU", "Melton", "梅尔顿"));
  Application draft;
  draft.city_id = "au-melton";
  Application app = *store_->CreateApplication(draft, kAllow, "t", {});
  Step(app.id, ApplicationAction::kSubmit);
  auto returned = store_->ApplyAction(
      app.id, ApplicationAction::kReturn, std::nullopt, kAllowStep, [](Application&) {},
      "national_commission:AU", "attach the council resolution");
  ASSERT_TRUE(returned.ok());
  EXPECT_EQ(returned->state, ApplicationState::kDraft);
  EXPECT_EQ(returned->history.back().action, "returned");
  EXPECT_EQ(returned->history.back().comment, "attach the council resolution");
  EXPECT_EQ(returned->history.back().actor, "national_commission:AU");
}

TEST_F(MembershipStoreSuite, ConcurrentDecisionsApplyExactlyOnce) {
  Create(MakeCity("ng-ibadan", "NG", "Ibadan", "伊巴丹"));
  Application draft;
  draft.city_id = "ng-ibadan";
  Application app = *store_->CreateApplication(draft, kAllow, "t", {});
  Step(app.id, ApplicationAction::kSubmit);
  std::atomic<int> succeeded{0};
  std::vector<std::thread> deciders;
  for (auto action : {ApplicationAction::kEndorse, ApplicationAction::kDecline,
                      ApplicationAction::kEndorse, ApplicationAction::kReturn}) {
    deciders.emplace_back([&, action] {
      if (store_
              ->ApplyAction(
                  app.id, action, std::nullopt, kAllowStep, [](Application&) {}, "t", "")
              .ok()) {
        ++succeeded;
      }
    });
  }
  for (auto& t : deciders) t.join();
  EXPECT_EQ(succeeded, 1);
  EXPECT_EQ(store_->GetApplication(app.id)->history.size(), 3u);  // created, submitted, one more
}

TEST_F(MembershipStoreSuite, ListFiltersByRegionNameAndScope) {
  Create(MakeCity("cn-hangzhou", "CN", "Hangzhou", "杭州"));
  Create(MakeCity("cn-beijing", "CN", "Beijing", "北京"));
  Create(MakeCity("ie-cork", "IE", "Cork", "科克"));
  Create(MakeCity("sd-khartoum", "SD", "Khartoum", "喀土穆"));
  Register("ie-cork");

  CityFilter asia;
  asia.region = static_cast<int>(UnescoRegion::kAsiaPacific);
  EXPECT_THAT(Ids(asia), ElementsAre("cn-beijing", "cn-hangzhou"));
  CityFilter arab;
  arab.region = static_cast<int>(UnescoRegion::kArabStates);
  EXPECT_THAT(Ids(arab), ElementsAre("sd-khartoum"));

  CityFilter by_name;
  by_name.query = "杭";
  EXPECT_THAT(Ids(by_name), ElementsAre("cn-hangzhou"));
  by_name.query = "CORK";
  EXPECT_THAT(Ids(by_name), ElementsAre("ie-cork"));
  Create(MakeCity("co-medellin", "CO", "Medellín", "麦德林"));
  by_name.query = "medellin";  // without the accent
  EXPECT_THAT(Ids(by_name), ElementsAre("co-medellin"));
  by_name.query = "%";  // a LIKE wildcard is a character, not a pattern
  EXPECT_THAT(Ids(by_name), ElementsAre());

  CityFilter published;
  published.published_only = true;
  EXPECT_THAT(Ids(published), ElementsAre("ie-cork"));
  // A commission sees its own country's cities and every published member.
  CityFilter commission;
  commission.scope_country = "CN";
  EXPECT_THAT(Ids(commission), ElementsAre("cn-beijing", "cn-hangzhou", "ie-cork"));
  CityFilter coordinator;
  coordinator.scope_city = "sd-khartoum";
  EXPECT_THAT(Ids(coordinator), ElementsAre("ie-cork", "sd-khartoum"));

  // Pages follow the id order.
  EXPECT_THAT(Ids({}, "", 2), ElementsAre("cn-beijing", "cn-hangzhou"));
  EXPECT_THAT(Ids({}, "cn-hangzhou", 2), ElementsAre("co-medellin", "ie-cork"));
  EXPECT_THAT(Ids({}, "ie-cork", 2), ElementsAre("sd-khartoum"));
}

TEST_F(MembershipStoreSuite, MemberStatusOverTime) {
  Create(MakeCity("ie-cork", "IE", "Cork", "科克"));
  Register("ie-cork");
  auto suspended =
      store_->ChangeMemberStatus("ie-cork", MemberAction::kSuspend, kAllow, "no report", "s");
  ASSERT_TRUE(suspended.ok());
  EXPECT_EQ(suspended->member_status, MemberStatus::kSuspended);
  auto again = store_->ChangeMemberStatus("ie-cork", MemberAction::kSuspend, kAllow, "x", "s");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(
      store_->ChangeMemberStatus("ie-cork", MemberAction::kReinstate, kAllow, "reported", "s")
          .ok());
  City city = *store_->GetCity("ie-cork");
  std::vector<std::string> changes;
  for (const auto& h : city.status_history) changes.push_back(h.change);
  EXPECT_THAT(changes, ElementsAre("registered", "suspended", "reinstated"));
  EXPECT_EQ(city.status_history[1].reason, "no report");
  EXPECT_EQ(city.member_status, MemberStatus::kActive);
}

TEST_F(MembershipStoreSuite, EventsAreOrderedFilterableAndPublishedOnlyForMembers) {
  Create(MakeCity("ie-cork", "IE", "Cork", "科克"));
  Create(MakeCity("cn-hangzhou", "CN", "Hangzhou", "杭州"));
  Register("ie-cork");
  auto all = *store_->ListEvents({.limit = 100});
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].seq, all[i - 1].seq);
  EXPECT_EQ(*store_->LatestEventSeq(), all.back().seq);
  EXPECT_THAT(Kinds({.city_id = "cn-hangzhou"}), ElementsAre(EventKind::kCityCreated));
  EXPECT_THAT(Kinds({.published_only = true}), ElementsAre(EventKind::kMemberRegistered));
  // A commission follows its own country's events and every published one.
  EXPECT_THAT(Kinds({.scope_country = "CN"}),
              ElementsAre(EventKind::kCityCreated, EventKind::kMemberRegistered));
  // Resuming after a cursor returns exactly what followed it.
  auto rest = *store_->ListEvents({.after_seq = all[2].seq, .limit = 100});
  ASSERT_EQ(rest.size(), all.size() - 3);
  EXPECT_EQ(rest.front().seq, all[3].seq);
}

TEST_F(MembershipStoreSuite, RepresentativesAreAddedAndRemovedButKept) {
  Create(MakeCity("ie-cork", "IE", "Cork", "科克"));
  Representative focal;
  focal.city_id = "ie-cork";
  focal.role = RepresentativeRole::kFocalPoint;
  focal.full_name = "A. Focal";
  focal.approval = {"Lord Mayor", absl::CivilDay(2024, 1, 5), "LM-2024-01"};
  auto added = store_->AddRepresentative(focal, kAllow, "city:ie-cork", {});
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(store_->RemoveRepresentative("ie-cork", added->id, kAllow, "left", "s").ok());
  EXPECT_EQ(
      store_->RemoveRepresentative("ie-cork", added->id, kAllow, "again", "s").status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->ListRepresentatives("ie-cork", false)->empty());
  auto kept = *store_->ListRepresentatives("ie-cork", true);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].remove_reason, "left");
  EXPECT_EQ(FormatDay(kept[0].approval.approved_on), "2024-01-05");
}

TEST_F(MembershipStoreSuite, ContributionsAreRecordedOnce) {
  Create(MakeCity("ie-cork", "IE", "Cork", "科克"));
  Contribution c{"", "ie-cork", "EUR", "1500.00", absl::CivilDay(2025, 6, 1), "thanks"};
  Idempotency idem{"secretariat", "pay-1", "f"};
  auto first = store_->RecordContribution(c, kAllow, "secretariat", idem);
  auto again = store_->RecordContribution(c, kAllow, "secretariat", idem);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id, again->id);
  auto list = *store_->ListContributions("ie-cork", "", 10);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].amount, "1500.00");
  EXPECT_EQ(list[0].currency, "EUR");
}

TEST_F(MembershipStoreSuite, ApiKeysAreListedAndRevokedOnce) {
  ApiKeyRecord key{"0123456789abcdef", "hash", "partner:atlas", "Atlas", 1000, "secretariat"};
  ASSERT_TRUE(store_->InsertApiKey(key, {}).ok());
  EXPECT_EQ((*store_->FindApiKey("0123456789abcdef"))->principal, "partner:atlas");
  EXPECT_FALSE(store_->FindApiKey("ffffffffffffffff")->has_value());
  ASSERT_TRUE(store_->RevokeApiKey(key.key_id, "leaked", "secretariat").ok());
  EXPECT_EQ(store_->RevokeApiKey(key.key_id, "again", "secretariat").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->ListApiKeys("", false, INT64_MAX, 10)->empty());
  EXPECT_EQ(store_->ListApiKeys("partner:atlas", true, INT64_MAX, 10)->size(), 1u);
}

}  // namespace
}  // namespace gnlc::membership
