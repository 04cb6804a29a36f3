#!/usr/bin/env bash
# Installs what synack needs on Debian 12 and reserves hugepages where the
# machine allows. Safe to run again: it installs only what is missing.
# Usage: scripts/setup.sh            (as root, or with sudo available)
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config g++ cmake
  dpdk dpdk-dev libdpdk-dev libfmt-dev libboost-dev libboost-program-options-dev catch2
  # tests: Linux peer in network namespaces, captures, pytest + scapy;
  # tshark reads dpdk-dumpcap's pcapng (its debconf question, whether
  # non-root users may capture, takes the default "no" without asking)
  python3 python3-pytest python3-scapy iproute2 nftables ethtool tcpdump tshark
  # scripts/bench.sh draws its plots with matplotlib
  python3-matplotlib
)

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_if_needed apt-get update -q
  sudo_if_needed apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages present"
fi

# Hugepages: DPDK's multi-process features (dpdk-dumpcap, virtio-user, memif)
# need them; the unit tests run without (--no-huge). Ask for 256 x 2 MiB.
want_pages=256
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ -w "$hp" ] || [ "$(id -u)" -ne 0 ]; then
  have=$(cat "$hp" 2>/dev/null || echo 0)
  if [ "$have" -lt "$want_pages" ]; then
    echo "$want_pages" | sudo_if_needed tee "$hp" >/dev/null 2>&1 || true
    have=$(cat "$hp" 2>/dev/null || echo 0)
  fi
  if [ "$have" -ge "$want_pages" ]; then
    echo "setup: $have hugepages of 2 MiB reserved"
  else
    echo "setup: only $have of $want_pages hugepages could be reserved; tests that need them are skipped"
  fi
  if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
    sudo_if_needed mkdir -p /dev/hugepages
    sudo_if_needed mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null ||
      echo "setup: could not mount hugetlbfs on /dev/hugepages"
  fi
else
  echo "setup: this machine does not allow hugepages ($hp is not writable); tests that need them are skipped"
fi
