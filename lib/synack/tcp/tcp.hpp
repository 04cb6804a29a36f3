#pragma once
// The TCP protocol engine of one connection (RFC 9293): what happens when a
// segment arrives, when a timer fires, and when the application acts. No I/O
// and no clock: everything arrives through TcpEnv, everything leaves through
// its queues.
//
// Read before editing: RFC 9293 (sections 3.3 and 3.10 above all), RFC 5961,
// RFC 6298, RFC 5681, RFC 6582, RFC 7323, RFC 2018, RFC 6528.

#include <synack/tcp/env.hpp>
#include <synack/tcp/tcb.hpp>
#include <synack/wire/tcp.hpp>

namespace synack::tcp {

/// A received segment, checked by the wire layer, with the packet it came in.
/// The payload starts `payload_offset` bytes into the packet's first segment.
struct Incoming {
    const wire::TcpSegment& seg;
    wire::MbufPtr packet;
    std::uint16_t payload_offset = 0;
};

// --- opening ---

/// Active OPEN (RFC 9293 section 3.10.1): tcb.tuple set by the caller;
/// chooses the ISS, sends SYN, enters SYN-SENT.
/// Returns false when no mbuf was available (tcb stays CLOSED).
bool open_active(Tcb& tcb, wire::Seq32 iss, TcpEnv& env) noexcept;

/// LISTEN receiving an acceptable SYN (RFC 9293 section 3.10.7.2, third
/// check), kept as a whole TCB: records the peer's options, sends SYN-ACK,
/// enters SYN-RECEIVED. The engine keeps a small record instead
/// (tcp/half_open.hpp) and makes the TCB when the handshake completes; this
/// is that path in one step, for a host without a SYN cache and for tests.
/// tcb.tuple and tcb.ts_offset set by the caller.
/// Returns false when no mbuf was available (tcb stays CLOSED).
bool open_passive(Tcb& tcb, const wire::TcpSegment& syn, wire::Seq32 iss, TcpEnv& env) noexcept;

// --- segments and timers ---

/// SEGMENT ARRIVES for an existing connection in SYN-SENT or a later state
/// (RFC 9293 section 3.10.7.3 and 3.10.7.4). Afterwards the caller checks
/// tcb.state: CLOSED means the TCB must be freed (release_resources).
void segment_arrives(Tcb& tcb, Incoming in, TcpEnv& env) noexcept;

/// One of tcb's timers fired.
void timer_fired(Tcb& tcb, TimerKind kind, TcpEnv& env) noexcept;

/// Sends whatever the windows, Nagle and SWS avoidance allow, and a pending
/// ACK. Called after input, after application writes, and from timers.
void output(Tcb& tcb, TcpEnv& env) noexcept;

// --- application calls ---

/// SEND: queues data (zero copy: the mbuf chain is taken over); the next
/// output() sends it. Returns the error and leaves `data` with the caller
/// when the connection is not open for sending, the write side is closed, or
/// the send buffer lacks room (a writable event is then owed).
enum class SendCallError : std::uint8_t { not_connected, write_closed, no_room };
Status<SendCallError> send(Tcb& tcb, wire::MbufPtr& data, TcpEnv& env) noexcept;

/// What send() would answer now for any data: its errors, no_room for a full
/// buffer (a writable event is then owed, as for a refused send()).
Status<SendCallError> check_send(Tcb& tcb) noexcept;

/// CLOSE of the write side (RFC 9293 section 3.10.4): a FIN follows the data.
void shutdown_write(Tcb& tcb, TcpEnv& env) noexcept;

/// CLOSE by an application that will read no more (RFC 9293 section
/// 3.10.4): the write side shuts down as with shutdown_write, and the
/// connection ends on its own. Unread data, or data arriving afterwards,
/// resets it instead, so the peer learns it was lost (RFC 1122 section
/// 4.2.2.13, RFC 2525 section 2.17). Only an orphan in FIN-WAIT-2 times out.
void close(Tcb& tcb, TcpEnv& env) noexcept;

/// ABORT (RFC 9293 section 3.10.5): RST to the peer if synchronized, then CLOSED.
void abort(Tcb& tcb, TcpEnv& env) noexcept;

/// The application consumed received bytes: the window may reopen. Sets
/// ack_now when a window update is due; the next output() sends it.
/// Precondition: bytes <= tcb.recv.bytes().
void consumed(Tcb& tcb, std::uint32_t bytes, TcpEnv& env) noexcept;

/// The application takes the received mbufs themselves, trimmed to the
/// payload, whole segments only, at most max_bytes (RecvBuffer::take): the
/// window reopens as for consumed().
/// Returns the chain (its pkt_len the bytes taken), or an empty handle when
/// nothing is readable or the first segment alone exceeds max_bytes.
wire::MbufPtr take(Tcb& tcb, std::uint32_t max_bytes, TcpEnv& env) noexcept;

/// Keepalive for this connection from now on (RFC 9293 section 3.8.4): the
/// timer is armed for k.idle, or cancelled, unless the connection's one
/// other timer (persist, FIN-WAIT-2, TIME-WAIT) holds it.
void set_keepalive(Tcb& tcb, const KeepaliveConfig& k, TcpEnv& env) noexcept;

/// Frees every buffer and cancels every timer: the TCB may then be destroyed.
void release_resources(Tcb& tcb, TcpEnv& env) noexcept;

// --- without a connection ---

/// RFC 9293 section 3.10.7.1: the reply to a segment for no connection
/// (nothing for a RST). `tuple` is from our side.
void reset_for_no_connection(const FourTuple& tuple, const wire::TcpSegment& seg, TcpEnv& env) noexcept;

} // namespace synack::tcp
