"""A spoofed SYN flood (RFC 4987) while a Linux client keeps opening
connections: at least 99% of the legitimate handshakes complete during the
flood (and before and after it), and synack's memory stays flat.

The flood: synflood.c, built by the test, from a raw socket in the peer's
namespace, at FLOOD_PPS for FLOOD_SECONDS, every source a random address of
the benchmarking range 198.18.0.0/15 (RFC 2544), out of the test's own veth
only. synack serves as if behind a router: those sources are off its link,
so its SYN-ACKs go to its gateway (the namespace's kernel, resolved by ARP
once as any next hop), which drops them on arrival (nftables, ingress),
where they are counted. A SYN-ACK to a spoofed source thus costs synack what it would in
service: a frame out, a half-open connection or a cookie, retransmissions.

The client (this file run as a program in the namespace) starts an attempt
at a steady CLIENT_RATE (connect, echo one byte, close), whatever became of
the earlier ones, and records each; the test places them against the
flood's start and end.

Figures are printed (a table, then one JSON line) for the notes, whether
the test passes or not. The only threshold is the issue's 99% of
handshakes; the flood's rate is reported, not asserted."""
import json
import os
import pathlib
import select
import socket
import subprocess
import sys
import threading
import time

HERE = pathlib.Path(__file__).parent
PORT = 5001
# The issue asks for at least 100,000 SYN/s; the sender is rate-limited to
# a little more, as it runs on a shared CPU and falls behind at times.
FLOOD_PPS = 110_000
FLOOD_SECONDS = 20
BEFORE_SECONDS = 5
AFTER_SECONDS = 5
ATTEMPT_TIMEOUT_S = 3  # Linux retries a SYN after 1 s: one retry fits
CLIENT_RATE = 1000     # legitimate attempts per second
MIN_COMPLETED = 0.99   # of the legitimate handshakes, in each phase
# synack's resident memory may grow by no more than this during and after
# the flood (it is about 300 MiB, its pools made at start): a SYN may cost
# an entry of a bounded table, not memory of its own; 2 million SYNs leaking
# 8 bytes each would pass it.
RSS_GROWTH_MAX_KIB = 16 * 1024
BENCHMARK_NET = "198.18.0.0/15"
# The AF_PACKET port's receive ring, in frames (the PMD's default is 512):
# sized for a flood, as a server expecting one would size its NIC's rings.
# At 100,000 frames/s the default holds 5 ms, less than a time slice of
# the compilers or tests that share a small machine with the run loop; what
# overflows the ring is lost before synack sees it (DPDK 22.11's af_packet
# does not count it: rx_missed stays 0), legitimate SYNs with the rest.
RX_RING_FRAMES = 16384


# -- the legitimate client, run in the namespace ------------------------------
def client_loop(host: str, port: int, seconds: float, rate: float) -> None:
    """Open loop, as users arrive whatever the server's state: an attempt
    starts every 1/rate s for `seconds`, each connect, echo one byte, close,
    given ATTEMPT_TIMEOUT_S to finish. (A closed loop would bias the
    figures: a failing attempt takes seconds, a completed one a fraction of
    a millisecond, so most attempts would be made while all is well.)
    Prints "started", then one JSON list of [start, outcome, seconds]."""
    import collections
    import errno
    import resource
    import selectors
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = int(rate * ATTEMPT_TIMEOUT_S * 2 + 1024)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft) if hard == resource.RLIM_INFINITY
                                                    else min(max(want, soft), hard), hard))
    sel = selectors.DefaultSelector()
    records = []
    live = collections.deque()  # [start, socket, state], in start order (so in deadline order)

    def finish(a, outcome):
        if a[2] == "done":
            return
        if a[2] != "failed":
            sel.unregister(a[1])
        a[1].close()
        a[2] = "done"
        records.append([round(a[0], 6), outcome, round(time.time() - a[0], 6)])

    print("started", flush=True)
    begin = time.time()
    end = begin + seconds
    n = 0
    while True:
        now = time.time()
        while now < end and begin + n / rate <= now:
            t0 = begin + n / rate
            n += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            a = [t0, s, "connecting"]
            live.append(a)
            err = s.connect_ex((host, port))
            if err not in (0, errno.EINPROGRESS):
                a[2] = "failed"
                finish(a, f"connect_error_{errno.errorcode.get(err, err)}")
            else:
                sel.register(s, selectors.EVENT_WRITE, a)
        while live and live[0][2] == "done":
            live.popleft()
        while live and now - live[0][0] > ATTEMPT_TIMEOUT_S:
            a = live.popleft()
            finish(a, "connect_timeout" if a[2] == "connecting" else "echo_timeout")
        if now >= end and not live:
            break
        wait = max(0.0, min(0.01, begin + n / rate - now)) if now < end else 0.01
        for key, _ in sel.select(wait):
            a = key.data
            s = a[1]
            if a[2] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    finish(a, {errno.ECONNREFUSED: "refused", errno.ECONNRESET: "reset"}.get(
                        err, f"connect_error_{errno.errorcode.get(err, err)}"))
                    continue
                try:
                    s.send(b"x")
                except OSError:
                    finish(a, "echo_failed")
                    continue
                a[2] = "echo"
                sel.modify(s, selectors.EVENT_READ, a)
            else:
                try:
                    got = s.recv(1)
                except BlockingIOError:
                    continue
                except OSError:
                    got = None
                finish(a, "ok" if got == b"x" else "echo_failed")
    print(json.dumps(records), flush=True)


