"""synack-bench's benchmark workloads across the kernel boundary, short runs
whose figures are not asserted: each client mode of synack (rps closed and
open loop, cps with either side closing first, bulk up, down and both)
against a Linux server, and the same workloads from Linux sockets
(synack-bench --stack kernel, in the namespace) against a synack server
serving every mode at once on its ports."""
import json
import signal
import subprocess
import time

from conftest import run_client

KERNEL_EAL = ["-l", "0", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry", "-m", "64",
              "--log-level=lib.*:error", "--"]
PORTS = {"echo": 7101, "rr": 7102, "sink": 7103, "source": 7104, "hold": 7105}
LISTEN = [f"{p}:{m}" for m, p in PORTS.items()]
# What the rr port answers: both ends are told the sizes.
RR = ["--request-size", "100", "--response-size", "3000"]


class KernelServer:
    """synack-bench --stack kernel server in the link's namespace: Linux serving."""

    def __init__(self, bench, link, *args):
        cmd = ["ip", "netns", "exec", link.ns, bench, *KERNEL_EAL, "server", "--stack", "kernel",
               "--ip", f"{link.peer_ip}/24", "--listen", *LISTEN, "--bytes", "0", *RR, *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        assert "listening on" in line, line + self.proc.stdout.read() if self.proc.poll() is not None else line

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, out
        return json.loads(out.strip().splitlines()[-1])


def kernel_client(bench, link, target, *args):
    """synack-bench --stack kernel client in the namespace; its JSON."""
    r = subprocess.run(["ip", "netns", "exec", link.ns, bench, *KERNEL_EAL, "client", "--stack", "kernel",
                        "--connect", target, "--warmup", "0.3", "--duration", "1.5", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def synack_client(request, link, port, *args):
    rc, s, out = run_client(request.config.getoption("--bench"), link, "--connect", f"{link.peer_ip}:{port}",
                            "--warmup", "0.3", "--duration", "1.5", *args)
    assert rc == 0, out
    return s, out


def test_synack_clients_against_a_linux_server(link, request):
    server = KernelServer(request.config.getoption("--bench"), link)
    try:
        s, out = synack_client(request, link, PORTS["echo"], "--workload", "rps", "--connections", "8")
        assert s["requests"] > 0 and s["client"]["failed"] == 0, out
        assert s["latency_ns"]["count"] == s["requests"] and s["latency_ns"]["p50"] > 0
        s, out = synack_client(request, link, PORTS["echo"], "--workload", "rps", "--connections", "8",
                               "--pipeline", "4", "--rate", "2000")
        assert s["client"]["failed"] == 0 and 1000 < s["requests_per_s"] < 3000, out  # open loop: the rate asked
        s, out = synack_client(request, link, PORTS["rr"], "--workload", "rps", "--connections", "4", *RR)
        assert s["requests"] > 0 and s["client"]["bytes_in"] >= 3000 * s["requests"], out
        s, out = synack_client(request, link, PORTS["rr"], "--workload", "cps", "--connections", "4",
                               "--close-first", "client", *RR)
        assert s["requests"] > 0 and s["client"]["failed"] == 0, out
        s, out = synack_client(request, link, PORTS["sink"], "--workload", "bulk", "--connections", "2")
        assert s["client"]["bytes_out"] > 1 << 20, out
        s, out = synack_client(request, link, PORTS["source"], "--workload", "bulk", "--direction", "down")
        assert s["client"]["bytes_in"] > 1 << 20, out
        s, out = synack_client(request, link, PORTS["sink"], "--workload", "bulk", "--direction", "both")
        assert s["client"]["bytes_out"] > 1 << 20, out
    finally:
        result = server.stop()
    assert result["server"]["pattern_errors"] == 0  # the sink checked every byte it got
    assert result["server"]["bytes_in"] > 1 << 20
    # The server closes first: it has to be told (its rr ports close after answering).
    server = KernelServer(request.config.getoption("--bench"), link, "--close-first", "server")
    try:
        s, out = synack_client(request, link, PORTS["rr"], "--workload", "cps", "--connections", "4",
                               "--close-first", "server", *RR)
        assert s["requests"] > 0 and s["client"]["failed"] == 0, out
    finally:
        server.stop()


def test_linux_clients_against_a_synack_server(link, bench, request):
    path = request.config.getoption("--bench")
    b = bench("--listen", *LISTEN, "--bytes", "0", "--close-first", "server", *RR)
    target = f"{link.synack_ip}"
    s = kernel_client(path, link, f"{target}:{PORTS['echo']}", "--workload", "rps", "--connections", "8")
    assert s["requests"] > 0 and s["client"]["failed"] == 0
    s = kernel_client(path, link, f"{target}:{PORTS['rr']}", "--workload", "cps", "--connections", "4",
                      "--close-first", "server", *RR)
    assert s["requests"] > 0 and s["client"]["failed"] == 0
    s = kernel_client(path, link, f"{target}:{PORTS['sink']}", "--workload", "bulk", "--connections", "2")
    assert s["client"]["bytes_out"] > 1 << 20
    s = kernel_client(path, link, f"{target}:{PORTS['source']}", "--workload", "bulk", "--direction", "down")
    assert s["client"]["bytes_in"] > 1 << 20
    # hold: accepted and never read, so the window closes: what Linux could
    # send is what fits in the buffers on the way (synack's receive buffer,
    # Linux's send buffer), not a stream.
    s = kernel_client(path, link, f"{target}:{PORTS['hold']}", "--workload", "bulk", "--connections", "1")
    assert s["client"]["bytes_out"] < 16 << 20
    time.sleep(0.2)
    result = b.stop()
    assert result["pattern_errors"] == 0 and result["bytes_in"] > 2 << 20
