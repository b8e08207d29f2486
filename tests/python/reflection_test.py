"""A client that knows only the server's address (and gRPC's standard health and reflection
protos) finds the membership service through server reflection, builds its messages from the
descriptors the server sends, and calls it.

Usage: reflection_test.py BINARY
"""
import os, subprocess, sys, tempfile, unittest

BINARY = sys.argv[1]
STANDARD = "/usr/share/grpc-proto"  # Debian's grpc-proto: health and reflection only
GEN = tempfile.mkdtemp(prefix="gnlc-refl-")
# Copied under neutral names: generated as grpc/..., they would shadow the grpc package.
for src, dst in (("grpc/reflection/v1alpha/reflection.proto", "std_reflection.proto"),
                 ("grpc/health/v1/health.proto", "std_health.proto")):
    with open(os.path.join(STANDARD, src)) as f, open(os.path.join(GEN, dst), "w") as out:
        out.write(f.read())
subprocess.check_call(["protoc", f"--proto_path={GEN}", f"--python_out={GEN}",
                       f"--grpc_python_out={GEN}",
                       "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                       f"{GEN}/std_reflection.proto", f"{GEN}/std_health.proto"])
sys.path.insert(0, GEN)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc  # noqa: E402
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # noqa: E402
import std_reflection_pb2 as rp, std_reflection_pb2_grpc as rg  # noqa: E402
import std_health_pb2 as hp, std_health_pb2_grpc as hg  # noqa: E402
from membership_server import MembershipServer  # noqa: E402

SERVICE = "gnlc.membership.v1.MembershipService"



class Reflection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = MembershipServer(BINARY)
        cls.channel = cls.server.channel

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def reflect(self, request):
        stub = rg.ServerReflectionStub(self.channel)
        return next(iter(stub.ServerReflectionInfo(iter([request]), timeout=10)))

    def test_health_reports_serving(self):
        health = hg.HealthStub(self.channel)
        for name in ("", SERVICE, "gnlc.access.v1.AccessService"):
            self.assertEqual(health.Check(hp.HealthCheckRequest(service=name), timeout=10).status,
                             hp.HealthCheckResponse.SERVING, name)

    def test_discover_and_call_through_reflection(self):
        listed = self.reflect(rp.ServerReflectionRequest(list_services=""))
        names = [s.name for s in listed.list_services_response.service]
        self.assertIn(SERVICE, names)
        self.assertIn("gnlc.access.v1.AccessService", names)

        files = self.reflect(rp.ServerReflectionRequest(file_containing_symbol=SERVICE))
        sent = {fd.name: fd for fd in (descriptor_pb2.FileDescriptorProto.FromString(b)
                                      for b in files.file_descriptor_response.file_descriptor_proto)}
        pool, added = descriptor_pool.DescriptorPool(), set()

        def add(name):  # dependencies first; well-known types may come from protobuf itself
            if name in added:
                return
            fd = sent.get(name) or descriptor_pb2.FileDescriptorProto.FromString(
                descriptor_pool.Default().FindFileByName(name).serialized_pb)
            for dep in fd.dependency:
                add(dep)
            pool.Add(fd)
            added.add(name)

        for name in sent:
            add(name)
        service = pool.FindServiceByName(SERVICE)
        method = service.methods_by_name["ListCities"]
        factory = message_factory.MessageFactory(pool)  # protobuf 3.21: no GetMessageClass yet
        request_class = factory.GetPrototype(method.input_type)
        response_class = factory.GetPrototype(method.output_type)
        call = self.channel.unary_unary(f"/{SERVICE}/ListCities",
                                        request_serializer=request_class.SerializeToString,
                                        response_deserializer=response_class.FromString)
        # Anonymous: the published register, empty on a new server.
        response = call(request_class(page_size=10), timeout=10)
        self.assertEqual(len(response.cities), 0)
        # A bad request through the same dynamic client gets the named field back.
        with self.assertRaises(grpc.RpcError) as e:
            call(request_class(page_size=-1), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("page_size", e.exception.details())


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
