#pragma once
// TIME-WAIT kept small, so that millions fit (docs/design.md "Engine").
// Once both FINs are acknowledged and the application has read everything,
// a connection needs only what it takes to answer the segments RFC 9293
// section 3.10.7.4 expects in TIME-WAIT: acknowledge a retransmitted FIN,
// and judge a new SYN for the same ports.

#include <synack/tcp/env.hpp>
#include <synack/tcp/four_tuple.hpp>
#include <synack/tcp/tcb.hpp>
#include <synack/wire/seq.hpp>
#include <synack/wire/tcp.hpp>

#include <cstdint>
#include <optional>

namespace synack::tcp {

struct TimeWait {
    FourTuple tuple;
    wire::Seq32 snd_nxt;          // after our FIN
    wire::Seq32 rcv_nxt;          // after the peer's FIN
    std::uint32_t ts_recent = 0;  // RFC 7323: echoed, and PAWS against old duplicates
    std::uint32_t ts_offset = 0;  // the connection's, so that TSval goes on as it did
    std::uint16_t window = 0;     // the window field we last sent
    bool ts_ok = false;
    std::optional<time::Instant> last_invalid_ack; // TcpConfig::invalid_ack_interval
};

/// The record of a connection in TIME-WAIT. Precondition: tcb.state is TIME-WAIT.
TimeWait time_wait_of(const Tcb& tcb) noexcept;

/// What the owner of a record does after a segment for it arrived.
enum class TimeWaitAction : std::uint8_t {
    keep,    // nothing more (an ACK was sent, or the segment needed none)
    restart, // the peer's FIN came again and was ACKed: 2 MSL start over
    reopen,  // a new SYN may take the ports (RFC 6191): free the record and
             // treat the SYN as LISTEN would
};

/// A segment for a connection in TIME-WAIT (RFC 9293 section 3.10.7.4):
/// - RST: ignored (RFC 1337 section 3);
/// - SYN: reopens when its sequence number is beyond RCV.NXT or, with
///   timestamps, its TSval is newer (RFC 6191 section 2, RFC 1122 section
///   4.2.2.13); otherwise a challenge ACK (RFC 5961 section 4.2);
/// - an old duplicate by PAWS, data, or a segment not at RCV.NXT: ACK;
/// - the peer's FIN again: ACK, and 2 MSL restart;
/// - a bare ACK at RCV.NXT: nothing.
TimeWaitAction time_wait_arrives(TimeWait& tw, const wire::TcpSegment& seg, TcpEnv& env) noexcept;

} // namespace synack::tcp
