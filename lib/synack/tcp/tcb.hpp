#pragma once
// The transmission control block (RFC 9293 section 3.3.1): one connection's
// state, grouped the RFC way (snd, rcv). Hot fields, touched by every segment,
// come first. A TCB is not copyable or movable (its timers are linked into
// the wheel by address); the engine keeps TCBs in a fixed pool.

#include <synack/tcp/config.hpp>
#include <synack/tcp/congestion.hpp>
#include <synack/tcp/four_tuple.hpp>
#include <synack/tcp/reassembly.hpp>
#include <synack/tcp/recv_buffer.hpp>
#include <synack/tcp/rtt.hpp>
#include <synack/tcp/sack_scoreboard.hpp>
#include <synack/tcp/send_buffer.hpp>
#include <synack/tcp/state.hpp>
#include <synack/time/timer_wheel.hpp>
#include <synack/wire/seq.hpp>
#include <synack/wire/tcp.hpp>

#include <cstdint>
#include <optional>

namespace synack::tcp {

/// Which of a TCB's timers fired (TimerNode::kind()).
enum class TimerKind : std::uint8_t {
    retransmit,  // data, SYN and SYN-ACK retransmission (RFC 6298)
    delayed_ack, // RFC 9293 section 3.8.6.3
    persist,     // zero-window probe (RFC 9293 section 3.8.6.1)
    keepalive,   // RFC 9293 section 3.8.4
    fin_wait_2,  // give up on a peer that never sends its FIN
    time_wait,   // 2 * MSL (RFC 9293 section 3.4.2)
};

/// What the SYNs of a connection settle: MSS (RFC 9293 section 3.7.1),
/// window scale (RFC 7323 section 2.2), timestamps (RFC 7323 section 3.2),
/// SACK-permitted (RFC 2018 section 2).
struct SynOptions {
    std::uint16_t snd_mss = 536; // effective send MSS
    bool wscale_ok = false;      // both SYNs carry the window scale option
    std::uint8_t snd_wscale = 0; // shift of the peer's windows
    std::uint8_t rcv_wscale = 0; // shift of ours
    bool ts_ok = false;
    bool sack_ok = false;
    std::uint32_t ts_recent = 0; // the SYN's TSval
};

/// What the peer's SYN (or SYN-ACK) settles with our configuration. We offer
/// what we are configured for on a SYN, and on a SYN-ACK only what the peer
/// offered; either way an option is in use when both sides sent it.
SynOptions negotiate_syn(const wire::TcpSegment& syn, const TcpConfig& config) noexcept;

/// Why a connection ended, as the application is told.
enum class CloseReason : std::uint8_t {
    normal,       // both FINs exchanged and acknowledged
    reset,        // the peer sent an acceptable RST
    refused,      // RST in answer to our SYN
    timed_out,    // retransmissions or keepalive probes ran out
    aborted,      // the application aborted (we sent RST)
};

const char* to_string(CloseReason r) noexcept;

struct Tcb {
    explicit Tcb(const TcpConfig& config) noexcept;
    Tcb(const Tcb&) = delete;
    Tcb& operator=(const Tcb&) = delete;

    // --- hot: every segment ---
    TcpState state = TcpState::closed;
    /// RFC 9293 section 3.3.1, "Send Sequence Variables".
    struct Send {
        wire::Seq32 una; // oldest unacknowledged
        wire::Seq32 nxt; // next to send
        wire::Seq32 max; // highest ever sent (nxt rewinds on retransmission timeout)
        std::uint32_t wnd = 0; // peer's window, scaled, in bytes
        wire::Seq32 wl1; // SEG.SEQ of the last window update
        wire::Seq32 wl2; // SEG.ACK of the last window update
        wire::Seq32 iss;
        wire::Seq32 sml; // end of the last sub-MSS segment sent (Nagle, Minshall's variant)
        std::uint32_t max_wnd = 0; // largest window the peer offered (RFC 5961 section 5.2)
        std::uint16_t mss = 536;   // effective send MSS (RFC 9293 section 3.7.1)
        std::uint8_t wscale = 0;   // shift applied to the peer's windows
    } snd;
    /// RFC 9293 section 3.3.1, "Receive Sequence Variables".
    struct Recv {
        wire::Seq32 nxt;
        wire::Seq32 irs;
        /// The right edge we last advertised: never moved left (RFC 9293
        /// section 3.8.6.2.2, "shrinking the window" is discouraged).
        wire::Seq32 adv_edge;
        std::uint8_t wscale = 0; // shift we apply to the windows we send
    } rcv;

