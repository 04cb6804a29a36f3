#!/usr/bin/python3
"""synack-bench's options: every bad value is refused with a message naming
the option, and exit status 2; every sample in config/ parses.
Usage: bench_options_test.py SYNACK_BENCH CONFIG_DIR"""
import pathlib
import subprocess
import sys

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
]


def main() -> int:
    bench, config_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    failures = 0
    for args, named in BAD:
        r = subprocess.run([bench, *EAL, *args], capture_output=True, text=True)
        ok = r.returncode == 2 and named in r.stderr
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} {' '.join(args)!r}: status {r.returncode}: {r.stderr.strip()}")
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
