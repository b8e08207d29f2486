// The gRPC adapter of the indicators server: the only code that sees protos. Each method
// validates the request (naming every bad field), checks cities with membership and the
// caller's scope, calls the store and converts the answer back.
#pragma once

#include <atomic>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "gnlc/indicators/v1/indicators.grpc.pb.h"
#include "services/common/server.h"
#include "services/common/status.h"
#include "services/indicators/catalog.h"
#include "services/indicators/city_directory.h"
#include "services/indicators/indicator_store.h"

namespace gnlc::indicators {

// Who may call what: every RPC with each role's scope. Deny by default.
const AccessTable& IndicatorAccessTable();

namespace v1 = ::gnlc::indicators::v1;

// Request size limits: a unary write, a sync batch.
inline constexpr int kMaxWriteValues = 5000;
inline constexpr int kMaxBatchRows = 10000;

class IndicatorApi final : public v1::IndicatorService::CallbackService {
 public:
  // `stopping` turns true when the server shuts down; streams then end cleanly. Sync
  // throughput is counted in `metrics` (rows by outcome, batches by whether replayed).
  IndicatorApi(IndicatorStore& store, const Catalog& catalog, CityDirectory& cities, CallGate& gate,
               RpcMetrics& metrics, const std::atomic<bool>& stopping);
  ~IndicatorApi() override;

  // Cancels every open sync stream, so that shutdown need not wait for a client that is idle
  // between batches. Call once `stopping` is set; clients resume their jobs elsewhere.
  void EndSyncStreams();

  grpc::ServerUnaryReactor* GetCatalog(grpc::CallbackServerContext*, const v1::GetCatalogRequest*,
                                       v1::GetCatalogResponse*) override;
  grpc::ServerUnaryReactor* GetDataset(grpc::CallbackServerContext*, const v1::GetDatasetRequest*,
                                       v1::GetDatasetResponse*) override;
  grpc::ServerUnaryReactor* ListDatasets(grpc::CallbackServerContext*,
                                         const v1::ListDatasetsRequest*,
                                         v1::ListDatasetsResponse*) override;
  grpc::ServerUnaryReactor* WriteValues(grpc::CallbackServerContext*, const v1::WriteValuesRequest*,
                                        v1::WriteValuesResponse*) override;
  grpc::ServerUnaryReactor* ListValues(grpc::CallbackServerContext*, const v1::ListValuesRequest*,
                                       v1::ListValuesResponse*) override;
  grpc::ServerUnaryReactor* SubmitDataset(grpc::CallbackServerContext*,
                                          const v1::SubmitDatasetRequest*,
                                          v1::SubmitDatasetResponse*) override;
  grpc::ServerUnaryReactor* ValidateDataset(grpc::CallbackServerContext*,
                                            const v1::ValidateDatasetRequest*,
                                            v1::ValidateDatasetResponse*) override;
  grpc::ServerUnaryReactor* ReturnDataset(grpc::CallbackServerContext*,
                                          const v1::ReturnDatasetRequest*,
                                          v1::ReturnDatasetResponse*) override;
  grpc::ServerUnaryReactor* PublishDataset(grpc::CallbackServerContext*,
                                           const v1::PublishDatasetRequest*,
                                           v1::PublishDatasetResponse*) override;
  grpc::ServerUnaryReactor* UnpublishDataset(grpc::CallbackServerContext*,
                                             const v1::UnpublishDatasetRequest*,
                                             v1::UnpublishDatasetResponse*) override;
  grpc::ServerUnaryReactor* OpenDatasetRevision(grpc::CallbackServerContext*,
                                                const v1::OpenDatasetRevisionRequest*,
                                                v1::OpenDatasetRevisionResponse*) override;
  grpc::ServerUnaryReactor* ListValueHistory(grpc::CallbackServerContext*,
                                             const v1::ListValueHistoryRequest*,
                                             v1::ListValueHistoryResponse*) override;
  grpc::ServerUnaryReactor* GetDatasetAsOf(grpc::CallbackServerContext*,
                                           const v1::GetDatasetAsOfRequest*,
                                           v1::GetDatasetAsOfResponse*) override;
  grpc::ServerBidiReactor<v1::SyncValuesRequest, v1::SyncValuesResponse>* SyncValues(
      grpc::CallbackServerContext*) override;
  grpc::ServerUnaryReactor* GetImportJob(grpc::CallbackServerContext*,
                                         const v1::GetImportJobRequest*,
                                         v1::GetImportJobResponse*) override;
  grpc::ServerUnaryReactor* ListImportJobs(grpc::CallbackServerContext*,
                                           const v1::ListImportJobsRequest*,
                                           v1::ListImportJobsResponse*) override;
  grpc::ServerWriteReactor<v1::ExportValuesResponse>* ExportValues(
      grpc::CallbackServerContext*, const v1::ExportValuesRequest*) override;
  grpc::ServerUnaryReactor* GetDatasetQuality(grpc::CallbackServerContext*,
                                              const v1::GetDatasetQualityRequest*,
                                              v1::GetDatasetQualityResponse*) override;
  grpc::ServerUnaryReactor* GetSdgView(grpc::CallbackServerContext*, const v1::GetSdgViewRequest*,
                                       v1::GetSdgViewResponse*) override;
  grpc::ServerUnaryReactor* ListChanges(grpc::CallbackServerContext*, const v1::ListChangesRequest*,
                                        v1::ListChangesResponse*) override;
  grpc::ServerWriteReactor<v1::WatchChangesResponse>* WatchChanges(
      grpc::CallbackServerContext*, const v1::WatchChangesRequest*) override;

 private:
  class SyncReactor;
  struct SyncCounters;
  // The shape of every review step: parse the name, etag and comment; check the caller's
  // scope on the dataset; move it.
  grpc::ServerUnaryReactor* ReviewStep(grpc::CallbackServerContext* ctx, absl::string_view method,
                                       DatasetAction action, const std::string& name,
                                       const std::string& etag, const std::string& comment,
                                       v1::Dataset* out);
  // The dataset a read names, after checking that the caller may see it.
  absl::StatusOr<Dataset> ReadableDataset(const Grant& grant, const std::string& name,
                                          bool working_copy);
  // The countries of the cities `rows` name, checked with membership and against the grant;
  // unknown cities are field violations of `field`[i].city_id.
  absl::StatusOr<std::map<std::string, std::string>> CheckCities(
      const Grant& grant, const std::string& token, std::span<const NumberedWrite> rows,
      absl::string_view field);
  // A value filter limited to what the grant may read.
  absl::StatusOr<ValueFilter> ValueFilterFor(const Grant& grant, const std::string& city_id,
                                             const std::string& country, int year,
                                             const std::string& measure, const std::string& feature,
                                             bool working_copy, FieldErrors& errors);

  IndicatorStore& store_;
  const Catalog& catalog_;
  CityDirectory& cities_;
  CallGate& gate_;
  const std::atomic<bool>& stopping_;
  v1::Catalog catalog_proto_;
  std::unique_ptr<SyncCounters> sync_counters_;
  std::mutex streams_mu_;
  absl::flat_hash_set<SyncReactor*> streams_;  // open sync streams, guarded by streams_mu_
};

}  // namespace gnlc::indicators
