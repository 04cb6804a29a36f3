#pragma once
// SYN-RECEIVED kept small (RFC 4987 section 3.3, "SYN cache"). A passive open
// answers the SYN from a record of what the connection will need, a tenth of
// a TCB, and makes the TCB only when the handshake completes; a listener can
// hold many thousands of half-open connections for little. With a SYN cookie
// (RFC 4987 section 3.6, tcp/syn_cookie.hpp) nothing is kept at all: the
// record is rebuilt from the cookie when the ACK comes.
//
// Read before editing: RFC 9293 sections 3.10.7.2 (LISTEN) and 3.10.7.4 (the
// SYN-RECEIVED cases of each check), RFC 5961 (blind attacks), RFC 4987.
//
// This file is the protocol: what the SYN-ACK says, and what a segment for a
// record does. Keeping records (a table, timers, the listener's count) is
// the owner's, as it is for TIME-WAIT records (tcp/time_wait.hpp).

#include <synack/tcp/env.hpp>
#include <synack/tcp/four_tuple.hpp>
#include <synack/tcp/tcb.hpp>
#include <synack/time/clock.hpp>
#include <synack/wire/seq.hpp>
#include <synack/wire/tcp.hpp>

#include <cstdint>
#include <optional>

namespace synack::tcp {

/// A connection in SYN-RECEIVED, opened from LISTEN.
struct HalfOpen {
    FourTuple tuple;
    wire::Seq32 irs;
    wire::Seq32 iss;
    SynOptions options;
    std::uint32_t ts_offset = 0;     // the connection's timestamp offset (RFC 7323 section 5.4)
    std::uint16_t peer_window = 0;   // the SYN's window, never scaled (RFC 7323 section 2.2)
    std::uint8_t retransmits = 0;    // SYN-ACKs sent again
    bool cookie = false;             // the SYN-ACK carries a SYN cookie, nothing is kept
    /// When the first SYN-ACK went out, for an RTT sample (Karn's rule: only
    /// when it was not sent again). None for a cookie.
    std::optional<time::Instant> sent_at;
};

/// The record for the SYN `syn` from tuple, answered with ISS `iss`.
HalfOpen half_open_for(const FourTuple& tuple, const wire::TcpSegment& syn, wire::Seq32 iss,
                       std::uint32_t ts_offset, const TcpConfig& config, time::Instant now) noexcept;

/// The window of a SYN-ACK: the receive buffer, as far as an unscaled field
/// reaches (RFC 7323 section 2.2: a SYN's window is never scaled).
std::uint16_t syn_ack_window(const TcpConfig& config) noexcept;

/// Sends <SEQ=ISS><ACK=IRS+1><CTL=SYN,ACK> with the options agreed (only
/// those the peer offered, RFC 7323 section 1.3, RFC 2018 section 2).
/// `retransmission` marks a SYN-ACK sent again. A cookie's TSval carries the
/// options the cookie itself cannot (SynCookies::ts_value).
/// Returns false when no mbuf or output slot was free (counted).
bool send_syn_ack(const HalfOpen& h, bool retransmission, TcpEnv& env) noexcept;

/// What the owner of a record does after a segment for it arrived.
enum class HalfOpenAction : std::uint8_t {
    keep, // nothing more (the segment was dropped or answered)
    drop, // the record goes: back to LISTEN (RFC 9293 section 3.10.7.4)
    open, // the handshake completes: make the TCB (open_from_half_open) and
          // hand it this same segment
};

/// A segment for a record (RFC 9293 section 3.10.7.4, SYN-RECEIVED, passive):
/// - RST: exactly at RCV.NXT, back to LISTEN (drop); otherwise ignored (RFC
///   5961 section 3.2: a blind RST must hit the exact sequence number);
/// - the SYN again (same ISN): the SYN-ACK again, ours was lost;
/// - another SYN: back to LISTEN (fourth check), the peer's next SYN starts over;
/// - no ACK: dropped;
/// - not acceptable (first check), or an old duplicate by PAWS (RFC 7323
///   section 5.3): dropped;
/// - ACK other than ISS + 1: <SEQ=SEG.ACK><CTL=RST> (fifth check);
/// - otherwise open.
HalfOpenAction half_open_arrives(HalfOpen& h, const wire::TcpSegment& seg, TcpEnv& env) noexcept;

/// Puts tcb in SYN-RECEIVED as the record says, sending nothing and arming
/// no timer: the segment that completes the handshake follows at once
/// (segment_arrives), and takes it to ESTABLISHED. tcb.tuple must be set.
void open_from_half_open(Tcb& tcb, const HalfOpen& h, const TcpEnv& env) noexcept;

} // namespace synack::tcp
