#include <synack/wire/icmp.hpp>

#include <algorithm>

namespace synack::wire {

Result<Icmpv4Packet, WireError> parse_icmpv4(Bytes message, ChecksumCheck check) noexcept {
    if (message.size() < icmp_header_len) {
        return Err{WireError::truncated};
    }
    switch (check.mode) {
    case ChecksumCheck::Mode::verify: {
        Checksum sum;
        sum.add(message);
        if (!sum.verifies()) {
            return Err{WireError::bad_checksum};
        }
        break;
    }
    case ChecksumCheck::Mode::known_good: break;
    case ChecksumCheck::Mode::known_bad: return Err{WireError::bad_checksum};
    }
    return Icmpv4Packet{message};
}

void Icmpv4Repr::emit(MutBytes out) const noexcept {
    SYNACK_ASSERT(out.size() >= len());
    std::uint8_t* p = out.data();
    p[0] = type;
    p[1] = code;
    store_be16(p + 2, 0);
    store_be32(p + 4, rest_of_header);
    std::copy(body.begin(), body.end(), p + icmp_header_len);
    store_be16(p + 2, checksum(out.first(len())));
}

} // namespace synack::wire
