#include <synack/wire/ipv4.hpp>

namespace synack::wire {

Result<Ipv4Packet, WireError> parse_ipv4(Bytes packet, ChecksumCheck check) noexcept {
    if (packet.size() < ipv4_min_header_len) {
        return Err{WireError::truncated};
    }
    const std::uint8_t* p = packet.data();
    if ((p[0] >> 4) != 4) {
        return Err{WireError::bad_version};
    }
    const std::size_t header_len = (p[0] & 0x0fu) * 4u;
    if (header_len < ipv4_min_header_len || header_len > packet.size()) {
        return Err{WireError::bad_header_length};
    }
    const std::size_t total_len = load_be16(p + 2);
    if (total_len < header_len) {
        return Err{WireError::bad_total_length};
    }
    if (total_len > packet.size()) {
        return Err{WireError::total_length_past_buffer};
    }
    switch (check.mode) {
    case ChecksumCheck::Mode::verify: {
        Checksum sum;
        sum.add(packet.first(header_len));
        if (!sum.verifies()) {
            return Err{WireError::bad_checksum};
        }
        break;
    }
    case ChecksumCheck::Mode::known_good: break;
    case ChecksumCheck::Mode::known_bad: return Err{WireError::bad_checksum};
    }
    return Ipv4Packet(packet.first(header_len), packet.subspan(header_len, total_len - header_len));
}

void Ipv4Repr::emit(MutBytes out, bool fill_checksum) const noexcept {
    SYNACK_ASSERT(out.size() >= ipv4_min_header_len);
    std::uint8_t* p = out.data();
    p[0] = 0x45; // version 4, IHL 5
    p[1] = dscp_ecn;
    store_be16(p + 2, static_cast<std::uint16_t>(ipv4_min_header_len + payload_len));
    store_be16(p + 4, id);
    store_be16(p + 6, dont_fragment ? 0x4000 : 0);
    p[8] = ttl;
    p[9] = protocol;
    store_be16(p + 10, 0);
    src.store(p + 12);
    dst.store(p + 16);
    if (fill_checksum) {
        store_be16(p + 10, checksum(out.first(ipv4_min_header_len)));
    }
}

} // namespace synack::wire
