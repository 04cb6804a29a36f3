#!/usr/bin/python3
"""Writes the seed inputs of the engine fuzz target: tests/fuzz/corpus/engine/seed-*.

Each seed is a short, meaningful session in the input grammar of
tests/fuzz/engine_fuzz.cpp (described in tests/fuzz/README.md): a handshake
with a listener, an active open with data and close, out-of-order data with
SACK, timeouts, ARP, ICMP, resets, a zero window, TIME-WAIT, a simultaneous
open, full backlogs, an empty pool. libFuzzer starts from them, and the unit
suite replays them (fuzz-replay-engine) in every build.

Usage: tests/fuzz/make_engine_corpus.py [OUT_DIR]   (default: the corpus folder
next to this script). Rewrites the seed-* files; other files (saved
reproducers) are left alone. Run it again after changing the grammar, and
check each seed still does what its name says with
SYNACK_FUZZ_TRACE=1 BUILD/tests/fuzz/fuzz-replay-engine tests/fuzz/corpus/engine/seed-NAME
"""

import pathlib
import struct
import sys

OPS = ['frame', 'raw', 'arp', 'ip', 'listen', 'unlisten', 'connect', 'accept', 'send', 'read',
       'shutdown', 'close', 'abort', 'nagle', 'advance', 'drain', 'hoard']

# TCP flags.
F, S, R, P, A = 0x01, 0x02, 0x04, 0x08, 0x10

# Indices into the harness's port tables.
LOCAL_PORTS = [80, 7, 5001, 443, 0, 65535, 1, 8080]
SERVER_PORTS = [80, 22, 5001, 8080]


def passive(peer=0, peer_port=0, local_port=0, off_link=False):
    """Flow selector: peer `peer` (0-3) from its port index to our listening port index."""
    return peer | (peer_port << 2) | (local_port << 4) | (0x40 if off_link else 0)


def active(i=0):
    """Flow selector: the i-th 4-tuple the engine opened with connect()."""
    return 0x80 | i


