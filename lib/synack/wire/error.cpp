#include <synack/wire/error.hpp>

namespace synack::wire {

const char* to_string(WireError e) noexcept {
    switch (e) {
    case WireError::truncated: return "truncated";
    case WireError::unsupported: return "unsupported";
    case WireError::bad_version: return "bad_version";
    case WireError::bad_header_length: return "bad_header_length";
    case WireError::bad_total_length: return "bad_total_length";
    case WireError::total_length_past_buffer: return "total_length_past_buffer";
    case WireError::bad_checksum: return "bad_checksum";
    case WireError::data_offset_out_of_range: return "data_offset_out_of_range";
    case WireError::option_length_past_header: return "option_length_past_header";
    case WireError::bad_option_length: return "bad_option_length";
    case WireError::too_many_vlan_tags: return "too_many_vlan_tags";
    case WireError::extension_header_past_packet: return "extension_header_past_packet";
    case WireError::too_many_extension_headers: return "too_many_extension_headers";
    case WireError::misplaced_hop_by_hop: return "misplaced_hop_by_hop";
    }
    return "unknown";
}

} // namespace synack::wire
