// Building packets in mbufs: headers prepended into headroom, checksums filled
// in software or left to the NIC, with identical bytes on the wire.

#include <synack/wire/build.hpp>
#include <synack/wire/mbuf.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <rte_ip.h>

#include <cstring>
#include <string_view>
#include <vector>

using namespace synack::wire;
using namespace synack::test;

namespace {

// Everything needed to rebuild a golden TCP frame.
struct Parsed {
    EthernetRepr eth;
    Ipv4Repr ip4;
    Ipv6Repr ip6;
    bool v6 = false;
    TcpRepr tcp;
    std::vector<std::uint8_t> payload;
};

Parsed parse_frame(const std::vector<std::uint8_t>& frame) {
    Parsed p;
    auto eth = parse_ethernet(frame);
    REQUIRE(eth.ok());
    p.eth = {eth->dst, eth->src, eth->ethertype, eth->vlan_count != 0, eth->vlan_tci[0]};
    Bytes l4;
    if (eth->ethertype == ethertype::ipv4) {
        auto ip = parse_ipv4(eth->payload, ChecksumCheck::verify());
        REQUIRE(ip.ok());
        p.ip4 = {ip->src(), ip->dst(), ip->protocol(), ip->ttl(), ip->dscp_ecn(), ip->id(),
                 ip->dont_fragment(), 0};
        l4 = ip->payload();
    } else {
        auto ip = parse_ipv6(eth->payload);
        REQUIRE(ip.ok());
        p.v6 = true;
        p.ip6 = {ip->src(), ip->dst(), ip->next_header(), ip->hop_limit(), ip->traffic_class(),
                 ip->flow_label(), 0};
        l4 = ip->upper;
    }
    auto seg = parse_tcp(l4, ChecksumCheck::known_good());
    REQUIRE(seg.ok());
    p.tcp = {seg->src_port(), seg->dst_port(), seg->seq(), seg->ack(), seg->flags(),
             seg->window(), seg->urgent_pointer(), seg->options()};
    p.payload.assign(seg->payload().begin(), seg->payload().end());
    return p;
}

// Builds the frame back to front in one mbuf: payload, TCP, IP, Ethernet.
MbufPtr build(const Parsed& p, TxChecksumCaps caps) {
    MbufPtr m = mbuf_from(p.payload);
    REQUIRE(prepend_tcp(m.get(), p.tcp));
    REQUIRE((p.v6 ? prepend_ipv6(m.get(), p.ip6) : prepend_ipv4(m.get(), p.ip4)));
    REQUIRE(prepend_ethernet(m.get(), p.eth));
    finalize_checksums(m.get(), caps);
    return m;
}

// What a NIC does with the offload flags, computed by DPDK's own functions
// (an oracle independent of ours): IPv4 header checksum, then TCP checksum.
void emulate_nic(rte_mbuf* m) {
    auto* l3 = rte_pktmbuf_mtod_offset(m, char*, m->l2_len);
    if ((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0) {
        auto* ip = reinterpret_cast<rte_ipv4_hdr*>(l3);
        ip->hdr_checksum = rte_ipv4_cksum(ip);
    }
    if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM) {
        auto* tcp_csum = reinterpret_cast<std::uint8_t*>(l3 + m->l3_len + 16);
        tcp_csum[0] = tcp_csum[1] = 0;
        std::uint16_t sum = 0;
        if ((m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0) {
            sum = rte_ipv4_udptcp_cksum(reinterpret_cast<rte_ipv4_hdr*>(l3), l3 + m->l3_len);
        } else {
            sum = rte_ipv6_udptcp_cksum(reinterpret_cast<rte_ipv6_hdr*>(l3), l3 + m->l3_len);
        }
        std::memcpy(tcp_csum, &sum, 2); // DPDK returns it in network order already
    }
}

} // namespace

TEST_CASE("build: software checksums rebuild Linux's frames byte for byte",
          "[wire][build][golden]") {
    for (const char* name : {"tcp4_syn", "tcp4_synack", "tcp4_data", "tcp4_fin", "tcp4_sack",
                             "tcp4_rst_closed_port", "vlan_tcp4_syn", "tcp6_syn", "tcp6_data"}) {
        INFO(name);
        const auto frame = golden(name);
        MbufPtr m = build(parse_frame(frame), TxChecksumCaps{});
        REQUIRE(bytes_of(m.get()) == frame);
        REQUIRE((m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK)) == 0);
    }
}

