// The gRPC adapters of the membership server: the only code that sees protos. Each method
// validates the request (naming every bad field), converts it, checks the caller's scope on
// the object, calls the store and converts the answer back.
#pragma once

#include <atomic>
#include <memory>

#include "gnlc/access/v1/access.grpc.pb.h"
#include "gnlc/membership/v1/membership.grpc.pb.h"
#include "services/common/authenticator.h"
#include "services/common/server.h"
#include "services/membership/membership_store.h"

namespace gnlc::membership {

// Who may call what: every RPC of both services, with each role's scope. Deny by default.
const AccessTable& MembershipAccessTable();

namespace v1 = ::gnlc::membership::v1;
namespace access_v1 = ::gnlc::access::v1;

class MembershipApi final : public v1::MembershipService::CallbackService {
 public:
  // `stopping` turns true when the server shuts down; event streams then end cleanly.
  MembershipApi(MembershipStore& store, CallGate& gate, const std::atomic<bool>& stopping);

  grpc::ServerUnaryReactor* CreateCity(grpc::CallbackServerContext*, const v1::CreateCityRequest*,
                                       v1::CreateCityResponse*) override;
  grpc::ServerUnaryReactor* GetCity(grpc::CallbackServerContext*, const v1::GetCityRequest*,
                                    v1::GetCityResponse*) override;
  grpc::ServerUnaryReactor* ListCities(grpc::CallbackServerContext*, const v1::ListCitiesRequest*,
                                       v1::ListCitiesResponse*) override;
  grpc::ServerUnaryReactor* UpdateCity(grpc::CallbackServerContext*, const v1::UpdateCityRequest*,
                                       v1::UpdateCityResponse*) override;
  grpc::ServerUnaryReactor* CreateApplication(grpc::CallbackServerContext*,
                                              const v1::CreateApplicationRequest*,
                                              v1::CreateApplicationResponse*) override;
  grpc::ServerUnaryReactor* GetApplication(grpc::CallbackServerContext*,
                                           const v1::GetApplicationRequest*,
                                           v1::GetApplicationResponse*) override;
  grpc::ServerUnaryReactor* ListApplications(grpc::CallbackServerContext*,
                                             const v1::ListApplicationsRequest*,
                                             v1::ListApplicationsResponse*) override;
  grpc::ServerUnaryReactor* UpdateApplication(grpc::CallbackServerContext*,
                                              const v1::UpdateApplicationRequest*,
                                              v1::UpdateApplicationResponse*) override;
  grpc::ServerUnaryReactor* SubmitApplication(grpc::CallbackServerContext*,
                                              const v1::SubmitApplicationRequest*,
                                              v1::SubmitApplicationResponse*) override;
  grpc::ServerUnaryReactor* EndorseApplication(grpc::CallbackServerContext*,
                                               const v1::EndorseApplicationRequest*,
                                               v1::EndorseApplicationResponse*) override;
  grpc::ServerUnaryReactor* ReturnApplication(grpc::CallbackServerContext*,
                                              const v1::ReturnApplicationRequest*,
                                              v1::ReturnApplicationResponse*) override;
  grpc::ServerUnaryReactor* DeclineApplication(grpc::CallbackServerContext*,
                                               const v1::DeclineApplicationRequest*,
                                               v1::DeclineApplicationResponse*) override;
  grpc::ServerUnaryReactor* WithdrawApplication(grpc::CallbackServerContext*,
                                                const v1::WithdrawApplicationRequest*,
                                                v1::WithdrawApplicationResponse*) override;
  grpc::ServerUnaryReactor* RegisterMember(grpc::CallbackServerContext*,
                                           const v1::RegisterMemberRequest*,
                                           v1::RegisterMemberResponse*) override;
  grpc::ServerUnaryReactor* SuspendMember(grpc::CallbackServerContext*,
                                          const v1::SuspendMemberRequest*,
                                          v1::SuspendMemberResponse*) override;
  grpc::ServerUnaryReactor* ReinstateMember(grpc::CallbackServerContext*,
                                            const v1::ReinstateMemberRequest*,
                                            v1::ReinstateMemberResponse*) override;
  grpc::ServerUnaryReactor* WithdrawMember(grpc::CallbackServerContext*,
                                           const v1::WithdrawMemberRequest*,
                                           v1::WithdrawMemberResponse*) override;
  grpc::ServerUnaryReactor* AddRepresentative(grpc::CallbackServerContext*,
                                              const v1::AddRepresentativeRequest*,
                                              v1::AddRepresentativeResponse*) override;
  grpc::ServerUnaryReactor* RemoveRepresentative(grpc::CallbackServerContext*,
                                                 const v1::RemoveRepresentativeRequest*,
                                                 v1::RemoveRepresentativeResponse*) override;
  grpc::ServerUnaryReactor* ListRepresentatives(grpc::CallbackServerContext*,
                                                const v1::ListRepresentativesRequest*,
                                                v1::ListRepresentativesResponse*) override;
  grpc::ServerUnaryReactor* RecordContribution(grpc::CallbackServerContext*,
                                               const v1::RecordContributionRequest*,
                                               v1::RecordContributionResponse*) override;
  grpc::ServerUnaryReactor* ListContributions(grpc::CallbackServerContext*,
                                              const v1::ListContributionsRequest*,
                                              v1::ListContributionsResponse*) override;
  grpc::ServerUnaryReactor* ListMembershipEvents(grpc::CallbackServerContext*,
                                                 const v1::ListMembershipEventsRequest*,
                                                 v1::ListMembershipEventsResponse*) override;
  grpc::ServerWriteReactor<v1::WatchMembershipEventsResponse>* WatchMembershipEvents(
      grpc::CallbackServerContext*, const v1::WatchMembershipEventsRequest*) override;