class Input:
    """An input: three configuration bytes, then steps (see tests/fuzz/README.md)."""

    def __init__(self, a=0, b=0, c=0):
        self.data = bytearray([a, b, c])

    def u8(self, v):
        self.data += struct.pack('>B', v & 0xff)

    def u16(self, v):
        self.data += struct.pack('>H', v & 0xffff)

    def u32(self, v):
        self.data += struct.pack('>I', v & 0xffffffff)

    def op(self, name):
        self.u8(OPS.index(name))

    def frame(self, sel, flags, seq=None, ack=None, window=65535, options=None, payload=0,
              damage=None, hold=False):
        """A crafted TCP frame.

        seq: None (the peer's next), ('peer', d8), ('ack', d16: from the
        engine's latest ACK) or ('abs', u32). ack: None (all the engine
        sent), ('max', d8), ('back', u16) or ('abs', u32). options: a dict
        with mss, ws, sackp, ts (a TSval delta, or (delta, TSecr)), sack
        (a list of (offset, length) after the ACK), or raw (bytes).
        """
        self.op('frame')
        modes = 0
        seq_mode, seq_arg = (0, None) if seq is None else ({'peer': 1, 'ack': 2, 'abs': 3}[seq[0]],
                                                           seq[1])
        ack_mode, ack_arg = (0, None) if ack is None else ({'max': 1, 'back': 2, 'abs': 3}[ack[0]],
                                                           ack[1])
        modes |= seq_mode | (ack_mode << 2)
        if options is not None:
            modes |= 0x10
        if payload:
            modes |= 0x20
        if damage is not None:
            modes |= 0x40
        if hold:
            modes |= 0x80
        self.u8(sel)
        self.u8(flags)
        self.u8(modes)
        for mode, arg in ((seq_mode, seq_arg), (ack_mode, ack_arg)):
            if mode == 1:
                self.u8(arg)
            elif mode == 2:
                self.u16(arg)
            elif mode == 3:
                self.u32(arg)
        self.u16(window)
        if options is not None:
            self.options(options)
        if payload:
            self.u16(payload)
        if damage is not None:
            self.u8(damage)

    def options(self, o):
        if 'raw' in o:
            self.u8(0x40)
            self.u8(len(o['raw']))
            self.data += bytes(o['raw'])
            return
        ts = o.get('ts')
        echo = None
        if isinstance(ts, tuple):
            ts, echo = ts
        bits = ((0x01 if 'mss' in o else 0) | (0x02 if 'ws' in o else 0) |
                (0x04 if o.get('sackp') else 0) | (0x08 if ts is not None else 0) |
                (0x10 if echo is not None else 0) | (0x20 if 'sack' in o else 0))
        self.u8(bits)
        if 'mss' in o:
            self.u16(o['mss'])
        if 'ws' in o:
            self.u8(o['ws'])
        if ts is not None:
            self.u8(ts)
            if echo is not None:
                self.u32(echo)
        if 'sack' in o:
            self.u8(len(o['sack']))
            for offset, length in o['sack']:
                self.u16(offset)
                self.u16(length)

    def raw(self, frame, retarget=True, fix=True, chained=False):
        self.op('raw')
        self.u8((1 if retarget else 0) | (2 if fix else 0) | (4 if chained else 0))
        self.u16(len(frame))
        self.data += bytes(frame)

    def arp(self, host=0, reply=False, other_target=False, conflict=False, group=False, probe=False):
        self.op('arp')
        self.u8(host | (0x08 if reply else 0) | (0x10 if other_target else 0) |
                (0x20 if conflict else 0) | (0x40 if group else 0) | (0x80 if probe else 0))

    def ip(self, kind, peer=0, body=32, from_group=False, extra=None):
        """kind: 'echo', 'icmp' (type extra), 'udp' or 'proto' (protocol extra)."""
        self.op('ip')
        self.u8({'echo': 0, 'icmp': 1, 'udp': 2, 'proto': 3}[kind] | (peer << 2) |
                (0x20 if from_group else 0))
        self.u8(body)
        if kind in ('icmp', 'proto'):
            self.u8(extra)

    def listen(self, port_index=0):
        self.op('listen')
        self.u8(port_index)

    def unlisten(self, port_index=0):
        self.op('unlisten')
        self.u8(port_index)

    def connect(self, peer=0, server_port=0, local_port=None):
        self.op('connect')
        self.u8(peer | (server_port << 3) |
                (0 if local_port is None else 0x20 | (local_port << 6)))

    def accept(self, port_index=0):
        self.op('accept')
        self.u8(port_index)

    def send(self, conn, length, pieces=1):
        self.op('send')
        self.u8(conn)
        self.u16(length)
        self.u8(pieces - 1)

    def read(self, conn, how='all', count=0):
        self.op('read')
        self.u8(conn)
        self.u8({'all': 0, 'some': 1 | (count << 2), 'peek': 2, 'huge': 3}[how])

    def call(self, name, conn, arg=None):
        self.op(name)
        self.u8(conn)
        if name == 'nagle':
            self.u8(arg)

    def advance(self, how, arg=None):
        """how: 'poll', 'us100' (n+1 times 100 us), 'ms', 's', 'wakeup',
        'wakeups' (n + 1 polls, each at the next wakeup), 'days', 'ms10'."""
        kinds = ['poll', 'us100', 'ms', 's', 'wakeup', 'wakeups', 'days', 'ms10']
        self.op('advance')
        if how == 'wakeups':
            self.u8(5 | ((arg - 1) << 3))
            return
        self.u8(kinds.index(how))
        if how in ('us100', 'days', 'ms10'):
            self.u8(arg)
        elif how in ('ms', 's'):
            self.u16(arg)

    def drain(self, most=0):
        self.op('drain')
        self.u8(most)

    def hoard(self, keep):
        self.op('hoard')
        self.u8(keep)


FULL_OPTIONS = {'mss': 1460, 'ws': 7, 'sackp': True, 'ts': 1}