    // Negotiated options.
    bool ts_ok = false;   // RFC 7323 timestamps in use
    bool sack_ok = false; // RFC 2018 SACK permitted both ways
    bool nagle = true;
    std::uint32_t ts_recent = 0; // RFC 7323 section 4.3, TS.Recent
    std::uint32_t ts_offset = 0; // added to our timestamp clock (RFC 7323 section 5.4)

    // Send side progress.
    bool fin_queued = false; // the application shut down its write side
    bool app_closed = false; // the application closed: it reads no more (an orphan)
    bool fin_sent = false;
    bool send_blocked = false; // a send was refused, or filled the buffer: a writable event is owed
    bool passive = false;    // opened from LISTEN (RST in SYN-RECEIVED returns there)
    std::uint8_t dupacks = 0;
    /// SACK-based loss recovery (RFC 6675, tcp/sack_recovery.hpp).
    bool sack_recovery = false;
    wire::Seq32 recovery_point; // RecoveryPoint: SND.MAX when recovery began
    wire::Seq32 high_rxt;       // HighRxt: end of the highest retransmission
    std::uint8_t retransmits = 0; // consecutive timeouts of the current segment
    /// Keepalive or zero-window probes sent since the peer was last heard
    /// (the two never run at once).
    std::uint8_t probes_unanswered = 0;
    /// Full-sized segments received since the last ACK we sent (delayed ACK).
    std::uint8_t unacked_segments = 0;
    bool ack_now = false; // send an ACK at the next output
    bool sws_override = false; // the persist timer fired on a small window: send anyway
    /// RTT timing of one segment at a time (RFC 6298 section 3, Karn's rule).
    bool rtt_timing = false;
    wire::Seq32 rtt_seq;
    time::Instant rtt_start;
    time::Instant last_activity; // for keepalive and idle restart
    time::Instant last_heard;    // the last segment from the peer
    std::optional<time::Instant> last_invalid_ack; // see TcpConfig::invalid_ack_interval

    CloseReason close_reason = CloseReason::normal;
    /// The engine's handle for the connection, passed back in events.
    std::uint64_t user_id = 0;
    FourTuple tuple;

    // --- timers, each an entry in the engine's wheel ---
    time::TimerNode rtx_timer{static_cast<std::uint8_t>(TimerKind::retransmit)};
    time::TimerNode delack_timer{static_cast<std::uint8_t>(TimerKind::delayed_ack)};
    /// Persist, keepalive, FIN-WAIT-2 and TIME-WAIT never run at once.
    time::TimerNode misc_timer{static_cast<std::uint8_t>(TimerKind::keepalive)};

    // --- cold: buffers, estimators, per-connection settings ---
    /// TcpConfig::keepalive, which the application may change per connection.
    KeepaliveConfig keepalive;
    /// For the application's info call (as Linux's tcpi_bytes_acked,
    /// tcpi_bytes_received, tcpi_total_retrans): payload bytes the peer
    /// acknowledged, payload bytes received in order, segments sent again.
    std::uint64_t bytes_acked = 0;
    std::uint64_t bytes_received = 0;
    std::uint32_t segments_retransmitted = 0;
    SendBuffer send;
    RecvBuffer recv;
    ReassemblyQueue ooo;
    RttEstimator rtt;
    Congestion cc;
    SackScoreboard sacked; // what the peer SACKed above SND.UNA

    /// Bytes sent and not yet acknowledged (RFC 5681 FlightSize), counting
    /// SYN and FIN.
    std::uint32_t flight_size() const noexcept {
        return static_cast<std::uint32_t>(snd.max - snd.una);
    }
};

} // namespace synack::tcp
