// The indicator store's contract, run on SQLite (indicators_store_test) and PostgreSQL
// (indicators_store_pgtest).
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/sql/testing.h"
#include "services/common/status.h"
#include "services/indicators/indicator_store.h"

namespace gnlc::indicators {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const std::map<std::string, std::string> kCountries = {
    {"cn-hangzhou", "CN"}, {"cn-beijing", "CN"}, {"fr-nantes", "FR"}};

NumberedWrite Row(const std::string& city, int year, const std::string& measure, double value,
                  const std::string& category = "", int64_t row = 0) {
  NumberedWrite w;
  w.row = row;
  w.write.key = {city, year, measure, category};
  w.write.value = value;
  w.write.source = "statistics bureau";
  return w;
}

NumberedWrite Removal(const std::string& city, int year, const std::string& measure,
                      const std::string& category = "") {
  NumberedWrite w;
  w.write.key = {city, year, measure, category};
  w.write.remove = true;
  return w;
}

class IndicatorStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    test_db_ = sql::OpenTestDatabase();
    if (!test_db_->skip_reason().empty()) GTEST_SKIP() << test_db_->skip_reason();
    store_ = std::make_unique<IndicatorStore>(test_db_->db(), Catalog::Builtin());
    ASSERT_TRUE(store_->Migrate().ok());
  }

  WriteOutcome Write(std::vector<NumberedWrite> rows, const std::string& actor = "city:cn-hangzhou",
                     const std::string& origin = "") {
    auto out = store_->WriteValues(rows, kCountries, {actor, origin}, /*strict=*/true);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : WriteOutcome();
  }

  Dataset StepOk(const std::string& city, int year, DatasetAction action) {
    auto d = store_->Step(city, year, action, "secretariat", "ok", std::nullopt);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : Dataset();
  }

  std::vector<StoredValue> Values(bool working_copy, const std::string& city = "cn-hangzhou") {
    ValueFilter f;
    f.city_id = city;
    f.working_copy = working_copy;
    f.confidential_everywhere = true;
    auto v = store_->ListValues(f);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::vector<StoredValue>();
  }

  std::vector<Change> AllChanges() {
    ChangeFilter f;
    f.limit = 10000;
    auto c = store_->ListChanges(f);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->changes : std::vector<Change>();
  }

  std::unique_ptr<sql::TestDatabase> test_db_;
  std::unique_ptr<IndicatorStore> store_;
};

TEST_F(IndicatorStoreSuite, FirstValueCreatesADraftDatasetAndEveryChangeIsLogged) {
  WriteOutcome out =
      Write({Row("cn-hangzhou", 2023, "1.1.2a", 61), Row("cn-hangzhou", 2023, "1.3.2b", 4)});
  EXPECT_EQ(out.applied, 2);
  auto d = store_->GetDataset("cn-hangzhou", 2023);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->state, DatasetState::kDraft);
  EXPECT_EQ(d->country, "CN");
  EXPECT_EQ(d->revision, 1);
  EXPECT_EQ(d->value_count, 2);
  ASSERT_THAT(d->history, SizeIs(1));
  EXPECT_EQ(d->history[0].action, "created");

  // The same value again changes nothing and logs nothing.
  out = Write({Row("cn-hangzhou", 2023, "1.1.2a", 61)});
  EXPECT_EQ(out.unchanged, 1);
  EXPECT_EQ(out.applied, 0);
  out = Write({Row("cn-hangzhou", 2023, "1.1.2a", 64)}, "ministry:CN", "requests/r-1");
  EXPECT_EQ(out.applied, 1);

  auto history = store_->ValueHistory({"cn-hangzhou", 2023, "1.1.2a", ""});
  ASSERT_TRUE(history.ok());
  ASSERT_THAT(*history, SizeIs(2));
  EXPECT_FALSE((*history)[0].old_value.has_value());
  EXPECT_EQ(*(*history)[0].new_value->value, 61);
  EXPECT_EQ(*(*history)[1].old_value->value, 61);
  EXPECT_EQ(*(*history)[1].new_value->value, 64);
  EXPECT_EQ((*history)[1].actor, "ministry:CN");
  EXPECT_EQ((*history)[1].origin, "requests/r-1");
}

