#pragma once
// Internal to the tcp room: state changes that input, timers and the
// application calls share.

#include <synack/tcp/env.hpp>
#include <synack/tcp/tcb.hpp>
#include <synack/wire/tcp.hpp>

namespace synack::tcp {

/// Queues an event for the application (counted when the queue is full).
void notify(Tcb& tcb, ConnEvent e, TcpEnv& env) noexcept;

/// To CLOSED: timers off, the application told why. The caller frees the TCB.
void enter_closed(Tcb& tcb, CloseReason why, TcpEnv& env) noexcept;

/// To TIME-WAIT (or restarts it): only the 2 MSL timer runs (RFC 9293 section 3.4.2).
void enter_time_wait(Tcb& tcb, TcpEnv& env) noexcept;

/// Moves the held out-of-order data now contiguous with RCV.NXT into the
/// receive buffer, as far as it has room, and advances RCV.NXT past it; then
/// takes a held FIN that RCV.NXT has reached (take_held_fin).
/// Returns the bytes moved. What does not fit stays held, unacknowledged.
std::uint32_t take_reassembled(Tcb& tcb, TcpEnv& env) noexcept;

/// Whether a FIN from the peer can still arrive in this state: it has not
/// come yet, and the connection is (being) synchronized.
bool can_take_fin(TcpState state) noexcept;

/// Takes the FIN held by tcb.ooo once RCV.NXT has reached it (accept_fin).
void take_held_fin(Tcb& tcb, TcpEnv& env) noexcept;

/// The eighth step of RFC 9293 section 3.10.7.4: the peer's FIN, every byte
/// before it received. RCV.NXT moves past it, an ACK is due, the state moves
/// on and the application hears peer_closed.
void accept_fin(Tcb& tcb, TcpEnv& env) noexcept;

/// Our FIN is sent and acknowledged.
bool our_fin_acked(const Tcb& tcb) noexcept;

/// To ESTABLISHED: congestion control starts, keepalive arms, the
/// application is told.
void establish(Tcb& tcb, TcpEnv& env) noexcept;

/// Records what the peer's SYN (or SYN-ACK) settles (negotiate_syn) in tcb.
void take_syn_options(Tcb& tcb, const wire::TcpSegment& syn, const TcpConfig& config) noexcept;

/// The timestamp clock (RFC 7323 section 4.1: "a virtual clock that we call
/// the timestamp clock"), in milliseconds, moved by a connection's offset
/// (RFC 7323 section 5.4), so that TSval tells nothing of our uptime nor of
/// the other connections.
std::uint32_t ts_value(time::Instant now, std::uint32_t ts_offset) noexcept;

/// The window scale that lets `buffer_bytes` be advertised (at most 14,
/// RFC 7323 section 2.3).
std::uint8_t window_scale_for(std::uint32_t buffer_bytes) noexcept;

} // namespace synack::tcp
