"""End to end: a Python grpcio client built from protos/ alone walks an application from draft
to member against the real gnlc-membership binary, and bad input and wrong callers are refused.

Usage: walk_application_test.py BINARY PROTO_DIR
"""
import os, subprocess, sys, tempfile, unittest

BINARY, PROTO_DIR = sys.argv[1], sys.argv[2]
GEN = tempfile.mkdtemp(prefix="gnlc-py-")
protos = [os.path.join(r, f) for r, _, fs in os.walk(PROTO_DIR) for f in fs if f.endswith(".proto")]
subprocess.check_call(["protoc", f"--proto_path={PROTO_DIR}", f"--python_out={GEN}",
                       f"--grpc_python_out={GEN}", "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                       *protos])
sys.path.insert(0, GEN)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc  # noqa: E402
from gnlc.membership.v1 import membership_pb2 as m, membership_pb2_grpc as mg  # noqa: E402
from gnlc.access.v1 import access_pb2 as a, access_pb2_grpc as ag  # noqa: E402
from gnlc.common.v1 import common_pb2 as c  # noqa: E402
from google.rpc import status_pb2, error_details_pb2  # noqa: E402
from membership_server import MembershipServer  # noqa: E402



def details(err):
    """The google.rpc details of an RpcError: (reason, [field names])."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            st = status_pb2.Status.FromString(value)
            reason, fields = "", []
            for d in st.details:
                if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo(); d.Unpack(info); reason = info.reason
                if d.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    br = error_details_pb2.BadRequest(); d.Unpack(br)
                    fields = [v.field for v in br.field_violations]
            return reason, fields
    return "", []


class WalkApplication(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = MembershipServer(BINARY, bootstrap_key=True)
        cls.secretariat = cls.server.secretariat_key()
        cls.members = mg.MembershipServiceStub(cls.server.channel)
        cls.access = ag.AccessServiceStub(cls.server.channel)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def md(self, key):
        return [("authorization", f"Bearer {key}")]

    def issue(self, principal):
        return self.access.IssueApiKey(a.IssueApiKeyRequest(principal=principal),
                                       metadata=self.md(self.secretariat)).secret

    def city(self, en, zh, country, population=250000):
        return m.City(display_names=[c.LocalizedText(language="en", text=en),
                                     c.LocalizedText(language="zh", text=zh)],
                      country_code=country, kind=m.CITY, population=population, population_year=2020,
                      governing_body=m.GoverningBody(name="City Council", elected=True), mayor="Mayor")

    def signature(self):
        d = c.Date(year=2024, month=3, day=1)
        return m.MayorSignature(signatory="Mayor", signed_on=d, seal_affixed=True,
                                beijing_declaration_adopted_on=d, key_features_adopted_on=d)

    def test_walk_from_draft_to_member(self):
        sec = self.md(self.secretariat)
        city = self.members.CreateCity(m.CreateCityRequest(city=self.city("Hangzhou", "杭州", "CN"),
                                                           request_id="r-hz"), metadata=sec).city
        self.assertEqual(city.name, "cities/cn-hangzhou")
        self.assertEqual(city.region, c.ASIA_AND_THE_PACIFIC)
        # A retried create returns the same city.
        again = self.members.CreateCity(m.CreateCityRequest(city=self.city("Hangzhou", "杭州", "CN"),
                                                            request_id="r-hz"), metadata=sec).city
        self.assertEqual(again.create_time, city.create_time)
        coordinator = self.md(self.issue("city:cn-hangzhou"))
        commission = self.md(self.issue("national_commission:CN"))
        app = self.members.CreateApplication(m.CreateApplicationRequest(
            application=m.Application(city=city.name, motivation="Lifelong learning for all")),
            metadata=coordinator).application
        self.assertEqual(app.state, m.DRAFT)
        app = self.members.SubmitApplication(m.SubmitApplicationRequest(
            name=app.name, mayor_signature=self.signature()), metadata=coordinator).application
        self.assertEqual(app.state, m.SUBMITTED)
        # The commission of another country may not decide.
        other = self.md(self.issue("national_commission:FR"))
        with self.assertRaises(grpc.RpcError) as e:
            self.members.EndorseApplication(m.EndorseApplicationRequest(
                name=app.name, commission_reference="X"), metadata=other)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        # Anonymous and partner callers cannot see the application; the city is not yet public.
        with self.assertRaises(grpc.RpcError) as e:
            self.members.GetCity(m.GetCityRequest(name=city.name))
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        app = self.members.EndorseApplication(m.EndorseApplicationRequest(
            name=app.name, commission_reference="CN-NATCOM-2024-7"), metadata=commission).application
        self.assertEqual(app.state, m.ENDORSED)
        done = self.members.RegisterMember(m.RegisterMemberRequest(application=app.name), metadata=sec)
        self.assertEqual(done.application.state, m.REGISTERED)
        self.assertEqual(done.city.membership.status, m.ACTIVE)
        self.assertTrue(done.city.membership.award_eligible)
        self.assertEqual([h.action for h in done.application.history],
                         ["created", "submitted", "endorsed", "registered"])
        # Now public: anonymous callers read it, and see it in the event feed.
        public = self.members.GetCity(m.GetCityRequest(name=city.name)).city
        self.assertEqual(public.membership.status, m.ACTIVE)
        self.assertFalse(public.HasField("contact"))
        events = self.members.ListMembershipEvents(m.ListMembershipEventsRequest()).events
        self.assertEqual([ev.kind for ev in events], [m.MEMBER_REGISTERED])
        found = self.members.ListCities(m.ListCitiesRequest(query="杭州")).cities
        self.assertEqual([x.city_id for x in found], ["cn-hangzhou"])

    def test_ineligible_city_is_refused_naming_every_requirement(self):
        sec = self.md(self.secretariat)
        small = self.city("Smallville", "小镇", "FR", population=5000)
        small.governing_body.elected = False
        city = self.members.CreateCity(m.CreateCityRequest(city=small), metadata=sec).city
        app = self.members.CreateApplication(m.CreateApplicationRequest(
            application=m.Application(city=city.name)), metadata=sec).application
        with self.assertRaises(grpc.RpcError) as e:
            self.members.SubmitApplication(m.SubmitApplicationRequest(
                name=app.name, mayor_signature=m.MayorSignature(signatory="Mayor")), metadata=sec)
        self.assertEqual(e.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        for needle in ("10000", "elected", "Beijing Declaration", "Key Features", "seal"):
            self.assertIn(needle, e.exception.details())
        still = self.members.GetApplication(m.GetApplicationRequest(name=app.name), metadata=sec)
        self.assertEqual(still.application.state, m.DRAFT)

    def snapshot(self):
        """Everything a write would change: the cities and the event log, as the secretariat sees them."""
        sec = self.md(self.secretariat)
        cities = self.members.ListCities(m.ListCitiesRequest(page_size=500), metadata=sec).cities
        events = self.members.ListMembershipEvents(m.ListMembershipEventsRequest(page_size=500),
                                                   metadata=sec).events
        return [x.city_id for x in cities], [e.cursor for e in events]

    def test_bad_input_names_every_field_and_writes_nothing(self):
        sec = self.md(self.secretariat)
        before = self.snapshot()
        bad = m.City(display_names=[c.LocalizedText(language="zh", text="坏")], country_code="XX",
                     population=-1, population_year=3000)
        with self.assertRaises(grpc.RpcError) as e:
            self.members.CreateCity(m.CreateCityRequest(city=bad, city_id="Bad Id"), metadata=sec)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        reason, fields = details(e.exception)
        self.assertEqual(reason, "INVALID_ARGUMENT")
        for f in ("city.display_names", "city.country_code", "city.kind", "city.population",
                  "city.population_year", "city.governing_body.name", "city.mayor", "city_id"):
            self.assertIn(f, fields)
        self.assertEqual(self.snapshot(), before)

    def test_keys_no_key_and_revoked_key(self):
        with self.assertRaises(grpc.RpcError) as e:
            self.members.ListApplications(m.ListApplicationsRequest())
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        issued = self.access.IssueApiKey(a.IssueApiKeyRequest(principal="partner:atlas"),
                                         metadata=self.md(self.secretariat))
        who = self.access.WhoAmI(a.WhoAmIRequest(), metadata=self.md(issued.secret))
        self.assertEqual(who.principal, "partner:atlas")
        self.access.RevokeApiKey(a.RevokeApiKeyRequest(name=issued.api_key.name, reason="test"),
                                 metadata=self.md(self.secretariat))
        with self.assertRaises(grpc.RpcError) as e:
            self.access.WhoAmI(a.WhoAmIRequest(), metadata=self.md(issued.secret))
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
