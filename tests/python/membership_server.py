"""Starts the real service binaries for a Python test: each with a private SQLite file and a
free loopback port, stopped with SIGTERM (which must end it cleanly)."""
import os, socket, subprocess, sys, tempfile, time

import grpc


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class _Server:
    """One service binary listening on `--{addr_flag}` with its own temporary directory."""

    def _start(self, binary, addr_flag, extra_flags=()):
        self.address = f"127.0.0.1:{free_port()}"
        args = [binary, f"--{addr_flag}={self.address}", f"--database=sqlite:{self.dir}/db.sqlite",
                "--log_format=text", "--workers=2", *extra_flags]
        self.proc = subprocess.Popen(args)
        self.channel = grpc.insecure_channel(self.address)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=20)
        except grpc.FutureTimeoutError:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{os.path.basename(binary)} did not start listening on "
                                 f"{self.address}")

    def stop(self):
        self.channel.close()
        self.proc.terminate()
        assert self.proc.wait(timeout=20) == 0, "the server did not stop cleanly"


class MembershipServer(_Server):
    def __init__(self, binary, bootstrap_key=False):
        self.dir = tempfile.mkdtemp(prefix="gnlc-py-membership-")
        self.key_file = os.path.join(self.dir, "secretariat.key")
        flags = [f"--bootstrap_key_file={self.key_file}"] if bootstrap_key else []
        self._start(binary, "membership_addr", flags)

    def secretariat_key(self):
        """The bootstrap key, which the server writes before it starts listening."""
        for _ in range(100):
            if os.path.exists(self.key_file):
                with open(self.key_file) as f:
                    key = f.read().strip()
                if key:
                    return key
            time.sleep(0.05)
        raise AssertionError("the server wrote no bootstrap key")


class IndicatorsServer(_Server):
    """gnlc-indicators, checking keys and cities with the membership server at `membership`."""

    def __init__(self, binary, membership):
        self.dir = tempfile.mkdtemp(prefix="gnlc-py-indicators-")
        self._start(binary, "indicators_addr", [f"--membership_addr={membership.address}"])


def compile_protos(proto_dir):
    """Compiles every .proto under `proto_dir` to Python messages and grpc stubs in a temporary
    directory and puts that directory first on sys.path."""
    gen = tempfile.mkdtemp(prefix="gnlc-py-")
    protos = [os.path.join(r, f) for r, _, fs in os.walk(proto_dir) for f in fs
              if f.endswith(".proto")]
    subprocess.check_call(["protoc", f"--proto_path={proto_dir}", f"--python_out={gen}",
                           f"--grpc_python_out={gen}",
                           "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", *protos])
    sys.path.insert(0, gen)
    return gen


class IndicatorsStack:
    """A gnlc-membership with a bootstrap (secretariat) key and a gnlc-indicators checking keys
    and cities with it; the secretariat registers cities and issues keys. Needs compile_protos()
    first."""

    TIMEOUT = 30  # seconds for any one call

    def __init__(self, membership_binary, indicators_binary):
        self.membership = MembershipServer(membership_binary, bootstrap_key=True)
        try:
            self.indicators = IndicatorsServer(indicators_binary, self.membership)
        except BaseException:
            self.membership.stop()
            raise
        self.secretariat = self.membership.secretariat_key()

    def stop(self):
        try:
            self.indicators.stop()
        finally:
            self.membership.stop()

    @staticmethod
    def md(key):
        return [("authorization", f"Bearer {key}")]

    def create_city(self, city_id, en, zh, country_code="CN"):
        """Registers a city as the secretariat; returns it."""
        from gnlc.common.v1 import common_pb2 as c
        from gnlc.membership.v1 import membership_pb2 as m, membership_pb2_grpc as mg
        city = m.City(display_names=[c.LocalizedText(language="en", text=en),
                                     c.LocalizedText(language="zh", text=zh)],
                      country_code=country_code, kind=m.CITY, population=500000,
                      population_year=2020,
                      governing_body=m.GoverningBody(name="Municipal People's Congress",
                                                     elected=True),
                      mayor="Mayor", contact=m.Contact(name="Coordinator",
                                                       email=f"lc@{city_id}.example.org"))
        created = mg.MembershipServiceStub(self.membership.channel).CreateCity(
            m.CreateCityRequest(city=city, city_id=city_id), metadata=self.md(self.secretariat),
            timeout=self.TIMEOUT).city
        assert created.name == f"cities/{city_id}", created.name
        return created

    def issue(self, principal):
        """A new API key for `principal` (e.g. "ministry:CN"), issued by the secretariat."""
        from gnlc.access.v1 import access_pb2 as a, access_pb2_grpc as ag
        return ag.AccessServiceStub(self.membership.channel).IssueApiKey(
            a.IssueApiKeyRequest(principal=principal), metadata=self.md(self.secretariat),
            timeout=self.TIMEOUT).secret
