#pragma once
// Building a packet back to front in one mbuf chain: the payload is already
// there (or the chain is empty), each layer prepends its header into the
// headroom and records its length in the mbuf (l4_len, l3_len, l2_len), and
// finalize_checksums() fills the checksums last, in hardware or software.

#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/ipv6.hpp>
#include <synack/wire/tcp.hpp>

#include <rte_mbuf.h>

#include <cstdint>

namespace synack::wire {

/// Headroom a TCP/IPv6 packet with a VLAN tag and full options needs:
/// 18 (Ethernet + tag) + 40 (IPv6) + 60 (TCP) = 118, under DPDK's default 128.
inline constexpr std::size_t max_header_room = 18 + 40 + 60;

/// Prepends the TCP header (checksum 0) and sets m->l4_len.
/// Returns false when the headroom is too small (m unchanged).
bool prepend_tcp(rte_mbuf* m, const TcpRepr& tcp) noexcept;

/// Prepends an IPv4 header whose payload is the whole chain as it stands
/// (repr.payload_len is taken from m->pkt_len), checksum 0, and sets m->l3_len.
/// Returns false when the headroom is too small or the packet would exceed
/// 65535 bytes (m unchanged).
bool prepend_ipv4(rte_mbuf* m, Ipv4Repr ip) noexcept;

/// As prepend_ipv4, for IPv6.
bool prepend_ipv6(rte_mbuf* m, Ipv6Repr ip) noexcept;

/// Prepends the Ethernet header (and VLAN tag) and sets m->l2_len.
/// Returns false when the headroom is too small (m unchanged).
bool prepend_ethernet(rte_mbuf* m, const EthernetRepr& eth) noexcept;

/// What the port checksums on transmit. The runtime fills it from the port's
/// tx_offload_capa (and what it enabled); all false is the software path.
struct TxChecksumCaps {
    bool ipv4 = false;
    bool tcp = false;
};

/// Fills the IPv4 header checksum and the TCP checksum of a packet whose
/// headers are in place (first segment) with l2_len and l3_len set. What the
/// port offloads is left to it as DPDK asks (checksum field 0 for IPv4, the
/// pseudo-header sum in the TCP field, RTE_MBUF_F_TX_* flags); the rest is
/// computed here. Either way the bytes on the wire are the same.
void finalize_checksums(rte_mbuf* m, TxChecksumCaps caps) noexcept;

/// As finalize_checksums for a packet that is not TCP (ICMP, whose checksum
/// its emitter fills): only the IPv4 header checksum.
void finalize_ipv4_checksum(rte_mbuf* m, TxChecksumCaps caps) noexcept;

/// How to treat an IPv4 header checksum, from the RX offload flags: trust the
/// NIC's verdict when it gave one, else verify in software.
ChecksumCheck rx_ip_check(const rte_mbuf* m) noexcept;

/// As rx_ip_check, for the TCP/UDP checksum; pseudo_sum is used when the
/// check falls to software.
ChecksumCheck rx_l4_check(const rte_mbuf* m, std::uint16_t pseudo_sum) noexcept;

} // namespace synack::wire
