#include "fuzz_support.hpp"

#include <algorithm>
#include <cstdio>

namespace synack::fuzz {

using namespace synack::wire;

void check_failed(const char* expr, const char* file, int line) noexcept {
    std::fprintf(stderr, "fuzz check failed: %s\n  at %s:%d\n", expr, file, line);
    std::fflush(stderr);
    __builtin_trap();
}

namespace {

// Makes the compiler compute v: accessors whose result is unused would be
// optimised away, and with them the reads the sanitizers should check.
void keep(std::uint64_t v) noexcept { __asm__ __volatile__("" : : "r"(v) : "memory"); }

// True when a and b are the same bytes of memory (not merely equal bytes).
bool same(Bytes a, Bytes b) noexcept { return a.data() == b.data() && a.size() == b.size(); }

// True when inner lies inside outer. An empty span may point nowhere, but not
// elsewhere: anything it points at must be inside too (or one past the end).
bool within(Bytes outer, Bytes inner) noexcept {
    if (inner.empty() && inner.data() == nullptr) {
        return true;
    }
    return inner.data() >= outer.data() &&
           inner.data() + inner.size() <= outer.data() + outer.size();
}

// A ones-complement sum written the plain way, a 16-bit word at a time (RFC 1071
// section 4.1), to check Checksum's wide loads and odd-length handling against.
std::uint16_t reference_sum(std::uint16_t start, Bytes bytes) noexcept {
    std::uint64_t sum = start;
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
    }
    if (i < bytes.size()) {
        sum += static_cast<std::uint32_t>(bytes[i] << 8);
    }
    while ((sum >> 16) != 0) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

// Parses under all three checksum modes. Structural checks run before the
// checksum in every parser, so the modes may differ only by bad_checksum, and
// verify must agree with the reference sum. Returns the known_good result.
template <typename Parse>
auto parse_each_mode(Parse parse, std::uint16_t pseudo_sum, Bytes covered) noexcept {
    auto good = parse(ChecksumCheck::known_good());
    const auto verified = parse(ChecksumCheck::verify(pseudo_sum));
    const auto bad = parse(ChecksumCheck::known_bad());
    FUZZ_CHECK(!bad.ok());
    if (!good.ok()) {
        FUZZ_CHECK(!verified.ok() && verified.error() == good.error());
        FUZZ_CHECK(bad.error() == good.error());
        return good;
    }
    FUZZ_CHECK(bad.error() == WireError::bad_checksum);
    const bool sums = reference_sum(pseudo_sum, covered) == 0xffff;
    FUZZ_CHECK(verified.ok() == sums);
    if (!verified.ok()) {
        FUZZ_CHECK(verified.error() == WireError::bad_checksum);
    }
    return good;
}

// What emit() can say again: the SACK blocks that fit beside the other options.
TcpOptions emittable(TcpOptions o) noexcept {
    o.sack_count = static_cast<std::uint8_t>(o.sack_blocks_that_fit());
    return o;
}

// A TcpRepr made from a parsed segment emits a header that parses back to it.
void check_segment_round_trip(const TcpSegment& s) noexcept {
    const TcpRepr repr{
        .src_port = s.src_port(),
        .dst_port = s.dst_port(),
        .seq = s.seq(),
        .ack = s.ack(),
        .flags = s.flags(),
        .window = s.window(),
        .urgent_pointer = s.urgent_pointer(),
        .options = s.options(),
    };
    const std::size_t len = repr.header_len();
    FUZZ_CHECK(len >= tcp_min_header_len && len <= tcp_min_header_len + tcp_max_options_len);
    FUZZ_CHECK(len % 4 == 0);
    Input out(len);
    repr.emit(out);
    const auto back = parse_tcp(out, ChecksumCheck::known_good());
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->header_len() == len && back->payload().empty());
    FUZZ_CHECK(back->src_port() == s.src_port() && back->dst_port() == s.dst_port());
    FUZZ_CHECK(back->seq() == s.seq() && back->ack() == s.ack());
    FUZZ_CHECK(back->flags() == s.flags() && back->window() == s.window());
    FUZZ_CHECK(back->urgent_pointer() == s.urgent_pointer());
    FUZZ_CHECK(back->options() == emittable(s.options()));
}

} // namespace

