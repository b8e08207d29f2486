// indicators: the Key Features catalog, CSV import (through the sync stream, resumable) and
// export, datasets and their review, import jobs, quality, and the change feed.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/gnlc/commands.h"
#include "tools/gnlc/csv.h"
#include "tools/gnlc/flags.h"
#include "tools/gnlc/format.h"

namespace gnlc::cli {
namespace {

namespace iv1 = ::gnlc::indicators::v1;
using IndicatorStub = iv1::IndicatorService::Stub;

std::string Text(const google::protobuf::RepeatedPtrField<common_v1::LocalizedText>& texts,
                 absl::string_view language) {
  for (const auto& t : texts) {
    if (t.language() == language) return t.text();
  }
  return "";
}

// "cn-hangzhou/2023" or "cities/cn-hangzhou/datasets/2023".
std::string DatasetName(absl::string_view text) {
  if (absl::StartsWith(text, "cities/")) return std::string(text);
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  if (parts.size() == 2) return absl::StrCat("cities/", parts[0], "/datasets/", parts[1]);
  return std::string(text);
}

std::string StateLabel(iv1::DatasetState s) {
  switch (s) {
    case iv1::DRAFT:
      return "draft";
    case iv1::SUBMITTED:
      return "submitted";
    case iv1::VALIDATED:
      return "validated";
    case iv1::PUBLISHED:
      return "published";
    default:
      return "";
  }
}

// Row numbers as ranges: "2-5, 9, 12-13". Every row is there, however many.
std::string Ranges(const google::protobuf::RepeatedField<int64_t>& rows) {
  std::vector<int64_t> sorted(rows.begin(), rows.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    out.push_back(j == i ? absl::StrCat(sorted[i]) : absl::StrCat(sorted[i], "-", sorted[j]));
    i = j + 1;
  }
  return absl::StrJoin(out, ", ");
}

std::string FormatJob(const iv1::ImportJob& job) {
  const iv1::ImportJobSummary& s = job.summary();
  std::string out = FormatDetails(
      {{"Job", job.job_id()},
       {"Owner", job.owner()},
       {"Mode", job.mode() == iv1::REPLACE_SCOPE ? "replace" : "merge"},
       {"Dry run", job.dry_run() ? "yes: nothing was stored" : ""},
       {"State", job.state() == iv1::COMMITTED ? "committed" : "open (resume with --job)"},
       {"Batches", FormatCount(s.batches())},
       {"Rows", FormatCount(s.rows())},
       {"Applied", FormatCount(s.applied())},
       {"Unchanged", FormatCount(s.unchanged())},
       {"Removed", FormatCount(s.removed())},
       {"Warnings", FormatCount(s.warnings())},
       {"Rejected", FormatCount(s.rejected())}});
  for (const auto& r : s.rejections()) {
    if (r.rows_size() == 0) {  // about datasets, not rows
      absl::StrAppend(&out, "  ", r.code(), ": ", r.example(), "\n");
      continue;
    }
    absl::StrAppend(&out, "  ", r.code(), " (", r.rows_size(), "): rows ", Ranges(r.rows()), "\n",
                    "    e.g. ", r.example(), "\n");
  }
  return out;
}

// --- import -------------------------------------------------------------------------------

// One import over the sync stream: start or resume the job, send the file in batches, each
// acknowledged once durable, then commit. Batch ids are the file's line ranges, so running the
// same command again with --job skips what was already acknowledged.
class Import {
 public:
  Import(Invocation& in, std::string path) : in_(in), path_(std::move(path)) {}

