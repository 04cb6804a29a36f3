#include <synack/runtime/toeplitz.hpp>

#include <synack/base/assert.hpp>

namespace synack::runtime {

std::array<std::uint8_t, rss_key_len> symmetric_rss_key() noexcept {
    std::array<std::uint8_t, rss_key_len> key{};
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = i % 2 == 0 ? 0x6d : 0x5a;
    }
    return key;
}

Toeplitz::Toeplitz(std::span<const std::uint8_t> key) noexcept {
    SYNACK_ASSERT(key.size() >= max_input + 4);
    // The 32 key bits starting at bit i (bit 0 = the key's first byte's MSB).
    auto window = [&](std::size_t i) {
        const std::size_t byte = i / 8;
        const unsigned shift = static_cast<unsigned>(i % 8);
        std::uint64_t bits = 0;
        for (std::size_t b = 0; b < 5; ++b) {
            bits = (bits << 8) | (byte + b < key.size() ? key[byte + b] : 0u);
        }
        return static_cast<std::uint32_t>(bits >> (8 - shift));
    };
    // Each set input bit XORs in the key window that starts at its position.
    for (std::size_t pos = 0; pos < max_input; ++pos) {
        for (std::uint32_t value = 0; value < 256; ++value) {
            std::uint32_t h = 0;
            for (unsigned bit = 0; bit < 8; ++bit) {
                if ((value & (0x80u >> bit)) != 0) {
                    h ^= window(pos * 8 + bit);
                }
            }
            table_[pos][value] = h;
        }
    }
}

std::uint32_t Toeplitz::ipv4_tcp(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint16_t sport,
                                 std::uint16_t dport) const noexcept {
    return word(0, src.value) ^ word(4, dst.value) ^ word(8, (std::uint32_t{sport} << 16) | dport);
}

std::uint32_t Toeplitz::ipv4(wire::Ipv4Addr src, wire::Ipv4Addr dst) const noexcept {
    return word(0, src.value) ^ word(4, dst.value);
}

} // namespace synack::runtime
