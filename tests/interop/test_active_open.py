"""synack opens the connection (active open) to a Linux echo server: 10 MiB
echoed back intact, then closed first by synack, and in another run first
by Linux."""
import subprocess
import time

from conftest import PEER, run_client

MIB = 1 << 20


def start_linux_echo(link, port, count, size, close_first):
    arg = count * 10**9 + size * 10 + (1 if close_first else 0)
    p = subprocess.Popen(["ip", "netns", "exec", link.ns, "/usr/bin/python3", str(PEER), "echo_server",
                          link.peer_ip, str(port), str(arg)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "listening"
    return p


def finish(p):
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0, out
    return out


def test_10_mib_echoed_then_closed_first_by_synack(link, request):
    server = start_linux_echo(link, 7001, 1, 10 * MIB, close_first=False)
    rc, s, out = run_client(request.config.getoption("--bench"), link,
                            "--connect", f"{link.peer_ip}:7001", "--bytes", str(10 * MIB))
    assert rc == 0, out
    assert s["completed"] == 1 and s["echo_errors"] == 0 and s["bytes_in"] == 10 * MIB
    assert s["arp_requests"] >= 1  # synack resolved Linux itself
    finish(server)


def test_10_mib_echoed_then_closed_first_by_linux(link, request):
    server = start_linux_echo(link, 7002, 1, 10 * MIB, close_first=True)
    rc, s, out = run_client(request.config.getoption("--bench"), link,
                            "--connect", f"{link.peer_ip}:7002", "--bytes", str(10 * MIB), "--close-first", "server")
    assert rc == 0, out
    assert s["completed"] == 1 and s["echo_errors"] == 0
    finish(server)


def test_connect_to_a_closed_port_is_refused(link, request):
    rc, s, out = run_client(request.config.getoption("--bench"), link, "--connect", f"{link.peer_ip}:7999",
                            "--bytes", "10")
    assert rc == 1, out
    assert s["failed"] == 1 and s["connected"] == 0
