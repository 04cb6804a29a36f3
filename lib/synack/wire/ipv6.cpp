#include <synack/wire/ipv6.hpp>

#include <algorithm>

namespace synack::wire {

namespace {

// Extension headers sharing the generic layout "next header, length in
// 8-octet units not counting the first 8" (RFC 8200 section 4; RFC 6275,
// 7401 and 5533 for the last three).
bool is_generic_extension(std::uint8_t proto) noexcept {
    switch (proto) {
    case ip_proto::hop_by_hop:
    case ip_proto::ipv6_routing:
    case ip_proto::ipv6_dest_opts:
    case ip_proto::mobility:
    case ip_proto::hip:
    case ip_proto::shim6: return true;
    default: return false;
    }
}

} // namespace

Result<Ipv6Packet, WireError> parse_ipv6(Bytes packet) noexcept {
    if (packet.size() < ipv6_header_len) {
        return Err{WireError::truncated};
    }
    if ((packet[0] >> 4) != 6) {
        return Err{WireError::bad_version};
    }
    const std::size_t payload_len = load_be16(packet.data() + 4);
    if (ipv6_header_len + payload_len > packet.size()) {
        return Err{WireError::total_length_past_buffer};
    }
    Ipv6Packet pkt;
    pkt.header = packet.first(ipv6_header_len);
    pkt.payload = packet.subspan(ipv6_header_len, payload_len);

    std::uint8_t proto = packet[6];
    std::size_t at = 0; // offset of the current header within the payload
    const Bytes rest = pkt.payload;
    for (;;) {
        const bool generic = is_generic_extension(proto);
        const bool fragment = proto == ip_proto::ipv6_fragment;
        if (!generic && !fragment && proto != ip_proto::ah) {
            break; // upper layer, ESP, or No Next Header
        }
        // RFC 8200 section 4.1: "The Hop-by-Hop Options header, when present,
        // must immediately follow the IPv6 header."
        if (proto == ip_proto::hop_by_hop && pkt.extension_count != 0) {
            return Err{WireError::misplaced_hop_by_hop};
        }
        if (pkt.extension_count == ipv6_max_extension_headers) {
            return Err{WireError::too_many_extension_headers};
        }
        if (rest.size() - at < 8) {
            return Err{WireError::extension_header_past_packet};
        }
        const std::uint8_t* h = rest.data() + at;
        std::size_t len = 8; // the Fragment header is always 8 bytes
        if (generic) {
            len = (std::size_t{h[1]} + 1) * 8;
        } else if (!fragment) {
            len = (std::size_t{h[1]} + 2) * 4; // AH, RFC 4302 section 2.2
        }
        if (len > rest.size() - at) {
            return Err{WireError::extension_header_past_packet};
        }
        ++pkt.extension_count;
        proto = h[0];
        at += len;
        if (fragment) {
            // RFC 8200 section 4.5: offset in 8-octet units in the top 13 bits, M flag in bit 0.
            const std::uint16_t offset_flags = load_be16(h + 2);
            pkt.is_fragment = true;
            pkt.fragment_offset = static_cast<std::uint16_t>(offset_flags & 0xfff8);
            pkt.more_fragments = (offset_flags & 1) != 0;
            pkt.fragment_id = load_be32(h + 4);
            if (pkt.fragment_offset != 0) {
                break; // what follows is fragment data, not a header
            }
        }
    }
    pkt.upper_protocol = proto;
    pkt.upper = proto == ip_proto::ipv6_none ? Bytes{} : rest.subspan(at);
    return pkt;
}

void Ipv6Repr::emit(MutBytes out) const noexcept {
    SYNACK_ASSERT(out.size() >= ipv6_header_len);
    std::uint8_t* p = out.data();
    store_be32(p, (std::uint32_t{6} << 28) | (std::uint32_t{traffic_class} << 20) |
                      (flow_label & 0xfffff));
    store_be16(p + 4, payload_len);
    p[6] = next_header;
    p[7] = hop_limit;
    std::copy(src.bytes.begin(), src.bytes.end(), p + 8);
    std::copy(dst.bytes.begin(), dst.bytes.end(), p + 24);
}

} // namespace synack::wire
