"""Blind attacks on a live Linux connection (RFC 5961): an attacker who
knows the 4-tuple but not the sequence numbers forges RSTs and SYNs as if
from the Linux client. The connection must survive every near miss (its
echo still works, on the same connection, and it closes cleanly), synack's
challenge ACKs must be rate-limited, and a RST at exactly RCV.NXT, which
only someone who can see the traffic can aim, must still reset it: that is
how the test knows its aim was as good as a blind attacker's can be.

The Linux client's socket is made in the namespace by this process
(scapy_peer.netns); scapy_peer.ConnectionWatch sees both directions on the
namespace's interface and forges the frames."""
import random
import socket

import pytest

from scapy_peer import ConnectionWatch, netns, seq_add

PORT = 5001
BURST = 200  # forged segments of one kind
# RFC 5961 section 7 (and TcpConfig::invalid_ack_interval): the ACKs a burst
# may draw are a handful, whatever its size; one per forged segment would be
# an amplifier. The bound is a ratio, not a time.
MAX_ACKS_PER_FORGED = 0.1


class Client:
    """A Linux connection to synack's echo port, watched on the wire."""

    def __init__(self, link):
        with netns(link.ns):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.bind((link.peer_ip, 0))
        self.watch = ConnectionWatch(link, self.sock.getsockname()[1], PORT)
        self.sock.connect((link.synack_ip, PORT))

    def echo(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        got = bytearray()
        while len(got) < len(data):
            chunk = self.sock.recv(len(data) - len(got))
            if not chunk:
                break
            got += chunk
        return bytes(got)

    def close(self):
        self.sock.close()
        self.watch.close()


@pytest.fixture
def client(link):
    made = []

    def make():
        c = Client(link)
        made.append(c)
        return c

    try:
        yield make
    finally:
        for c in made:
            c.close()


def forge_and_count_answers(c: Client, forged: list[bytes]) -> list:
    """Sends the forged frames, then an echo on the real connection; returns
    synack's pure ACKs between the two that acknowledge nothing new: what
    the forged segments drew (frames are taken in order, so every answer to
    them leaves before synack's answer to the echo). Each must be the ACK
    RFC 5961 asks for."""
    w = c.watch
    w.sniffer.wait_quiet()
    rcv_nxt, snd_nxt = w.rcv_nxt(), w.snd_nxt()
    mark = w.sniffer.mark()
    w.inject(forged)
    assert c.echo(b"still here") == b"still here", "the connection did not survive"
    # The socket may have the echo before the sniffer has seen it.
    first_data, _ = w.sniffer.wait_for(lambda s: w.from_server(s) and bool(s.payload), mark)
    between = w.sniffer.segments[mark:first_data]
    answers = [s for s in between if w.from_server(s) and s.is_pure_ack and s.ack == rcv_nxt]
    # RFC 5961 sections 3.2 and 4.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    assert all(a.seq == snd_nxt for a in answers), f"an ACK not at SND.NXT {snd_nxt}: {answers}"
    return answers


def finish(c: Client, b, forged_count: int, answers: list) -> dict:
    """Closes the connection cleanly and returns synack's summary; checks
    that it is the same connection and that the counters, where synack
    reports them, agree with the wire."""
    c.sock.shutdown(socket.SHUT_WR)
    assert c.sock.recv(1) == b"", "synack did not close after us"
    assert b.wait_connections(0), "the connection did not close cleanly"
    s = b.stop()
    assert s["accepted"] == 1, "a second connection was opened"
    print(f"forged {forged_count}, synack's ACKs in answer: {len(answers)}; summary: "
          f"challenge_acks {s.get('challenge_acks')}, invalid_acks_limited {s.get('invalid_acks_limited')}")
    return s


def test_rfc5961_3_2_blind_in_window_rst_draws_rate_limited_challenge_acks_and_the_connection_survives(
        link, bench, client):
    b = bench("--mode", "echo")
    c = client()
    assert c.echo(b"hello") == b"hello"
    w = c.watch
    w.sniffer.wait_quiet()
    rcv_nxt, rcv_wnd = w.rcv_nxt(), w.rcv_wnd()
    assert rcv_wnd > 1
    # In the window, never exactly RCV.NXT: "If the RST bit is set and the
    # sequence number does not exactly match the next expected sequence
    # value, yet is within the current receive window, TCP MUST send an
    # acknowledgment (challenge ACK)" (RFC 5961 section 3.2).
    forged = [w.frame(random.choice(["R", "RA"]), seq_add(rcv_nxt, random.randint(1, rcv_wnd - 1)),
                      ack=random.randrange(1 << 32)) for _ in range(BURST)]
    answers = forge_and_count_answers(c, forged)
    assert len(answers) >= 1, "no challenge ACK (RFC 5961 section 3.2)"
    assert len(answers) <= BURST * MAX_ACKS_PER_FORGED, f"{len(answers)} ACKs to {BURST} RSTs: not rate-limited"
    s = finish(c, b, BURST, answers)
    if "challenge_acks" in s:
        assert s["challenge_acks"] == len(answers)
        assert s["invalid_acks_limited"] == BURST - len(answers)


def test_rfc5961_3_2_blind_out_of_window_rst_is_dropped_silently_and_the_connection_survives(
        link, bench, client):
    b = bench("--mode", "echo")
    c = client()
    assert c.echo(b"hello") == b"hello"
    w = c.watch
    w.sniffer.wait_quiet()
    rcv_nxt, rcv_wnd = w.rcv_nxt(), w.rcv_wnd()
    # "If the RST bit is set and the sequence number is outside the current
    # receive window, silently drop the segment" (RFC 5961 section 3.2):
    # beyond the right edge, and behind RCV.NXT.
    def outside():
        if random.random() < 0.5:
            return seq_add(rcv_nxt, rcv_wnd + random.randrange((1 << 31) - rcv_wnd))
        return seq_add(rcv_nxt, -random.randint(1, (1 << 31) - 1))

    forged = [w.frame(random.choice(["R", "RA"]), outside(), ack=random.randrange(1 << 32)) for _ in range(BURST)]
    answers = forge_and_count_answers(c, forged)
    assert answers == [], f"out-of-window RSTs were answered: {answers[:3]}"
    s = finish(c, b, BURST, answers)
    if "challenge_acks" in s:
        assert s["challenge_acks"] == 0


def test_rfc5961_4_2_blind_syn_draws_rate_limited_challenge_acks_and_the_connection_survives(link, bench, client):
    b = bench("--mode", "echo")
    c = client()
    assert c.echo(b"hello") == b"hello"
    w = c.watch
    # "If the SYN bit is set, irrespective of the sequence number, TCP MUST
    # send an ACK (also referred to as challenge ACK) to the remote peer"
    # (RFC 5961 section 4.2), and must not reset the connection.
    forged = [w.frame("S", random.randrange(1 << 32), options=[("MSS", 1460)]) for _ in range(BURST)]
    answers = forge_and_count_answers(c, forged)
    assert len(answers) >= 1, "no challenge ACK (RFC 5961 section 4.2)"
    assert len(answers) <= BURST * MAX_ACKS_PER_FORGED, f"{len(answers)} ACKs to {BURST} SYNs: not rate-limited"
    s = finish(c, b, BURST, answers)
    if "invalid_acks_limited" in s:
        assert s["invalid_acks_limited"] == BURST - len(answers)


def test_rfc5961_3_2_rst_at_exactly_rcv_nxt_resets_the_connection(link, bench, client):
    # The sanity check of the three above: with the aim they use, a RST at
    # exactly RCV.NXT does reset ("If the RST bit is set and the sequence
    # number exactly matches the next expected sequence number (RCV.NXT),
    # then TCP MUST reset the connection", RFC 5961 section 3.2).
    b = bench("--mode", "echo")
    c = client()
    assert c.echo(b"hello") == b"hello"
    w = c.watch
    w.sniffer.wait_quiet()
    w.inject([w.frame("R", w.rcv_nxt())])
    assert b.wait_connections(0), "synack kept the connection"
    # Linux still has it: its next segment finds none at synack, which resets.
    with pytest.raises(ConnectionResetError):
        c.echo(b"anyone?")
    s = b.stop()
    assert s["accepted"] == 1
