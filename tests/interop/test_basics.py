"""Linux and synack: neighbour resolution, ping, handshake and echo, a
closed port, many connections at once (the interop suite of the runtime issue)."""
import json

from conftest import run


def test_arp_both_ways_and_ping(link, bench):
    b = bench("--mode", "echo")
    # Linux resolves synack (its ARP request is answered) and pings it.
    assert link.peer("ping", 0)["ok"]
    assert "lladdr" in link.sh("ip", "neigh", "show", link.synack_ip).stdout
    s = b.stop()
    assert s["arp_replies"] >= 1
    assert s["icmp_echo_replies"] == 1


def test_synack_resolves_linux_before_answering(link, bench):
    # Linux knows synack's MAC without asking, so its SYN arrives with no ARP
    # request for synack to learn from: synack must ask before it can answer.
    host_mac = open(f"/sys/class/net/{link.host_if}/address").read().strip()
    link.sh("ip", "neigh", "replace", link.synack_ip, "lladdr", host_mac, "nud", "permanent", "dev", link.peer_if)
    b = bench("--mode", "echo")
    assert link.peer("echo", 5001, 1)["ok"]
    s = b.stop()
    assert s["arp_requests"] >= 1
    assert "lladdr" in link.sh("ip", "neigh", "show", link.synack_ip).stdout


def test_echo_one_byte_and_one_mebibyte(link, bench):
    b = bench("--mode", "echo")
    assert link.peer("echo", 5001, 1)["ok"]
    r = link.peer("echo", 5001, 1 << 20)
    assert r["ok"] and r["bytes"] == 1 << 20
    assert b.wait_connections(0)
    s = b.stop()
    assert s["accepted"] == 2


def test_syn_to_closed_port_is_reset_with_the_right_numbers(link, bench):
    b = bench("--mode", "echo", "--listen", "5001")
    code = f"""
import sys
from scapy.all import IP, TCP, sr1, conf
conf.verb = 0
ans = sr1(IP(dst="{link.synack_ip}")/TCP(sport=40999, dport=5999, flags="S", seq=123456), timeout=3)
ok = ans is not None and ans.haslayer(TCP) and ans[TCP].flags == "RA" and ans[TCP].seq == 0 and ans[TCP].ack == 123457
print(ans.summary() if ans else "no answer")
sys.exit(0 if ok else 1)
"""
    r = link.sh("/usr/bin/python3", "-c", code, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    b.stop()


def test_thousand_concurrent_connections_each_echoing(link, bench):
    b = bench("--mode", "echo")
    r = link.peer("many", 5001, 1000, timeout=300)
    assert r["ok"] and r["connections"] == 1000
    assert b.wait_connections(0), "connections left open"  # all closed cleanly
    s = b.stop()
    assert s["accepted"] == 1000


def test_mtu_and_ring_sizes_are_set_on_the_port_and_the_mtu_bounds_the_mss(link, bench):
    # --mtu 1280: AF_PACKET sets the interface's MTU, and synack offers an
    # MSS of 1280 - 40 (RFC 9293 3.7.1: the MSS is the MTU less the fixed headers).
    b = bench("--mode", "echo", "--mtu", "1280", "--rx-descriptors", "512", "--tx-descriptors", "256")
    assert "MTU 1280" in b.output()
    assert "queues of 512 / 256 descriptors" in b.output()
    assert "mtu 1280" in run("ip", "link", "show", link.host_if).stdout
    code = f"""
import sys
from scapy.all import IP, TCP, sr1, conf
conf.verb = 0
ans = sr1(IP(dst="{link.synack_ip}")/TCP(sport=41001, dport=5001, flags="S", seq=1000, options=[("MSS", 1460)]), timeout=3)
mss = dict(ans[TCP].options).get("MSS") if ans is not None and ans.haslayer(TCP) else None
print(mss)
sys.exit(0 if mss == 1240 else 1)
"""
    # (The kernel resets the half-open connection scapy made; synack frees it.)
    r = link.sh("/usr/bin/python3", "-c", code, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    r = link.peer("echo", 5001, 1 << 20)
    assert r["ok"] and r["bytes"] == 1 << 20
    b.stop()


def test_an_mtu_the_port_cannot_take_is_refused_naming_it(link, request):
    r = run(request.config.getoption("--bench"), "-l", "0", "--no-pci", "--no-huge", "--no-shconf", "--no-telemetry",
            "-m", "256", "--log-level=lib.*:error", f"--vdev=net_af_packet0,iface={link.host_if}", "--",
            "server", "--ip", f"{link.synack_ip}/24", "--mtu", "9600", check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "option --mtu: port 0: MTU 9600 is outside what the port takes" in r.stderr
