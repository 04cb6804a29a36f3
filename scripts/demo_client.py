#!/usr/bin/python3
"""The Linux side of scripts/demo.sh: the kernel's own ping and TCP against
a synack-bench echo server. Usage: demo_client.py HOST PORT"""
import hashlib
import os
import socket
import struct
import sys
import threading
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(host: str) -> float:
    """One ICMP echo over a raw socket (ping(8) may not be installed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        s.settimeout(2)
        body = b"synack demo"
        header = struct.pack("!BBHHH", 8, 0, 0, 0x5EED, 1)
        packet = struct.pack("!BBHHH", 8, 0, checksum(header + body), 0x5EED, 1) + body
        t = time.perf_counter()
        s.sendto(packet, (host, 0))
        while True:
            reply = s.recv(2048)
            icmp = reply[(reply[0] & 0x0F) * 4:]
            if icmp[0] == 0 and icmp[4:6] == b"\x5e\xed":
                return (time.perf_counter() - t) * 1e3


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    print(f"ping {host}: reply in {ping(host):.2f} ms")
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"x")
        print(f"connected to {host}:{port}; 1 byte echoed: {s.recv(1) == b'x'}")
        data = os.urandom(4 << 20)
        t = time.perf_counter()
        # Send from a thread while reading here: an echo peer stops reading
        # when its replies cannot leave, so a writer that never reads stalls.
        sender = threading.Thread(target=s.sendall, args=(data,))
        sender.start()
        got = bytearray()
        while len(got) < len(data):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            got += chunk
        secs = time.perf_counter() - t
        sender.join()
        ok = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        print(f"4 MiB echoed in {secs * 1e3:.1f} ms, SHA-256 {'matches' if ok else 'DIFFERS'}")
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < 2:
            s.sendall(b"request!")
            s.recv(8)
            n += 1
        print(f"{n / 2:.0f} requests/s of 8 bytes on one connection")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
