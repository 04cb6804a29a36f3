// Sending: segments, ACKs, RSTs, and the rules that decide when (RFC 9293
// sections 3.7.4 Nagle, 3.8.6.2 SWS avoidance, 3.8.6.3 delayed ACK; RFC 7323
// options on every segment; RFC 2018 SACK blocks on ACKs).

#include <synack/tcp/control.hpp>
#include <synack/tcp/output.hpp>
#include <synack/tcp/sack_recovery.hpp>
#include <synack/tcp/tcp.hpp>
#include <synack/tcp/time_wait.hpp>

#include <synack/wire/build.hpp>

#include <algorithm>

namespace synack::tcp {

namespace {

constexpr std::uint32_t max_window_unscaled = 65535;

bool has_unsent_fin(const Tcb& t) noexcept {
    return t.fin_queued && !t.fin_sent;
}

// The right edge a window field can announce now: RCV.NXT plus the free
// buffer, as far as the 16-bit field reaches at our scale, in whole units of
// the scale (RFC 7323 section 2.3). Without scaling a 256 KiB buffer cannot
// be announced past 65,535 bytes: measuring openings against the buffer
// rather than against this edge asks for an update that never comes, and
// one ACK after another goes out.
wire::Seq32 offerable_edge(const Tcb& t, bool syn) noexcept {
    // RFC 7323 section 2.2: "The window field in a segment where the SYN bit
    // is set ... MUST NOT be scaled."
    const std::uint8_t shift = syn ? 0 : t.rcv.wscale;
    const std::uint32_t units = std::min(t.recv.window() >> shift, max_window_unscaled);
    return t.rcv.nxt + (units << shift);
}

// The window field for a segment, with receiver SWS avoidance (RFC 9293
// section 3.8.6.2.2): the right edge moves right only by at least
// min(RCV.BUFF / 2, MSS), and never moves left (section 3.8.6.2.2: "shrinking
// the window ... is strongly discouraged"). Updates rcv.adv_edge.
std::uint16_t window_field(Tcb& t, bool syn) noexcept {
    wire::Seq32 edge = offerable_edge(t, syn);
    const bool window_was_closed = !after(t.rcv.adv_edge, t.rcv.nxt);
    if (!after(edge, t.rcv.adv_edge) || (!syn && !window_was_closed && !window_update_due(t))) {
        edge = t.rcv.adv_edge; // never shrink; announce no small opening
    }
    const std::uint8_t shift = syn ? 0 : t.rcv.wscale;
    const std::uint32_t wnd = before(t.rcv.nxt, edge) ? static_cast<std::uint32_t>(edge - t.rcv.nxt) : 0;
    // An edge kept from before may not fall on a unit of the scale: the
    // field rounds it down (RFC 7323 section 2.4), adv_edge keeps the larger.
    const std::uint32_t field = std::min(wnd >> shift, max_window_unscaled);
    t.rcv.adv_edge = seq_max(t.rcv.adv_edge, t.rcv.nxt + (field << shift));
    return static_cast<std::uint16_t>(field);
}

wire::TcpOptions options_for(Tcb& t, std::uint8_t flags, const TcpEnv& env) noexcept {
    wire::TcpOptions o;
    const bool syn = (flags & wire::tcp_flag::syn) != 0;
    if (syn) {
        o.mss = env.config.mss;
        // On a SYN-ACK, only what the peer offered (RFC 7323 section 1.3 and
        // 2.2; RFC 2018 section 2); on a SYN, what we are configured for.
        const bool answering = (flags & wire::tcp_flag::ack) != 0;
        if (answering ? t.snd.wscale != 0 || t.rcv.wscale != 0 : env.config.window_scaling) {
            o.window_scale = t.rcv.wscale;
        }
        o.sack_permitted = answering ? t.sack_ok : env.config.sack;
        if (answering ? t.ts_ok : env.config.timestamps) {
            o.timestamps = wire::Timestamps{ts_value(env.now, t.ts_offset), t.ts_recent};
        }
        return o;
    }
    if (t.ts_ok) {
        o.timestamps = wire::Timestamps{ts_value(env.now, t.ts_offset), t.ts_recent};
    }
    if (t.sack_ok && !t.ooo.empty() && (flags & wire::tcp_flag::rst) == 0) {
        o.sack_count = static_cast<std::uint8_t>(t.ooo.sack_blocks(o.sack, wire::tcp_max_sack_blocks));
    }
    return o;
}

} // namespace

bool window_update_due(const Tcb& t) noexcept {
    const wire::Seq32 edge = offerable_edge(t, false);
    const std::uint32_t threshold = std::min<std::uint32_t>(t.recv.capacity() / 2, t.snd.mss);
    return after(edge, t.rcv.adv_edge) && static_cast<std::uint32_t>(edge - t.rcv.adv_edge) >= threshold;
}

bool push_segment(const FourTuple& tuple, wire::MbufPtr packet, TcpEnv& env,
                  bool retransmission) noexcept {
    wire::set_retransmission(packet.get(), retransmission);
    if (!env.out.push(OutSegment{tuple, std::move(packet)})) {
        ++env.counters.output_full;
        return false;
    }
    return true;
}

std::uint32_t payload_max(const Tcb& t) noexcept {
    // RFC 9293 section 3.7.1: the effective send MSS leaves room for the
    // options of the segment, "Eff.snd.MSS = min(SendMSS+20, MMS_S) -
    // TCPhdrsize": timestamps on every one, and SACK blocks while data is
    // held out of order (options_for() puts them on data segments too).
    wire::TcpOptions o;
    if (t.ts_ok) {
        o.timestamps = wire::Timestamps{};
    }
    if (t.sack_ok && !t.ooo.empty()) {
        o.sack_count = static_cast<std::uint8_t>(t.ooo.sack_blocks(o.sack, wire::tcp_max_sack_blocks));
    }
    const auto options = static_cast<std::uint32_t>(o.encoded_len());
    return t.snd.mss > options ? t.snd.mss - options : 1;
}

bool emit(Tcb& t, std::uint8_t flags, wire::Seq32 seq, std::uint32_t len, TcpEnv& env,
          bool retransmission) noexcept {
    wire::MbufPtr pkt;
    if (len != 0) {
        // Data comes from the send buffer, whose offset 0 is SND.UNA.
        const auto offset = static_cast<std::uint32_t>(seq - t.snd.una);
        pkt = t.send.slice(offset, len, env.pool);
    } else {
        pkt.reset(rte_pktmbuf_alloc(env.ctrl_pool));
    }
    if (!pkt) {
        env.counters.drops.add(DropReason::no_mbuf);
        return false;
    }
    const bool syn = (flags & wire::tcp_flag::syn) != 0;
    wire::TcpRepr repr;
    repr.src_port = t.tuple.local_port;
    repr.dst_port = t.tuple.remote_port;
    repr.seq = seq;
    repr.flags = flags;
    if ((flags & wire::tcp_flag::ack) != 0) {
        repr.ack = t.rcv.nxt;
    }
    repr.window = (flags & wire::tcp_flag::rst) != 0 ? 0 : window_field(t, syn);
    repr.options = options_for(t, flags, env);
    if (!wire::prepend_tcp(pkt.get(), repr)) {
        env.counters.drops.add(DropReason::no_mbuf);
        return false;
    }
    if (!push_segment(t.tuple, std::move(pkt), env, retransmission)) {
        return false;
    }
    t.segments_retransmitted += retransmission ? 1 : 0;
    if ((flags & wire::tcp_flag::ack) != 0) {
        // Every segment carries the latest ACK: nothing is left to delay.
        t.unacked_segments = 0;
        t.ack_now = false;
        env.timers.cancel(t.delack_timer);
    }
    t.last_activity = env.now;
    return true;
}

bool send_ack(Tcb& t, TcpEnv& env) noexcept {
    // <SEQ=SND.NXT> (RFC 9293 section 3.10.7.4), but after a timeout rewound
    // SND.NXT the peer may already hold more than it: a sequence number below
    // its RCV.NXT is unacceptable, and the ACK would be dropped unread. Two
    // ends retransmitting to each other would then ignore each other's ACKs
    // for good. So a bare ACK carries the highest sequence number sent, kept
    // inside the peer's window as Linux does (tcp_acceptable_seq).
    const wire::Seq32 wnd_end = t.snd.una + t.snd.wnd;
    return emit(t, wire::tcp_flag::ack, before_eq(t.snd.max, wnd_end) ? t.snd.max : wnd_end, 0, env);
}

bool invalid_ack_allowed(std::optional<time::Instant>& last, TcpEnv& env) noexcept {
    if (last && env.now - *last < env.config.invalid_ack_interval) {
        ++env.counters.invalid_acks_limited;
        return false;
    }
    last = env.now;
    return true;
}

void send_challenge_ack(Tcb& t, TcpEnv& env) noexcept {
    // RFC 5961 section 3.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, throttled
    // (section 7) per connection: a counter shared by all connections would
    // tell an off-path attacker how many it provoked (CVE-2016-5696).
    if (!invalid_ack_allowed(t.last_invalid_ack, env)) {
        return;
    }
    ++env.counters.challenge_acks;
    send_ack(t, env);
}

void send_rst(const FourTuple& tuple, wire::Seq32 seq, std::optional<wire::Seq32> ack,
              TcpEnv& env) noexcept {
    wire::MbufPtr pkt(rte_pktmbuf_alloc(env.ctrl_pool));
    if (!pkt) {
        env.counters.drops.add(DropReason::no_mbuf);
        return;
    }
    wire::TcpRepr repr;
    repr.src_port = tuple.local_port;
    repr.dst_port = tuple.remote_port;
    repr.seq = seq;
    repr.flags = wire::tcp_flag::rst;
    if (ack) {
        repr.flags |= wire::tcp_flag::ack;
        repr.ack = *ack;
    }
    if (wire::prepend_tcp(pkt.get(), repr) && push_segment(tuple, std::move(pkt), env)) {
        ++env.counters.resets_sent;
    }
}

void send_time_wait_ack(const TimeWait& tw, TcpEnv& env) noexcept {
    wire::MbufPtr pkt(rte_pktmbuf_alloc(env.ctrl_pool));
    if (!pkt) {
        env.counters.drops.add(DropReason::no_mbuf);
        return;
    }
    wire::TcpRepr repr;
    repr.src_port = tw.tuple.local_port;
    repr.dst_port = tw.tuple.remote_port;
    repr.seq = tw.snd_nxt;
    repr.ack = tw.rcv_nxt;
    repr.flags = wire::tcp_flag::ack;
    repr.window = tw.window;
    if (tw.ts_ok) {
        repr.options.timestamps = wire::Timestamps{ts_value(env.now, tw.ts_offset), tw.ts_recent};
    }
    if (wire::prepend_tcp(pkt.get(), repr)) {
        (void)push_segment(tw.tuple, std::move(pkt), env);
    }
}

void retransmit_first_unacked(Tcb& t, TcpEnv& env) noexcept {
    const std::uint32_t len = std::min(t.send.bytes(), payload_max(t));
    std::uint8_t flags = wire::tcp_flag::ack;
    if (len == t.send.bytes() && t.fin_sent) {
        flags |= wire::tcp_flag::fin;
    }
    if (len != 0 || (flags & wire::tcp_flag::fin) != 0) {
        (void)emit(t, flags, t.snd.una, len, env, true);
    }
}

void arm_retransmit(Tcb& t, TcpEnv& env) noexcept {
    env.timers.arm(t.rtx_timer, env.now + t.rtt.rto());
}

void output(Tcb& t, TcpEnv& env) noexcept {
    bool can_send_data = false;
    switch (t.state) {
    case TcpState::closed:
    case TcpState::listen: return;
    case TcpState::time_wait: break; // only the ACK of a (retransmitted) FIN
    case TcpState::syn_sent:
    case TcpState::syn_received: break; // only the SYN (timer-driven) and ACKs
    case TcpState::established:
    case TcpState::close_wait:
    case TcpState::fin_wait_1:
    case TcpState::closing:
    case TcpState::last_ack: can_send_data = true; break;
    case TcpState::fin_wait_2: break;
    }

    bool sent = false;
    // In SACK recovery the holes come first, then new data in what the
    // pipe estimate leaves (RFC 6675 section 5, NextSeg rules 1 to 3).
    std::uint32_t recovery_room = 0;
    if (can_send_data && t.sack_recovery) {
        const bool new_data_waiting =
            after(t.snd.una + t.send.bytes(), t.snd.nxt) || has_unsent_fin(t);
        recovery_room = sack_recovery_retransmit(t, new_data_waiting, env);
    }
    while (can_send_data) {
        if (before(t.snd.nxt, t.snd.max)) {
            if (auto end = t.sacked.covering_end(t.snd.nxt)) {
                t.snd.nxt = seq_min(*end, t.snd.max); // resending after a timeout: the peer has these
                continue;
            }
        }
        const wire::Seq32 data_end = t.snd.una + t.send.bytes();
        const std::uint32_t unsent = after(data_end, t.snd.nxt)
                                         ? static_cast<std::uint32_t>(data_end - t.snd.nxt)
                                         : 0;
        // What the peer SACKed below SND.NXT has left the network: it does
        // not count against cwnd while resending after a timeout.
        const std::uint32_t sacked_below = t.sacked.bytes_above(t.snd.una) - t.sacked.bytes_above(t.snd.nxt);
        const std::uint32_t wnd = t.sack_recovery
                                      ? t.snd.wnd
                                      : std::min(t.snd.wnd, t.cc.cwnd_bytes() + sacked_below);
        const wire::Seq32 wnd_end = t.snd.una + wnd;
        std::uint32_t usable =
            after(wnd_end, t.snd.nxt) ? static_cast<std::uint32_t>(wnd_end - t.snd.nxt) : 0;
        if (t.sack_recovery) {
            usable = std::min(usable, recovery_room);
        }
        const std::uint32_t full = payload_max(t);
        std::uint32_t len = std::min({unsent, usable, full});
        if (before(t.snd.nxt, t.snd.max)) {
            if (auto sacked_start = t.sacked.next_start(t.snd.nxt)) {
                len = std::min(len, static_cast<std::uint32_t>(*sacked_start - t.snd.nxt));
            }
        }
        const bool fin_now = has_unsent_fin(t) && len == unsent && t.snd.nxt + len == data_end;
        if (len == 0 && !fin_now) {
            break;
        }
        // Retransmissions are never held back: they resend what was sent.
        const bool new_data = !before(t.snd.nxt, t.snd.max);
        if (len != 0 && len < full && !fin_now && new_data) {
            // RFC 9293 section 3.7.4 (Nagle), in Minshall's variant as Linux
            // runs it: hold a partial segment only while an earlier partial
            // segment is unacknowledged. The classic rule also holds the tail
            // of every write that is not a multiple of the MSS, which stalls
            // request/response traffic on the peer's delayed ACK.
            if (t.nagle && before(t.snd.una, t.snd.sml)) {
                break;
            }
            // Sender SWS avoidance (RFC 9293 section 3.8.6.2.1): send a
            // partial segment only if it is all we have, or at least half of
            // the largest window the peer offered.
            if (len < unsent && len < t.snd.max_wnd / 2 && !t.sws_override) {
                break;
            }
        }
        std::uint8_t flags = wire::tcp_flag::ack;
        if (len != 0 && len == unsent) {
            flags |= wire::tcp_flag::psh;
        }
        if (fin_now) {
            flags |= wire::tcp_flag::fin;
        }
        const wire::Seq32 seq = t.snd.nxt;
        if (!emit(t, flags, seq, len, env, !new_data)) {
            // No mbuf (or no output slot) for it: try again at the
            // retransmission timeout, even with nothing in flight, or data or
            // a FIN could wait for ever with no timer to send them.
            if (!env.timers.armed(t.rtx_timer)) {
                arm_retransmit(t, env);
            }
            break;
        }
        sent = true;
        recovery_room -= std::min(recovery_room, len);
        if (new_data && !t.rtt_timing && len != 0) {
            // One timed segment at a time, never a retransmitted one (Karn).
            t.rtt_timing = true;
            t.rtt_seq = seq + len;
            t.rtt_start = env.now;
        }
        if (len < full) {
            t.snd.sml = seq + len;
        }
        t.snd.nxt = seq + len + (fin_now ? 1 : 0);
        t.snd.max = seq_max(t.snd.max, t.snd.nxt);
        if (fin_now) {
            t.fin_sent = true;
        }
        if (!env.timers.armed(t.rtx_timer)) {
            arm_retransmit(t, env);
        }
        if (fin_now) {
            break;
        }
    }

    if (!sent && t.ack_now) {
        send_ack(t, env);
    }
    // Data waits behind a window it cannot use, zero (RFC 9293 section
    // 3.8.6.1) or too small for SWS avoidance (section 3.8.6.2.1), with
    // nothing in flight to draw the window update that would free it, which
    // may have been lost: the persist timer probes, or sends anyway. It
    // displaces keepalive, which comes back when the data flows again.
    const bool persisting = env.timers.armed(t.misc_timer) &&
                            t.misc_timer.kind() == static_cast<std::uint8_t>(TimerKind::persist);
    if (can_send_data && t.send.bytes() != 0 && t.flight_size() == 0 && !env.timers.armed(t.rtx_timer) &&
        !persisting &&
        (!env.timers.armed(t.misc_timer) || t.misc_timer.kind() == static_cast<std::uint8_t>(TimerKind::keepalive))) {
        t.misc_timer.set_kind(static_cast<std::uint8_t>(TimerKind::persist));
        env.timers.arm(t.misc_timer, env.now + t.rtt.rto());
    }
}

} // namespace synack::tcp