 private:
  // What a workflow step on an application does beside the state change: a check on the
  // application and city as they stand in the transaction, and the change to make. Either may
  // be empty.
  struct StepPlan {
    Guard<Application, City> guard;
    std::function<void(Application&)> mutate;
  };
  // The shape of every workflow step: validate (prepare adds its own field violations and
  // returns the plan), then in one transaction check the caller's scope and the plan's guard,
  // move the state, apply the change and record it.
  grpc::ServerUnaryReactor* ApplicationStep(grpc::CallbackServerContext* ctx,
                                            absl::string_view method, ApplicationAction action,
                                            std::string name, std::string name_field,
                                            std::string etag, std::string comment,
                                            v1::Application* out,
                                            std::function<StepPlan(FieldErrors&)> prepare);
  grpc::ServerUnaryReactor* MemberChange(grpc::CallbackServerContext* ctx, absl::string_view method,
                                         const std::string& city, const std::string& reason,
                                         MemberAction action, v1::City* out);
  MembershipStore& store_;
  CallGate& gate_;
  const std::atomic<bool>& stopping_;
};

// API keys, kept by the membership server.
class AccessApi final : public access_v1::AccessService::CallbackService {
 public:
  AccessApi(MembershipStore& store, CallGate& gate);
  grpc::ServerUnaryReactor* IssueApiKey(grpc::CallbackServerContext*,
                                        const access_v1::IssueApiKeyRequest*,
                                        access_v1::IssueApiKeyResponse*) override;
  grpc::ServerUnaryReactor* ListApiKeys(grpc::CallbackServerContext*,
                                        const access_v1::ListApiKeysRequest*,
                                        access_v1::ListApiKeysResponse*) override;
  grpc::ServerUnaryReactor* RevokeApiKey(grpc::CallbackServerContext*,
                                         const access_v1::RevokeApiKeyRequest*,
                                         access_v1::RevokeApiKeyResponse*) override;
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext*, const access_v1::WhoAmIRequest*,
                                   access_v1::WhoAmIResponse*) override;

 private:
  MembershipStore& store_;
  CallGate& gate_;
};

// Checks keys against the membership store itself: a revocation holds at once here.
class StoreAuthenticator final : public Authenticator {
 public:
  explicit StoreAuthenticator(MembershipStore& store) : store_(store) {}
  absl::StatusOr<Principal> Authenticate(absl::string_view token) override;

 private:
  MembershipStore& store_;
};

// Makes sure the key in `path` is an active secretariat key, issuing one (file mode 0600)
// when the file does not exist. For local use: whoever can read the file is the secretariat.
absl::Status EnsureBootstrapKey(MembershipStore& store, const std::string& path);

}  // namespace gnlc::membership