Result<EthernetFrame, WireError> check_ethernet(Bytes in) noexcept {
    auto r = parse_ethernet(in);
    if (!r.ok()) {
        return r;
    }
    const EthernetFrame& f = *r;
    FUZZ_CHECK(f.vlan_count <= max_vlan_tags);
    const std::size_t len = f.header_len();
    FUZZ_CHECK(len == ethernet_header_len + f.vlan_count * vlan_tag_len && len <= in.size());
    FUZZ_CHECK(same(f.payload, in.subspan(len)));
    FUZZ_CHECK(f.ethertype == load_be16(in.data() + len - 2));
    FUZZ_CHECK(f.ethertype != ethertype::vlan && f.ethertype != ethertype::qinq);
    FUZZ_CHECK(std::equal(f.dst.bytes.begin(), f.dst.bytes.end(), in.begin()));
    FUZZ_CHECK(std::equal(f.src.bytes.begin(), f.src.bytes.end(), in.begin() + 6));
    for (std::size_t i = 0; i < f.vlan_count; ++i) {
        const std::uint16_t tpid = load_be16(in.data() + 12 + i * vlan_tag_len);
        FUZZ_CHECK(tpid == ethertype::vlan || tpid == ethertype::qinq);
        FUZZ_CHECK(f.vlan_tci[i] == load_be16(in.data() + 14 + i * vlan_tag_len));
    }
    keep(f.vlan_id());
    // EthernetRepr says untagged or one 802.1Q tag: those frames emit back byte for byte.
    if (f.vlan_count == 0 || (f.vlan_count == 1 && load_be16(in.data() + 12) == ethertype::vlan)) {
        const EthernetRepr repr{f.dst, f.src, f.ethertype, f.vlan_count == 1, f.vlan_tci[0]};
        FUZZ_CHECK(repr.header_len() == len);
        Input out(len);
        repr.emit(out);
        FUZZ_CHECK(std::equal(out.begin(), out.end(), in.begin()));
    }
    return r;
}

Result<ArpRepr, WireError> check_arp(Bytes in) noexcept {
    auto r = parse_arp(in);
    if (!r.ok()) {
        return r;
    }
    FUZZ_CHECK(in.size() >= arp_len);
    FUZZ_CHECK(r->is_request() == (r->op == 1) && r->is_reply() == (r->op == 2));
    // Parsing accepts only what emit writes in the fixed fields, so the packet
    // emits back byte for byte.
    Input out(arp_len);
    r->emit(out);
    FUZZ_CHECK(std::equal(out.begin(), out.end(), in.begin()));
    return r;
}

Result<Ipv4Packet, WireError> check_ipv4(Bytes in) noexcept {
    const std::size_t covered = in.size() >= 1 ? (in[0] & 0x0fu) * 4u : 0;
    auto r = parse_each_mode([in](ChecksumCheck c) { return parse_ipv4(in, c); }, 0,
                             in.first(std::min(covered, in.size())));
    if (!r.ok()) {
        return r;
    }
    const Ipv4Packet& ip = *r;
    FUZZ_CHECK(in.size() >= ipv4_min_header_len && (in[0] >> 4) == 4);
    const std::size_t len = covered;
    FUZZ_CHECK(len >= ipv4_min_header_len && len <= 60 && len <= in.size());
    FUZZ_CHECK(ip.header_len() == len);
    FUZZ_CHECK(same(ip.header(), in.first(len)));
    FUZZ_CHECK(same(ip.options(), in.subspan(ipv4_min_header_len, len - ipv4_min_header_len)));
    const std::size_t total = load_be16(in.data() + 2);
    FUZZ_CHECK(ip.total_len() == total && total >= len && total <= in.size());
    FUZZ_CHECK(same(ip.payload(), in.subspan(len, total - len)));
    FUZZ_CHECK(ip.fragment_offset() % 8 == 0);
    keep(ip.dscp_ecn() + ip.id() + ip.dont_fragment() + ip.is_fragment() + ip.ttl() +
         ip.protocol() + ip.checksum() + ip.src().value + ip.dst().value + ip.pseudo_sum());
    return r;
}

