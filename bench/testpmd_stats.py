#!/usr/bin/python3
"""The figures of a dpdk-testpmd run (--stats-period 1 --record-core-cycles)
as JSON: packets per second received, summed over its ports, from the last
full period shown, and CPU cycles per packet from its final statistics.

Usage: bench/testpmd_stats.py LOG"""
import json
import re
import sys


def main():
    text = open(sys.argv[1], errors="replace").read()
    # Each period shows every port in turn: "Port statistics ... for port N"
    # then "Rx-pps: X"; keep the latest value per port.
    latest = {}
    port = None
    for line in text.splitlines():
        m = re.search(r"statistics for port (\d+)", line)
        if m:
            port = int(m.group(1))
        m = re.search(r"Rx-pps:\s+(\d+)", line)
        if m and port is not None:
            latest[port] = int(m.group(1))
    m = re.search(r"CPU cycles/packet=([\d.]+)", text)
    out = {
        "rx_pps": sum(latest.values()),
        "per_port_rx_pps": latest,
        "cycles_per_packet": float(m.group(1)) if m else None,
    }
    print(json.dumps(out))
    return 0 if latest else 1


if __name__ == "__main__":
    sys.exit(main())
