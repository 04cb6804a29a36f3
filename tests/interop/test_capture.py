"""Packet capture the DPDK way: dpdk-dumpcap, a secondary process, attaches
to synack-bench (running on hugepages, with its own --file-prefix) and
writes what the port receives and transmits to a pcapng file; tshark reads
the file back with every frame whole: the handshake, data, FINs and a ping,
in both directions, and nothing malformed."""
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import hugetlbfs_mounts, run

# synack-bench takes 128 MiB; dpdk-dumpcap's ring and mempool (about 10 MiB)
# come from the same shared memory. The rest is headroom.
HUGEPAGE_BYTES_NEEDED = 192 << 20
PORT = 5001
ECHO_BYTES = 5000  # four segments each way at an MSS of 1460
INBOUND, OUTBOUND = 1, 2  # pcapng's epb_flags direction


def missing_prerequisite():
    """Why the capture cannot run here, or None."""
    for tool in ("dpdk-dumpcap", "tshark"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/setup.sh installs it)"
    if not hugetlbfs_mounts():
        return "no hugetlbfs is mounted (scripts/setup.sh mounts /dev/hugepages)"
    info = dict(l.split(":", 1) for l in pathlib.Path("/proc/meminfo").read_text().splitlines())
    free = int(info["HugePages_Free"]) * int(info["Hugepagesize"].split()[0]) * 1024
    if free < HUGEPAGE_BYTES_NEEDED:
        return (f"{free >> 20} MiB of hugepages free, {HUGEPAGE_BYTES_NEEDED >> 20} MiB needed "
                "(scripts/setup.sh reserves them)")
    return None


def dumpcap_count(stderr_text):
    """The packet count dpdk-dumpcap last showed (it rewrites it in place)."""
    shown = stderr_text.partition("Packets captured:")[2].replace("\b", " ").split()
    return int(shown[-1]) if shown and shown[-1].isdigit() else 0


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def tshark(*args):
    r = run("tshark", *args, check=False, timeout=60)
    assert r.returncode == 0, f"tshark {' '.join(args)} failed ({r.returncode}): {r.stderr}"
    return r.stdout


def test_dumpcap_capture_opens_in_tshark_with_nothing_malformed(link, bench):
    reason = missing_prerequisite()
    if reason:
        pytest.skip(reason)
    # A smaller pool than the default 65535 mbufs, which would take 150 MiB.
    b = bench("--mode", "echo", "--listen", str(PORT), "--mbufs", "8191", hugepages=True)
    assert "packet capture on" in b.output()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f"{link.ns}-capture-"))
    capture = tmp / "synack.pcapng"
    err = open(tmp / "dumpcap.err", "w+")
    # -p: leave the port's promiscuous mode as synack set it.
    cmd = ["dpdk-dumpcap", "--file-prefix", b.prefix, "-i", "net_af_packet0", "-p", "-w", str(capture)]
    dumpcap = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True)
    try:
        stderr = lambda: (tmp / "dumpcap.err").read_text(errors="replace")
        # The count appears once the primary has installed its callbacks.
        wait_for(lambda: "Packets captured:" in stderr() or dumpcap.poll() is not None, 20, "dpdk-dumpcap")
        assert dumpcap.poll() is None, f"dpdk-dumpcap exited {dumpcap.returncode}: {stderr()}"

        # The port's frame count, as the run loop publishes it ten times a
        # second. Frames from before the capture (synack's ARP announcement,
        # the kernel's IPv6 chatter on a fresh link) are not in the capture.
        def moved():
            stats = b.telemetry("/synack/stats")["/synack/stats"]
            return stats["rx_packets"] + stats["tx_packets"]
        time.sleep(0.3)
        before = moved()

        assert link.peer("echo", PORT, ECHO_BYTES)["ok"]
        assert link.peer("ping", 0)["ok"]
        assert b.wait_connections(0)
        time.sleep(0.3)

        # dpdk-dumpcap does not drain its ring when told to stop: wait until
        # it has written at least what the port moved since (frames that came
        # between the start of the capture and `before` only make this
        # easier; a frame lost at the stop still fails the count below).
        wait_for(lambda: dumpcap_count(stderr()) >= moved() - before, 10, "dpdk-dumpcap to write every frame")

        dumpcap.send_signal(signal.SIGINT)
        dumpcap.wait(timeout=20)
        assert dumpcap.returncode == 0, f"dpdk-dumpcap exited {dumpcap.returncode}: {stderr()}"
        # "Packets received/dropped on interface 'net_af_packet0': 23/0 (100.0)"
        m = re.search(r"received/dropped on interface '[^']*': (\d+)/(\d+)", stderr())
        assert m, stderr()
        received, dropped = int(m[1]), int(m[2])
        assert dropped == 0

        frames = tshark("-r", str(capture), "-T", "fields", "-e", "frame.number").split()
        assert len(frames) == received
        assert tshark("-r", str(capture), "-Y", "_ws.malformed") == ""
        assert tshark("-r", str(capture), "-Y", "_ws.expert.severity == error") == ""

        rows = [l.split("\t") for l in tshark(
            "-r", str(capture), "-Y", f"tcp.port == {PORT} || icmp", "-T", "fields",
            "-e", "frame.packet_flags_direction", "-e", "ip.src", "-e", "tcp.flags", "-e", "tcp.len",
            "-e", "icmp.type").splitlines()]
        seen = [(int(d, 16), src, int(flags, 16) if flags else None, int(n) if n else 0, icmp)
                for d, src, flags, n, icmp in rows]
        peer, us = link.peer_ip, link.synack_ip

        def tcp(direction, src, want, unwanted=0):
            return [s for s in seen if s[0] == direction and s[1] == src and s[2] is not None
                    and s[2] & want == want and s[2] & unwanted == 0]
        syn, ack, fin = 0x02, 0x10, 0x01
        assert len(tcp(INBOUND, peer, syn, ack)) == 1
        assert len(tcp(OUTBOUND, us, syn | ack)) == 1
        assert sum(s[3] for s in tcp(INBOUND, peer, ack)) >= ECHO_BYTES
        assert sum(s[3] for s in tcp(OUTBOUND, us, ack)) >= ECHO_BYTES
        assert len(tcp(INBOUND, peer, fin)) >= 1
        assert len(tcp(OUTBOUND, us, fin)) >= 1
        assert (INBOUND, peer, None, 0, "8") in seen  # echo request
        assert (OUTBOUND, us, None, 0, "0") in seen  # echo reply

        s = b.stop()
        assert s["accepted"] == 1
        assert s["icmp_echo_replies"] == 1
    finally:
        if dumpcap.poll() is None:
            dumpcap.send_signal(signal.SIGINT)
            try:
                dumpcap.wait(timeout=10)
            except subprocess.TimeoutExpired:
                dumpcap.kill()
                dumpcap.wait()
        err.close()
        shutil.rmtree(tmp, ignore_errors=True)
