#pragma once
// SYN cookies (RFC 4987 section 3.6): when a listener cannot keep another
// half-open connection, it answers the SYN with an ISS that encodes what the
// connection needs and keeps nothing; the ACK that completes the handshake
// carries the ISS back (SEG.ACK - 1), and the connection is made from it.
//
// The ISS, as RFC 4987 section 3.6 lays it out after Bernstein:
//
//   bits 31..27  t: a counter of 64-second periods, modulo 32
//   bits 26..24  m: the index of the MSS in mss_table
//   bits 23..0   s: SipHash-2-4 of the tuple, the peer's ISN and t, under a
//                key derived for cookies alone (base/siphash.hpp derive_key)
//
// A cookie is valid in the period it was made and the next: at most 128 s,
// at least 64 s, as Linux's two minutes. Each period has its own MAC input,
// so the secret in effect rotates with t. A blind attacker guesses 24 bits
// per try (times the 8 MSS indices and 2 periods it may hit).
//
// What the ISS cannot hold travels in our TSval when the peer sends
// timestamps, as Linux does: its low 6 bits carry the peer's window scale
// (4 bits, 15 for none), SACK-permitted (1 bit) and ECN (1 bit, reserved
// until ECN is negotiated). The peer echoes TSval in the ACK's TSecr. Without
// timestamps a connection opened from a cookie has no window scaling and no
// SACK.

#include <synack/base/siphash.hpp>
#include <synack/tcp/four_tuple.hpp>
#include <synack/tcp/half_open.hpp>
#include <synack/tcp/tcb.hpp>
#include <synack/time/clock.hpp>
#include <synack/wire/seq.hpp>

#include <array>
#include <cstdint>
#include <optional>

namespace synack::tcp {

/// The MSS values a cookie can carry: the peer gets the largest one not above
/// what it asked for (the first, 64, is our floor for any peer). Common
/// Ethernet, tunnel and jumbo values.
inline constexpr std::array<std::uint16_t, 8> cookie_mss_table = {64,   536,  1200, 1360,
                                                                  1400, 1440, 1460, 8960};

class SynCookies {
public:
    /// key: derived for cookies alone (derive_key(root, "syn cookie")).
    explicit SynCookies(SipKey key) noexcept : key_(key) {}

    /// Makes the record of a SYN (half_open_for) the answer of a cookie: its
    /// ISS the cookie, its MSS the table's, and without timestamps no window
    /// scale and no SACK, which would have nowhere to travel. Nothing of it
    /// is kept; send_syn_ack() sends it.
    void answer(HalfOpen& h, time::Instant now) const noexcept;

    /// The record a cookie stands for, rebuilt from the ACK that brings it
    /// back (SEG.ACK - 1, for SEG.SEQ - 1 as the peer's ISN), or nullopt when
    /// it is not a cookie of ours for this tuple in its lifetime. The ACK's
    /// timestamps count only when they echo a TSval we could have sent in
    /// that lifetime: a SYN without timestamps got none, and its peer has
    /// nothing to echo nor any business sending them. ts_offset: the tuple's.
    std::optional<HalfOpen> open(const FourTuple& tuple, const wire::TcpSegment& ack,
                                 std::uint32_t ts_offset, const TcpConfig& config,
                                 time::Instant now) const noexcept;

    /// The ISS of a SYN-ACK answering the SYN with ISN irs from tuple, at
    /// now, carrying mss_index (into cookie_mss_table; precondition < 8).
    wire::Seq32 make(const FourTuple& tuple, wire::Seq32 irs, std::uint8_t mss_index,
                     time::Instant now) const noexcept;

    /// The MSS index carried by iss, when iss is a cookie made for this
    /// tuple and irs in this period or the one before; otherwise nullopt.
    std::optional<std::uint8_t> check(const FourTuple& tuple, wire::Seq32 irs, wire::Seq32 iss,
                                      time::Instant now) const noexcept;

    /// The index of the largest cookie_mss_table entry not above mss.
    static std::uint8_t mss_index(std::uint16_t mss) noexcept;

    /// A TSval whose low 6 bits carry the options of o (see the file
    /// comment), never after ts_now, so that the connection's later TSvals
    /// do not go back.
    static std::uint32_t ts_value(std::uint32_t ts_now, const SynOptions& o) noexcept;

    /// Fills the window scale and SACK fields of o from the TSecr of the ACK
    /// (what ts_value put there), as far as config allows.
    static void options_from_ts(std::uint32_t ts_echo, const TcpConfig& config, SynOptions& o) noexcept;

private:
    std::uint32_t mac(const FourTuple& tuple, wire::Seq32 irs, std::uint32_t period) const noexcept;

    SipKey key_;
};

} // namespace synack::tcp
