"""Bulk transfers both ways, half-close both ways, and a reset from Linux."""

MIB = 1 << 20


def test_100_mib_linux_to_synack(link, bench):
    b = bench("--mode", "sink", "--sha256")
    r = link.peer("send", 5001, 100 * MIB, timeout=300)
    assert r["ok"]
    s = b.stop()
    assert s["bytes_in"] == 100 * MIB
    assert s["sha256"] == [r["sha256"]]  # what synack received hashes as what Linux sent
    assert s["pattern_errors"] == 0  # and every byte was checked in place


def test_sink_counts_every_byte_that_is_not_the_stream(link, bench):
    # The stream's bytes are offset mod 251, never 0xff: all 100000 are wrong.
    b = bench("--mode", "sink")
    code = f"""
import socket
with socket.create_connection(("{link.synack_ip}", 5001), timeout=10) as s:
    s.sendall(bytes(range(5)) + b"\\xff" * 99995)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
"""
    link.sh("/usr/bin/python3", "-c", code)
    assert b.wait_connections(0)
    s = b.stop()
    assert s["bytes_in"] == 100000
    assert s["pattern_errors"] == 99995  # the first five were right


def test_100_mib_synack_to_linux(link, bench):
    b = bench("--mode", "source", "--bytes", str(100 * MIB))
    r = link.peer("receive", 5001, 100 * MIB, timeout=300)
    assert r["ok"] and r["bytes"] == 100 * MIB  # SHA-256 of the stream checked by Linux
    s = b.stop()
    assert s["bytes_out"] == 100 * MIB


def test_half_close_by_linux_synack_still_sends(link, bench):
    b = bench("--mode", "echo")
    r = link.peer("half_close", 5001, 256 * 1024)
    assert r["ok"] and r["bytes"] == 256 * 1024
    assert b.wait_connections(0)
    b.stop()


def test_half_close_by_synack_linux_still_sends(link, bench):
    b = bench("--mode", "source", "--bytes", "100000")
    r = link.peer("half_close_reverse", 5001, 100000)
    assert r["ok"]
    assert b.wait_connections(0)
    s = b.stop()
    assert s["bytes_in"] == 1400  # what Linux sent after synack's FIN


def test_linux_aborts_mid_transfer_synack_frees_the_connection(link, bench):
    b = bench("--mode", "sink")
    link.peer("abort", 5001, 200000)
    assert b.wait_connections(0), "the reset connection was not freed"
    s = b.stop()
    assert s["accepted"] == 1
