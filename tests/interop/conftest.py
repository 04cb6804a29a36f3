"""Fixtures of the interoperability suite: each test gets a network
namespace and a veth pair of its own (unique names), synack-bench on the
AF_PACKET end, and the Linux kernel in the namespace as the peer; all of
it is removed afterwards, also when the test fails."""
import itertools
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

HERE = pathlib.Path(__file__).parent
PEER = HERE / "peer.py"
_counter = itertools.count()


def pytest_addoption(parser):
    parser.addoption("--bench", required=True, help="path to synack-bench")
    parser.addoption("--lb", default=None, help="path to synack-lb")


def pytest_sessionstart(session):
    """Without the right to make network namespaces (not root, or a
    container without CAP_NET_ADMIN) nothing here can run: report the
    whole file as skipped to meson (exit status 77), saying why."""
    probe = f"synack-probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"interop: cannot create a network namespace ({r.stderr.strip()}): skipped")
        os._exit(77)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    remove_stale_hugepage_files()


def remove_stale_hugepage_files():
    """A test killed by its timeout cleans nothing up: EAL page files it
    left behind (ours are named synack-it-*) would hold the hugepages that
    the next test needs. Removes those no live process maps."""
    mapped = set()
    for maps in pathlib.Path("/proc").glob("[0-9]*/maps"):
        try:
            mapped.update(line.split()[-1] for line in maps.read_text().splitlines() if "synack-it-" in line)
        except OSError:
            pass  # the process is gone
    for mount in hugetlbfs_mounts():
        for f in mount.glob("synack-it-*"):
            if str(f) not in mapped:
                f.unlink(missing_ok=True)


def run(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


class Link:
    """A namespace with the kernel at .peer_ip, the host end for synack."""

    def __init__(self):
        n = next(_counter)
        tag = f"{os.getpid() % 100000}{n}"
        self.ns = f"synack-it-{tag}"
        self.host_if = f"si{tag}a"[:15]
        self.peer_if = f"si{tag}b"[:15]
        self.net = f"10.{100 + (os.getpid() + n) % 150}.{n % 250}"
        self.peer_ip = f"{self.net}.1"
        self.synack_ip = f"{self.net}.2"
        run("ip", "netns", "add", self.ns)
        run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.peer_if)
        run("ip", "link", "set", self.peer_if, "netns", self.ns)
        run("ip", "link", "set", self.host_if, "up")
        run("ip", "-n", self.ns, "link", "set", "lo", "up")
        run("ip", "-n", self.ns, "link", "set", self.peer_if, "up")
        run("ip", "-n", self.ns, "addr", "add", f"{self.peer_ip}/24", "dev", self.peer_if)
        # AF_PACKET would otherwise receive unfinished checksums.
        run("ethtool", "-K", self.host_if, "tx", "off", check=False)
        run("ip", "netns", "exec", self.ns, "ethtool", "-K", self.peer_if, "tx", "off", check=False)

    def peer(self, action, port, arg=0, timeout=120, check=True):
        """Runs peer.py ACTION in the namespace; returns its JSON."""
        r = run("ip", "netns", "exec", self.ns, "/usr/bin/python3", str(PEER), action, self.synack_ip, str(port),
                str(arg), check=False, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"peer {action} failed ({r.returncode}): {r.stdout} {r.stderr}")
        return json.loads(r.stdout) if r.stdout.strip() else {}

    def tap_if(self):
        """The name for a TAP PMD interface of this link."""
        return f"st{self.host_if[2:]}"[:15]

    def attach_tap(self):
        """Moves the TAP PMD's interface (made in our namespace when
        synack-bench started) into the link's namespace, where the kernel
        peer's address moves to it."""
        tap = self.tap_if()
        run("ip", "link", "set", tap, "netns", self.ns)
        self.sh("ip", "addr", "flush", "dev", self.peer_if)
        self.sh("ip", "link", "set", tap, "up")
        self.sh("ip", "addr", "add", f"{self.peer_ip}/24", "dev", tap)
        self.sh("ethtool", "-K", tap, "tx", "off", check=False)
        time.sleep(0.5)

    def sh(self, *cmd, check=True):
        return run("ip", "netns", "exec", self.ns, *cmd, check=check)

    def remove(self):
        run("ip", "link", "del", self.host_if, check=False)
        run("ip", "netns", "del", self.ns, check=False)