# -- the test -------------------------------------------------------------------
def rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def build_synflood(tmp_path: pathlib.Path) -> pathlib.Path:
    exe = tmp_path / "synflood"
    r = subprocess.run(["cc", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", str(exe),
                        str(HERE / "synflood.c")], capture_output=True, text=True)
    assert r.returncode == 0, f"synflood.c did not build:\n{r.stderr}"
    return exe


def other_cpu() -> list[str]:
    """taskset arguments putting the flood off CPU 0 (where synack's run
    loop polls), when there is another CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    return ["taskset", "-c", str(cpus[-1])] if len(cpus) > 1 and cpus[-1] != 0 else []


def prepare_namespace(link) -> None:
    # The client opens tens of thousands of connections in a minute: ports
    # enough, and TIME-WAIT ports reused (RFC 6191, with timestamps).
    link.sh("sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000")
    link.sh("sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1")
    # synack's answers to spoofed sources reach the namespace's kernel (its
    # gateway) and are dropped as they arrive, before the IP layer: the
    # kernel that delivers them shares the CPUs with synack.
    rules = f"""
table netdev synack_flood {{
    chain in {{
        type filter hook ingress device "{link.peer_if}" priority -500;
        ip daddr {BENCHMARK_NET} tcp flags & (syn | ack) == syn | ack counter drop
        ip daddr {BENCHMARK_NET} counter drop
    }}
}}
"""
    subprocess.run(["ip", "netns", "exec", link.ns, "nft", "-f", "-"], input=rules, text=True, check=True,
                   capture_output=True)


def synacks_to_spoofed(link) -> dict:
    listing = json.loads(link.sh("nft", "-j", "list", "table", "netdev", "synack_flood").stdout)
    counters = [next(e["counter"]["packets"] for e in item["rule"]["expr"] if "counter" in e)
                for item in listing["nftables"] if "rule" in item]
    return {"syn_acks": counters[0], "other": counters[1]}


def host_rx_packets(link) -> int:
    return int(pathlib.Path(f"/sys/class/net/{link.host_if}/statistics/rx_packets").read_text())


def wait_line(proc: subprocess.Popen, want: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        if ready:
            line = proc.stdout.readline()
            if line.strip() == want:
                return
            if not line:
                break
    raise AssertionError(f"the client did not start: {proc.stderr.read() if proc.poll() is not None else ''}")


def phase_figures(records, start: float, end: float) -> dict:
    mine = [r for r in records if start <= r[0] < end]
    completed = sum(1 for r in mine if r[1] == "ok")
    outcomes: dict = {}
    for r in mine:
        outcomes[r[1]] = outcomes.get(r[1], 0) + 1
    seconds = max(end - start, 1e-9)
    return {"seconds": round(seconds, 3), "attempts": len(mine), "completed": completed,
            "completed_ratio": round(completed / len(mine), 4) if mine else None,
            "handshakes_per_s": round(completed / seconds, 1), "outcomes": outcomes}


def test_rfc4987_spoofed_syn_flood_legitimate_handshakes_complete_and_memory_stays_flat(
        link, bench, tmp_path, capsys):
    synflood = build_synflood(tmp_path)
    prepare_namespace(link)
    b = bench("--mode", "echo", "--gateway", link.peer_ip, telemetry=True,
              vdev=f"net_af_packet0,iface={link.host_if},framecnt={RX_RING_FRAMES}")
    pid = b.proc.pid

    # Memory, sampled throughout (a bounded loop, not a synchronisation).
    samples: list[tuple[float, int]] = []
    stop_sampling = threading.Event()

    def sample():
        while not stop_sampling.is_set():
            samples.append((time.time(), rss_kib(pid)))
            stop_sampling.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)

    total = BEFORE_SECONDS + FLOOD_SECONDS + AFTER_SECONDS
    me = str(pathlib.Path(__file__).resolve())
    client = subprocess.Popen(["ip", "netns", "exec", link.ns, "/usr/bin/python3", me, "client", link.synack_ip,
                               str(PORT), str(total), str(CLIENT_RATE)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_line(client, "started", 20)
        sampler.start()
        time.sleep(BEFORE_SECONDS)  # the "before" phase: a measurement window
        rx_before = host_rx_packets(link)
        stats_before = b.telemetry("/synack/stats")["/synack/stats"]
        flood = subprocess.run(["ip", "netns", "exec", link.ns, *other_cpu(), str(synflood), link.peer_if,
                                link.synack_ip, str(PORT), str(FLOOD_PPS), str(FLOOD_PPS * FLOOD_SECONDS),
                                str(FLOOD_SECONDS)], capture_output=True, text=True, timeout=FLOOD_SECONDS + 30)
        assert flood.returncode == 0, f"synflood failed: {flood.stdout} {flood.stderr}"
        rx_flood = host_rx_packets(link) - rx_before
        stats_after = b.telemetry("/synack/stats")["/synack/stats"]
        f = json.loads(flood.stdout)
        out, err = client.communicate(timeout=total + ATTEMPT_TIMEOUT_S + 30)
        assert client.returncode == 0, f"client failed: {err}"
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        stop_sampling.set()
        if sampler.is_alive():
            sampler.join()
    records = json.loads(out.strip().splitlines()[-1])
    s = b.stop()

    # Before: from the client's first attempt; after: to its last.
    first = min([r[0] for r in records], default=f["start"])
    last = max([r[0] + 1e-6 for r in records], default=f["end"])
    phases = {
        "before": phase_figures(records, first, f["start"]),
        "during": phase_figures(records, f["start"], f["end"]),
        "after": phase_figures(records, f["end"], max(last, f["end"])),
    }
    rss = {
        "before_kib": max([v for t, v in samples if t < f["start"]], default=None),
        "during_max_kib": max([v for t, v in samples if f["start"] <= t <= f["end"]], default=None),
        "after_kib": samples[-1][1] if samples else None,
    }
    figures = {
        "flood": {"sent": f["sent"], "seconds": f["seconds"], "pps": f["pps"], "target_pps": FLOOD_PPS,
                  "send_errors": f["send_errors"], "rx_ring_frames": RX_RING_FRAMES,
                  # All frames, the legitimate client's too, while the flood ran: at the
                  # kernel's end of the veth, and as many as synack's run loop took from
                  # its AF_PACKET ring (the rest were dropped there, unseen by synack).
                  "frames_at_interface": rx_flood,
                  "frames_received_by_synack": stats_after["rx_packets"] - stats_before["rx_packets"],
                  "syn_backlog_full_drops": stats_after["drop_syn_backlog_full"] -
                  stats_before["drop_syn_backlog_full"],
                  "syn_acks_to_spoofed": synacks_to_spoofed(link)["syn_acks"]},
        "handshakes": phases,
        "synack_rss": rss,
        "synack": {"syn_backlog_full": s["frame_drops"]["syn_backlog_full"],
                   "no_connection_slot": s["frame_drops"]["no_connection_slot"],
                   "accepted": s["accepted"], "port": s["port"],
                   **{k: s[k] for k in ("syn_cookies_sent", "syn_cookies_accepted", "syn_cookies_rejected")
                      if k in s}},
    }
    fl = figures["flood"]
    table = [f"SYN flood: {f['sent']} SYNs in {f['seconds']:.1f} s = {f['pps']:.0f}/s (limit {FLOOD_PPS}/s"
             f"{'' if f['pps'] >= 100_000 else '; below the 100,000/s asked for: the machine is busy'}), "
             f"receive ring {RX_RING_FRAMES} frames",
             f"while it ran: {fl['frames_at_interface']} frames at synack's interface, "
             f"{fl['frames_received_by_synack']} received by synack, {fl['syn_backlog_full_drops']} SYNs dropped "
             f"as syn_backlog_full, {fl['syn_acks_to_spoofed']} SYN-ACKs to spoofed sources",
             f"{'phase':<8}{'seconds':>9}{'attempts':>10}{'completed':>11}{'ratio':>8}{'hs/s':>9}  outcomes"]
    for name, p in phases.items():
        ratio = "-" if p["completed_ratio"] is None else f"{p['completed_ratio']:.4f}"
        table.append(f"{name:<8}{p['seconds']:>9.1f}{p['attempts']:>10}{p['completed']:>11}{ratio:>8}"
                     f"{p['handshakes_per_s']:>9.1f}  {p['outcomes']}")
    table.append(f"synack RSS (KiB): before {rss['before_kib']}, during (max) {rss['during_max_kib']}, "
                 f"after {rss['after_kib']}; syn_backlog_full drops {figures['synack']['syn_backlog_full']}")
    report = "\n".join(table) + "\n" + json.dumps(figures)
    with capsys.disabled():
        print("\n" + report)

    for name in ("before", "during", "after"):
        p = phases[name]
        assert p["attempts"] > 0, f"no legitimate attempt {name} the flood\n{report}"
        assert p["completed_ratio"] >= MIN_COMPLETED, (
            f"{name} the flood only {p['completed']} of {p['attempts']} legitimate handshakes completed "
            f"(synack dropped {figures['synack']['syn_backlog_full']} SYNs as syn_backlog_full)\n{report}")
    assert rss["before_kib"] and rss["during_max_kib"] and rss["after_kib"]
    for when in ("during_max_kib", "after_kib"):
        assert rss[when] - rss["before_kib"] <= RSS_GROWTH_MAX_KIB, f"synack's memory grew ({when})\n{report}"


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "client":
    client_loop(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
