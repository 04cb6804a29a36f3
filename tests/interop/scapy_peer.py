"""A TCP peer made of crafted segments, for the interoperability tests.

It sends and receives Ethernet frames on the namespace's end of a Link's
veth pair through a packet socket made inside that namespace, keeps the
sequence numbers of one connection, lets a test send any segment it likes
(odd options, no options, a blind RST), and checks every segment synack
sends on the connection against the rules that hold whatever the test does
(checksums, ACK numbers, windows, options). Frames are built with scapy;
received ones are parsed here with struct, so that a flood of them (an ACK
storm) is counted rather than choking the parser.

Pieces, usable on their own:
- netns(name): run a block in another network namespace (this thread only);
  sockets made inside stay there, so a test can hold a Linux connection of
  the namespace from its own process.
- PacketSocket: AF_PACKET on one interface of a namespace.
- Sniffer: a thread that keeps the TCP segments a filter accepts, in order.
- ConnectionWatch: a Sniffer on one live connection (both directions), with
  what a blind attacker would need to know to aim (RCV.NXT, RCV.WND).
- TcpPeer: the crafted peer itself.

The kernel of the namespace sees synack's answers to the crafted peer too
and, having no socket for them, would reset the connection; TcpPeer installs
an nftables rule in the namespace that drops the kernel's RSTs from its port
and reserves the port, as every scapy TCP test must."""
import contextlib
import ctypes
import os
import random
import select
import socket
import struct
import subprocess
import threading
import time

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
_FLAG_LETTERS = "FSRPAUEC"

# RFC 9293 section 3.7.1, MUST-15: with no MSS option, the send MSS is 536.
DEFAULT_MSS = 536
# The scapy peers' ports: reserved in the namespace so its own connections
# never take one.
PEER_PORTS = (50000, 50999)

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def netns(name: str):
    """Runs the block in network namespace `name` (this thread only): a
    socket made inside belongs to that namespace for its whole life."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(own)
        os.close(target)


def flag_bits(flags: str) -> int:
    return sum(1 << _FLAG_LETTERS.index(c) for c in flags)


def flag_text(bits: int) -> str:
    return "".join(c for i, c in enumerate(_FLAG_LETTERS) if bits & (1 << i))


def seq_add(a: int, n: int) -> int:
    return (a + n) & 0xFFFFFFFF


def seq_diff(a: int, b: int) -> int:
    """a - b in sequence space, as a signed number (RFC 9293 section 3.4)."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d >= 1 << 31 else d


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def _fold(s: int) -> int:
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _parse_options(raw: bytes) -> dict | None:
    """TCP options by name (scapy's names); None when they are malformed."""
    opts: dict = {}
    i = 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2 or i + raw[i + 1] > len(raw):
            return None
        body = raw[i + 2:i + raw[i + 1]]
        if kind == 2 and len(body) == 2:
            opts["MSS"] = struct.unpack("!H", body)[0]
        elif kind == 3 and len(body) == 1:
            opts["WScale"] = body[0]
        elif kind == 4 and not body:
            opts["SAckOK"] = True
        elif kind == 5 and len(body) % 8 == 0:
            opts["SAck"] = [struct.unpack("!II", body[j:j + 8]) for j in range(0, len(body), 8)]
        elif kind == 8 and len(body) == 8:
            opts["Timestamp"] = struct.unpack("!II", body)
        else:
            opts.setdefault("other", []).append(kind)
        i += raw[i + 1]
    return opts


class Segment:
    """One IPv4 TCP segment seen on the wire."""

    __slots__ = ("time", "outgoing", "src", "dst", "sport", "dport", "seq", "ack", "flags", "window", "options",
                 "payload", "checksums_ok", "frame")

    def has(self, flags: str) -> bool:
        return (self.flags & flag_bits(flags)) == flag_bits(flags)

    @property
    def flag_text(self) -> str:
        return flag_text(self.flags)

    @property
    def seg_len(self) -> int:
        """SEG.LEN (RFC 9293 section 3.4): payload plus SYN and FIN."""
        return len(self.payload) + (1 if self.flags & SYN else 0) + (1 if self.flags & FIN else 0)

    @property
    def is_pure_ack(self) -> bool:
        return self.flags & ~(ACK | PSH) == 0 and self.flags & ACK != 0 and not self.payload

    def __repr__(self) -> str:
        return (f"{self.src}:{self.sport} > {self.dst}:{self.dport} [{self.flag_text}] seq {self.seq} ack {self.ack} "
                f"win {self.window} len {len(self.payload)} {self.options}")