def hugetlbfs_mounts():
    """The mount points of hugetlbfs, where EAL keeps its page files."""
    mounts = pathlib.Path("/proc/mounts").read_text().splitlines()
    return [pathlib.Path(m.split()[1]) for m in mounts if m.split()[2:3] == ["hugetlbfs"]]


class Bench:
    """synack-bench serving on the host end of a Link."""

    def __init__(self, path, link, *args, vdev=None, telemetry=False, hugepages=False, lcores="0"):
        self.link = link
        vdev = vdev or f"net_af_packet0,iface={link.host_if}"
        # With telemetry, EAL makes its socket under /var/run/dpdk/<prefix>/.
        # With hugepages it also shares its memory there and in <prefix>map_*
        # page files, so that a secondary process (dpdk-dumpcap) can attach.
        self.prefix = link.ns if telemetry or hugepages else None
        self.hugepages = hugepages
        if hugepages:
            # 64 pages of 2 MiB: the machine may have no more than 256, for
            # the secondary process too.
            eal = ["--file-prefix", self.prefix, "-m", "128"]
        else:
            shared = ["--file-prefix", self.prefix] if telemetry else ["--no-telemetry"]
            eal = ["--no-huge", "--no-shconf", *shared, "-m", "512"]
        cmd = [path, "-l", lcores, "--no-pci", *eal, "--log-level=lib.*:error", f"--vdev={vdev}",
               "--", "server", "--ip", f"{link.synack_ip}/24", "--max-connections", "4096", *args]
        self.log = open(f"/tmp/{link.ns}.log", "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 20
        while "listening" not in self.output():
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"synack-bench did not start: {self.output()}")
            time.sleep(0.05)

    def output(self):
        self.log.flush()
        return pathlib.Path(self.log.name).read_text()

    def connections(self):
        """The connection count of the latest once-a-second line, or None."""
        lines = [l for l in self.output().splitlines() if " conns " in l]
        return int(lines[-1].split(" conns ")[1].split()[0]) if lines else None

    def wait_connections(self, want=0, timeout=15):
        """Waits until a once-a-second line reports `want` connections."""
        deadline = time.time() + timeout
        seen = len(self.output().splitlines())
        while time.time() < deadline:
            fresh = self.output().splitlines()[seen:]
            if any(" conns " in l and int(l.split(" conns ")[1].split()[0]) == want for l in fresh):
                return True
            time.sleep(0.2)
        return False

    def stop(self):
        """SIGINT; returns the JSON summary. Fails if it did not exit cleanly."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=20)
        out = self.output()
        assert self.proc.returncode == 0, f"synack-bench exited {self.proc.returncode}:\n{out}"
        return json.loads(out.strip().splitlines()[-1])

    def telemetry(self, *commands):
        """dpdk-telemetry.py's answers to the commands, as one dict."""
        r = run("dpdk-telemetry.py", "-f", self.prefix, input="\n".join(commands) + "\n", timeout=20)
        answers = {}
        for line in r.stdout.splitlines():
            if line.startswith("{"):
                answers.update(json.loads(line))
        return answers

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.prefix:
            shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        if self.hugepages:
            # EAL leaves its page files behind when it exits.
            for mount in hugetlbfs_mounts():
                for f in mount.glob(f"{self.prefix}map_*"):
                    f.unlink(missing_ok=True)
        self.log.close()
        pathlib.Path(self.log.name).unlink(missing_ok=True)


def run_client(path, link, *args, timeout=120, lcores="0", vdev=None):
    """synack-bench as the client on the host end of a Link: returns
    (exit status, JSON summary, all output)."""
    vdev = vdev or f"net_af_packet0,iface={link.host_if}"
    cmd = [path, "-l", lcores, "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry", "-m", "512",
           "--log-level=lib.*:error", f"--vdev={vdev}", "--", "client",
           "--ip", f"{link.synack_ip}/24", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = r.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return r.returncode, summary, r.stdout + r.stderr


@pytest.fixture
def link():
    lk = Link()
    try:
        yield lk
    finally:
        lk.remove()


@pytest.fixture
def bench(request, link):
    started = []

    def start(*args, **kw):
        b = Bench(request.config.getoption("--bench"), link, *args, **kw)
        started.append(b)
        return b

    try:
        yield start
    finally:
        for b in started:
            b.kill()