TEST_F(IndicatorStoreSuite, WarningsAreStoredWithTheValue) {
  Write({Row("cn-hangzhou", 2022, "1.1.2a", 40)});
  Write({Row("cn-hangzhou", 2023, "1.1.1a", 96, "male"),
         Row("cn-hangzhou", 2023, "1.1.1a", 94, "female"),
         Row("cn-hangzhou", 2023, "1.1.1a", 99, "total"), Row("cn-hangzhou", 2023, "1.1.2a", 90)});
  std::map<std::string, std::vector<Warning>> by_key;
  for (const auto& v : Values(true)) {
    if (v.key.year == 2023) by_key[v.key.measure + "/" + v.key.category] = v.warnings;
  }
  ASSERT_THAT(by_key["1.1.1a/total"], SizeIs(1));
  EXPECT_EQ(by_key["1.1.1a/total"][0].code, "SEX_SPLIT_INCONSISTENT");
  ASSERT_THAT(by_key["1.1.2a/"], SizeIs(1));
  EXPECT_EQ(by_key["1.1.2a/"][0].code, "JUMP_AGAINST_HISTORY");
  EXPECT_THAT(by_key["1.1.1a/male"], IsEmpty());
  EXPECT_EQ(store_->GetDataset("cn-hangzhou", 2023)->warning_count, 2);
  DatasetFilter f;
  f.year = 2023;
  auto listed = store_->ListDatasets(f);
  ASSERT_TRUE(listed.ok());
  ASSERT_THAT(*listed, SizeIs(1));
  EXPECT_EQ((*listed)[0].value_count, 4);
  EXPECT_EQ((*listed)[0].warning_count, 2);
}

TEST_F(IndicatorStoreSuite, JumpsAreJudgedAgainstYearsWrittenInTheSameRequest) {
  WriteOutcome out =
      Write({Row("cn-beijing", 2020, "1.1.2a", 40), Row("cn-beijing", 2020, "1.3.2b", 2),
             Row("cn-beijing", 2021, "1.1.2a", 90), Row("cn-beijing", 2021, "1.3.2b", 2)});
  EXPECT_EQ(out.warnings, 1);
  std::vector<std::string> warned;
  for (const auto& v : Values(true, "cn-beijing")) {
    for (const auto& w : v.warnings) warned.push_back(absl::StrCat(v.key.year, " ", w.code));
  }
  EXPECT_THAT(warned, ElementsAre("2021 JUMP_AGAINST_HISTORY"));
}

TEST_F(IndicatorStoreSuite, ReviewPublishesASnapshotThatChangesOnlyThroughANewRevision) {
  // An empty dataset cannot be submitted; there is none yet at all.
  EXPECT_EQ(store_->Step("cn-hangzhou", 2023, DatasetAction::kSubmit, "x", "", std::nullopt)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 61)});
  EXPECT_THAT(Values(false), IsEmpty());  // nothing published yet
  StepOk("cn-hangzhou", 2023, DatasetAction::kSubmit);

  // Submitted data is locked: strict writes fail and write nothing.
  auto locked = store_->WriteValues(std::vector{Row("cn-hangzhou", 2023, "1.1.2a", 70)}, kCountries,
                                    {"city:cn-hangzhou", ""}, true);
  EXPECT_EQ(locked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(locked.status()), "DATASET_LOCKED");

  // Returned with comments, fixed, resubmitted.
  auto returned = store_->Step("cn-hangzhou", 2023, DatasetAction::kReturn, "secretariat",
                               "source missing", std::nullopt);
  ASSERT_TRUE(returned.ok());
  EXPECT_EQ(returned->state, DatasetState::kDraft);
  EXPECT_EQ(returned->return_comment, "source missing");
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 62)});
  StepOk("cn-hangzhou", 2023, DatasetAction::kSubmit);
  StepOk("cn-hangzhou", 2023, DatasetAction::kValidate);
  Dataset published = StepOk("cn-hangzhou", 2023, DatasetAction::kPublish);
  EXPECT_EQ(published.published_revision, 1);
  ASSERT_THAT(Values(false), SizeIs(1));
  EXPECT_EQ(*Values(false)[0].value, 62);

  // A new revision: writers change the working copy; partners still see revision 1.
  Dataset reopened = StepOk("cn-hangzhou", 2023, DatasetAction::kOpenRevision);
  EXPECT_EQ(reopened.revision, 2);
  EXPECT_EQ(reopened.state, DatasetState::kDraft);
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 65)});
  EXPECT_EQ(*Values(false)[0].value, 62);
  EXPECT_EQ(*Values(true)[0].value, 65);
  StepOk("cn-hangzhou", 2023, DatasetAction::kSubmit);
  StepOk("cn-hangzhou", 2023, DatasetAction::kValidate);
  EXPECT_EQ(StepOk("cn-hangzhou", 2023, DatasetAction::kPublish).published_revision, 2);
  EXPECT_EQ(*Values(false)[0].value, 65);

  Dataset unpublished = StepOk("cn-hangzhou", 2023, DatasetAction::kUnpublish);
  EXPECT_EQ(unpublished.published_revision, 0);
  EXPECT_THAT(Values(false), IsEmpty());
  auto d = store_->GetDataset("cn-hangzhou", 2023);
  std::vector<std::string> actions;
  for (const auto& h : d->history) actions.push_back(h.action);
  EXPECT_THAT(actions,
              ElementsAre("created", "submitted", "returned", "submitted", "validated", "published",
                          "revision_opened", "submitted", "validated", "published", "unpublished"));
}