def parse_frame(frame: bytes, when: float = 0.0, outgoing: bool = False) -> Segment | None:
    """The TCP segment in an Ethernet frame (no VLAN tag), or None."""
    if len(frame) < 14 + 20 + 20 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_TCP or ihl < 20 or total > len(ip) or total < ihl + 20:
        return None
    tcp = ip[ihl:total]
    off = (tcp[12] >> 4) * 4
    if off < 20 or off > len(tcp):
        return None
    s = Segment()
    s.time, s.outgoing, s.frame = when, outgoing, frame
    s.src, s.dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    s.sport, s.dport, s.seq, s.ack = struct.unpack("!HHII", tcp[:12])
    s.flags = tcp[13]
    s.window = struct.unpack("!H", tcp[14:16])[0]
    s.options = _parse_options(tcp[20:off])
    s.payload = bytes(tcp[off:])
    pseudo = ip[12:20] + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    s.checksums_ok = _fold(_sum16(ip[:ihl])) == 0xFFFF and _fold(_sum16(pseudo) + _sum16(tcp)) == 0xFFFF
    return s


def interface_mac(ns: str | None, ifname: str) -> str:
    if ns is None:
        with open(f"/sys/class/net/{ifname}/address") as f:
            return f.read().strip()
    r = subprocess.run(["ip", "netns", "exec", ns, "cat", f"/sys/class/net/{ifname}/address"], check=True,
                       capture_output=True, text=True)
    return r.stdout.strip()


def build_frame(src_mac: str, dst_mac: str, src: str, dst: str, sport: int, dport: int, flags: str, seq: int,
                ack: int = 0, window: int = 65535, options=(), payload: bytes = b"") -> bytes:
    """An Ethernet frame holding one TCP segment, checksums computed."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether
    pkt = (Ether(src=src_mac, dst=dst_mac) / IP(src=src, dst=dst, flags="DF", id=random.randrange(1 << 16)) /
           TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=window, options=list(options)))
    if payload:
        pkt = pkt / payload
    return bytes(pkt)


class PacketSocket:
    """AF_PACKET on interface `ifname` of namespace `ns` (None: ours):
    every frame in and out of it, and frames sent as they are."""

    def __init__(self, ns: str | None, ifname: str):
        ctx = netns(ns) if ns else contextlib.nullcontext()
        with ctx:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            try:
                # Room for a storm: whatever does not fit shows in drops().
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
                s.bind((ifname, ETH_P_ALL))
            except BaseException:
                s.close()
                raise
        self.sock = s
        self.ifname = ifname

    def send(self, frame: bytes) -> None:
        self.sock.send(frame)

    def drops(self) -> int:
        """Frames the kernel could not queue for us since the last call."""
        _, dropped = struct.unpack("II", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        return dropped

    def close(self) -> None:
        self.sock.close()


class Sniffer:
    """Keeps, in arrival order, the TCP segments on a PacketSocket that
    `match(segment)` accepts (at most `keep`; all are counted)."""

    def __init__(self, psock: PacketSocket, match, keep: int = 200000):
        self.psock = psock
        self.match = match
        self.keep = keep
        self.segments: list[Segment] = []
        self.seen = 0
        self.dropped = 0
        self.cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sock = self.psock.sock
        while not self._stop.is_set():
            ready, _, _ = select.select([sock], [], [], 0.05)
            if not ready:
                continue
            while True:
                try:
                    frame, addr = sock.recvfrom(65536, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                except OSError:
                    return
                seg = parse_frame(frame, time.monotonic(), addr[2] == PACKET_OUTGOING)
                if seg is None or not self.match(seg):
                    continue
                with self.cond:
                    self.seen += 1
                    if len(self.segments) < self.keep:
                        self.segments.append(seg)
                    self.cond.notify_all()

    def mark(self) -> int:
        """A position: segments after it are the ones seen from now on."""
        with self.cond:
            return len(self.segments)

    def since(self, mark: int, pred=lambda s: True) -> list[Segment]:
        with self.cond:
            return [s for s in self.segments[mark:] if pred(s)]

    def wait_for(self, pred, start: int = 0, timeout: float = 5.0) -> tuple[int, Segment]:
        """The first segment from index `start` on that satisfies `pred`,
        waiting up to `timeout` seconds for it; AssertionError if none."""
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.segments):
                    if pred(self.segments[i]):
                        return i, self.segments[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such segment within {timeout} s; last seen: {self.segments[-3:]}")
                self.cond.wait(left)

    def wait_quiet(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Waits until no matching segment has come for `quiet` seconds (and
        at least `quiet` seconds when none has come yet: the sniffing thread
        may still be behind with frames already on the wire)."""
        start = time.monotonic()
        deadline = start + timeout
        with self.cond:
            while True:
                last = self.segments[-1].time if self.segments else start
                now = time.monotonic()
                if now - last >= quiet:
                    return
                if now > deadline:
                    raise AssertionError(f"traffic did not stop within {timeout} s: {self.segments[-3:]}")
                self.cond.wait(quiet - (now - last))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.dropped += self.psock.drops()


