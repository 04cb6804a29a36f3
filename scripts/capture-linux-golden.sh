#!/usr/bin/env bash
# Regenerate the Linux golden packets in tests/data/linux/ (*.hex and README.md).
#
# Real frames emitted by the Linux network stack are captured with tcpdump on
# veth pairs between two network namespaces created here, with TX checksum
# offload off so every checksum is complete.  All traffic stays between the
# two namespaces; namespaces, interfaces, capture processes and temporary
# files are removed on exit, also on failure.
#
# Usage (as root, Debian 12 style system):  scripts/capture-linux-golden.sh
# Needs: iproute2, tcpdump, ethtool, nftables, iputils-ping, /usr/bin/python3
# with scapy.  The socket programs, the packet selection and the checks live
# in scripts/capture_linux_golden.py.
set -euo pipefail

die() { echo "capture-linux-golden: error: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must be run as root"

PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
HELPER=$HERE/capture_linux_golden.py
OUT=$ROOT/tests/data/linux

for tool in ip tcpdump ethtool nft ping sysctl; do
    command -v "$tool" >/dev/null || die "$tool not found (ping: apt-get install iputils-ping)"
done
[[ -x $PY ]] || die "$PY not found"
"$PY" -c 'import scapy.all' 2>/dev/null || die "scapy not importable by $PY"
[[ -f $HELPER ]] || die "$HELPER not found"

# Names unique per run.  Interface names stay <= 15 characters.
ID=$$
NSA=synack-golden-a-$ID
NSB=synack-golden-b-$ID
VA=sg0a$ID   # main veth, namespace A (10.77.0.1, fd77::1)
VB=sg0b$ID   # main veth, namespace B (10.77.0.2, fd77::2)
TA=sg1a$ID   # VLAN 42 trunk veth, namespace A (10.78.0.1)
TB=sg1b$ID   # VLAN 42 trunk veth, namespace B (10.78.0.2)
TMP=$(mktemp -d /tmp/synack-golden.XXXXXX)
CAP_PIDS=()

stop_pid() {   # stop a capture started by this script, bounded wait
    local pid=$1 _
    kill -INT "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    for pid in "${CAP_PIDS[@]}"; do stop_pid "$pid"; done
    # deleting a namespace deletes the veth ends inside it
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ina() { ip netns exec "$NSA" "$@"; }
inb() { ip netns exec "$NSB" "$@"; }

wait_for() {   # wait_for DESCRIPTION COMMAND...: poll up to 5 s
    local what=$1 _
    shift
    for _ in $(seq 100); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    die "timed out waiting for $what"
}

link_up() { ip netns exec "$1" ip -o link show dev "$2" | grep -q 'LOWER_UP'; }
tx_csum_off() { ip netns exec "$1" ethtool -k "$2" | grep -qx 'tx-checksumming: off'; }
capture_ready() { grep -q 'listening on' "$1"; }
has_lladdr() { ip netns exec "$1" ip -6 addr show dev "$2" scope link | grep -q 'inet6 fe80'; }

start_capture() {   # start_capture NS DEV FILE
    ip netns exec "$1" tcpdump -i "$2" -n -s 0 -U --immediate-mode -Z root -w "$3" \
        2>"$3.log" &
    CAP_PIDS+=($!)
    wait_for "tcpdump on $2" capture_ready "$3.log"
}

settle() {   # wait until capture file FILE stops growing (bounded)
    local a b _
    for _ in $(seq 30); do
        a=$(stat -c %s "$1")
        sleep 0.1
        b=$(stat -c %s "$1")
        [[ $a == "$b" ]] && return 0
    done
}

echo "kernel $(uname -r); namespaces $NSA $NSB; temp $TMP"

ip netns add "$NSA"
ip netns add "$NSB"
ip link add "$VA" netns "$NSA" address 02:77:00:00:00:01 type veth \
    peer name "$VB" netns "$NSB" address 02:77:00:00:00:02
ip link add "$TA" netns "$NSA" address 02:78:00:00:00:01 type veth \
    peer name "$TB" netns "$NSB" address 02:78:00:00:00:02

for spec in "$NSA $VA 10.77.0.1 fd77::1 $TA 10.78.0.1" "$NSB $VB 10.77.0.2 fd77::2 $TB 10.78.0.2"; do
    read -r ns dev v4 v6 trunk tv4 <<<"$spec"
    ip netns exec "$ns" ip link set lo up
    # main veth: no DAD (link-local usable at once), no router solicitations
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0"
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.router_solicitations=0"
    ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null
    tx_csum_off "$ns" "$dev" || die "could not turn tx checksum offload off on $dev"
    ip netns exec "$ns" ip addr add "$v4/24" dev "$dev"
    ip netns exec "$ns" ip addr add "$v6/64" dev "$dev" nodad
    # VLAN 42 trunk veth (stands in for a vlan sub-interface, see README):
    # kernel pushes the 802.1Q tag on egress and pops it on ingress.
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$trunk.disable_ipv6=1"
    ip netns exec "$ns" ethtool -K "$trunk" tx off txvlan off rxvlan off >/dev/null
    tx_csum_off "$ns" "$trunk" || die "could not turn tx checksum offload off on $trunk"
    ip netns exec "$ns" ip addr add "$tv4/24" dev "$trunk"
    ip netns exec "$ns" "$PY" "$HELPER" vlan-bpf "$trunk"
done

# Bring A's ends up first (no carrier while B's ends are down), start the
# captures, then bring B's ends up: the capture sees the link-up MLDv2
# reports (Hop-by-Hop header) of both sides.
ina ip link set "$VA" up
ina ip link set "$TA" up
start_capture "$NSA" "$VA" "$TMP/main.pcap"
start_capture "$NSA" "$TA" "$TMP/vlan.pcap"
inb ip link set "$VB" up
inb ip link set "$TB" up
for l in "$NSA $VA" "$NSB $VB" "$NSA $TA" "$NSB $TB"; do
    read -r ns dev <<<"$l"
    wait_for "carrier on $dev" link_up "$ns" "$dev"
done
wait_for "link-local address on $VA" has_lladdr "$NSA" "$VA"
wait_for "link-local address on $VB" has_lladdr "$NSB" "$VB"

# ARP + echo, record route option, IPv4 fragments, IPv6 fragments
{
    ina ping -n -c 1 -W 2 10.77.0.2
    ina ping -n -c 1 -W 2 -R 10.77.0.2
    ina ping -n -c 1 -W 2 -s 3000 10.77.0.2
    ina ping -6 -n -c 1 -W 2 -s 3000 fd77::2
} >"$TMP/ping.log"

# UDP to a closed port, TCP v4 conversation, SYN to a closed port,
# SO_LINGER abort, SACK (nftables drop in B), TCP v6 conversation
"$PY" "$HELPER" traffic "$NSA" "$NSB"
# TCP over the VLAN 42 trunk
"$PY" "$HELPER" vlan-traffic "$NSA" "$NSB"

settle "$TMP/main.pcap"
settle "$TMP/vlan.pcap"
for pid in "${CAP_PIDS[@]}"; do stop_pid "$pid"; done
CAP_PIDS=()

mkdir -p "$OUT"
rm -f "$OUT"/*.hex "$OUT/README.md"
"$PY" "$HELPER" extract "$TMP/main.pcap" "$TMP/vlan.pcap" "$OUT" \
    "scripts/capture-linux-golden.sh   # as root; rewrites tests/data/linux/*.hex and README.md"
"$PY" "$HELPER" verify "$OUT"
n=$(find "$OUT" -maxdepth 1 -name '*.hex' | wc -l)
echo "wrote $n .hex files and README.md to $OUT"