TEST_CASE("build: with TX offload the NIC's checksums give the same bytes as software",
          "[wire][build][golden]") {
    for (const char* name : {"tcp4_syn", "tcp4_data", "vlan_tcp4_syn", "tcp6_data"}) {
        for (TxChecksumCaps caps : {TxChecksumCaps{true, true}, TxChecksumCaps{true, false},
                                    TxChecksumCaps{false, true}}) {
            INFO(name << " ipv4 offload " << caps.ipv4 << " tcp offload " << caps.tcp);
            const auto frame = golden(name);
            MbufPtr m = build(parse_frame(frame), caps);
            const bool v4 = frame[12] != 0x86 && frame[16] != 0x86; // IPv4, tagged or not
            if (caps.tcp) {
                REQUIRE((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM);
                REQUIRE((m->ol_flags & (v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6)) != 0);
            }
            if (caps.ipv4 && v4) {
                REQUIRE((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0);
            }
            REQUIRE(m->l2_len == (frame[12] == 0x81 ? 18 : 14));
            REQUIRE(m->l3_len == (v4 ? 20 : 40));
            emulate_nic(m.get());
            REQUIRE(bytes_of(m.get()) == frame);
        }
    }
}

TEST_CASE("build: a payload chained over odd-length segments is checksummed across them",
          "[wire][build]") {
    const auto frame = golden("tcp4_data");
    Parsed p = parse_frame(frame);
    // 'hello synack\n' as three segments of 5, 3 and 5 bytes.
    MbufPtr head = mbuf_from(std::span(p.payload).first(5));
    MbufPtr mid = mbuf_from(std::span(p.payload).subspan(5, 3));
    MbufPtr tail = mbuf_from(std::span(p.payload).subspan(8));
    REQUIRE(rte_pktmbuf_chain(mid.get(), tail.release()) == 0);
    REQUIRE(rte_pktmbuf_chain(head.get(), mid.release()) == 0);
    REQUIRE(head->nb_segs == 3);
    // Headers go in front of the chain: the payload already in head moves with it.
    REQUIRE(prepend_tcp(head.get(), p.tcp));
    REQUIRE(prepend_ipv4(head.get(), p.ip4));
    REQUIRE(prepend_ethernet(head.get(), p.eth));
    finalize_checksums(head.get(), TxChecksumCaps{});
    REQUIRE(bytes_of(head.get()) == frame);
}

TEST_CASE("build: no headroom means false and an unchanged mbuf", "[wire][build]") {
    MbufPtr m = mbuf_from(std::vector<std::uint8_t>(10, 0));
    const std::uint16_t room = rte_pktmbuf_headroom(m.get());
    REQUIRE(rte_pktmbuf_prepend(m.get(), static_cast<std::uint16_t>(room - 10)) != nullptr);
    const std::uint32_t len = m->pkt_len;
    TcpRepr tcp;
    tcp.options.mss = 1460;
    REQUIRE_FALSE(prepend_tcp(m.get(), tcp)); // 24 bytes needed, 10 left
    REQUIRE_FALSE(prepend_ipv4(m.get(), Ipv4Repr{}));
    REQUIRE_FALSE(prepend_ipv6(m.get(), Ipv6Repr{}));
    REQUIRE_FALSE(prepend_ethernet(m.get(), EthernetRepr{}));
    REQUIRE(m->pkt_len == len);
    REQUIRE(rte_pktmbuf_headroom(m.get()) == 10);
}

TEST_CASE("build: DPDK's default headroom holds the largest header stack", "[wire][build]") {
    REQUIRE(max_header_room <= RTE_PKTMBUF_HEADROOM);
}

TEST_CASE("build: RX checksum flags choose trust or software verification", "[wire][build]") {
    MbufPtr m = mbuf_from(std::vector<std::uint8_t>(1, 0));
    m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN | RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
    REQUIRE(rx_ip_check(m.get()).mode == ChecksumCheck::Mode::verify);
    REQUIRE(rx_l4_check(m.get(), 0x1234).mode == ChecksumCheck::Mode::verify);
    REQUIRE(rx_l4_check(m.get(), 0x1234).pseudo_sum == 0x1234);
    m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD;
    REQUIRE(rx_ip_check(m.get()).mode == ChecksumCheck::Mode::known_good);
    REQUIRE(rx_l4_check(m.get(), 0).mode == ChecksumCheck::Mode::known_bad);
    m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_NONE;
    REQUIRE(rx_ip_check(m.get()).mode == ChecksumCheck::Mode::known_bad);
    // NONE: a virtual NIC left the field unfilled but vouches for the data.
    REQUIRE(rx_l4_check(m.get(), 0).mode == ChecksumCheck::Mode::known_good);
}

TEST_CASE("MbufPtr: frees on destruction, release hands ownership on", "[wire][mbuf]") {
    const unsigned before = rte_mempool_in_use_count(pool());
    {
        MbufPtr a(rte_pktmbuf_alloc(pool()));
        MbufPtr b = std::move(a);
        REQUIRE_FALSE(a);
        REQUIRE(b);
        REQUIRE(rte_mempool_in_use_count(pool()) == before + 1);
    }
    REQUIRE(rte_mempool_in_use_count(pool()) == before);
    MbufPtr c(rte_pktmbuf_alloc(pool()));
    rte_mbuf* raw = c.release();
    REQUIRE_FALSE(c);
    REQUIRE(rte_mempool_in_use_count(pool()) == before + 1);
    rte_pktmbuf_free(raw);
    REQUIRE(rte_mempool_in_use_count(pool()) == before);
}
