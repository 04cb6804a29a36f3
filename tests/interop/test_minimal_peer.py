"""A peer that offers neither window scaling nor timestamps (RFC 7323) nor
SACK (RFC 2018), crafted with scapy (scapy_peer.TcpPeer): synack must talk
plain RFC 9293 to it, segment by segment, and leave an idle connection
silent. Linux always offers window scaling, so only a crafted peer finds
what happens without it (the ACK storm: a window update on every loop pass
when the unscaled window cannot reach the buffer's edge)."""
import os

import pytest

from scapy_peer import DEFAULT_MSS, TcpPeer

IDLE_SECONDS = 2.0  # the measure of an idle connection


@pytest.fixture
def scapy_peer(link):
    peers = []

    def make(*args, **kw):
        p = TcpPeer(link, *args, **kw)
        peers.append(p)
        return p

    try:
        yield make
    finally:
        for p in peers:
            p.finish()


def full_unscaled_window(window, mss):
    """RFC 7323 section 2.2 (no scaling agreed): the window field is the
    window itself. synack's receive buffer is larger than 65,535 bytes, so
    with nothing unread it offers all 16 bits can say, less at most one
    MSS where it rounds to whole segments. A scaled-down field (the scale
    applied although none was agreed) is far below that."""
    return 65535 - mss <= window <= 65535


@pytest.mark.parametrize("syn_options", [[("MSS", 1000)], []], ids=["mss-only", "no-options"])
def test_rfc9293_3_8_6_2_2_peer_without_scaling_timestamps_or_sack_handshake_echo_idle_silence_close(
        link, bench, scapy_peer, syn_options):
    b = bench("--mode", "echo")
    # A small window of our own, unscaled: synack must keep within it.
    p = scapy_peer(5001, window=2048)
    synack = p.connect(syn_options)
    # RFC 7323 sections 2.2 and 3.2, RFC 2018 section 2: answering a SYN
    # that offered none of them, the SYN-ACK carries its MSS and nothing else.
    assert set(synack.options or {}) == {"MSS"}, f"SYN-ACK options: {synack}"
    mss = min(dict(syn_options).get("MSS", DEFAULT_MSS), synack.options["MSS"])
    assert full_unscaled_window(synack.window, mss), f"SYN-ACK window: {synack}"

    # Echo: more than the MSS (536 by default, RFC 9293 section 3.7.1) and
    # than our window, so synack must cut segments and wait for our ACKs.
    data = os.urandom(5000)
    p.send(data)
    assert p.receive(len(data)) == data

    # RFC 9293 section 3.8.6.2.2: a window update only when the right edge
    # really moves; nothing at all on an idle connection.
    idle = p.silence(IDLE_SECONDS)
    assert len(idle) == 0, (f"synack sent {len(idle)} segments in {IDLE_SECONDS} s on an idle connection "
                      f"({len(idle) / IDLE_SECONDS:.0f}/s, ACK storm; the first: {idle[:3]})")

    # We close first: synack ACKs our FIN and sends its own (the echo server
    # closes when the peer has); we ACK that and it is gone.
    closing = p.close()
    last = closing[-1]
    assert full_unscaled_window(last.window, mss), f"window with nothing unread: {last}"
    assert b.wait_connections(0), "the connection was not freed"
    s = b.stop()
    assert s["accepted"] == 1
    assert p.violations == [], "\n".join(p.violations)
    # Every segment synack sent was seen and checked: none was lost to the test.
    assert p.sniffer.dropped == 0
