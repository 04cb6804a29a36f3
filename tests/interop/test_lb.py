"""synack-lb between Linux clients and three Linux backends. The test's
namespace holds the clients (at .1) and the backends (at .11, .12, .13,
echo servers from lb_backend.py); synack-lb runs on AF_PACKET at the host
end of the veth pair (.2), and every byte goes client -> synack-lb ->
backend and back."""
import json
import pathlib
import signal
import subprocess
import time

import pytest

from conftest import HERE, Link, run

PORT = 7000
BACKEND_PORT = 8000


class Balancer:
    """synack-lb and its three backends on a Link."""

    def __init__(self, lb_path, link, *args):
        self.link = link
        self.backends = [f"{link.net}.{11 + i}" for i in range(3)]
        self.logs = [pathlib.Path(f"/tmp/{link.ns}-b{i}.log") for i in range(3)]
        self.servers = []
        for address, log in zip(self.backends, self.logs):
            link.sh("ip", "addr", "add", f"{address}/24", "dev", link.peer_if)
            log.write_text("")
        time.sleep(1.5)  # duplicate address detection is for IPv6; ARP needs nothing, the addresses settle
        for address, log in zip(self.backends, self.logs):
            self.start_backend(address, log)
        cmd = [lb_path, "-l", "0", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry", "-m", "512",
               "--log-level=lib.*:error", f"--vdev=net_af_packet0,iface={link.host_if}", "--",
               "--ip", f"{link.synack_ip}/24", "--listen", str(PORT), "--max-connections", "8192",
               "--down-time", "30", "--connect-retries", "1",
               *[a for b in self.backends for a in ("--backend", f"{b}:{BACKEND_PORT}")], *args]
        self.log = open(f"/tmp/{link.ns}-lb.log", "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 20
        while "listening on" not in self.output():
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"synack-lb did not start: {self.output()}")
            time.sleep(0.05)

    def start_backend(self, address, log):
        p = subprocess.Popen(["ip", "netns", "exec", self.link.ns, "/usr/bin/python3", str(HERE / "lb_backend.py"),
                              address, str(BACKEND_PORT), str(log)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        self.servers.append(p)
        return p

    def client(self, *args, timeout=180):
        r = run("ip", "netns", "exec", self.link.ns, "/usr/bin/python3", str(HERE / "lb_client.py"), args[0],
                self.link.synack_ip, str(PORT), *map(str, args[1:]), timeout=timeout, check=False)
        assert r.returncode == 0, f"client {args} failed: {r.stdout} {r.stderr}\n{self.output()}"
        return json.loads(r.stdout.strip().splitlines()[-1])

    def output(self):
        self.log.flush()
        return pathlib.Path(self.log.name).read_text()

    def stop(self):
        """SIGINT; returns the JSON summary."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=20)
        out = self.output()
        assert self.proc.returncode == 0, f"synack-lb exited {self.proc.returncode}:\n{out}"
        return json.loads(out.strip().splitlines()[-1])

    def remove(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for p in self.servers:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.log.close()
        pathlib.Path(self.log.name).unlink(missing_ok=True)
        for log in self.logs:
            log.unlink(missing_ok=True)


@pytest.fixture
def lb_path(request):
    path = request.config.getoption("--lb")
    if path is None:
        pytest.skip("no --lb given")
    return path


@pytest.fixture
def balancer(lb_path):
    link = Link()
    b = None
    try:
        b = Balancer(lb_path, link)
        yield b
    finally:
        if b is not None:
            b.remove()
        link.remove()


def test_lb_spreads_1000_concurrent_echo_connections_over_three_backends_round_robin(balancer):
    out = balancer.client("echo", 1000, 200)
    assert out == {"ok": 1000, "failed": 0}
    summary = balancer.stop()
    per = [b["connections"] for b in summary["backends"]]
    assert sum(per) == 1000
    assert max(per) - min(per) <= 1, per  # round robin over three that are all up
    assert summary["accepted"] == 1000
    assert summary["no_backend"] == 0 and summary["backend_failed"] == 0


def test_lb_maglev_spreads_clients_and_moves_none_while_all_stay_up(lb_path):
    link = Link()
    b = None
    try:
        b = Balancer(lb_path, link, "--policy", "maglev")
        assert b.client("echo", 600, 100) == {"ok": 600, "failed": 0}
        per = [x["connections"] for x in b.stop()["backends"]]
        assert sum(per) == 600
        assert min(per) > 600 / 3 * 0.6, per  # hashed: each backend gets a fair share
    finally:
        if b is not None:
            b.remove()
        link.remove()


def test_lb_carries_100_mib_each_way_intact(balancer):
    out = balancer.client("bulk", 100 << 20)
    assert out["sent"] == 100 << 20 and out["got"] == 100 << 20, out
    assert out["same"], "the echo's SHA-256 differs from what was sent"
    summary = balancer.stop()
    assert sum(b["bytes_to"] for b in summary["backends"]) == 100 << 20
    assert sum(b["bytes_from"] for b in summary["backends"]) == 100 << 20
    print(f"100 MiB each way through synack-lb in {out['seconds']:.2f} s")


def test_lb_passes_half_close_both_ways(balancer):
    # The client's FIN reaches the backend (which then finishes its echo and
    # closes), and the backend's FIN reaches the client as EOF.
    out = balancer.client("halfclose", 300000)
    assert out == {"same": True, "eof": True}
    assert balancer.stop()["half_closes"] >= 2


def test_lb_a_backend_reset_reaches_the_client(balancer):
    assert balancer.client("reset") == {"reset": True}
    assert balancer.stop()["resets_forwarded"] >= 1


def test_lb_a_client_abort_reaches_its_backend(balancer):
    assert balancer.client("abort") == {"aborted": True}
    deadline = time.time() + 10
    while time.time() < deadline and not any("reset" in log.read_text() for log in balancer.logs):
        time.sleep(0.1)
    assert any("reset" in log.read_text() for log in balancer.logs), [l.read_text() for l in balancer.logs]


def test_lb_marks_a_stopped_backend_down_and_sends_new_clients_elsewhere(balancer):
    stopped = balancer.servers[1]
    stopped.kill()
    stopped.wait()
    # Linux answers a SYN to a closed port with a RST: the client whose
    # backend it was is reset, the backend is marked down, and the others
    # take every later client.
    first = balancer.client("echo", 30, 100)
    assert first["ok"] >= 20 and first["failed"] <= 10, first
    later = balancer.client("echo", 60, 100)
    assert later == {"ok": 60, "failed": 0}
    summary = balancer.stop()
    down = summary["backends"][1]
    assert down["failures"] >= 1
    assert summary["backend_failed"] == down["failures"]
    # After it was marked down no client went to it.
    assert down["connections"] == down["failures"], summary
    assert summary["connections_at_exit"] == 0


def test_lb_rejects_bad_options_naming_them(lb_path):
    eal = [lb_path, "-l", "0", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry", "-m", "256",
           "--log-level=lib.*:error", "--vdev=net_null0", "--"]
    cases = [
        (["--ip", "10.0.0.2/24", "--listen", "80"], "option --backend is required"),
        (["--ip", "10.0.0.2/24", "--backend", "10.0.0.3:80"], "option --listen is required"),
        (["--ip", "10.0.0.2/24", "--listen", "80", "--backend", "10.0.0.3"], "option --backend: '10.0.0.3'"),
        (["--ip", "10.0.0.2/24", "--listen", "80", "--backend", "10.0.0.3:80", "--backend", "10.0.0.3:80"],
         "is given twice"),
        (["--ip", "10.0.0.2/24", "--listen", "0", "--backend", "10.0.0.3:80"], "option --listen: '0'"),
        (["--ip", "10.0.0.2/24", "--listen", "80", "--backend", "224.0.0.1:80"], "multicast"),
        (["--ip", "10.0.0.2/24", "--listen", "80", "--backend", "10.0.0.3:80", "--policy", "random"],
         "option --policy: 'random'"),
        (["--ip", "10.0.0.2/24", "--listen", "80", "--backend", "10.0.0.3:80", "--down-time", "-1"],
         "option --down-time"),
        (["--ip", "10.0.0.2/24", "--listen", "80", "--backend", "10.0.0.2:80"], "balancer's own address"),
        (["--ip", "10.0.0.2/24", "--listen", "80", "--backend", "10.0.0.3:80", "--config", "/dev/zero"],
         "option --config: '/dev/zero' is not a regular file"),
    ]
    for args, message in cases:
        r = subprocess.run(eal + args, capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert message in r.stderr, (args, r.stderr)
