"""Transfers through 5% random loss both ways, made in the namespace with
nftables (numgen random), and the same handshake and echo over the TAP PMD."""
import json
import pathlib

MIB = 1 << 20


def add_loss(link, percent):
    """Drops `percent`% of TCP segments at random each way, in the
    namespace, counted, and unseen by the TCP that sent them.

    Towards Linux: the input hook. From Linux, the output hook would not do:
    a segment dropped there is refused to TCP on the spot and Linux simply
    sends it again later, never lost on the wire (no retransmission, no
    recovery). Instead each segment leaves TCP as sent and is then diverted
    at the interface's egress to a device that is down (fwd, verdict
    stolen: success as far as TCP knows), with one segment per packet
    (gso_max_segs 1) so that each is drawn on its own rather than a
    segmentation burst of them."""
    link.sh("ip", "link", "set", link.peer_if, "gso_max_segs", "1")
    link.sh("ip", "link", "add", "lossbh0", "type", "veth", "peer", "name", "lossbh1")
    rules = f"""
table inet synack_loss {{
    chain in {{ type filter hook input priority 0; meta l4proto tcp numgen random mod 100 < {percent} counter drop; }}
}}
table netdev synack_loss_out {{
    chain out {{
        type filter hook egress device "{link.peer_if}" priority 0;
        meta l4proto tcp numgen random mod 100 < {percent} counter fwd to "lossbh0";
    }}
}}
"""
    path = pathlib.Path(f"/tmp/{link.ns}.nft")
    path.write_text(rules)
    try:
        link.sh("nft", "-f", str(path))
    finally:
        path.unlink()


def lost(link):
    """Segments dropped so far: {"in": towards Linux (synack's), "out": from Linux}."""
    counts = {}
    for family, table in (("inet", "synack_loss"), ("netdev", "synack_loss_out")):
        listing = json.loads(link.sh("nft", "-j", "list", "table", family, table).stdout)
        for item in listing["nftables"]:
            rule = item.get("rule")
            if rule:
                counter = next(e["counter"] for e in rule["expr"] if "counter" in e)
                counts[rule["chain"]] = counter["packets"]
    return counts


def linux_tcp_mib(link):
    """The namespace's TCP counters (Tcp and TcpExt of /proc/net/snmp and
    /proc/net/netstat), by name."""
    mib = {}
    for path in ("/proc/net/snmp", "/proc/net/netstat"):
        lines = link.sh("cat", path).stdout.splitlines()
        for names, values in zip(lines[0::2], lines[1::2]):
            prefix = names.split(":")[0]
            if prefix in ("Tcp", "TcpExt"):
                mib.update({f"{prefix}{n}": int(v) for n, v in zip(names.split()[1:], values.split()[1:])})
    return mib


def test_20_mib_each_way_through_5_percent_loss(link, bench):
    add_loss(link, 5)

    # Linux sends, synack receives. The loss was real (segments from Linux
    # dropped), synack's receive side saw the holes (segments held out of
    # order) and said so (Linux went into SACK recovery: only SACK blocks
    # from synack, RFC 2018, start that), and they were repaired: Linux
    # retransmitted, and the stream synack received hashes as the one Linux
    # sent.
    b = bench("--mode", "sink", "--sha256")
    r = link.peer("send", 5001, 20 * MIB, timeout=600)
    assert r["ok"]
    s = b.stop()
    assert s["bytes_in"] == 20 * MIB and s["pattern_errors"] == 0
    assert s["sha256"] == [r["sha256"]]
    assert lost(link)["out"] > 0, "no segment from Linux was dropped"
    assert s["ooo_queued"] > 0, "synack held nothing out of order: it saw no hole"
    mib = linux_tcp_mib(link)
    assert mib["TcpRetransSegs"] > 0, "Linux retransmitted nothing"
    assert mib["TcpExtTCPSackRecovery"] > 0, "synack's ACKs never reported a hole (RFC 2018 SACK blocks)"

    # synack sends, Linux receives: the loss was real (segments towards
    # Linux dropped) and synack repaired it (retransmits; Linux checked
    # the stream's SHA-256).
    before = lost(link)["in"]
    b = bench("--mode", "source", "--bytes", str(20 * MIB))
    r = link.peer("receive", 5001, 20 * MIB, timeout=600)
    assert r["ok"] and r["bytes"] == 20 * MIB
    s = b.stop()
    assert lost(link)["in"] > before, "no segment towards Linux was dropped"
    assert s["retransmits"] > 0


def test_handshake_and_echo_over_tap(link, bench):
    # The TAP PMD makes its interface in our namespace; it is moved into the
    # test's namespace, where the kernel peer gets the address.
    b = bench("--mode", "echo", vdev=f"net_tap0,iface={link.tap_if()}")
    link.attach_tap()
    assert link.peer("echo", 5001, 1)["ok"]
    r = link.peer("echo", 5001, MIB)
    assert r["ok"] and r["bytes"] == MIB
    assert b.wait_connections(0)
    b.stop()