class ConnectionWatch:
    """Watches one live connection between the namespace (client) and synack
    (server) on the namespace's interface, and sends frames as the client
    would (spoofed: the same addresses, ports and MACs)."""

    def __init__(self, link, client_port: int, server_port: int):
        self.link = link
        self.client_port = client_port
        self.server_port = server_port
        self.client_mac = interface_mac(link.ns, link.peer_if)
        self.server_mac = interface_mac(None, link.host_if)
        self.psock = PacketSocket(link.ns, link.peer_if)

        def mine(s: Segment) -> bool:
            return ((s.src, s.sport, s.dst, s.dport) == (link.peer_ip, client_port, link.synack_ip, server_port) or
                    (s.src, s.sport, s.dst, s.dport) == (link.synack_ip, server_port, link.peer_ip, client_port))

        self.sniffer = Sniffer(self.psock, mine)

    def from_client(self, s: Segment) -> bool:
        return s.src == self.link.peer_ip and s.sport == self.client_port

    def from_server(self, s: Segment) -> bool:
        return s.src == self.link.synack_ip and s.sport == self.server_port

    def server_window_scale(self) -> int:
        """Synack's window scale (from its SYN-ACK; 0 without one)."""
        synacks = self.sniffer.since(0, lambda s: self.from_server(s) and s.has("SA"))
        assert synacks, "the handshake was not seen"
        opts = synacks[0].options or {}
        client_syn = self.sniffer.since(0, lambda s: self.from_client(s) and s.flags & (SYN | ACK) == SYN)
        offered = client_syn and "WScale" in (client_syn[0].options or {})
        return opts.get("WScale", 0) if offered else 0

    def rcv_nxt(self) -> int:
        """Synack's RCV.NXT as the client's SND.NXT: the furthest edge the
        client has sent (the client sends in order here)."""
        edge = None
        # (The watch's own injected frames are not looped back to its socket.)
        for s in self.sniffer.since(0, self.from_client):
            end = seq_add(s.seq, s.seg_len)
            if edge is None or seq_diff(end, edge) > 0:
                edge = end
        assert edge is not None, "nothing seen from the client"
        return edge

    def rcv_wnd(self) -> int:
        """Synack's receive window as it last advertised it, scaled."""
        last = self.sniffer.since(0, lambda s: self.from_server(s) and not s.has("S"))
        assert last, "no segment from synack after the handshake"
        return last[-1].window << self.server_window_scale()

    def snd_nxt(self) -> int:
        """Synack's SND.NXT, the furthest edge it has sent."""
        edge = None
        for s in self.sniffer.since(0, self.from_server):
            end = seq_add(s.seq, s.seg_len)
            if edge is None or seq_diff(end, edge) > 0:
                edge = end
        assert edge is not None, "nothing seen from synack"
        return edge

    def frame(self, flags: str, seq: int, ack: int = 0, window: int = 65535, options=(), payload=b"") -> bytes:
        """A frame as if from the client (what a blind attacker forges)."""
        return build_frame(self.client_mac, self.server_mac, self.link.peer_ip, self.link.synack_ip,
                           self.client_port, self.server_port, flags, seq, ack, window, options, payload)

    def inject(self, frames: list[bytes]) -> None:
        for f in frames:
            self.psock.send(f)

    def close(self) -> None:
        self.sniffer.stop()
        self.psock.close()


