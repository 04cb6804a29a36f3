#!/usr/bin/python3
"""The Linux kernel's side of the interoperability tests, run inside the
test's network namespace (ip netns exec NS peer.py ACTION HOST PORT ...).
Prints one JSON object; exits non-zero when what it checked was wrong."""
import hashlib
import json
import os
import selectors
import socket
import struct
import sys
import threading
import time


def pattern(n: int, start: int = 0) -> bytes:
    """The stream synack-bench sends and checks: byte i is i mod 251."""
    base = bytes(range(251)) * ((n + start) // 251 + 2)
    return base[start % 251:start % 251 + n]


def read_all(s: socket.socket, n: int | None = None) -> bytes:
    got = bytearray()
    while n is None or len(got) < n:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        got += chunk
    return bytes(got)


def ping(host, _port, _arg):
    """One ICMP echo over a raw socket (ping(8) may not be installed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        s.settimeout(3)
        body = b"synack interop"
        ident = os.getpid() & 0xFFFF
        header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        s.sendto(struct.pack("!BBHHH", 8, 0, icmp_checksum(header + body), ident, 1) + body, (host, 0))
        while True:
            reply = s.recv(2048)
            icmp = reply[(reply[0] & 0x0F) * 4:]
            if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
                return {"ok": icmp[8:] == body and icmp_checksum(icmp) == 0}


def icmp_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo(host, port, size):
    """Connect, echo `size` random bytes (reading while writing), close."""
    with socket.create_connection((host, port), timeout=10) as s:
        data = os.urandom(size)
        sender = threading.Thread(target=s.sendall, args=(data,))
        t = time.perf_counter()
        sender.start()
        got = read_all(s, size)
        sender.join()
        secs = time.perf_counter() - t
    return {"ok": got == data, "bytes": len(got), "seconds": secs}


def send(host, port, size):
    """Send `size` bytes of the pattern and close (synack sinks and checks)."""
    data = pattern(size)
    with socket.create_connection((host, port), timeout=30) as s:
        t = time.perf_counter()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        rest = read_all(s)  # until synack's FIN
        secs = time.perf_counter() - t
    return {"ok": rest == b"", "bytes": size, "seconds": secs, "sha256": hashlib.sha256(data).hexdigest()}


def receive(host, port, size):
    """Read synack's source stream to its FIN; check it by SHA-256."""
    with socket.create_connection((host, port), timeout=30) as s:
        t = time.perf_counter()
        got = read_all(s)
        secs = time.perf_counter() - t
    ok = hashlib.sha256(got).digest() == hashlib.sha256(pattern(size)).digest()
    return {"ok": ok, "bytes": len(got), "seconds": secs}


def many(host, port, count):
    """`count` connections open at once, each echoing its own bytes, then closed."""
    socks = []
    for i in range(count):
        s = socket.create_connection((host, port), timeout=10)
        socks.append(s)
    for i, s in enumerate(socks):
        s.sendall(struct.pack("!I", i) * 4)
    ok = all(read_all(s, 16) == struct.pack("!I", i) * 4 for i, s in enumerate(socks))
    for s in socks:
        s.close()
    return {"ok": ok, "connections": len(socks)}


def half_close(host, port, size):
    """Shut down our write side first; synack's echo of what we sent still comes."""
    data = os.urandom(size)
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = read_all(s)
    return {"ok": got == data, "bytes": len(got)}


def half_close_reverse(host, port, size):
    """synack (source) sends and shuts down first; we keep sending after its FIN."""
    with socket.create_connection((host, port), timeout=10) as s:
        got = read_all(s)  # to synack's FIN
        s.sendall(b"after your FIN" * 100)  # the connection is half-open: this must go through
        time.sleep(0.2)
        s.shutdown(socket.SHUT_WR)
    return {"ok": got == pattern(size), "bytes": len(got)}


def abort(host, port, size):
    """Send some, then reset (SO_LINGER 0): synack must free the connection."""
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(pattern(size))
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return {"ok": True}


def echo_server(host, port, arg):
    """Linux as the echo server for synack's client: `count` connections,
    each echoed. With close_first, it closes after echoing `size` bytes
    (before synack's FIN); else it closes after synack's FIN.
    arg = count * 10**9 + size * 10 + close_first."""
    count, rest = divmod(arg, 10**9)
    size, close_first = divmod(rest, 10)
    listener = socket.create_server(("0.0.0.0", port), backlog=1024, reuse_port=True)
    print("listening", flush=True)
    ok = True
    threads = []

    def serve(c):
        nonlocal ok
        echoed = 0
        with c:
            while True:
                if close_first and echoed >= size:
                    break
                data = c.recv(1 << 16)
                if not data:
                    break
                c.sendall(data)
                echoed += len(data)
        ok = ok and echoed == size

    for _ in range(count):
        c, _ = listener.accept()
        t = threading.Thread(target=serve, args=(c,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    listener.close()
    return {"ok": ok, "connections": count}


def main() -> int:
    action, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arg = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    result = globals()[action](host, port, arg)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
