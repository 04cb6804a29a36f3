#include <synack/wire/ethernet.hpp>

#include <algorithm>

namespace synack::wire {

Result<EthernetFrame, WireError> parse_ethernet(Bytes frame) noexcept {
    if (frame.size() < ethernet_header_len) {
        return Err{WireError::truncated};
    }
    EthernetFrame f;
    std::copy_n(frame.data(), 6, f.dst.bytes.begin());
    std::copy_n(frame.data() + 6, 6, f.src.bytes.begin());
    std::size_t type_at = 12;
    std::uint16_t type = load_be16(frame.data() + type_at);
    while (type == ethertype::vlan || type == ethertype::qinq) {
        if (f.vlan_count == max_vlan_tags) {
            return Err{WireError::too_many_vlan_tags};
        }
        // A tag is TPID(2) TCI(2), then the next type: 4 more bytes past the type.
        if (frame.size() < type_at + 2 + vlan_tag_len) {
            return Err{WireError::truncated};
        }
        f.vlan_tci[f.vlan_count++] = load_be16(frame.data() + type_at + 2);
        type_at += vlan_tag_len;
        type = load_be16(frame.data() + type_at);
    }
    f.ethertype = type;
    f.payload = frame.subspan(type_at + 2);
    return f;
}

void EthernetRepr::emit(MutBytes out) const noexcept {
    SYNACK_ASSERT(out.size() >= header_len());
    std::uint8_t* p = out.data();
    std::copy(dst.bytes.begin(), dst.bytes.end(), p);
    std::copy(src.bytes.begin(), src.bytes.end(), p + 6);
    p += 12;
    if (has_vlan) {
        store_be16(p, ethertype::vlan);
        store_be16(p + 2, vlan_tci);
        p += vlan_tag_len;
    }
    store_be16(p, ethertype);
}

} // namespace synack::wire
