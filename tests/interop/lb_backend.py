"""A Linux backend for synack-lb's tests, run in the test's namespace:
echoes every connection until EOF, then closes (so a client's half-close
comes back as a FIN). A connection whose first bytes are b"RESET" is reset
(SO_LINGER 0); one whose first bytes are b"WAIT" is held, and how it ended
(EOF or reset) is appended to the log file.

Usage: lb_backend.py ADDRESS PORT LOGFILE"""
import asyncio
import socket
import struct
import sys


async def serve(reader, writer, log):
    sock = writer.get_extra_info("socket")
    first = True
    try:
        while True:
            data = await reader.read(65536)
            if first and data.startswith(b"RESET"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            if first and data.startswith(b"WAIT"):
                rest = await reader.read(65536)
                with open(log, "a") as f:
                    f.write("eof\n" if rest == b"" else "data\n")
                writer.close()
                return
            first = False
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.write_eof()
        await writer.drain()
        writer.close()
    except ConnectionResetError:
        with open(log, "a") as f:
            f.write("reset\n")
    except (BrokenPipeError, OSError):
        pass


async def main():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    address, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = await asyncio.start_server(lambda r, w: serve(r, w, log), address, port, backlog=4096)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