  int Run() {
    int32_t batch_rows = absl::GetFlag(FLAGS_batch_rows);
    if (batch_rows < 1 || batch_rows > 10000) {
      return UsageError("indicators", "--batch_rows must be 1..10000");
    }
    std::string mode = absl::GetFlag(FLAGS_mode);
    if (mode != "merge" && mode != "replace") {
      return UsageError("indicators", "--mode must be merge or replace");
    }
    iv1::SyncStart start;
    start.set_job_id(absl::GetFlag(FLAGS_job));
    start.set_mode(mode == "replace" ? iv1::REPLACE_SCOPE : iv1::MERGE);
    start.set_dry_run(absl::GetFlag(FLAGS_dry_run));
    start.set_description(absl::StrCat("gnlc indicators import ", path_));
    if (mode == "replace" && start.job_id().empty()) {
      // The file replaces the datasets it touches: a first pass finds them.
      if (int rc = ScanScope(*start.mutable_scope()); rc != kExitOk) return rc;
    }

    std::ifstream file(path_);
    if (!file) return BadValue(absl::InvalidArgumentError(absl::StrCat("cannot read ", path_)));
    CsvReader reader(file);
    auto header = reader.Next();
    if (!header.ok()) return BadValue(header.status());
    if (!*header) return BadValue(absl::InvalidArgumentError(absl::StrCat(path_, " is empty")));
    auto columns = ValueColumnsOf(**header);
    if (!columns.ok()) return BadValue(columns.status());

    in_.connection.Prepare(context_, /*with_deadline=*/false);
    SetInterruptHook([this] { context_.TryCancel(); });
    stream_ = in_.connection.indicators().SyncValues(&context_);
    iv1::SyncValuesRequest request;
    *request.mutable_start() = start;
    iv1::SyncValuesResponse response;
    if (!Exchange(request, response)) return End();
    job_ = response.job();
    std::set<std::string> acknowledged(job_.acknowledged_batches().begin(),
                                       job_.acknowledged_batches().end());
    if (!acknowledged.empty()) {
      std::fprintf(stderr, "resuming %s: %zu batches already stored\n", job_.job_id().c_str(),
                   acknowledged.size());
    }

    iv1::SyncBatch batch;
    auto flush = [&]() -> bool {
      if (batch.rows_size() == 0) return true;
      int64_t last = batch.first_row() + batch.rows_size() - 1;
      batch.set_batch_id(absl::StrCat("lines-", batch.first_row(), "-", last));
      rows_sent_ += batch.rows_size();
      if (acknowledged.contains(batch.batch_id())) {
        batch.Clear();
        return true;
      }
      iv1::SyncValuesRequest req;
      *req.mutable_batch() = std::move(batch);
      batch.Clear();
      iv1::SyncValuesResponse ack;
      if (!Exchange(req, ack)) return false;
      Progress(ack.batch());
      return true;
    };
    for (;;) {
      auto record = reader.Next();
      if (!record.ok()) {
        Fail(record.status());
        return End();
      }
      if (!*record) break;
      const auto& fields = **record;
      if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
      auto row = ValueFromCsv(*columns, fields);
      // Rows are numbered by their line, so that a rejection points into the file. A batch is a
      // run of consecutive lines; a line that does not parse ends it (and is reported here).
      if (!row.ok()) {
        if (!flush()) return End();
        local_rejections_[reader.line()] = std::string(row.status().message());
        continue;
      }
      if (batch.rows_size() == 0) batch.set_first_row(reader.line());
      if (batch.first_row() + batch.rows_size() != reader.line() ||
          batch.rows_size() == batch_rows) {
        if (!flush()) return End();
        batch.set_first_row(reader.line());
      }
      *batch.add_rows() = std::move(*row);
    }
    if (!flush()) return End();
    iv1::SyncValuesRequest commit;
    commit.mutable_commit();
    iv1::SyncValuesResponse committed;
    if (!Exchange(commit, committed)) return End();
    job_ = committed.committed();
    stream_->WritesDone();
    status_ = stream_->Finish();
    SetInterruptHook(nullptr);
    if (progress_shown_) std::fputc('\n', stderr);
    if (in_.json) {
      in_.PrintJson(job_);
    } else {
      std::fputs(FormatJob(job_).c_str(), stdout);
    }
    if (!local_rejections_.empty()) {
      std::fprintf(stderr, "%zu lines could not be read and were not sent:\n",
                   local_rejections_.size());
      for (const auto& [line, why] : local_rejections_) {
        std::fprintf(stderr, "  line %lld: %s\n", static_cast<long long>(line), why.c_str());
      }
    }
    // Rejections include datasets a replace could not empty (they name no row).
    bool all_taken = job_.summary().rejections_size() == 0 && local_rejections_.empty();
    return all_taken ? kExitOk : kExitServerError;
  }

