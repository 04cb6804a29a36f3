"""synack to synack over the virtual PMDs that CI users run, two processes
sharing hugepages: memif, and virtio-user talking to a vhost-user port.
Handshake and echo (a 100 MiB stream echoed back and checked byte for
byte), then 100 MiB each way: to a sink that reports the SHA-256 of what it
got, and from a source, checked against the stream as it arrives. Skipped,
saying why, where the machine has no free hugepages."""
import hashlib
import json
import os
import pathlib
import signal
import subprocess

import pytest

from conftest import hugetlbfs_mounts

MIB = 1 << 20
SIZE = 100 * MIB
PAGES_NEEDED = 192  # two processes of -m 160 (2 MiB pages), and some slack


def free_hugepages():
    for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("HugePages_Free:"):
            return int(line.split()[1])
    return 0


def stream_sha256(n):
    block = bytes(i % 251 for i in range(251 * 4096))  # whole periods of the stream
    h = hashlib.sha256()
    left = n
    while left > 0:
        take = min(left, len(block))
        h.update(block[:take])
        left -= take
    return h.hexdigest()


class Process:
    def __init__(self, cmd, log):
        self.log = open(log, "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def output(self):
        self.log.flush()
        return pathlib.Path(self.log.name).read_text()


@pytest.fixture(params=["memif", "vhost"])
def pmds(request):
    if free_hugepages() < PAGES_NEEDED or not hugetlbfs_mounts():
        pytest.skip(f"needs {PAGES_NEEDED} free 2 MiB hugepages and hugetlbfs (scripts/setup.sh reserves them); "
                    f"{free_hugepages()} free")
    tag = f"synack-it-{os.getpid()}-{request.param}"
    sock = f"/tmp/{tag}.sock"
    if request.param == "memif":
        server_vdev = f"net_memif0,role=server,socket={sock}"
        client_vdev = f"net_memif0,role=client,socket={sock}"
        client_extra = []
    else:
        server_vdev = f"net_vhost0,iface={sock},queues=1"
        client_vdev = f"net_virtio_user0,path={sock},queues=1"
        client_extra = ["--single-file-segments"]  # virtio-user shares few memory regions with vhost
    two = len(os.sched_getaffinity(0)) > 1
    started = []

    def eal(prefix, lcore, vdev, extra=()):
        return [request.config.getoption("--bench"), "-l", lcore, "--no-pci", "--file-prefix", prefix, "-m", "160",
                *extra, "--log-level=lib.*:error", f"--vdev={vdev}", "--"]

    def server(*args):
        p = Process([*eal(f"{tag}-s", "1" if two else "0", server_vdev), "server", "--ip", "198.18.7.2/24",
                     "--mbufs", "16384", "--max-connections", "1024", *args], f"/tmp/{tag}-server.log")
        started.append((p, f"{tag}-s"))
        return p

    def client(*args):
        cmd = [*eal(f"{tag}-c", "0", client_vdev, client_extra), "client", "--ip", "198.18.7.1/24",
               "--mbufs", "16384", "--max-connections", "1024", *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        for mount in hugetlbfs_mounts():
            for f in mount.glob(f"{tag}-cmap_*"):
                f.unlink(missing_ok=True)
        lines = r.stdout.strip().splitlines()
        return r.returncode, json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}, r.stdout + r.stderr

    try:
        yield server, client
    finally:
        for p, prefix in started:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()
            p.log.close()
            for mount in hugetlbfs_mounts():
                for f in mount.glob(f"{prefix}map_*"):
                    f.unlink(missing_ok=True)
        for prefix in (f"{tag}-s", f"{tag}-c"):
            subprocess.run(["rm", "-rf", f"/var/run/dpdk/{prefix}"], check=False)
        pathlib.Path(sock).unlink(missing_ok=True)


def test_echo_and_100_mib_each_way(pmds):
    start_server, client = pmds
    server = start_server("--listen", "5001:echo", "5002:sink", "5003:source", "--sha256", "--bytes", str(SIZE))
    try:
        import time
        deadline = time.time() + 20
        while "listening" not in server.output():
            assert server.proc.poll() is None and time.time() < deadline, server.output()
            time.sleep(0.05)
        # Handshake, and a 100 MiB stream echoed back intact.
        rc, s, out = client("--connect", "198.18.7.2:5001", "--bytes", str(SIZE))
        assert rc == 0, out
        assert s["completed"] == 1 and s["echo_errors"] == 0 and s["bytes_in"] == SIZE, out
        # 100 MiB up to the sink (its SHA-256 below), then down from the source.
        rc, s, out = client("--connect", "198.18.7.2:5002", "--workload", "bulk", "--bytes", str(SIZE))
        assert rc == 0 and s["requests"] == 1 and s["client"]["bytes_out"] == SIZE, out
        rc, s, out = client("--connect", "198.18.7.2:5003", "--workload", "bulk", "--direction", "down",
                            "--bytes", str(SIZE))
        assert rc == 0 and s["requests"] == 1, out
        assert s["client"]["bytes_in"] == SIZE and s["client"]["pattern_errors"] == 0, out
    finally:
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGINT)
            server.proc.wait(timeout=30)
    out = server.output()
    assert server.proc.returncode == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert stream_sha256(SIZE) in summary["sha256"], out
    assert summary["pattern_errors"] == 0
