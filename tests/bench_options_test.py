#!/usr/bin/python3
"""synack-bench's options: every bad value is refused with a message naming
the option, and exit status 2; every sample in config/ parses.
Usage: bench_options_test.py SYNACK_BENCH CONFIG_DIR"""
import pathlib
import re
import resource
import subprocess
import sys
import tempfile

EAL = ["-l", "0", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry", "-m", "64", "--log-level=lib.*:error", "--"]

BAD = [
    (["server"], "--ip"),
    (["server", "--ip", "10.0.0.300/24"], "--ip"),
    (["server", "--ip", "10.0.0.1/33"], "--ip"),
    (["server", "--ip", "10.0.0.1/24", "--mode", "mirror"], "--mode"),
    (["server", "--ip", "10.0.0.1/24", "--listen", "0"], "--listen"),
    (["server", "--ip", "10.0.0.1/24", "--listen", "70000"], "--listen"),
    (["server", "--ip", "10.0.0.1/24", "--gateway", "10.0.0"], "--gateway"),
    (["server", "--ip", "10.0.0.1/24", "--bytes", "lots"], "--bytes"),
    (["server", "--ip", "10.0.0.1/24", "--duration", "-1"], "--duration"),
    (["server", "--ip", "10.0.0.1/24", "--mbufs", "10"], "--mbufs"),
    (["server", "--ip", "10.0.0.1/24", "--max-connections", "0"], "--max-connections"),
    (["server", "--ip", "10.0.0.1/24", "--mtu", "67"], "--mtu"),
    (["server", "--ip", "10.0.0.1/24", "--rx-descriptors", "32"], "--rx-descriptors"),
    (["server", "--ip", "10.0.0.1/24", "--tx-descriptors", "65536"], "--tx-descriptors"),
    (["server", "--ip", "10.0.0.1/24", "--mode", "echo", "--sha256"], "--sha256"),
    (["server", "--ip", "10.0.0.1/24", "--mtu", "9601"], "--mtu"),
    (["server", "--ip", "10.0.0.1/24", "--config", "/nonexistent/synack.conf"], "--config"),
    (["server", "--ip", "10.0.0.1/24", "--frobnicate"], "frobnicate"),
    (["tourist", "--ip", "10.0.0.1/24"], "role"),
    (["client", "--ip", "10.0.0.1/24"], "--connect"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9"], "--connect"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--mode", "sink"], "--mode"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--connections", "0"], "--connections"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--close-first", "nobody"], "--close-first"),
    (["server", "--ip", "10.0.0.1/24", "--listen", "5001:mirror"], "--listen"),
    (["server", "--ip", "10.0.0.1/24", "--listen", "5001:"], "--listen"),
    (["server", "--ip", "10.0.0.1/24", "--workload", "rps"], "--workload"),
    (["server", "--ip", "10.0.0.1/24", "--stack", "bsd"], "--stack"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "flood"], "--workload"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "rps", "--request-size", "0"], "--request-size"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "rps", "--response-size", "big"], "--response-size"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "rps", "--pipeline", "257"], "--pipeline"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "rps", "--rate", "-5"], "--rate"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "rps", "--rate", "nan"], "--rate"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "bulk", "--rate", "1000"], "--rate"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "bulk", "--count", "5"], "--count"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "cps", "--count", "0"], "--count"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "bulk", "--direction", "sideways"], "--direction"),
    (["client", "--ip", "10.0.0.1/24", "--connect", "10.0.0.9:7", "--workload", "rps", "--warmup", "-1"], "--warmup"),
    (["client", "--stack", "kernel", "--connect", "127.0.0.1:7"], "--stack"),
    (["pair", "--workload", "rps", "--duration", "soon"], "--duration"),
    (["pair", "--workload", "rps", "--connections", "20000"], "--connections"),
]


IP = ["server", "--ip", "10.0.0.1/24"]
LISTEN_64 = [str(p) for p in range(5001, 5065)]


def exact(option, value, why):
    return re.escape(f"synack-bench: option --{option}: '{value}' {why}")