Result<Ipv6Packet, WireError> check_ipv6(Bytes in) noexcept {
    auto r = parse_ipv6(in);
    if (!r.ok()) {
        return r;
    }
    const Ipv6Packet& ip = *r;
    FUZZ_CHECK(in.size() >= ipv6_header_len && (in[0] >> 4) == 6);
    const std::size_t payload_len = load_be16(in.data() + 4);
    FUZZ_CHECK(ipv6_header_len + payload_len <= in.size());
    FUZZ_CHECK(same(ip.header, in.first(ipv6_header_len)));
    FUZZ_CHECK(same(ip.payload, in.subspan(ipv6_header_len, payload_len)));
    FUZZ_CHECK(ip.payload_len() == payload_len);
    FUZZ_CHECK(ip.extension_count <= ipv6_max_extension_headers);
    FUZZ_CHECK(within(ip.payload, ip.upper));
    if (ip.upper_protocol == ip_proto::ipv6_none) {
        FUZZ_CHECK(ip.upper.empty());
    } else {
        // The upper layer runs to the end of the payload, after at least 8
        // bytes per extension header.
        FUZZ_CHECK(ip.upper.data() + ip.upper.size() == ip.payload.data() + ip.payload.size());
        FUZZ_CHECK(ip.payload.size() - ip.upper.size() >= 8u * ip.extension_count);
        if (ip.extension_count == 0) {
            FUZZ_CHECK(same(ip.upper, ip.payload) && ip.upper_protocol == ip.next_header());
        }
    }
    if (!ip.is_fragment) {
        FUZZ_CHECK(ip.fragment_offset == 0 && !ip.more_fragments && ip.fragment_id == 0);
    }
    FUZZ_CHECK(ip.fragment_offset % 8 == 0);
    if (!ip.is_fragment || ip.fragment_offset == 0) {
        // The walk stops only at a header it does not skip.
        switch (ip.upper_protocol) {
        case ip_proto::hop_by_hop:
        case ip_proto::ipv6_routing:
        case ip_proto::ipv6_fragment:
        case ip_proto::ah:
        case ip_proto::ipv6_dest_opts:
        case ip_proto::mobility:
        case ip_proto::hip:
        case ip_proto::shim6:
            check_failed("walk stopped at an extension header", __FILE__, __LINE__);
        default: break;
        }
    }
    keep(ip.traffic_class() + ip.flow_label() + ip.hop_limit() + ip.src().bytes[15] +
         ip.dst().bytes[15] + ip.pseudo_sum());
    return r;
}

Result<Icmpv4Packet, WireError> check_icmpv4(Bytes in) noexcept {
    auto r = parse_each_mode([in](ChecksumCheck c) { return parse_icmpv4(in, c); }, 0, in);
    if (!r.ok()) {
        return r;
    }
    const Icmpv4Packet& m = *r;
    FUZZ_CHECK(in.size() >= icmp_header_len);
    FUZZ_CHECK(same(m.message, in));
    FUZZ_CHECK(same(m.body(), in.subspan(icmp_header_len)));
    FUZZ_CHECK(m.type() == in[0] && m.code() == in[1]);
    keep(m.checksum() + m.echo_id() + m.echo_seq() + m.next_hop_mtu());
    // The reply we would send to any message carries a checksum that verifies
    // (emit over an odd-length body included).
    const Icmpv4Repr reply = Icmpv4Repr::echo_reply_to(m);
    Input out(reply.len());
    reply.emit(out);
    const auto back = parse_icmpv4(out, ChecksumCheck::verify());
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->type() == icmp_type::echo_reply && back->code() == 0);
    FUZZ_CHECK(back->echo_id() == m.echo_id() && back->echo_seq() == m.echo_seq());
    FUZZ_CHECK(
        std::equal(back->body().begin(), back->body().end(), m.body().begin(), m.body().end()));
    return r;
}