TEST_F(IndicatorStoreSuite, StaleEtagIsRefused) {
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 61)});
  int64_t etag = store_->GetDataset("cn-hangzhou", 2023)->etag;
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 62)});
  auto st = store_->Step("cn-hangzhou", 2023, DatasetAction::kSubmit, "x", "", etag);
  EXPECT_EQ(st.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(store_->GetDataset("cn-hangzhou", 2023)->state, DatasetState::kDraft);
}

TEST_F(IndicatorStoreSuite, DatasetAsOfAPastTime) {
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 61), Row("cn-hangzhou", 2023, "1.2.2a", 5, "total")});
  auto first = store_->ListChanges({});
  ASSERT_TRUE(first.ok());
  int64_t between = first->changes.back().at_us;
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // distinct timestamps
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 70), Removal("cn-hangzhou", 2023, "1.2.2a", "total")});

  auto then = store_->DatasetAsOf("cn-hangzhou", 2023, between);
  ASSERT_TRUE(then.ok());
  ASSERT_THAT(*then, SizeIs(2));
  EXPECT_EQ(*(*then)[0].value, 61);
  EXPECT_EQ((*then)[1].key.category, "total");
  auto now = store_->DatasetAsOf("cn-hangzhou", 2023, INT64_MAX);
  ASSERT_THAT(*now, SizeIs(1));
  EXPECT_EQ(*(*now)[0].value, 70);
  EXPECT_THAT(*store_->DatasetAsOf("cn-hangzhou", 2023, between - 1000000), IsEmpty());
}

TEST_F(IndicatorStoreSuite, ChangeFeedIsOrderedAndScoped) {
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 61)});
  Write({Row("fr-nantes", 2023, "1.1.2a", 55)}, "ministry:FR");
  StepOk("fr-nantes", 2023, DatasetAction::kSubmit);
  StepOk("fr-nantes", 2023, DatasetAction::kValidate);
  StepOk("fr-nantes", 2023, DatasetAction::kPublish);
  auto all = AllChanges();
  ASSERT_THAT(all, SizeIs(5));
  for (size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].seq, all[i - 1].seq + 1);
  EXPECT_EQ(*store_->LatestChangeSeq(), all.back().seq);

  ChangeFilter partner;
  partner.published_only = true;
  auto seen = store_->ListChanges(partner);
  ASSERT_THAT(seen->changes, SizeIs(1));
  EXPECT_EQ(seen->changes[0].kind, ChangeKind::kDatasetPublished);
  // The partner resumes after everything read, not after the last change it was shown.
  EXPECT_EQ(seen->scanned_to, all.back().seq);
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 62)});
  partner.after_seq = seen->scanned_to;
  auto later = store_->ListChanges(partner);
  EXPECT_THAT(later->changes, IsEmpty());
  EXPECT_EQ(later->scanned_to, all.back().seq + 1);

  ChangeFilter ministry;
  ministry.scope_country = "CN";
  ministry.limit = 2;
  auto cn = store_->ListChanges(ministry);
  ASSERT_THAT(cn->changes, SizeIs(2));  // its own value and the French publication
  EXPECT_EQ(cn->changes[0].country, "CN");
  EXPECT_EQ(cn->scanned_to, cn->changes.back().seq);  // a full page stops at its last change

  ChangeFilter resumed;
  resumed.after_seq = all[2].seq;
  EXPECT_THAT(store_->ListChanges(resumed)->changes, SizeIs(3));  // two, and the later write
}

