#include "sim/frames.hpp"

#include <synack/wire/build.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/ip_proto.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/mbuf.hpp>

#include <algorithm>
#include <cstring>

namespace synack::sim {

rte_mbuf* build_tcp_frame(rte_mempool* pool, const Segment& s, wire::Bytes payload) noexcept {
    wire::MbufPtr m(rte_pktmbuf_alloc(pool));
    if (!m) {
        return nullptr;
    }
    if (!payload.empty()) {
        char* room = rte_pktmbuf_append(m.get(), static_cast<std::uint16_t>(payload.size()));
        if (room == nullptr) {
            return nullptr;
        }
        std::memcpy(room, payload.data(), payload.size());
    }
    wire::Ipv4Repr ip;
    ip.src = s.src;
    ip.dst = s.dst;
    ip.protocol = wire::ip_proto::tcp;
    if (!wire::prepend_tcp(m.get(), s.tcp) || !wire::prepend_ipv4(m.get(), ip) ||
        !wire::prepend_ethernet(m.get(),
                                wire::EthernetRepr{s.dst_mac, s.src_mac, wire::ethertype::ipv4})) {
        return nullptr;
    }
    wire::finalize_checksums(m.get(), wire::TxChecksumCaps{});
    return m.release();
}

rte_mbuf* build_arp_frame(rte_mempool* pool, wire::MacAddr dst, wire::MacAddr src,
                          const wire::ArpRepr& arp) noexcept {
    wire::MbufPtr m(rte_pktmbuf_alloc(pool));
    char* room = m ? rte_pktmbuf_append(m.get(), wire::arp_len) : nullptr;
    if (room == nullptr) {
        return nullptr;
    }
    arp.emit({reinterpret_cast<std::uint8_t*>(room), wire::arp_len});
    if (!wire::prepend_ethernet(m.get(), wire::EthernetRepr{dst, src, wire::ethertype::arp})) {
        return nullptr;
    }
    return m.release();
}

wire::Bytes FrameReader::gather(const rte_mbuf* frame) noexcept {
    // An engine's frame is a chain (headers, then clones of the payload); the
    // parsers read one contiguous span.
    const std::uint32_t len = std::min<std::uint32_t>(frame->pkt_len, bytes_.size());
    const auto* p =
        static_cast<const std::uint8_t*>(rte_pktmbuf_read(frame, 0, len, bytes_.data()));
    return {p, len};
}

std::optional<wire::ArpRepr> FrameReader::arp(const rte_mbuf* frame) noexcept {
    auto eth = wire::parse_ethernet(gather(frame));
    if (!eth || eth->ethertype != wire::ethertype::arp) {
        return std::nullopt;
    }
    auto arp = wire::parse_arp(eth->payload);
    return arp ? std::optional(*arp) : std::nullopt;
}

std::optional<Segment> FrameReader::tcp(const rte_mbuf* frame, bool verify) noexcept {
    auto eth = wire::parse_ethernet(gather(frame));
    if (!eth || eth->ethertype != wire::ethertype::ipv4) {
        return std::nullopt;
    }
    const auto check = [&](std::uint16_t pseudo) {
        return verify ? wire::ChecksumCheck::verify(pseudo) : wire::ChecksumCheck::known_good();
    };
    auto ip = wire::parse_ipv4(eth->payload, check(0));
    if (!ip || ip->is_fragment() || ip->protocol() != wire::ip_proto::tcp) {
        return std::nullopt;
    }
    auto seg = wire::parse_tcp(ip->payload(), check(ip->pseudo_sum()));
    if (!seg) {
        return std::nullopt;
    }
    Segment s;
    s.src_mac = eth->src;
    s.dst_mac = eth->dst;
    s.src = ip->src();
    s.dst = ip->dst();
    s.tcp.src_port = seg->src_port();
    s.tcp.dst_port = seg->dst_port();
    s.tcp.seq = seg->seq();
    s.tcp.ack = seg->ack();
    s.tcp.flags = seg->flags();
    s.tcp.window = seg->window();
    s.tcp.urgent_pointer = seg->urgent_pointer();
    s.tcp.options = seg->options();
    s.payload = seg->payload();
    return s;
}

} // namespace synack::sim