def passive_open(i, sel=passive(), port=0, options=FULL_OPTIONS, isn=1000):
    """A listener on port, a SYN from the peer, the engine's SYN-ACK, the peer's ACK, accept."""
    i.listen(port)
    i.frame(sel, S, seq=('abs', isn), options=options, window=29200)
    i.drain()
    i.frame(sel, A, options={'ts': 1} if options and 'ts' in options else None)
    i.accept(port)
    i.drain()


def active_open(i, peer=0, port=0, options=FULL_OPTIONS, isn=5000, window=29200):
    i.connect(peer, port)
    i.drain()
    i.frame(active(0), S | A, seq=('abs', isn), options=options, window=window)
    i.drain()


def seeds():
    s = {}

    i = Input()
    passive_open(i)
    s['handshake-listener'] = i

    i = Input()
    passive_open(i)
    i.frame(passive(), P | A, payload=100, options={'ts': 1})
    i.drain()
    i.read(0)
    i.send(0, 100)
    i.drain()
    i.frame(passive(), A, options={'ts': 1})
    i.call('shutdown', 0)
    i.drain()
    i.frame(passive(), F | A, options={'ts': 1})
    i.drain()
    i.advance('wakeups', 4)
    i.drain()
    s['echo-then-close-passive'] = i

    i = Input()
    active_open(i)
    i.send(0, 3000, pieces=2)
    i.drain()
    i.frame(active(0), A, options={'ts': 1})
    i.frame(active(0), P | A, payload=200, options={'ts': 1})
    i.read(0)
    i.call('close', 0)
    i.drain()
    i.frame(active(0), F | A, options={'ts': 1})
    i.drain()
    i.advance('s', 61)  # 2 MSL of TIME-WAIT
    i.drain()
    s['connect-data-close'] = i

    i = Input()
    passive_open(i)
    # Two segments beyond a hole, answered with SACK blocks, then the hole.
    i.frame(passive(), P | A, seq=('ack', 1000), payload=500, options={'ts': 1})
    i.frame(passive(), P | A, seq=('ack', 2000), payload=500, options={'ts': 1})
    i.drain()
    i.frame(passive(), P | A, seq=('ack', 0), payload=1000, options={'ts': 1})
    i.drain()
    i.read(0)
    i.drain()
    s['out-of-order-sack'] = i

    i = Input()
    active_open(i)
    i.send(0, 6000, pieces=4)
    i.drain()
    # The peer SACKs the second and third segments: the first is lost.
    i.frame(active(0), A, ack=('back', 6000), options={'ts': 1})  # a window update
    for _ in range(3):  # duplicate ACKs: same ACK and window (RFC 5681 section 2)
        i.frame(active(0), A, ack=('back', 6000), options={'ts': 1, 'sack': [(1448, 2896)]})
    i.drain()
    i.advance('wakeups', 3)
    i.drain()
    i.frame(active(0), A, options={'ts': 1})
    i.drain()
    s['sack-recovery-sender'] = i

    i = Input(0, 0, 0x02)  # fast timers
    i.connect(1, 1)
    i.drain()
    i.advance('wakeups', 8)  # SYN retransmissions, then the give-up
    i.drain()
    s['syn-retries-timeout'] = i

    i = Input(0x20)  # next hops by ARP
    i.connect(0, 0)
    i.drain()  # an ARP request; the SYN waits
    i.arp(0, reply=True)
    i.drain()  # the SYN
    i.arp(1)  # a request for us: answered
    i.arp(2, conflict=True)
    i.drain()
    i.advance('s', 40)
    i.drain()
    s['arp-resolve'] = i

    i = Input()
    i.ip('echo', peer=1, body=56)
    i.ip('udp', peer=2, body=20)
    i.ip('proto', peer=3, body=8, extra=47)
    i.ip('icmp', peer=0, body=8, extra=11)
    i.drain()
    s['icmp-udp'] = i

    i = Input()
    passive_open(i)
    i.frame(passive(), R, seq=('ack', 100))  # in the window, not exact: challenge ACK
    i.drain()
    i.frame(passive(), S, seq=('ack', 5))  # SYN in a synchronized state: challenge ACK
    i.drain()
    i.frame(passive(), R, seq=('ack', 0))  # exact: the connection resets
    i.drain()
    s['rst-and-syn-injection'] = i

    i = Input()
    active_open(i, window=0)
    i.send(0, 1000)
    i.drain()
    i.advance('wakeups', 3)  # zero-window probes
    i.drain()
    i.frame(active(0), A, window=65535, options={'ts': 1})
    i.drain()
    s['zero-window-persist'] = i

    i = Input(0, 0x40)  # MSL of 1 s
    passive_open(i)
    i.call('close', 0)
    i.drain()
    i.frame(passive(), F | A, options={'ts': 1})
    i.drain()  # TIME-WAIT, shrunk to a record
    i.frame(passive(), S, seq=('peer', 100), options={'ts': 10})  # reopens it
    i.drain()
    s['time-wait-reopen'] = i

    i = Input()
    i.connect(2, 2)
    i.drain()
    i.frame(active(0), S, seq=('abs', 77777), options=FULL_OPTIONS)
    i.drain()
    i.frame(active(0), A, options={'ts': 1})
    i.drain()
    s['simultaneous-open'] = i

    i = Input(0, 0, 0x01)  # tight limits
    i.listen(0)
    for port in range(4):
        i.frame(passive(0, port, 0), S, seq=('abs', 100 * port), options=FULL_OPTIONS)
    i.drain()
    i.connect(3, 0)
    i.connect(3, 1)
    i.drain()
    s['backlog-and-slots-full'] = i

    i = Input()
    passive_open(i)
    i.hoard(3)  # two mbufs left in the pool
    i.send(0, 3000, pieces=2)
    i.frame(passive(), P | A, payload=300, options={'ts': 1})
    i.drain()
    i.hoard(0)
    i.advance('wakeups', 2)
    i.drain()
    s['pool-exhausted'] = i

    i = Input(0x10, 0, 0x02)  # keepalive, fast timers
    passive_open(i)
    i.advance('s', 11)
    i.drain()
    i.advance('wakeups', 5)
    i.drain()
    s['keepalive-give-up'] = i

    i = Input(0x0e, 0x05)  # no timestamps, SACK or Nagle; 8 KiB buffers
    passive_open(i, options={'mss': 536})
    for _ in range(6):
        i.send(0, 2000)
        i.frame(passive(), P | A, payload=1400)
    i.drain()
    i.read(0, 'some', 50)
    i.drain()
    i.read(0, 'huge')
    i.drain()
    i.frame(passive(), A)
    i.drain()
    s['small-buffers-no-options'] = i

    i = Input()
    passive_open(i)
    # Frames damaged on the way: checksums, RX flags, chains, padding, VLAN,
    # IP options, a fragment.
    # After each, the data again from where the engine's ACK says it stands.
    for d in (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x10, 0x20, 0x40, 0x80):
        i.frame(passive(), P | A, seq=('ack', 0), payload=64, options={'ts': 1}, damage=d)
        i.drain()
    i.read(0)
    s['damaged-frames'] = i

    i = Input()
    i.listen(1)
    i.listen(1)  # in use
    i.unlisten(1)
    i.frame(passive(1, 1, 1), S, seq=('abs', 9), options=FULL_OPTIONS)  # no listener: RST
    i.frame(passive(1, 1, 0), A, seq=('abs', 9))  # no connection: RST
    i.drain()
    i.listen(1)
    i.frame(passive(1, 1, 1), S | F, seq=('abs', 9))
    i.frame(passive(1, 1, 1), S, seq=('abs', 9), options={'raw': [2, 4, 5, 0xb4, 3, 3, 14, 1]},
            hold=True)
    i.frame(passive(2, 1, 1), S, seq=('abs', 99))
    i.drain()
    s['listener-edge-cases'] = i

    return s


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else (
        pathlib.Path(__file__).resolve().parent / 'corpus' / 'engine')
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob('seed-*'):
        old.unlink()
    for name, i in seeds().items():
        (out / ('seed-' + name)).write_bytes(bytes(i.data))
    print(f'{len(seeds())} seeds written to {out}')


if __name__ == '__main__':
    main()