TEST_F(IndicatorStoreSuite, ConcurrentWritersGetGaplessCommitOrderedSequence) {
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([this, t] {
      for (int i = 0; i < 10; ++i) {
        auto out = store_->WriteValues(
            std::vector{Row(t % 2 ? "cn-hangzhou" : "cn-beijing", 2000 + t, "1.1.2a", i)},
            kCountries, {"secretariat", ""}, true);
        EXPECT_TRUE(out.ok()) << out.status();
      }
    });
  }
  for (auto& w : writers) w.join();
  auto all = AllChanges();
  ASSERT_THAT(all, SizeIs(40));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
}

class ImportJobSuite : public IndicatorStoreSuite {
 protected:
  ImportJob NewJob(SyncMode mode, bool dry_run = false) {
    ImportJob job;
    job.owner = "ministry:CN";
    job.mode = mode;
    job.dry_run = dry_run;
    job.scope_cities = {"cn-hangzhou", "cn-beijing"};
    job.scope_years = {2023};
    auto created = store_->CreateJob(job);
    EXPECT_TRUE(created.ok()) << created.status();
    return *created;
  }

  BatchResult Batch(const ImportJob& job, const std::string& id, std::vector<NumberedWrite> rows,
                    const std::string& fingerprint = "") {
    auto r = store_->ApplyBatch(job, id, fingerprint.empty() ? id : fingerprint,
                                static_cast<int64_t>(rows.size()), rows, {}, kCountries, job.owner);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : BatchResult();
  }
};

TEST_F(ImportJobSuite, RetriedBatchIsAppliedOnce) {
  ImportJob job = NewJob(SyncMode::kMerge);
  BatchResult first = Batch(job, "b1", {Row("cn-hangzhou", 2023, "1.1.2a", 61, "", 1)});
  EXPECT_EQ(first.applied, 1);
  EXPECT_FALSE(first.replayed);
  BatchResult again = Batch(job, "b1", {Row("cn-hangzhou", 2023, "1.1.2a", 61, "", 1)});
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.applied, 1);  // the first result, not a second application
  EXPECT_THAT(AllChanges(), SizeIs(1));

  auto reused = store_->ApplyBatch(job, "b1", "other rows", 1,
                                   std::vector{Row("cn-hangzhou", 2023, "1.1.2a", 99)}, {},
                                   kCountries, job.owner);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument);

  // A fresh store on the same database (a restarted server) knows the job and its batches.
  IndicatorStore restarted(test_db_->db(), Catalog::Builtin());
  auto reloaded = restarted.GetJob(job.job_id);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_THAT(reloaded->batches, ElementsAre("b1"));
  EXPECT_EQ(reloaded->summary.applied, 1);
  EXPECT_EQ(reloaded->state, JobState::kOpen);
}

TEST_F(ImportJobSuite, RejectionsAreGroupedWithEveryRowNumber) {
  ImportJob job = NewJob(SyncMode::kMerge);
  Write({Row("cn-hangzhou", 2022, "1.1.2a", 10)});
  StepOk("cn-hangzhou", 2022, DatasetAction::kSubmit);  // locked
  Rejections pre;
  pre["OUT_OF_RANGE"] = {{3, 7}, "row 3: measure 1.1.2a takes 0..100, got 140"};
  std::vector<NumberedWrite> rows = {Row("cn-hangzhou", 2023, "1.1.2a", 61, "", 1),
                                     Row("cn-hangzhou", 2022, "1.1.2a", 11, "", 2),
                                     Row("cn-hangzhou", 2022, "1.3.2b", 3, "", 4)};
  auto r = store_->ApplyBatch(job, "b1", "f", 5, rows, pre, kCountries, job.owner);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows, 5);
  EXPECT_EQ(r->applied, 1);
  EXPECT_EQ(r->rejected, 4);
  EXPECT_THAT(r->rejections["OUT_OF_RANGE"].rows, ElementsAre(3, 7));
  EXPECT_THAT(r->rejections["DATASET_LOCKED"].rows, ElementsAre(2, 4));
  auto committed = store_->CommitJob(job.job_id, job.owner);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->state, JobState::kCommitted);
  EXPECT_EQ(committed->summary.rejected, 4);
  EXPECT_THAT(committed->summary.rejections["DATASET_LOCKED"].rows, ElementsAre(2, 4));
  // A committed job takes no more batches; committing again is harmless.
  auto late = store_->ApplyBatch(job, "b2", "g", 1, rows, {}, kCountries, job.owner);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->CommitJob(job.job_id, job.owner).ok());
}

