"""Transfers through 5% random loss both ways, made in the namespace with
nftables (numgen random), and the same handshake and echo over the TAP PMD."""
import pathlib
import time

MIB = 1 << 20


def add_loss(link, percent):
    rules = f"""
table inet synack_loss {{
    chain in {{ type filter hook input priority 0; meta l4proto tcp numgen random mod 100 < {percent} drop; }}
    chain out {{ type filter hook output priority 0; meta l4proto tcp numgen random mod 100 < {percent} drop; }}
}}
"""
    path = pathlib.Path(f"/tmp/{link.ns}.nft")
    path.write_text(rules)
    try:
        link.sh("nft", "-f", str(path))
    finally:
        path.unlink()


def test_20_mib_each_way_through_5_percent_loss(link, bench):
    add_loss(link, 5)
    b = bench("--mode", "sink")
    r = link.peer("send", 5001, 20 * MIB, timeout=600)
    assert r["ok"]
    s = b.stop()
    assert s["bytes_in"] == 20 * MIB and s["pattern_errors"] == 0
    assert s["retransmits"] > 0 or s["segments_in"] > 0

    b = bench("--mode", "source", "--bytes", str(20 * MIB))
    r = link.peer("receive", 5001, 20 * MIB, timeout=600)
    assert r["ok"] and r["bytes"] == 20 * MIB
    s = b.stop()
    assert s["retransmits"] > 0  # the loss was real, and repaired


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
