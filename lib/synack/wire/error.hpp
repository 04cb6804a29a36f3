#pragma once
// Why a packet failed to parse. One code per distinct defect, so that a drop
// counter says exactly what arrived; the engine maps these to DropReasons.

#include <cstdint>

namespace synack::wire {

enum class WireError : std::uint8_t {
    /// The buffer ends before the fixed part of the header does.
    truncated,
    /// A valid header of a kind we do not handle (ARP for another hardware or
    /// protocol type, say).
    unsupported,
    /// IPv4 version field is not 4, or IPv6 version field is not 6.
    bad_version,
    /// IPv4 IHL below 5 words, or the header it announces runs past the buffer.
    bad_header_length,
    /// IPv4 total length smaller than its own header.
    bad_total_length,
    /// IPv4 total length or IPv6 payload length claims more bytes than arrived.
    total_length_past_buffer,
    /// A ones-complement checksum does not verify.
    bad_checksum,
    /// TCP data offset below 5 words, or past the end of the segment.
    data_offset_out_of_range,
    /// A TCP option (or its length byte) runs past the end of the header.
    option_length_past_header,
    /// A TCP option length below 2, or not the length its kind requires.
    bad_option_length,
    /// More VLAN tags than we accept (two: 802.1ad outer plus 802.1Q inner).
    too_many_vlan_tags,
    /// An IPv6 extension header runs past the packet.
    extension_header_past_packet,
    /// More IPv6 extension headers than we walk.
    too_many_extension_headers,
    /// IPv6 Hop-by-Hop Options header not directly after the fixed header
    /// (RFC 8200 section 4.1).
    misplaced_hop_by_hop,
};

/// Stable lower-case name of the error, for logs and counter names.
const char* to_string(WireError e) noexcept;

} // namespace synack::wire
