#include <synack/wire/checksum.hpp>

#include <bit>
#include <cstring>

namespace synack::wire {

namespace {

// Sum of the bytes read as native-order 16-bit words, folded. On a
// little-endian machine this is the byte-swapped network-order sum (RFC 1071
// section 2(B)); 32-bit loads sum to the same value modulo 0xffff.
std::uint16_t native_sum(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t sum = 0;
    while (n >= 16) {
        std::uint32_t w[4];
        std::memcpy(w, p, sizeof w);
        sum += std::uint64_t{w[0]} + w[1] + w[2] + w[3];
        p += 16;
        n -= 16;
    }
    while (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, sizeof w);
        sum += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, sizeof w);
        sum += w;
        p += 2;
        n -= 2;
    }
    if (n == 1) {
        // The odd byte is the high-order byte of a zero-padded network word:
        // in native (little-endian) order, the low byte.
        std::uint16_t w = 0;
        std::memcpy(&w, p, 1);
        sum += w;
    }
    return Checksum::fold(sum);
}

constexpr std::uint16_t to_network_order(std::uint16_t native) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        return static_cast<std::uint16_t>((native << 8) | (native >> 8));
    } else {
        return native;
    }
}

} // namespace

void Checksum::add(Bytes bytes) noexcept {
    std::uint16_t piece = to_network_order(native_sum(bytes.data(), bytes.size()));
    if (odd_) {
        // This piece starts at an odd stream offset: each of its bytes sits in
        // the other half of a network word.
        piece = static_cast<std::uint16_t>((piece << 8) | (piece >> 8));
    }
    sum_ += piece;
    odd_ = odd_ != ((bytes.size() & 1) != 0);
}

std::uint16_t checksum(Bytes bytes) noexcept {
    Checksum c;
    c.add(bytes);
    return c.finish();
}

std::uint16_t ipv6_pseudo_sum(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                              std::uint32_t l4_len) noexcept {
    Checksum c;
    c.add(src.bytes);
    c.add(dst.bytes);
    c.add32(l4_len);
    c.add16(next_header);
    return c.folded();
}

} // namespace synack::wire