 private:
  int ScanScope(iv1::SyncScope& scope) {
    std::ifstream file(path_);
    if (!file) return BadValue(absl::InvalidArgumentError(absl::StrCat("cannot read ", path_)));
    CsvReader reader(file);
    auto header = reader.Next();
    if (!header.ok() || !*header) return BadValue(absl::InvalidArgumentError("no header line"));
    auto columns = ValueColumnsOf(**header);
    if (!columns.ok()) return BadValue(columns.status());
    std::set<std::string> cities;
    std::set<int> years;
    std::set<std::pair<std::string, int>> pairs;
    for (;;) {
      auto record = reader.Next();
      if (!record.ok()) return BadValue(record.status());
      if (!*record) break;
      auto row = ValueFromCsv(*columns, **record);
      if (!row.ok()) continue;
      cities.insert(row->city_id());
      years.insert(row->year());
      pairs.insert({row->city_id(), row->year()});
    }
    // The server replaces every year of every city in the scope: a file that holds some of
    // those datasets but not others would empty the ones it lacks.
    std::vector<std::string> lacking;
    for (const auto& c : cities) {
      for (int y : years) {
        if (!pairs.contains({c, y})) lacking.push_back(absl::StrCat(c, "/", y));
      }
    }
    if (!lacking.empty()) {
      return BadValue(absl::InvalidArgumentError(absl::StrCat(
          "--mode=replace replaces every year of every city in the file, and the file has no "
          "rows for ",
          absl::StrJoin(lacking, ", "),
          ": those datasets would be emptied. Split the file so that each holds the same years "
          "for all its cities, or use --mode=merge")));
    }
    for (const auto& c : cities) scope.add_city_ids(c);
    for (int y : years) scope.add_years(y);
    std::fprintf(stderr, "replacing %zu cities x %zu years\n", cities.size(), years.size());
    return kExitOk;
  }

  bool Exchange(const iv1::SyncValuesRequest& request, iv1::SyncValuesResponse& response) {
    if (stream_->Write(request) && stream_->Read(&response)) return true;
    stream_->WritesDone();
    status_ = stream_->Finish();
    return false;
  }

  void Progress(const iv1::BatchResult& b) {
    applied_ += b.applied() + b.unchanged();
    rejected_ += b.rejected();
    std::fprintf(stderr, "%s%lld rows sent, %lld stored, %lld rejected",
                 isatty(STDERR_FILENO) ? "\r" : "", static_cast<long long>(rows_sent_),
                 static_cast<long long>(applied_), static_cast<long long>(rejected_));
    if (!isatty(STDERR_FILENO)) std::fputc('\n', stderr);
    progress_shown_ = isatty(STDERR_FILENO);
  }

  void Fail(const absl::Status& status) {
    context_.TryCancel();
    status_ = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(status.message()));
  }

  // The stream ended early: say why and how to go on.
  int End() {
    SetInterruptHook(nullptr);
    if (progress_shown_) std::fputc('\n', stderr);
    std::string resume = job_.job_id().empty()
                             ? ""
                             : absl::StrCat("resume with: gnlc indicators import ", path_,
                                            " --job=", job_.job_id(), "\n");
    if (Interrupted()) {
      std::fprintf(stderr, "interrupted; %s",
                   resume.empty() ? "nothing was stored\n" : resume.c_str());
      return kExitServerError;
    }
    int code = in_.Fail(FromGrpcStatus(status_));
    std::fputs(resume.c_str(), stderr);
    return code;
  }

