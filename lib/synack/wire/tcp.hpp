#pragma once
// The TCP header (RFC 9293 section 3.1) and its options: EOL, NOP, MSS
// (RFC 9293 section 3.2), Window Scale and Timestamps (RFC 7323 sections 2.2
// and 3.2), SACK-Permitted and SACK (RFC 2018 sections 2 and 3). Options of
// other kinds are skipped by their length (RFC 9293 section 3.2, MUST-6).

#include <synack/base/result.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/checksum.hpp>
#include <synack/wire/error.hpp>
#include <synack/wire/seq.hpp>

#include <cstdint>
#include <optional>

namespace synack::wire {

inline constexpr std::size_t tcp_min_header_len = 20;
inline constexpr std::size_t tcp_max_options_len = 40;
/// Four SACK blocks fill 34 of the 40 option bytes (RFC 2018 section 3).
inline constexpr std::size_t tcp_max_sack_blocks = 4;

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
} // namespace tcp_flag

namespace tcp_option {
inline constexpr std::uint8_t eol = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t mss = 2;
inline constexpr std::uint8_t window_scale = 3;
inline constexpr std::uint8_t sack_permitted = 4;
inline constexpr std::uint8_t sack = 5;
inline constexpr std::uint8_t timestamps = 8;
} // namespace tcp_option

/// One SACK block: the bytes [left, right) arrived (RFC 2018 section 3).
struct SackBlock {
    Seq32 left;
    Seq32 right;
    constexpr bool operator==(const SackBlock&) const noexcept = default;
};

/// RFC 7323 section 3.2: TSval and TSecr.
struct Timestamps {
    std::uint32_t value = 0;
    std::uint32_t echo_reply = 0;
    constexpr bool operator==(const Timestamps&) const noexcept = default;
};

/// The options of one segment, as values. Parsing keeps what it finds raw (a
/// window shift above 14 stays as sent; RFC 7323's clamp is the TCP layer's).
/// A kind seen twice keeps its last value, as Linux does.
struct TcpOptions {
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> window_scale;
    bool sack_permitted = false;
    std::optional<Timestamps> timestamps;
    std::uint8_t sack_count = 0;
    SackBlock sack[tcp_max_sack_blocks] = {};

    /// How many SACK blocks emit() writes: as many of sack_count as fit in 40
    /// bytes beside the other options.
    std::size_t sack_blocks_that_fit() const noexcept;
    /// Bytes emit() writes: a multiple of 4, at most 40.
    std::size_t encoded_len() const noexcept;
    /// Writes the options in Linux's layout (NOPs aligning each to 4 bytes,
    /// SACK-Permitted folded in front of Timestamps), so that captures of both
    /// stacks compare byte for byte. Precondition: out.size() >= encoded_len().
    /// Returns encoded_len().
    std::size_t emit(MutBytes out) const noexcept;

    bool operator==(const TcpOptions&) const noexcept;
};

/// Parses an options area (the bytes between the fixed header and the data).
/// Returns the options, or: option_length_past_header (an option, or its
/// length byte, runs past the area); bad_option_length (a length below 2, or
/// not the one its kind requires: MSS 4, window scale 3, SACK-permitted 2,
/// timestamps 10, SACK 2 + 8n with 1 <= n <= 4).
///
/// RFC 9293 section 3.1 (MUST-7) has a receiver "be prepared to handle an
/// illegal option length (e.g., zero)"; we treat the whole segment as
/// malformed, to be counted and dropped, rather than guess at its meaning.
Result<TcpOptions, WireError> parse_tcp_options(Bytes options) noexcept;

/// A checked TCP segment: fixed header, parsed options, payload. Accessors
/// cannot fail.
class TcpSegment {
public:
    std::uint16_t src_port() const noexcept { return load_be16(h()); }
    std::uint16_t dst_port() const noexcept { return load_be16(h() + 2); }
    Seq32 seq() const noexcept { return Seq32(load_be32(h() + 4)); }
    Seq32 ack() const noexcept { return Seq32(load_be32(h() + 8)); }
    std::size_t header_len() const noexcept { return header_.size(); }
    std::uint8_t flags() const noexcept { return h()[13]; }
    bool has(std::uint8_t flag) const noexcept { return (flags() & flag) != 0; }
    std::uint16_t window() const noexcept { return load_be16(h() + 14); }
    std::uint16_t checksum() const noexcept { return load_be16(h() + 16); }
    std::uint16_t urgent_pointer() const noexcept { return load_be16(h() + 18); }

    const TcpOptions& options() const noexcept { return options_; }
    Bytes header() const noexcept { return header_; }
    Bytes payload() const noexcept { return payload_; }
    /// RFC 9293 section 3.4: SEG.LEN counts the payload plus SYN and FIN.
    std::uint32_t seg_len() const noexcept {
        return static_cast<std::uint32_t>(payload_.size()) + (has(tcp_flag::syn) ? 1u : 0u) +
               (has(tcp_flag::fin) ? 1u : 0u);
    }

private:
    friend Result<TcpSegment, WireError> parse_tcp(Bytes, ChecksumCheck) noexcept;
    TcpSegment(Bytes header, Bytes payload, const TcpOptions& options) noexcept
        : header_(header), payload_(payload), options_(options) {}
    const std::uint8_t* h() const noexcept { return header_.data(); }

    Bytes header_;
    Bytes payload_;
    TcpOptions options_;
};

/// Parses a TCP segment (the whole IP payload). Checks in order: truncated
/// (< 20 bytes); data_offset_out_of_range (below 5 words or past the
/// segment); the option errors of parse_tcp_options; bad_checksum (over the
/// pseudo-header sum in `check` and the segment, by `check.mode`).
Result<TcpSegment, WireError> parse_tcp(Bytes segment, ChecksumCheck check) noexcept;

/// A TCP header to emit.
struct TcpRepr {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    Seq32 seq;
    Seq32 ack;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t urgent_pointer = 0;
    TcpOptions options;

    std::size_t header_len() const noexcept { return tcp_min_header_len + options.encoded_len(); }
    /// Writes header_len() bytes with the checksum field 0 (see
    /// finalize_checksums). Precondition: out.size() >= header_len().
    void emit(MutBytes out) const noexcept;
};

} // namespace synack::wire