TEST_F(ImportJobSuite, ReplaceScopeRemovesWhatTheJobDidNotSend) {
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 61), Row("cn-hangzhou", 2023, "1.3.2b", 4),
         Row("cn-beijing", 2023, "1.1.2a", 50), Row("cn-hangzhou", 2022, "1.1.2a", 58)});
  ImportJob job = NewJob(SyncMode::kReplaceScope);
  Batch(job, "b1", {Row("cn-hangzhou", 2023, "1.1.2a", 61, "", 1)});  // unchanged, kept
  auto committed = store_->CommitJob(job.job_id, job.owner);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->summary.removed, 2);  // hangzhou 1.3.2b and beijing 1.1.2a
  std::vector<std::string> left;
  for (const auto& v : Values(true)) left.push_back(absl::StrCat(v.key.year, " ", v.key.measure));
  EXPECT_THAT(left, ElementsAre("2022 1.1.2a", "2023 1.1.2a"));  // 2022 is outside the scope
  EXPECT_THAT(Values(true, "cn-beijing"), IsEmpty());
}

TEST_F(ImportJobSuite, ReplaceScopeKeepsWhatTheJobSentEvenIfOthersWroteItSince) {
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 61), Row("cn-hangzhou", 2023, "1.3.2b", 4)});
  ImportJob job = NewJob(SyncMode::kReplaceScope);
  Batch(job, "b1", {Row("cn-hangzhou", 2023, "1.1.2a", 61, "", 1)});
  // The coordinator corrects the value the job sent, and another job sends it unchanged.
  Write({Row("cn-hangzhou", 2023, "1.1.2a", 62)});
  ImportJob other = NewJob(SyncMode::kMerge);
  Batch(other, "b1", {Row("cn-hangzhou", 2023, "1.1.2a", 62, "", 1)});
  auto committed = store_->CommitJob(job.job_id, job.owner);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->summary.removed, 1);  // 1.3.2b only
  ASSERT_THAT(Values(true), SizeIs(1));
  EXPECT_EQ(*Values(true)[0].value, 62);
  EXPECT_EQ(AllChanges().back().kind, ChangeKind::kValueRemoved);
  EXPECT_EQ(AllChanges().back().measure, "1.3.2b");
}

TEST_F(IndicatorStoreSuite, RemovingFromADatasetNobodyWroteCreatesNothing) {
  WriteOutcome out = Write({Removal("cn-hangzhou", 2019, "1.1.2a")});
  EXPECT_EQ(out.unchanged, 1);
  EXPECT_EQ(store_->GetDataset("cn-hangzhou", 2019).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(AllChanges(), IsEmpty());
}

TEST_F(ImportJobSuite, DryRunWritesNothingButTheReport) {
  Write({Row("cn-hangzhou", 2023, "1.3.2b", 4), Row("cn-hangzhou", 2023, "1.2.3a", 12)});
  size_t changes_before = AllChanges().size();
  ImportJob job = NewJob(SyncMode::kReplaceScope, /*dry_run=*/true);
  BatchResult r = Batch(
      job, "b1",
      {Row("cn-hangzhou", 2023, "1.1.2a", 61, "", 1), Row("cn-beijing", 2023, "1.1.2a", 50, "", 2),
       Row("cn-hangzhou", 2023, "1.2.3a", 12, "", 3)});
  EXPECT_EQ(r.applied, 2);
  EXPECT_EQ(r.unchanged, 1);
  auto committed = store_->CommitJob(job.job_id, job.owner);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->summary.removed, 1);  // would remove 1.3.2b, not the re-sent 1.2.3a
  EXPECT_EQ(AllChanges().size(), changes_before);
  ASSERT_THAT(Values(true), SizeIs(2));
  EXPECT_FALSE(store_->GetDataset("cn-beijing", 2023).ok());
  EXPECT_EQ(*store_->LatestChangeSeq(), static_cast<int64_t>(changes_before));
}

}  // namespace
}  // namespace gnlc::indicators
