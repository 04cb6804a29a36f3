#pragma once
// Internal to the tcp room: the sending primitives input and timers share.

#include <synack/tcp/env.hpp>
#include <synack/tcp/tcb.hpp>

#include <optional>

namespace synack::tcp {

/// Queues a finished TCP segment for transmission, marked as a
/// retransmission or not (wire::set_retransmission: whoever finally
/// transmits it counts it, so that a segment that never leaves, for want of
/// an ARP answer, is not counted as sent). False when the output queue is
/// full (counted; the segment is freed).
bool push_segment(const FourTuple& tuple, wire::MbufPtr packet, TcpEnv& env,
                  bool retransmission = false) noexcept;

/// Builds and queues one segment of tcb: flags, sequence number, and `len`
/// payload bytes taken from the send buffer at seq (zero copy). Carries the
/// current ACK and window when `flags` has ACK. `retransmission` marks what
/// was sent before. Returns false when no mbuf or no output slot was
/// available (counted).
bool emit(Tcb& tcb, std::uint8_t flags, wire::Seq32 seq, std::uint32_t len, TcpEnv& env,
          bool retransmission = false) noexcept;

/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
bool send_ack(Tcb& tcb, TcpEnv& env) noexcept;

/// Whether an ACK in answer to an unacceptable or challenging segment may
/// go now (TcpConfig::invalid_ack_interval); records it if so, counts it if not.
bool invalid_ack_allowed(std::optional<time::Instant>& last, TcpEnv& env) noexcept;

/// RFC 5961's challenge ACK (an ACK, counted separately), rate-limited.
void send_challenge_ack(Tcb& tcb, TcpEnv& env) noexcept;

/// A RST with seq, and ACK when `ack` is given.
void send_rst(const FourTuple& tuple, wire::Seq32 seq, std::optional<wire::Seq32> ack,
              TcpEnv& env) noexcept;

/// The ACK of a connection in TIME-WAIT, from its record:
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with timestamps when in use.
struct TimeWait;
void send_time_wait_ack(const TimeWait& tw, TcpEnv& env) noexcept;

/// Resends the first unacknowledged segment (with the FIN if it is the last),
/// whatever the windows allow: fast retransmit, NewReno's partial ACK, and
/// the probe of a closed window after a timeout.
void retransmit_first_unacked(Tcb& tcb, TcpEnv& env) noexcept;

/// Receiver SWS avoidance (RFC 9293 section 3.8.6.2.2): whether the right
/// edge a window field can announce now lies at least min(RCV.BUFF / 2, MSS)
/// beyond the one last announced, so that a window update is worth a segment.
bool window_update_due(const Tcb& tcb) noexcept;

/// Arms the retransmission timer for the current RTO.
void arm_retransmit(Tcb& tcb, TcpEnv& env) noexcept;

/// The largest payload per segment: SND.MSS less the option bytes every
/// segment carries.
std::uint32_t payload_max(const Tcb& tcb) noexcept;

} // namespace synack::tcp
