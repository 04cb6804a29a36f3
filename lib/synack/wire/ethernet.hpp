#pragma once
// Ethernet II frames (IEEE 802.3) with up to two VLAN tags: an 802.1ad
// service tag and/or an 802.1Q customer tag (IEEE 802.1Q section 9).

#include <synack/base/result.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/error.hpp>

#include <cstdint>

namespace synack::wire {

namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800;
inline constexpr std::uint16_t arp = 0x0806;
inline constexpr std::uint16_t vlan = 0x8100;  // 802.1Q customer tag
inline constexpr std::uint16_t qinq = 0x88a8;  // 802.1ad service tag
inline constexpr std::uint16_t ipv6 = 0x86dd;
} // namespace ethertype

inline constexpr std::size_t ethernet_header_len = 14;
inline constexpr std::size_t vlan_tag_len = 4;
inline constexpr std::size_t max_vlan_tags = 2;

/// A parsed Ethernet frame: addresses, the innermost ethertype, the VLAN tags
/// seen (outermost first) and where the payload starts.
struct EthernetFrame {
    MacAddr dst;
    MacAddr src;
    std::uint16_t ethertype = 0;
    std::uint8_t vlan_count = 0;
    /// Tag control information (PCP:3, DEI:1, VID:12) of each tag, outermost first.
    std::uint16_t vlan_tci[max_vlan_tags] = {};
    Bytes payload;

    /// Length of the Ethernet header including its VLAN tags (the mbuf l2_len).
    std::size_t header_len() const noexcept { return ethernet_header_len + vlan_count * vlan_tag_len; }
    /// VLAN id (12 bits) of the innermost tag; 0 when untagged.
    std::uint16_t vlan_id() const noexcept {
        return vlan_count == 0 ? 0 : static_cast<std::uint16_t>(vlan_tci[vlan_count - 1] & 0x0fff);
    }
};

/// Parses an Ethernet header and its VLAN tags.
/// Returns the frame, or: truncated (shorter than the header and its tags);
/// too_many_vlan_tags (a third tag).
Result<EthernetFrame, WireError> parse_ethernet(Bytes frame) noexcept;

/// What to write in front of a payload: addresses, ethertype, optional 802.1Q tag.
struct EthernetRepr {
    MacAddr dst;
    MacAddr src;
    std::uint16_t ethertype = 0;
    bool has_vlan = false;
    std::uint16_t vlan_tci = 0;

    std::size_t header_len() const noexcept { return ethernet_header_len + (has_vlan ? vlan_tag_len : 0); }
    /// Writes header_len() bytes. Precondition: out.size() >= header_len().
    void emit(MutBytes out) const noexcept;
};

} // namespace synack::wire
