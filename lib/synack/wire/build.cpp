#include <synack/wire/build.hpp>
#include <synack/wire/mbuf.hpp>

#include <algorithm>

namespace synack::wire {

namespace {

constexpr std::size_t tcp_checksum_at = 16;
constexpr std::size_t ipv4_checksum_at = 10;
constexpr std::uint64_t tx_checksum_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 |
                                            RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK;

} // namespace

bool prepend_tcp(rte_mbuf* m, const TcpRepr& tcp) noexcept {
    const auto len = static_cast<std::uint16_t>(tcp.header_len());
    MutBytes out = prepend(m, len);
    if (out.empty()) {
        return false;
    }
    tcp.emit(out);
    m->l4_len = len;
    return true;
}

bool prepend_ipv4(rte_mbuf* m, Ipv4Repr ip) noexcept {
    if (m->pkt_len + ipv4_min_header_len > UINT16_MAX) {
        return false;
    }
    ip.payload_len = static_cast<std::uint16_t>(m->pkt_len);
    MutBytes out = prepend(m, ipv4_min_header_len);
    if (out.empty()) {
        return false;
    }
    ip.emit(out, false);
    m->l3_len = ipv4_min_header_len;
    return true;
}

bool prepend_ipv6(rte_mbuf* m, Ipv6Repr ip) noexcept {
    if (m->pkt_len > UINT16_MAX) {
        return false;
    }
    ip.payload_len = static_cast<std::uint16_t>(m->pkt_len);
    MutBytes out = prepend(m, ipv6_header_len);
    if (out.empty()) {
        return false;
    }
    ip.emit(out);
    m->l3_len = ipv6_header_len;
    return true;
}

bool prepend_ethernet(rte_mbuf* m, const EthernetRepr& eth) noexcept {
    const auto len = static_cast<std::uint16_t>(eth.header_len());
    MutBytes out = prepend(m, len);
    if (out.empty()) {
        return false;
    }
    eth.emit(out);
    m->l2_len = len;
    return true;
}

void finalize_ipv4_checksum(rte_mbuf* m, TxChecksumCaps caps) noexcept {
    std::uint8_t* l3 = rte_pktmbuf_mtod_offset(m, std::uint8_t*, m->l2_len);
    m->ol_flags &= ~tx_checksum_flags;
    store_be16(l3 + ipv4_checksum_at, 0);
    if (caps.ipv4) {
        m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
    } else {
        store_be16(l3 + ipv4_checksum_at, checksum({l3, m->l3_len}));
    }
}

void finalize_checksums(rte_mbuf* m, TxChecksumCaps caps) noexcept {
    const std::uint32_t l4_at = m->l2_len + m->l3_len;
    SYNACK_ASSERT(l4_at + tcp_min_header_len <= m->data_len);
    std::uint8_t* l3 = rte_pktmbuf_mtod_offset(m, std::uint8_t*, m->l2_len);
    const std::uint32_t l4_len = m->pkt_len - l4_at;

    m->ol_flags &= ~tx_checksum_flags;
    std::uint16_t pseudo = 0;
    if ((l3[0] >> 4) == 4) {
        store_be16(l3 + ipv4_checksum_at, 0);
        if (caps.ipv4) {
            m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
        } else {
            store_be16(l3 + ipv4_checksum_at, checksum({l3, m->l3_len}));
            m->ol_flags |= caps.tcp ? RTE_MBUF_F_TX_IPV4 : 0;
        }
        pseudo = ipv4_pseudo_sum(Ipv4Addr::load(l3 + 12), Ipv4Addr::load(l3 + 16), ip_proto::tcp,
                                 static_cast<std::uint16_t>(l4_len));
    } else {
        SYNACK_ASSERT((l3[0] >> 4) == 6);
        Ipv6Addr src;
        Ipv6Addr dst;
        std::copy_n(l3 + 8, 16, src.bytes.begin());
        std::copy_n(l3 + 24, 16, dst.bytes.begin());
        pseudo = ipv6_pseudo_sum(src, dst, ip_proto::tcp, l4_len);
        m->ol_flags |= caps.tcp ? RTE_MBUF_F_TX_IPV6 : 0;
    }

    std::uint8_t* field = l3 + m->l3_len + tcp_checksum_at;
    if (caps.tcp) {
        // DPDK's contract for L4 offload: the field holds the pseudo-header sum,
        // not complemented (as rte_ipv4_phdr_cksum computes it).
        store_be16(field, pseudo);
        m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
        return;
    }
    store_be16(field, 0);
    Checksum sum;
    sum.add16(pseudo);
    add_chain(sum, m, l4_at, l4_len);
    store_be16(field, sum.finish());
}

namespace {

ChecksumCheck from_rx_status(std::uint64_t status, std::uint64_t good, std::uint64_t bad,
                             std::uint64_t none, std::uint16_t pseudo_sum) noexcept {
    // NONE: the field is not valid (a virtual NIC never filled it) but the data
    // is known intact, so software verification would wrongly fail.
    if (status == good || status == none) {
        return ChecksumCheck::known_good();
    }
    if (status == bad) {
        return ChecksumCheck::known_bad();
    }
    return ChecksumCheck::verify(pseudo_sum);
}

} // namespace

ChecksumCheck rx_ip_check(const rte_mbuf* m) noexcept {
    return from_rx_status(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
                          RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE, 0);
}

ChecksumCheck rx_l4_check(const rte_mbuf* m, std::uint16_t pseudo_sum) noexcept {
    return from_rx_status(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD,
                          RTE_MBUF_F_RX_L4_CKSUM_BAD, RTE_MBUF_F_RX_L4_CKSUM_NONE, pseudo_sum);
}

} // namespace synack::wire