Result<TcpSegment, WireError> check_tcp(Bytes in, std::uint16_t pseudo_sum) noexcept {
    auto r = parse_each_mode([in](ChecksumCheck c) { return parse_tcp(in, c); }, pseudo_sum, in);
    if (!r.ok()) {
        return r;
    }
    const TcpSegment& s = *r;
    FUZZ_CHECK(in.size() >= tcp_min_header_len);
    const std::size_t len = (in[12] >> 4) * 4u;
    FUZZ_CHECK(s.header_len() == len);
    FUZZ_CHECK(len >= tcp_min_header_len && len <= tcp_min_header_len + tcp_max_options_len);
    FUZZ_CHECK(len <= in.size());
    FUZZ_CHECK(same(s.header(), in.first(len)));
    FUZZ_CHECK(same(s.payload(), in.subspan(len)));
    FUZZ_CHECK(s.options().sack_count <= tcp_max_sack_blocks);
    const auto options =
        parse_tcp_options(in.subspan(tcp_min_header_len, len - tcp_min_header_len));
    FUZZ_CHECK(options.ok() && *options == s.options());
    FUZZ_CHECK(s.seg_len() == s.payload().size() + (s.has(tcp_flag::syn) ? 1u : 0u) +
                                  (s.has(tcp_flag::fin) ? 1u : 0u));
    keep(s.checksum());
    check_segment_round_trip(s);
    return r;
}

void check_tcp_options(Bytes area) noexcept {
    const auto r = parse_tcp_options(area);
    if (!r.ok()) {
        return;
    }
    const TcpOptions& o = *r;
    FUZZ_CHECK(o.sack_count <= tcp_max_sack_blocks);
    FUZZ_CHECK(o.sack_blocks_that_fit() <= o.sack_count);
    const std::size_t len = o.encoded_len();
    FUZZ_CHECK(len % 4 == 0 && len <= tcp_max_options_len);
    Input out(len);
    FUZZ_CHECK(o.emit(out) == len);
    const auto back = parse_tcp_options(out);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(*back == emittable(o));
}

void check_stack(Bytes frame) noexcept {
    const auto eth = check_ethernet(frame);
    if (!eth.ok()) {
        return;
    }
    switch (eth->ethertype) {
    case ethertype::arp: (void)check_arp(eth->payload); return;
    case ethertype::ipv4: {
        const auto ip = check_ipv4(eth->payload);
        // A fragment's upper-layer header and checksum belong to the reassembled datagram.
        if (!ip.ok() || ip->is_fragment()) {
            return;
        }
        if (ip->protocol() == ip_proto::tcp) {
            (void)check_tcp(ip->payload(), ip->pseudo_sum());
        } else if (ip->protocol() == ip_proto::icmp) {
            (void)check_icmpv4(ip->payload());
        }
        return;
    }
    case ethertype::ipv6: {
        const auto ip = check_ipv6(eth->payload);
        if (!ip.ok() || ip->is_fragment) {
            return;
        }
        if (ip->upper_protocol == ip_proto::tcp) {
            (void)check_tcp(ip->upper, ip->pseudo_sum());
        }
        return;
    }
    default: return;
    }
}

std::vector<Slice> layer_slices(Bytes frame) {
    std::vector<Slice> out{{frame, 0}};
    const auto eth = parse_ethernet(frame);
    if (!eth.ok()) {
        return out;
    }
    out.push_back({eth->payload, 0});
    if (eth->ethertype == ethertype::ipv4) {
        const auto ip = parse_ipv4(eth->payload, ChecksumCheck::known_good());
        if (ip.ok()) {
            const bool tcp = ip->protocol() == ip_proto::tcp && !ip->is_fragment();
            out.push_back({ip->payload(), tcp ? ip->pseudo_sum() : std::uint16_t{0}});
        }
    } else if (eth->ethertype == ethertype::ipv6) {
        const auto ip = parse_ipv6(eth->payload);
        if (ip.ok() && !ip->upper.empty()) {
            const bool tcp = ip->upper_protocol == ip_proto::tcp && !ip->is_fragment;
            out.push_back({ip->upper, tcp ? ip->pseudo_sum() : std::uint16_t{0}});
        }
    }
    return out;
}

} // namespace synack::fuzz
