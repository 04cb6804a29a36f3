#include <synack/wire/arp.hpp>

#include <algorithm>

namespace synack::wire {

namespace {
constexpr std::uint16_t hardware_ethernet = 1;
constexpr std::uint16_t protocol_ipv4 = 0x0800;
} // namespace

Result<ArpRepr, WireError> parse_arp(Bytes packet) noexcept {
    if (packet.size() < arp_len) {
        return Err{WireError::truncated};
    }
    const std::uint8_t* p = packet.data();
    if (load_be16(p) != hardware_ethernet || load_be16(p + 2) != protocol_ipv4 || p[4] != 6 ||
        p[5] != 4) {
        return Err{WireError::unsupported};
    }
    ArpRepr arp;
    arp.op = load_be16(p + 6);
    std::copy_n(p + 8, 6, arp.sender_mac.bytes.begin());
    arp.sender_ip = Ipv4Addr::load(p + 14);
    std::copy_n(p + 18, 6, arp.target_mac.bytes.begin());
    arp.target_ip = Ipv4Addr::load(p + 24);
    return arp;
}

void ArpRepr::emit(MutBytes out) const noexcept {
    SYNACK_ASSERT(out.size() >= arp_len);
    std::uint8_t* p = out.data();
    store_be16(p, hardware_ethernet);
    store_be16(p + 2, protocol_ipv4);
    p[4] = 6;
    p[5] = 4;
    store_be16(p + 6, op);
    std::copy(sender_mac.bytes.begin(), sender_mac.bytes.end(), p + 8);
    sender_ip.store(p + 14);
    std::copy(target_mac.bytes.begin(), target_mac.bytes.end(), p + 18);
    target_ip.store(p + 24);
}

} // namespace synack::wire
