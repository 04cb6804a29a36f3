"""synack-lb against HAProxy (mode tcp) in one topology and one run.

A namespace holds the clients (.1) and three Linux echo backends (.11, .12,
.13, tests/interop/lb_backend.py); the balancer sits at .2 on the host end
of the veth pair: synack-lb on AF_PACKET, then HAProxy on the kernel's
stack with .2 on that interface. The same clients measure both:
connections/s (many short echo connections, 64 bytes each) and the time to
carry 100 MiB each way over one connection. Prints a table and one JSON line.

Usage: /usr/bin/python3 bench/lb_compare.py SYNACK_LB [CONNECTIONS]"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "interop"))

from conftest import Link, run  # noqa: E402
from test_lb import BACKEND_PORT, PORT, Balancer  # noqa: E402


def measure(balancer, connections):
    start = time.time()
    echo = balancer.client("echo", connections, 64, timeout=600)
    cps = connections / (time.time() - start)
    bulk = balancer.client("bulk", 100 << 20, timeout=600)
    return {"connections_per_second": round(cps), "echo_failed": echo["failed"],
            "bulk_seconds": round(bulk["seconds"], 2), "bulk_intact": bulk["same"]}


def haproxy_config(link, backends):
    servers = "\n".join(f"    server b{i} {b}:{BACKEND_PORT}" for i, b in enumerate(backends))
    return f"""global
    maxconn 8000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend lb
    bind {link.synack_ip}:{PORT}
    default_backend echo
backend echo
    balance roundrobin
{servers}
"""


def main():
    lb_path = sys.argv[1]
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    link = Link()
    b = None
    results = {}
    try:
        b = Balancer(lb_path, link)
        results["synack-lb"] = measure(b, connections)
        b.stop()
        # The same place in the topology, on the kernel's stack.
        run("ip", "addr", "add", f"{link.synack_ip}/24", "dev", link.host_if)
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
            cfg.write(haproxy_config(link, b.backends))
        haproxy = subprocess.Popen(["haproxy", "-f", cfg.name, "-db"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(1)
        try:
            results["haproxy"] = measure(b, connections)
        finally:
            haproxy.send_signal(signal.SIGTERM)
            haproxy.wait(timeout=20)
            os.unlink(cfg.name)
    finally:
        if b is not None:
            b.remove()
        link.remove()
    s, h = results["synack-lb"], results["haproxy"]
    print(f"{'':<12} {'conn/s':>10} {'100 MiB each way':>18}")
    for name, r in results.items():
        print(f"{name:<12} {r['connections_per_second']:>10,} {r['bulk_seconds']:>16.2f} s")
    print(f"{'ratio':<12} {s['connections_per_second'] / h['connections_per_second']:>10.2f}x "
          f"{h['bulk_seconds'] / s['bulk_seconds']:>16.2f}x")
    print(json.dumps({"connections": connections, **results}))


main()