  Invocation& in_;
  const std::string path_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<iv1::SyncValuesRequest, iv1::SyncValuesResponse>>
      stream_;
  grpc::Status status_;
  iv1::ImportJob job_;
  std::map<int64_t, std::string> local_rejections_;
  int64_t rows_sent_ = 0, applied_ = 0, rejected_ = 0;
  bool progress_shown_ = false;
};

// --- export -------------------------------------------------------------------------------

int Export(Invocation& in) {
  iv1::ExportValuesRequest request;
  request.set_city_id(absl::GetFlag(FLAGS_city));
  request.set_country_code(absl::GetFlag(FLAGS_country));
  request.set_year(absl::GetFlag(FLAGS_year));
  request.set_measure(absl::GetFlag(FLAGS_measure));
  request.set_feature(absl::GetFlag(FLAGS_feature));
  request.set_working_copy(absl::GetFlag(FLAGS_working_copy));
  std::string path = absl::GetFlag(FLAGS_out);
  std::ofstream file;
  if (!path.empty()) {
    file.open(path);
    if (!file) return BadValue(absl::InvalidArgumentError(absl::StrCat("cannot write ", path)));
  }
  std::ostream& out = path.empty() ? std::cout : file;
  grpc::ClientContext context;
  in.connection.Prepare(context, /*with_deadline=*/false);
  SetInterruptHook([&context] { context.TryCancel(); });
  auto reader = in.connection.indicators().ExportValues(&context, request);
  iv1::ExportValuesResponse page;
  int64_t count = 0;
  out << ValueCsvHeader();
  while (reader->Read(&page)) {
    for (const auto& v : page.values()) out << ValueToCsv(v);
    count += page.values_size();
  }
  out.flush();
  grpc::Status status = reader->Finish();
  SetInterruptHook(nullptr);
  if (!status.ok()) return in.Fail(FromGrpcStatus(status));
  std::fprintf(stderr, "%lld values exported\n", static_cast<long long>(count));
  return kExitOk;
}

// --- catalog, datasets, jobs, quality, changes ----------------------------------------------

int Catalog(Invocation& in) {
  iv1::GetCatalogResponse resp;
  if (auto st = in.connection.Call(&IndicatorStub::GetCatalog, iv1::GetCatalogRequest(), &resp);
      !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(resp.catalog());
  Table table({"MEASURE", "SOURCE", "TYPE", "SPLIT", "BETTER", "LABEL"});
  for (const auto& d : resp.catalog().dimensions()) {
    for (const auto& fa : d.focus_areas()) {
      for (const auto& f : fa.features()) {
        for (const auto& m : f.measures()) {
          std::string label = Text(m.labels(), "en");
          if (std::string zh = Text(m.labels(), "zh"); !zh.empty())
            absl::StrAppend(&label, " / ", zh);
          table.AddRow({m.code(), absl::AsciiStrToLower(iv1::DataSource_Name(m.data_source())),
                        absl::AsciiStrToLower(iv1::ValueType_Name(m.value_type())),
                        m.disaggregation() == iv1::NONE
                            ? ""
                            : absl::AsciiStrToLower(iv1::Disaggregation_Name(m.disaggregation())),
                        m.direction() == iv1::LOWER_IS_BETTER ? "lower" : "higher", label});
        }
      }
    }
  }
  std::fputs(table.Render().c_str(), stdout);
  std::printf("catalog %s (%s)\n", resp.catalog().version().c_str(),
              resp.catalog().content_hash().substr(0, 12).c_str());
  return kExitOk;
}

void PrintDataset(const iv1::Dataset& d) {
  std::fputs(
      FormatDetails({{"Dataset", d.name()},
                     {"Country", d.country_code()},
                     {"State", StateLabel(d.state())},
                     {"Revision", absl::StrCat(d.revision())},
                     {"Published revision",
                      d.published_revision() ? absl::StrCat(d.published_revision()) : "none"},
                     {"Values", absl::StrCat(d.value_count())},
                     {"With warnings", absl::StrCat(d.warning_count())},
                     {"Returned because", d.return_comment()},
                     {"Etag", d.etag()},
                     {"Updated", FormatTimestamp(d.update_time())}})
          .c_str(),
      stdout);
  if (d.history_size() == 0) return;
  Table table({"TIME", "STEP", "REVISION", "BY", "COMMENT"});
  for (const auto& h : d.history()) {
    table.AddRow({FormatTimestamp(h.time()), h.action(), absl::StrCat(h.revision()), h.actor(),
                  h.comment()});
  }
  std::fputs(table.Render().c_str(), stdout);
}

template <typename Request, typename Response>
int DatasetStep(Invocation& in, grpc::Status (IndicatorStub::*rpc)(grpc::ClientContext*,
                                                                   const Request&, Response*)) {
  if (in.Arg(2).empty()) return UsageError("indicators", "which dataset? e.g. cn-hangzhou/2023");
  Request request;
  request.set_name(DatasetName(in.Arg(2)));
  request.set_etag(absl::GetFlag(FLAGS_etag));
  request.set_comment(absl::GetFlag(FLAGS_comment));
  Response response;
  if (auto st = in.connection.Call(rpc, request, &response); !st.ok()) return in.Fail(st);
  if (in.json) return in.PrintJson(response.dataset());
  PrintDataset(response.dataset());
  return kExitOk;
}

int Datasets(Invocation& in) {
  const std::string verb = in.Arg(1);
  if (verb == "list") {
    iv1::ListDatasetsRequest request;
    request.set_city_id(absl::GetFlag(FLAGS_city));
    request.set_country_code(absl::GetFlag(FLAGS_country));
    request.set_year(absl::GetFlag(FLAGS_year));
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    iv1::ListDatasetsResponse response;
    if (auto st = in.connection.Call(&IndicatorStub::ListDatasets, request, &response); !st.ok()) {
      return in.Fail(st);
    }
    if (in.json) return in.PrintJson(response);
    Table table({"DATASET", "COUNTRY", "STATE", "REVISION", "PUBLISHED", "VALUES", "WARNINGS"});
    for (const auto& d : response.datasets()) {
      table.AddRow({d.name(), d.country_code(), StateLabel(d.state()), absl::StrCat(d.revision()),
                    d.published_revision() ? absl::StrCat("r", d.published_revision()) : "",
                    absl::StrCat(d.value_count()), absl::StrCat(d.warning_count())});
    }
    std::fputs(table.Render().c_str(), stdout);
    if (!response.next_page_token().empty()) {
      std::printf("more: --page_token=%s\n", response.next_page_token().c_str());
    }
    return kExitOk;
  }
  if (verb == "show") {
    if (in.Arg(2).empty()) return UsageError("indicators", "which dataset? e.g. cn-hangzhou/2023");
    iv1::GetDatasetRequest request;
    request.set_name(DatasetName(in.Arg(2)));
    iv1::GetDatasetResponse response;
    if (auto st = in.connection.Call(&IndicatorStub::GetDataset, request, &response); !st.ok()) {
      return in.Fail(st);
    }
    if (in.json) return in.PrintJson(response.dataset());
    PrintDataset(response.dataset());
    return kExitOk;
  }
  if (verb == "submit") return DatasetStep(in, &IndicatorStub::SubmitDataset);
  if (verb == "validate") return DatasetStep(in, &IndicatorStub::ValidateDataset);
  if (verb == "return") return DatasetStep(in, &IndicatorStub::ReturnDataset);
  if (verb == "publish") return DatasetStep(in, &IndicatorStub::PublishDataset);
  if (verb == "unpublish") return DatasetStep(in, &IndicatorStub::UnpublishDataset);
  if (verb == "revise") return DatasetStep(in, &IndicatorStub::OpenDatasetRevision);
  return UsageError("indicators",
                    absl::StrCat("unknown subcommand 'indicators datasets ", verb, "'"));
}

int Jobs(Invocation& in) {
  if (in.Arg(1) == "show" && !in.Arg(2).empty()) {
    iv1::GetImportJobRequest request;
    std::string id = in.Arg(2);
    request.set_name(absl::StartsWith(id, "importJobs/") ? id : absl::StrCat("importJobs/", id));
    iv1::GetImportJobResponse response;
    if (auto st = in.connection.Call(&IndicatorStub::GetImportJob, request, &response); !st.ok()) {
      return in.Fail(st);
    }
    if (in.json) return in.PrintJson(response.job());
    std::fputs(FormatJob(response.job()).c_str(), stdout);
    return kExitOk;
  }
  if (in.Arg(1) == "list") {
    iv1::ListImportJobsRequest request;
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    iv1::ListImportJobsResponse response;
    if (auto st = in.connection.Call(&IndicatorStub::ListImportJobs, request, &response);
        !st.ok()) {
      return in.Fail(st);
    }
    if (in.json) return in.PrintJson(response);
    Table table({"JOB", "OWNER", "STATE", "ROWS", "APPLIED", "REJECTED", "UPDATED"});
    for (const auto& j : response.jobs()) {
      table.AddRow({j.job_id(), j.owner(), j.state() == iv1::COMMITTED ? "committed" : "open",
                    FormatCount(j.summary().rows()), FormatCount(j.summary().applied()),
                    FormatCount(j.summary().rejected()), FormatTimestamp(j.update_time())});
    }
    std::fputs(table.Render().c_str(), stdout);
    return kExitOk;
  }
  return UsageError("indicators", "indicators jobs list | show JOB");
}

int Quality(Invocation& in) {
  if (in.Arg(1).empty()) return UsageError("indicators", "which dataset? e.g. cn-hangzhou/2023");
  iv1::GetDatasetQualityRequest request;
  request.set_name(DatasetName(in.Arg(1)));
  request.set_working_copy(absl::GetFlag(FLAGS_working_copy));
  iv1::GetDatasetQualityResponse q;
  if (auto st = in.connection.Call(&IndicatorStub::GetDatasetQuality, request, &q); !st.ok()) {
    return in.Fail(st);
  }
  if (in.json) return in.PrintJson(q);
  std::printf("%s: %d of %d measures reported (%.0f%%)\n", q.dataset().c_str(),
              q.measures_reported(), q.measures_expected(), q.completeness() * 100);
  Table table({"FOCUS AREA", "REPORTED", "EXPECTED", "COMPLETE"});
  for (const auto& fa : q.focus_areas()) {
    table.AddRow({fa.code(), absl::StrCat(fa.measures_reported()),
                  absl::StrCat(fa.measures_expected()),
                  absl::StrCat(static_cast<int>(fa.completeness() * 100 + 0.5), "%")});
  }
  std::fputs(table.Render().c_str(), stdout);
  for (const auto& v : q.values_with_warnings()) {
    for (const auto& w : v.warnings()) {
      std::printf("warning %s %s: %s\n", v.measure().c_str(), v.category().c_str(),
                  w.message().c_str());
    }
  }
  if (q.missing_measures_size() > 0) {
    std::printf("missing: %s\n", absl::StrJoin(q.missing_measures(), " ").c_str());
  }
  return kExitOk;
}

int WatchChanges(Invocation& in) {
  iv1::WatchChangesRequest request;
  request.set_city_id(absl::GetFlag(FLAGS_city));
  request.set_country_code(absl::GetFlag(FLAGS_country));
  request.set_after_cursor(absl::GetFlag(FLAGS_after));
  request.set_start_at_now(absl::GetFlag(FLAGS_from_now));
  grpc::ClientContext context;
  in.connection.Prepare(context, /*with_deadline=*/false);
  SetInterruptHook([&context] { context.TryCancel(); });
  std::fprintf(stderr, "watching indicator changes at %s (Ctrl-C stops)\n",
               in.connection.settings().indicators_address.c_str());
  auto reader = in.connection.indicators().WatchChanges(&context, request);
  iv1::WatchChangesResponse response;
  std::string last = request.after_cursor();
  while (reader->Read(&response)) {
    for (const auto& c : response.changes()) {
      last = c.cursor();
      if (in.json) {
        std::fputs(ToJson(c, /*one_line=*/true).c_str(), stdout);
        continue;
      }
      std::string kind = absl::AsciiStrToLower(iv1::ChangeKind_Name(c.kind()));
      std::string what =
          c.measure().empty()
              ? ""
              : absl::StrCat(c.measure(), c.category().empty() ? "" : "/", c.category(),
                             c.has_value() ? absl::StrCat(" = ", c.value()) : "");
      std::printf("#%s  %s  %s  %s  %s  by %s\n", c.cursor().c_str(),
                  FormatTimestamp(c.time()).c_str(), kind.c_str(), c.dataset().c_str(),
                  what.c_str(), c.actor().c_str());
    }
    std::fflush(stdout);
  }
  grpc::Status status = reader->Finish();
  SetInterruptHook(nullptr);
  if (Interrupted()) {
    std::fprintf(stderr, "stopped; resume with --after=%s\n", last.c_str());
    return kExitOk;
  }
  if (!status.ok()) return in.Fail(FromGrpcStatus(status));
  return kExitOk;
}

}  // namespace

int RunIndicators(Invocation& in) {
  const std::string verb = in.Arg(0);
  if (verb == "catalog") return Catalog(in);
  if (verb == "import") {
    if (in.Arg(1).empty()) return UsageError("indicators", "which CSV file?");
    return Import(in, in.Arg(1)).Run();
  }
  if (verb == "export") return Export(in);
  if (verb == "datasets") return Datasets(in);
  if (verb == "jobs") return Jobs(in);
  if (verb == "quality") return Quality(in);
  if (verb == "changes" && in.Arg(1) == "watch") return WatchChanges(in);
  return UsageError("indicators", verb.empty()
                                      ? "indicators needs a subcommand"
                                      : absl::StrCat("unknown subcommand 'indicators ", verb, "'"));
}

}  // namespace gnlc::cli
