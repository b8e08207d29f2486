"""Starts the real gnlc-membership binary for a Python test: private SQLite, a free loopback
port, stopped with SIGTERM (which must end it cleanly)."""
import os, socket, subprocess, tempfile, time

import grpc


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class MembershipServer:
    def __init__(self, binary, bootstrap_key=False):
        self.dir = tempfile.mkdtemp(prefix="gnlc-py-server-")
        self.address = f"127.0.0.1:{free_port()}"
        self.key_file = os.path.join(self.dir, "secretariat.key")
        args = [binary, f"--membership_addr={self.address}", f"--database=sqlite:{self.dir}/m.db",
                "--log_format=text", "--workers=2"]
        if bootstrap_key:
            args.append(f"--bootstrap_key_file={self.key_file}")
        self.proc = subprocess.Popen(args)
        self.channel = grpc.insecure_channel(self.address)
        grpc.channel_ready_future(self.channel).result(timeout=20)

    def secretariat_key(self):
        """The bootstrap key, which the server writes before it starts listening."""
        for _ in range(100):
            if os.path.exists(self.key_file):
                key = open(self.key_file).read().strip()
                if key:
                    return key
            time.sleep(0.05)
        raise AssertionError("the server wrote no bootstrap key")

    def stop(self):
        self.channel.close()
        self.proc.terminate()
        assert self.proc.wait(timeout=20) == 0, "the server did not stop cleanly"
