#!/usr/bin/python3
"""Load for scripts/bench-veth.sh, run by the kernel in the namespace:
  load.py rr HOST PORT CONNS SECONDS   requests/s of 64-byte echoes, one
                                       outstanding per connection
  load.py send HOST PORT BYTES         seconds to send BYTES (i mod 251)
  load.py receive HOST PORT BYTES      seconds to receive BYTES and check them
Prints one JSON object."""
import json
import selectors
import socket
import sys
import time

sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "interop"))
import peer  # noqa: E402  (the interop suite's stream helpers)


def rr(host, port, conns, seconds):
    sel = selectors.DefaultSelector()
    msg = b"r" * 64
    socks = []
    for _ in range(conns):
        s = socket.create_connection((host, port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, bytearray())
        socks.append(s)
    for s in socks:
        s.send(msg)
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for key, _ in sel.select(timeout=1):
            buf = key.data
            buf += key.fileobj.recv(4096)
            while len(buf) >= 64:
                del buf[:64]
                done += 1
                key.fileobj.send(msg)
    for s in socks:
        s.close()
    return {"requests_per_s": done / seconds, "connections": conns}


def main():
    what, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if what == "rr":
        out = rr(host, port, int(sys.argv[4]), float(sys.argv[5]))
    elif what == "send":
        out = peer.send(host, port, int(sys.argv[4]))
    else:
        out = peer.receive(host, port, int(sys.argv[4]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