class TcpPeer:
    """One TCP connection to synack, made of crafted segments.

    The peer keeps SND.NXT/RCV.NXT, ACKs what it receives, and checks every
    segment synack sends on the connection (see check()); what broke a rule
    is listed in .violations, for the test to assert empty.

    window: the window the peer advertises (never scaled: the peer sends no
    window-scale option unless `syn_options` has one)."""

    def __init__(self, link, dport: int, sport: int | None = None, window: int = 65535):
        self.link = link
        self.dport = dport
        self.sport = sport or random.randint(*PEER_PORTS)
        self.window = window
        self.src_mac = interface_mac(link.ns, link.peer_if)
        self.dst_mac = interface_mac(None, link.host_if)
        self.iss = random.randrange(1 << 32)
        self.snd_nxt = self.iss
        self.snd_una = self.iss
        self.rcv_nxt: int | None = None
        self.irs: int | None = None
        self.syn_options: list = []
        self.send_mss = DEFAULT_MSS
        self.violations: list[str] = []
        self.received: list[Segment] = []  # every segment from synack, in order, as checked
        self._right_edge: int | None = None  # synack's advertised ack + window
        self._acked = self.iss  # the highest ACK synack sent us
        self._window_edge: int | None = None  # the furthest we let synack send to
        self._their_nxt: int | None = None  # synack's SND.NXT, as far as it has sent
        self._guard_kernel_rsts()
        self.psock = PacketSocket(link.ns, link.peer_if)
        self.sniffer = Sniffer(self.psock, lambda s: not s.outgoing and s.src == link.synack_ip and
                               s.sport == dport and s.dst == link.peer_ip and s.dport == self.sport)
        self.cursor = 0

    # -- the namespace's kernel must stay out of it -------------------------
    def _guard_kernel_rsts(self) -> None:
        table = f"scapy_peer_{self.sport}"
        rules = (f"table ip {table} {{\n  chain out {{\n    type filter hook output priority 0;\n"
                 f"    ip daddr {self.link.synack_ip} tcp sport {self.sport} tcp flags & rst != 0 drop\n  }}\n}}\n")
        self.link.sh("sysctl", "-qw", f"net.ipv4.ip_local_reserved_ports={PEER_PORTS[0]}-{PEER_PORTS[1]}")
        subprocess.run(["ip", "netns", "exec", self.link.ns, "nft", "-f", "-"], input=rules, text=True, check=True,
                       capture_output=True)

    # -- sending -------------------------------------------------------------
    def craft(self, flags: str, seq: int | None = None, ack: int | None = None, payload: bytes = b"",
              options=(), window: int | None = None) -> None:
        """Sends one segment as the peer, numbers from the state unless
        given; the state does not move (see send() for that)."""
        seq = self.snd_nxt if seq is None else seq
        ack = (self.rcv_nxt or 0) if ack is None else ack
        window = self.window if window is None else window
        if "A" in flags and self.rcv_nxt is not None and \
                (self._window_edge is None or seq_diff(seq_add(ack, window), self._window_edge) > 0):
            self._window_edge = seq_add(ack, window)
        self.psock.send(build_frame(self.src_mac, self.dst_mac, self.link.peer_ip, self.link.synack_ip, self.sport,
                                    self.dport, flags, seq, ack, window, options, payload))

    def connect(self, syn_options=(("MSS", 1460),), timeout: float = 5.0) -> Segment:
        """Three-way handshake with the options given (none: pass ()).
        Returns synack's SYN-ACK."""
        self.syn_options = list(syn_options)
        self.send_mss = dict(self.syn_options).get("MSS", DEFAULT_MSS)
        self.craft("S", seq=self.iss, ack=0, options=self.syn_options)
        self.snd_nxt = seq_add(self.iss, 1)  # the SYN takes one number
        synack = self.next(timeout)
        assert synack.has("SA") and synack.ack == seq_add(self.iss, 1), f"not a SYN-ACK to our SYN: {synack}"
        self.irs = synack.seq
        self.rcv_nxt = seq_add(synack.seq, 1)
        self.snd_una = self.snd_nxt
        self.craft("A")
        return synack

    def send(self, data: bytes, flags: str = "PA") -> None:
        """Sends `data` in order, in segments of synack's MSS at most."""
        mss = (self.received[0].options or {}).get("MSS", DEFAULT_MSS) if self.received else DEFAULT_MSS
        for i in range(0, len(data), mss):
            chunk = data[i:i + mss]
            self.craft(flags, payload=chunk)
            self.snd_nxt = seq_add(self.snd_nxt, len(chunk))

    # -- receiving -------------------------------------------------------------
    def next(self, timeout: float = 5.0) -> Segment:
        """The next segment synack sent us, checked."""
        _, seg = self.sniffer.wait_for(lambda s: True, self.cursor, timeout)
        self.cursor += 1
        self.check(seg)
        return seg

    def receive(self, nbytes: int, timeout: float = 10.0) -> bytes:
        """Synack's next `nbytes` bytes, in order, each segment ACKed at once."""
        got = bytearray()
        deadline = time.monotonic() + timeout
        while len(got) < nbytes:
            seg = self.next(max(0.0, deadline - time.monotonic()))
            if seg.payload and seg.seq == self.rcv_nxt:
                got += seg.payload
                self.rcv_nxt = seq_add(self.rcv_nxt, len(seg.payload))
                self.craft("A")
        return bytes(got)

    def close(self, timeout: float = 5.0) -> list[Segment]:
        """Sends our FIN, then waits for synack's ACK of it and its own FIN,
        and ACKs that. Returns what synack sent meanwhile."""
        self.craft("FA")
        fin_end = seq_add(self.snd_nxt, 1)
        self.snd_nxt = fin_end
        seen: list[Segment] = []
        fin_acked = their_fin = False
        deadline = time.monotonic() + timeout
        while not (fin_acked and their_fin):
            seg = self.next(max(0.0, deadline - time.monotonic()))
            seen.append(seg)
            fin_acked = fin_acked or seg.ack == fin_end
            if seg.has("F") and seq_add(seg.seq, len(seg.payload)) == self.rcv_nxt:
                their_fin = True
                self.rcv_nxt = seq_add(self.rcv_nxt, 1)
                self.craft("A")
        return seen

    def silence(self, seconds: float) -> list[Segment]:
        """What synack sends in the next `seconds` (a window the test asks
        for, not a wait for something to happen): all of it, checked."""
        mark = self.sniffer.mark()
        time.sleep(seconds)
        segs = self.sniffer.since(mark)
        # A storm must not flood the report: check and keep what is needed.
        self.cursor = mark + len(segs)
        for s in segs[:100]:
            self.check(s)
        return segs

    # -- the rules every segment from synack keeps -----------------------------
    def _violate(self, seg: Segment, why: str) -> None:
        if len(self.violations) < 50:
            self.violations.append(f"{why}: {seg}")

    def check(self, seg: Segment) -> None:
        """Rules that hold for every segment synack sends on this connection,
        whatever the test does; each failure goes to .violations."""
        self.received.append(seg)
        if not seg.checksums_ok:
            self._violate(seg, "bad IP or TCP checksum")
        if seg.options is None:
            self._violate(seg, "malformed TCP options")
        opts = seg.options or {}
        offered = dict(self.syn_options)
        if seg.has("R"):
            return
        # RFC 3168 section 6.1.1: ECE and CWR only once ECN is agreed (the
        # peer never offers it); nothing here is urgent.
        if seg.flags & (URG | ECE | CWR):
            self._violate(seg, f"flags {seg.flag_text}: URG, ECE or CWR unasked for")
        # RFC 9293 section 3.4: synack's sequence numbers run on without a
        # gap (nothing is lost on a veth), and a segment with nothing to
        # send carries SND.NXT.
        if not seg.has("S"):
            if self._their_nxt is not None and seq_diff(seg.seq, self._their_nxt) > 0:
                self._violate(seg, f"a gap of {seq_diff(seg.seq, self._their_nxt)} in synack's sequence")
            if seg.seg_len == 0 and seg.seq != self._their_nxt:
                self._violate(seg, f"an ACK not at SND.NXT {self._their_nxt}")
        end = seq_add(seg.seq, seg.seg_len)
        if self._their_nxt is None or seq_diff(end, self._their_nxt) > 0:
            self._their_nxt = end
        # RFC 9293 section 3.10.7.4 (fifth check): in a synchronized state
        # every segment but a RST carries an ACK.
        if not seg.has("A"):
            self._violate(seg, "no ACK (RFC 9293 3.10.7.4)")
        # RFC 9293 section 3.4: never ACK what was not sent, never go back.
        if seq_diff(seg.ack, self.snd_nxt) > 0:
            self._violate(seg, f"ACKs {seq_diff(seg.ack, self.snd_nxt)} bytes never sent (RFC 9293 3.4)")
        if seq_diff(seg.ack, self._acked) < 0 and not seg.has("S"):
            self._violate(seg, "ACK number went back (RFC 9293 3.4)")
        else:
            self._acked = seg.ack
        # RFC 7323 sections 2.2 and 3.2: WS and TS only if the SYN offered them;
        # RFC 2018 section 2: no SACK without SACK-permitted from the peer.
        if "WScale" in opts and (not seg.has("S") or "WScale" not in offered):
            self._violate(seg, "window scale option the peer did not offer (RFC 7323 2.2)")
        if "Timestamp" in opts and "Timestamp" not in offered:
            self._violate(seg, "timestamps the peer did not offer (RFC 7323 3.2)")
        if ("SAck" in opts or "SAckOK" in opts) and "SAckOK" not in offered:
            self._violate(seg, "SACK the peer did not permit (RFC 2018 2)")
        if "MSS" in opts and not seg.has("S"):
            self._violate(seg, "MSS option outside a SYN (RFC 9293 3.2)")
        # RFC 9293 section 3.7.1: segments no larger than the MSS we allowed
        # (536 without an MSS option, MUST-15).
        if len(seg.payload) > self.send_mss:
            self._violate(seg, f"{len(seg.payload)} bytes exceed our MSS {self.send_mss} (RFC 9293 3.7.1)")
        # RFC 9293 section 3.8.6: nothing beyond the window we offered.
        if self._window_edge is not None and seg.payload and \
                seq_diff(seq_add(seg.seq, len(seg.payload)), self._window_edge) > 0:
            self._violate(seg, "data beyond the window we offered (RFC 9293 3.8.6)")
        # RFC 9293 section 3.8.6.2.2: the right edge of synack's window
        # should not move left (shrink); with a scale, by less than one unit
        # of it as the window is rounded down (RFC 7323 section 2.4).
        scale = 0 if seg.has("S") or "WScale" not in offered else (self.received[0].options or {}).get("WScale", 0)
        edge = seq_add(seg.ack, seg.window << scale)
        if self._right_edge is not None and seq_diff(edge, self._right_edge) < -((1 << scale) - 1):
            self._violate(seg, "synack's window shrank (RFC 9293 3.8.6.2.2)")
        if self._right_edge is None or seq_diff(edge, self._right_edge) > 0:
            self._right_edge = edge

    def finish(self) -> None:
        self.sniffer.stop()
        self.psock.close()
        self.link.sh("nft", "delete", "table", "ip", f"scapy_peer_{self.sport}", check=False)
