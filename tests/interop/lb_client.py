"""Clients of synack-lb for its tests, run in the test's namespace. Prints
one JSON line.

  lb_client.py echo ADDRESS PORT CONNECTIONS BYTES   concurrent echo connections, each checked
  lb_client.py bulk ADDRESS PORT BYTES               one connection: BYTES up while the echo comes back; SHA-256 both ways
  lb_client.py halfclose ADDRESS PORT BYTES          send, shut down writing, read the echo to EOF
  lb_client.py reset ADDRESS PORT                    ask the backend to reset: expect a reset
  lb_client.py abort ADDRESS PORT                    hold a connection, then reset it (SO_LINGER 0)"""
import asyncio
import hashlib
import json
import os
import socket
import struct
import sys
import time


async def one_echo(address, port, size, sem):
    async with sem:
        payload = os.urandom(size)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), 20)
            writer.write(payload)
            await writer.drain()
            got = await asyncio.wait_for(reader.readexactly(size), 30)
            writer.close()
            await writer.wait_closed()
            return got == payload
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            return False


async def echo(address, port, connections, size):
    sem = asyncio.Semaphore(connections)
    results = await asyncio.gather(*(one_echo(address, port, size, sem) for _ in range(connections)))
    return {"ok": sum(results), "failed": len(results) - sum(results)}


def bulk(address, port, total):
    s = socket.create_connection((address, port), timeout=30)
    sent_hash, got_hash = hashlib.sha256(), hashlib.sha256()
    chunk = os.urandom(1 << 16)
    sent = got = 0
    start = time.time()
    s.setblocking(False)
    while got < total:
        if sent < total:
            piece = chunk[: min(len(chunk), total - sent)]
            try:
                n = s.send(piece)
                sent_hash.update(piece[:n])
                sent += n
                if sent == total:
                    s.shutdown(socket.SHUT_WR)
            except BlockingIOError:
                pass
        try:
            data = s.recv(1 << 20)
            if not data:
                break
            got_hash.update(data)
            got += len(data)
        except BlockingIOError:
            time.sleep(0.0005)
        if time.time() - start > 120:
            break
    s.close()
    return {"sent": sent, "got": got, "same": sent_hash.hexdigest() == got_hash.hexdigest(),
            "seconds": time.time() - start}


def halfclose(address, port, size):
    s = socket.create_connection((address, port), timeout=20)
    payload = os.urandom(size)
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        data = s.recv(65536)
        if not data:
            break
        got += data
    s.close()
    return {"same": got == payload, "eof": True}


def reset(address, port):
    s = socket.create_connection((address, port), timeout=20)
    s.sendall(b"RESET")
    try:
        data = s.recv(100)
        return {"reset": False, "eof": data == b""}
    except ConnectionResetError:
        return {"reset": True}


def abort(address, port):
    s = socket.create_connection((address, port), timeout=20)
    s.sendall(b"WAIT")
    time.sleep(0.5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return {"aborted": True}


def main():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    mode, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "echo":
        out = asyncio.run(echo(address, port, int(sys.argv[4]), int(sys.argv[5])))
    elif mode == "bulk":
        out = bulk(address, port, int(sys.argv[4]))
    elif mode == "halfclose":
        out = halfclose(address, port, int(sys.argv[4]))
    elif mode == "reset":
        out = reset(address, port)
    else:
        out = abort(address, port)
    print(json.dumps(out))


main()
