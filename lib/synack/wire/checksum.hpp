#pragma once
// The Internet checksum: RFC 1071 (computation), RFC 1624 (incremental update),
// RFC 9293 section 3.1 and RFC 8200 section 8.1 (TCP pseudo-headers).
//
// Values are the 16-bit big-endian words as host integers: a checksum that is
// 0xb1e6 on the wire is 0xb1e6 here, and is written with store_be16.

#include <synack/wire/bytes.hpp>

#include <cstddef>
#include <cstdint>

namespace synack::wire {

/// Running ones-complement sum over pieces of one byte stream. Pieces may have
/// odd lengths (mbuf segments do): the byte position carries over, as RFC 1071
/// section 2(B) allows by byte-swapping a sum that starts at an odd offset.
class Checksum {
public:
    /// Adds the bytes as the next piece of the stream.
    void add(Bytes bytes) noexcept;
    /// Adds one 16-bit word at an even stream offset (a pseudo-header field).
    constexpr void add16(std::uint16_t word) noexcept { sum_ += word; }
    /// Adds a 32-bit value as two 16-bit words (an IPv4 address).
    constexpr void add32(std::uint32_t value) noexcept { sum_ += (value >> 16) + (value & 0xffff); }

    /// The folded 16-bit ones-complement sum (not yet inverted). A stream that
    /// already contains a correct checksum folds to 0xffff.
    constexpr std::uint16_t folded() const noexcept { return fold(sum_); }
    /// The checksum to write: the complement of the folded sum.
    constexpr std::uint16_t finish() const noexcept {
        return static_cast<std::uint16_t>(~folded());
    }
    /// True when the stream, checksum field included, verifies.
    constexpr bool verifies() const noexcept { return folded() == 0xffff; }

    static constexpr std::uint16_t fold(std::uint64_t sum) noexcept {
        while (sum >> 16) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return static_cast<std::uint16_t>(sum);
    }

private:
    std::uint64_t sum_ = 0;
    bool odd_ = false; // the stream so far has an odd length
};

/// How a parser treats a checksum: verify it in software, or take the verdict
/// the NIC already reached (RX checksum offload). pseudo_sum is the
/// pseudo-header partial sum for TCP and UDP; unused for IPv4 and ICMP.
struct ChecksumCheck {
    enum class Mode : std::uint8_t { verify, known_good, known_bad };
    Mode mode = Mode::verify;
    std::uint16_t pseudo_sum = 0;

    static constexpr ChecksumCheck verify(std::uint16_t pseudo = 0) noexcept {
        return {Mode::verify, pseudo};
    }
    static constexpr ChecksumCheck known_good() noexcept { return {Mode::known_good, 0}; }
    static constexpr ChecksumCheck known_bad() noexcept { return {Mode::known_bad, 0}; }
};

/// One-shot checksum (complemented) of a byte range.
std::uint16_t checksum(Bytes bytes) noexcept;

/// Partial sum of the IPv4 pseudo-header: source, destination, zero, protocol,
/// and the upper-layer length (RFC 9293 section 3.1, "TCP Length").
constexpr std::uint16_t ipv4_pseudo_sum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t protocol,
                                        std::uint16_t l4_len) noexcept {
    Checksum c;
    c.add32(src.value);
    c.add32(dst.value);
    c.add16(protocol);
    c.add16(l4_len);
    return c.folded();
}

/// Partial sum of the IPv6 pseudo-header (RFC 8200 section 8.1): addresses,
/// 32-bit upper-layer length, three zero bytes, next header.
std::uint16_t ipv6_pseudo_sum(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                              std::uint32_t l4_len) noexcept;

/// RFC 1624 equation 3, HC' = ~(~HC + ~m + m'): the checksum after one 16-bit
/// word of the covered data changes from old_word to new_word. Unlike RFC 1141's
/// equation it never produces 0xffff from a correct 0x0000 (RFC 1624 section 4).
constexpr std::uint16_t checksum_adjust16(std::uint16_t checksum, std::uint16_t old_word,
                                          std::uint16_t new_word) noexcept {
    std::uint64_t sum = static_cast<std::uint16_t>(~checksum);
    sum += static_cast<std::uint16_t>(~old_word);
    sum += new_word;
    return static_cast<std::uint16_t>(~Checksum::fold(sum));
}

/// As checksum_adjust16, for a 32-bit field (an IPv4 address, a sequence number)
/// that starts at an even offset.
constexpr std::uint16_t checksum_adjust32(std::uint16_t checksum, std::uint32_t old_value,
                                          std::uint32_t new_value) noexcept {
    std::uint64_t sum = static_cast<std::uint16_t>(~checksum);
    sum += static_cast<std::uint16_t>(~(old_value >> 16));
    sum += static_cast<std::uint16_t>(~old_value);
    sum += new_value >> 16;
    sum += new_value & 0xffff;
    return static_cast<std::uint16_t>(~Checksum::fold(sum));
}

} // namespace synack::wire
