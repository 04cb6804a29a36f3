"""synack-bench's options where a real port is needed: --mtu changes the
kernel interface behind an AF_PACKET port and must leave it as it found it,
and the frames the port itself drops on receive (rte_eth_stats_get: imissed,
rx_nombuf, ierrors) show in the once-a-second line, the JSON summary and
telemetry."""
import re
import time

from conftest import run


def mtu_of(interface):
    out = run("ip", "link", "show", interface).stdout
    return int(re.search(r" mtu (\d+) ", out).group(1))


def rx_drops_of_the_last_line(output):
    """(rx_missed, rx_nombuf, rx_errors) of the latest once-a-second line,
    or None before the first."""
    lines = [line for line in output.splitlines() if " conns " in line]
    if not lines:
        return None
    m = re.search(r" rx_missed (\d+) rx_nombuf (\d+) rx_errors (\d+)$", lines[-1])
    assert m, lines[-1]
    return tuple(int(x) for x in m.groups())


def wait_for_line(b, ready, timeout=10):
    """The rx drops of the latest once-a-second line, as soon as they
    satisfy ready(drops) or at the timeout."""
    deadline = time.time() + timeout
    drops = rx_drops_of_the_last_line(b.output())
    while time.time() < deadline and (drops is None or not ready(drops)):
        time.sleep(0.2)
        drops = rx_drops_of_the_last_line(b.output())
    return drops


def test_the_interface_gets_its_own_mtu_back_at_exit(link, bench):
    # Not the usual 1500, so that "back to 1500" would not pass by chance.
    run("ip", "link", "set", link.host_if, "mtu", "1400")
    b = bench("--mode", "echo", "--mtu", "1280")
    assert mtu_of(link.host_if) == 1280
    assert link.peer("echo", 5001, 64 * 1024)["ok"]
    b.stop()
    assert mtu_of(link.host_if) == 1400


def test_the_interface_gets_its_own_mtu_back_when_the_port_fails_after_setting_it(link, request):
    # The MTU is set, then the mbuf pool cannot be made in 256 MiB: the port
    # is closed on the error path and the interface's MTU put back.
    run("ip", "link", "set", link.host_if, "mtu", "1400")
    r = run(request.config.getoption("--bench"), "-l", "0", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
            "-m", "256", "--log-level=lib.*:error", f"--vdev=net_af_packet0,iface={link.host_if}", "--",
            "server", "--ip", f"{link.synack_ip}/24", "--mtu", "1280", "--mbufs", "16777216", check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "port 0: rte_pktmbuf_pool_create failed" in r.stderr, r.stderr
    assert mtu_of(link.host_if) == 1400


# Engine counters that the JSON summary and telemetry both carry, beside
# the older ones the other tests read.
ENGINE_COUNTERS = ("syn_cookies_sent", "syn_cookies_accepted", "syn_cookies_rejected", "time_wait_compacted",
                   "time_wait_full", "challenge_acks", "invalid_acks_limited", "icmp_errors_sent",
                   "icmp_errors_limited", "tx_queue_full", "events_lost")


def test_the_ports_receive_drops_are_in_the_line_the_json_and_telemetry(link, bench):
    b = bench("--mode", "echo", telemetry=True, lcores="0-1")
    assert link.peer("echo", 5001, 1)["ok"]
    assert b.wait_connections(0)
    time.sleep(0.3)  # the run loops publish ten times a second
    drops = wait_for_line(b, lambda d: True)
    assert drops is not None and all(isinstance(n, int) for n in drops), b.output()
    t = b.telemetry("/synack/stats", "/synack/lcore,0", "/synack/lcore,1")
    for name in ("/synack/stats", "/synack/lcore"):
        for key in ("rx_missed", "rx_nombuf", "rx_errors", *ENGINE_COUNTERS):
            assert isinstance(t[name][key], int), (name, key, t[name])
    s = b.stop()
    for key in ("rx_missed", "rx_nombuf", "rx_errors"):
        assert isinstance(s["port"][key], int), s["port"]
    for key in ENGINE_COUNTERS:
        assert isinstance(s[key], int), (key, s)
    assert s["tcp_drops"] and all(isinstance(n, int) for n in s["tcp_drops"].values()), s


def test_frames_too_long_for_the_ports_mbufs_show_as_rx_errors_counted_once(link, bench):
    # The kernel's side of a TAP port is given an MTU beyond what the port's
    # mbufs hold (its MTU is 1500): TAP receives such a frame truncated and
    # drops it as a receive error. Two loops: the port's count is published
    # once, not once per loop.
    b = bench("--mode", "echo", telemetry=True, lcores="0-1", vdev=f"net_tap0,iface={link.tap_if()}")
    link.attach_tap()
    link.sh("ip", "link", "set", link.tap_if(), "mtu", "4000")
    frames = 5
    code = f"""
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("{link.tap_if()}", 0))
for _ in range({frames}):
    s.send(b"\\xff" * 6 + b"\\x02" * 6 + b"\\x08\\x00" + bytes(3000))
"""
    r = link.sh("/usr/bin/python3", "-c", code, check=False)
    assert r.returncode == 0, r.stderr
    drops = wait_for_line(b, lambda d: d[2] >= frames)
    assert drops == (0, 0, frames), b.output()
    time.sleep(0.3)  # both loops have published since
    stats = b.telemetry("/synack/stats")["/synack/stats"]
    per = [b.telemetry(f"/synack/lcore,{i}")["/synack/lcore"] for i in (0, 1)]
    assert stats["rx_errors"] == frames, stats
    assert [p["rx_errors"] for p in per] == [frames, 0]  # held by loop 0 alone
    s = b.stop()
    assert s["port"]["rx_errors"] == frames, s["port"]