def refused_exactly(files):
    """(arguments, the whole line expected on stderr as a regular
    expression, address-space limit in bytes or None): refused with status 2."""
    return [
        (["server", "--ip", "0.0.0.0/24"], exact("ip", "0.0.0.0/24", "is in 0.0.0.0/8, which means 'this network', not a host"), None),
        (["server", "--ip", "255.255.255.255/24"], exact("ip", "255.255.255.255/24", "is the limited broadcast address, not a host's"), None),
        (["server", "--ip", "10.0.0.255/24"], exact("ip", "10.0.0.255/24", "is the broadcast address of its /24 prefix, not a host's"), None),
        (["server", "--ip", "10.0.0.0/24"], exact("ip", "10.0.0.0/24", "is the network address of its /24 prefix, not a host's"), None),
        (["server", "--ip", "224.0.0.1/24"], exact("ip", "224.0.0.1/24", "is a multicast address (224.0.0.0/4), not a host's"), None),
        (["server", "--ip", "239.255.0.9/16"], exact("ip", "239.255.0.9/16", "is a multicast address (224.0.0.0/4), not a host's"), None),
        (["server", "--ip", "127.0.0.1/8"], exact("ip", "127.0.0.1/8", "is a loopback address (127.0.0.0/8), never on a port"), None),
        (["server", "--ip", "240.0.0.1/24"], exact("ip", "240.0.0.1/24", "is in the reserved block 240.0.0.0/4, not a host's"), None),
        ([*IP, "--gateway", "10.0.1.1"], exact("gateway", "10.0.1.1", "is not on our link, 10.0.0.0/24 (--ip)"), None),
        ([*IP, "--gateway", "192.168.0.1"], exact("gateway", "192.168.0.1", "is not on our link, 10.0.0.0/24 (--ip)"), None),
        ([*IP, "--gateway", "10.0.0.1"], exact("gateway", "10.0.0.1", "is our own address (--ip)"), None),
        ([*IP, "--gateway", "10.0.0.255"], exact("gateway", "10.0.0.255", "is the broadcast address of its /24 prefix, not a host's"), None),
        ([*IP, "--config", str(files["dir"])], exact("config", files["dir"], "is a directory, not a file"), None),
        ([*IP, "--config", "/dev/zero"], exact("config", "/dev/zero", "is not a regular file"), None),
        ([*IP, "--config", str(files["binary"])], exact("config", files["binary"], "is not a text file of name = value lines"), None),
        ([*IP, "--config", str(files["huge"])], exact("config", files["huge"], "is larger than 1024 KiB: not a config file"), None),
        ([*IP, "--listen", *LISTEN_64, "5065"], exact("listen", "5065", "is one port too many: a server listens on at most 64 ports"), None),
        ([*IP, "--listen", "5001", "5002", "5001"], exact("listen", "5001", "is given twice"), None),
        # 4 Mi connections of some 900 bytes each cannot fit in 1 GiB of address space.
        ([*IP, "--max-connections", "4194304"],
         exact("max-connections", "4194304", "is too many for the memory: 1 run loop(s) need ")
         + r"\d+ MiB for their connections \(\d+ bytes each\), and \d+ MiB is available", 1 << 30),
    ]


def accepted(files):
    """Arguments that parse and pass the checks above: they fail only on the
    port, which does not exist here (status 1, not 2)."""
    return [
        (["server", "--ip", "10.0.0.0/31"], None),      # RFC 3021: no network address on a /31
        (["server", "--ip", "10.0.0.255/32"], None),
        (["server", "--ip", "10.0.0.1/24", "--gateway", "10.0.0.254"], None),
        ([*IP, "--listen", *LISTEN_64], None),
        ([*IP, "--config", str(files["text"])], None),
        ([*IP, "--max-connections", "16384"], 1 << 30),
    ]


def limited(address_space):
    if address_space is None:
        return None
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def report(ok, args, r):
    """Prints the outcome; returns 1 for a failure. A sanitizer's shadow
    memory cannot be reserved under an address-space limit: that build
    skips those cases (the plain build runs them)."""
    if not ok and "ReserveShadowMemoryRange failed" in r.stderr:
        print(f"skip {' '.join(args)[:120]!r}: a sanitizer build cannot start under an address-space limit")
        return 0
    print(f"{'ok ' if ok else 'BAD'} {' '.join(args)[:120]!r}: status {r.returncode}: {r.stderr.strip()}")
    return 0 if ok else 1


def make_files(d: pathlib.Path):
    (d / "a-directory").mkdir()
    (d / "binary.conf").write_bytes(b"mode = echo\n\x00\x01\x02\xff" * 16)
    (d / "huge.conf").write_text("# a comment line\n" * (1 << 17))  # 2 MiB
    (d / "text.conf").write_text("mode = sink\r\nlisten = 5001\n\tlisten = 5002\n")
    return {"dir": d / "a-directory", "binary": d / "binary.conf", "huge": d / "huge.conf", "text": d / "text.conf"}


def main() -> int:
    bench, config_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    failures = 0
    for args, named in BAD:
        r = subprocess.run([bench, *EAL, *args], capture_output=True, text=True)
        ok = r.returncode == 2 and named in r.stderr
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} {' '.join(args)!r}: status {r.returncode}: {r.stderr.strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(pathlib.Path(tmp))
        for args, line, address_space in refused_exactly(files):
            r = subprocess.run([bench, *EAL, *args], capture_output=True, text=True, preexec_fn=limited(address_space))
            ok = r.returncode == 2 and any(re.fullmatch(line, l) for l in r.stderr.splitlines())
            failures += report(ok, args, r)
        for args, address_space in accepted(files):
            r = subprocess.run([bench, *EAL, *args, "--port-id", "7"], capture_output=True, text=True,
                               preexec_fn=limited(address_space))
            ok = r.returncode == 1 and "no such port" in r.stderr
            failures += report(ok, args, r)
    for conf in sorted(config_dir.glob("*.conf")):
        # Parses, then fails on the port (none exists here): status 1, not 2.
        r = subprocess.run([bench, *EAL, "server", "--config", str(conf), "--port-id", "7"],
                           capture_output=True, text=True)
        ok = r.returncode == 1 and "no such port" in r.stderr
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} {conf.name}: status {r.returncode}: {r.stderr.strip()}")
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
