// SEGMENT ARRIVES (RFC 9293 section 3.10.7), for a connection in SYN-SENT or
// a later state. The steps keep the RFC's order and numbering ("first" ...
// "eighth"), with RFC 5961's blind-attack rules folded in where RFC 9293 puts
// them, and PAWS (RFC 7323 section 5) before the sequence check.

#include <synack/tcp/control.hpp>
#include <synack/tcp/sack_recovery.hpp>
#include <synack/tcp/output.hpp>
#include <synack/tcp/tcp.hpp>

#include <algorithm>

namespace synack::tcp {

namespace {

using wire::Seq32;
namespace flag = wire::tcp_flag;

// The receive window the peer was told of (RFC 9293's RCV.WND).
std::uint32_t advertised_window(const Tcb& t) noexcept {
    return after(t.rcv.adv_edge, t.rcv.nxt) ? static_cast<std::uint32_t>(t.rcv.adv_edge - t.rcv.nxt)
                                             : 0;
}

// RFC 9293 section 3.10.7.4, first: the four cases of the acceptability test.
bool acceptable(const Tcb& t, Seq32 seq, std::uint32_t seg_len) noexcept {
    const std::uint32_t wnd = advertised_window(t);
    const Seq32 end = t.rcv.nxt + wnd;
    if (seg_len == 0) {
        return wnd == 0 ? seq == t.rcv.nxt : in_window(t.rcv.nxt, seq, end);
    }
    if (wnd == 0) {
        // "special allowance should be made to accept valid ACKs, URGs, and
        // RSTs": a segment at RCV.NXT is processed, its data trimmed away.
        return seq == t.rcv.nxt;
    }
    return in_window(t.rcv.nxt, seq, end) || in_window(t.rcv.nxt, seq + seg_len - 1, end);
}

// The ACK an unacceptable segment calls for (RFC 9293 section 3.10.7.4,
// first check; RFC 7323 section 5.3). Only segments without data or FIN are
// throttled: they are what two ends would bounce between them forever, while
// a resent data segment needs our ACK to make progress (as Linux's
// tcp_oow_rate_limited).
void answer_invalid(Tcb& t, const wire::TcpSegment& seg, TcpEnv& env) noexcept {
    if (seg.seg_len() != 0 && !seg.has(flag::syn)) {
        t.ack_now = true;
    } else if (invalid_ack_allowed(t.last_invalid_ack, env)) {
        t.ack_now = true;
    }
}

// RFC 7323 section 5.3: a timestamp older than TS.Recent marks an old
// duplicate. (The 24-day idle rule of R1 is not applied: our TS.Recent
// is refreshed by every in-order segment.)
bool paws_rejects(const Tcb& t, const wire::TcpSegment& seg) noexcept {
    if (!t.ts_ok || !seg.options().timestamps || seg.has(flag::rst)) {
        return false;
    }
    return static_cast<std::int32_t>(seg.options().timestamps->value - t.ts_recent) < 0;
}

// The payload of `in` as an mbuf chain holding exactly its bytes.
wire::MbufPtr payload_of(Incoming& in) noexcept {
    const auto len = static_cast<std::uint32_t>(in.seg.payload().size());
    if (len == 0) {
        return {};
    }
    wire::MbufPtr p = std::move(in.packet);
    rte_pktmbuf_adj(p.get(), in.payload_offset);
    if (p->pkt_len > len) {
        chain_drop_back(p, p->pkt_len - len); // Ethernet padding
    }
    return p;
}

void take_ack_timestamp_sample(Tcb& t, const wire::TcpSegment& seg, Seq32 ack, TcpEnv& env) noexcept {
    // RFC 7323 section 4.1: with timestamps, every ACK that advances
    // SND.UNA gives a sample from its TSecr, retransmissions included.
    if (t.ts_ok && seg.options().timestamps && seg.options().timestamps->echo_reply != 0) {
        const std::uint32_t rtt_ms = ts_value(env.now, t.ts_offset) - seg.options().timestamps->echo_reply;
        if (rtt_ms < 60'000) {
            t.rtt.on_sample(time::Duration::from_ms(rtt_ms));
        }
        t.rtt_timing = false;
        return;
    }
    if (t.rtt_timing && after_eq(ack, t.rtt_seq)) {
        t.rtt.on_sample(env.now - t.rtt_start);
        t.rtt_timing = false;
    }
}

void update_window(Tcb& t, const wire::TcpSegment& seg, TcpEnv& env) noexcept {
    // RFC 9293 section 3.10.7.4, fifth, ESTABLISHED: "If SND.UNA =< SEG.ACK
    // =< SND.NXT, the send window should be updated. If (SND.WL1 < SEG.SEQ or
    // (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <- SEG.WND".
    if (before(t.snd.wl1, seg.seq()) || (t.snd.wl1 == seg.seq() && before_eq(t.snd.wl2, seg.ack()))) {
        t.snd.wnd = std::uint32_t{seg.window()} << t.snd.wscale;
        t.snd.wl1 = seg.seq();
        t.snd.wl2 = seg.ack();
        t.snd.max_wnd = std::max(t.snd.max_wnd, t.snd.wnd);
        if (t.snd.wnd != 0 && t.misc_timer.kind() == static_cast<std::uint8_t>(TimerKind::persist)) {
            env.timers.cancel(t.misc_timer);
        }
    }
}

// RFC 5681 section 2, "DUPLICATE ACKNOWLEDGMENT": same ACK, no data, no SYN
// or FIN, same window, and data outstanding.
bool is_duplicate_ack(const Tcb& t, const wire::TcpSegment& seg) noexcept {
    return seg.ack() == t.snd.una && seg.payload().empty() && !seg.has(flag::syn) &&
           !seg.has(flag::fin) && (std::uint32_t{seg.window()} << t.snd.wscale) == t.snd.wnd &&
           t.snd.max != t.snd.una;
}

// Fifth step for an ACK that advances SND.UNA (RFC 9293 section 3.10.7.4,
// ESTABLISHED; RFC 6298 section 5; RFC 5681 and RFC 6582 through cc).
void new_ack(Tcb& t, const wire::TcpSegment& seg, TcpEnv& env) noexcept {
    const Seq32 ack = seg.ack();
    const auto acked = static_cast<std::uint32_t>(ack - t.snd.una);
    const std::uint32_t data_acked = std::min(acked, t.send.bytes());
    const std::uint32_t flight_before = t.flight_size();
    t.send.acknowledge(data_acked);
    t.bytes_acked += data_acked;
    take_ack_timestamp_sample(t, seg, ack, env);
    t.snd.una = ack;
    if (before(t.snd.nxt, ack)) {
        t.snd.nxt = ack; // after a timeout rewound SND.NXT
    }
    if (t.fin_queued && acked > data_acked) {
        // The ACK covers our FIN, sent before a timeout rewound SND.NXT and
        // forgot it was: it is sent, and acknowledged.
        t.fin_sent = true;
    }
    t.retransmits = 0;
    t.dupacks = 0;
    t.sacked.advance(ack);
    const CongestionAction action =
        t.cc.on_ack(AckEvent{acked, t.snd.una, t.snd.max, flight_before, t.rtt.srtt(), env.now});
    if (t.sack_recovery && !before(ack, t.recovery_point)) {
        t.sack_recovery = false; // RFC 6675 section 5, step A: a full ACK ends recovery
    }
    if (action == CongestionAction::retransmit_first_unacked && !t.sack_recovery) {
        // NewReno's partial ACK (RFC 6582); with SACK, output() picks the
        // holes to fill.
        retransmit_first_unacked(t, env);
    }
    // RFC 6298 section 5.2/5.3: stop the timer when all is acknowledged,
    // else restart it for the current RTO.
    if (t.snd.una == t.snd.max) {
        env.timers.cancel(t.rtx_timer);
    } else {
        arm_retransmit(t, env);
    }
    // A writer that was refused (or filled the buffer) hears once a third of
    // the buffer is free again: enough to be worth waking for (as Linux's
    // sk_stream_write_space), and never while a large write still cannot fit
    // for long, since space only grows as ACKs come.
    if (t.send_blocked && t.send.space() >= t.send.bytes_max() / 3) {
        t.send_blocked = false;
        notify(t, ConnEvent::writable, env);
    }
}

// Seventh step: data for the application (ESTABLISHED, FIN-WAIT-1/2).
// Whether the connection may take one more mbuf for received data, as the
// engine's pool allows (TcpEnv::rx_pressure).
bool may_hold_another_mbuf(const Tcb& t, const TcpEnv& env) noexcept {
    switch (env.rx_pressure) {
    case RxPressure::none: return true;
    case RxPressure::high: return t.recv.segments() + t.ooo.segments() < rx_mbufs_floor;
    case RxPressure::critical: return false;
    }
    return false;
}

void accept_text(Tcb& t, Seq32 seq, wire::MbufPtr payload, std::uint32_t len, TcpEnv& env) noexcept {
    if (seq != t.rcv.nxt) {
        // RFC 5681 section 4.2: "an immediate ACK SHOULD be generated when an
        // out-of-order segment arrives".
        t.ack_now = true;
        if (env.rx_pressure != RxPressure::none) {
            env.counters.drops.add(DropReason::rx_pressure); // it would sit in an mbuf of its own
            return;
        }
        const InsertOutcome r = t.ooo.insert(seq, std::move(payload), len, env.ooo_pool,
                                             {env.config.ooo_max_bytes, env.config.ooo_max_segments});
        if (r == InsertOutcome::no_room) {
            env.counters.drops.add(DropReason::ooo_no_room);
        } else if (r == InsertOutcome::queued) {
            ++env.counters.ooo_queued;
        }
        return;
    }
    if (auto r = t.recv.push(payload, len, may_hold_another_mbuf(t, env)); !r.ok()) {
        env.counters.drops.add(r.error() == RecvError::no_mbuf_budget ? DropReason::rx_pressure
                                                                       : DropReason::recv_buffer_full);
        t.ack_now = true;
        return;
    }
    t.rcv.nxt += len;
    t.bytes_received += len;
    if (!t.ooo.empty()) {
        take_reassembled(t, env);
        t.ack_now = true; // RFC 5681 section 4.2: ACK at once when a hole fills
    }
    notify(t, ConnEvent::readable, env);
    // RFC 9293 section 3.8.6.3: "an ACK SHOULD be generated for at least
    // every second full-sized segment", and no later than the delay.
    if (len >= payload_max(t)) {
        ++t.unacked_segments;
    }
    if (t.unacked_segments >= 2 || !env.config.delayed_ack.us()) {
        t.ack_now = true;
    } else if (!t.ack_now && !env.timers.armed(t.delack_timer)) {
        env.timers.arm(t.delack_timer, env.now + env.config.delayed_ack);
    }
}

void syn_sent_arrives(Tcb& t, Incoming& in, TcpEnv& env) noexcept {
    const wire::TcpSegment& seg = in.seg;
    // First: the ACK bit.
    bool ack_ok = false;
    if (seg.has(flag::ack)) {
        if (before_eq(seg.ack(), t.snd.iss) || after(seg.ack(), t.snd.nxt)) {
            if (!seg.has(flag::rst)) {
                send_rst(t.tuple, seg.ack(), std::nullopt, env);
            }
            env.counters.drops.add(DropReason::syn_sent_bad_ack);
            return;
        }
        ack_ok = true;
    }
    // Second: RST. RFC 5961 section 3.2 keeps RFC 9293's rule here: a RST
    // is acceptable in SYN-SENT when its ACK acknowledges our SYN.
    if (seg.has(flag::rst)) {
        if (ack_ok) {
            enter_closed(t, CloseReason::refused, env);
        } else {
            env.counters.drops.add(DropReason::syn_sent_bad_ack);
        }
        return;
    }
    // Fourth: SYN.
    if (!seg.has(flag::syn)) {
        env.counters.drops.add(DropReason::syn_sent_no_syn);
        return;
    }
    t.rcv.irs = seg.seq();
    t.rcv.nxt = seg.seq() + 1;
    t.rcv.adv_edge = t.rcv.nxt;
    take_syn_options(t, seg, env.config);
    t.snd.wnd = seg.window(); // RFC 7323 section 2.2: a SYN's window is never scaled
    t.snd.max_wnd = t.snd.wnd;
    t.snd.wl1 = seg.seq();
    if (ack_ok) {
        t.snd.una = seg.ack();
        t.snd.wl2 = seg.ack();
    }
    if (after(t.snd.una, t.snd.iss)) {
        // Our SYN is acknowledged: ESTABLISHED.
        // A sample from the timestamp echo, or from the SYN if it was sent
        // once (Karn's rule: syn_timeout stopped the timing).
        take_ack_timestamp_sample(t, seg, t.snd.una, env);
        env.timers.cancel(t.rtx_timer);
        establish(t, env);
        t.ack_now = true;
        return;
    }
    // Simultaneous open (RFC 9293 figure 7): SYN-RECEIVED, send SYN-ACK.
    t.state = TcpState::syn_received;
    emit(t, flag::syn | flag::ack, t.snd.iss, 0, env);
}

// The fifth step of RFC 9293 section 3.10.7.4. Returns false when the
// segment is finished with (dropped, or the connection closed).
bool process_ack(Tcb& t, const wire::TcpSegment& seg, TcpEnv& env) noexcept {
    if (!seg.has(flag::ack)) {
        env.counters.drops.add(DropReason::no_ack);
        return false;
    }
    const Seq32 ack = seg.ack();
    if (t.state == TcpState::syn_received) {
        if (!(after(ack, t.snd.una) && before_eq(ack, t.snd.max))) {
            send_rst(t.tuple, ack, std::nullopt, env);
            env.counters.drops.add(DropReason::bad_ack);
            return false;
        }
        env.timers.cancel(t.rtx_timer);
        take_ack_timestamp_sample(t, seg, ack, env);
        t.snd.una = ack;
        t.snd.wnd = std::uint32_t{seg.window()} << t.snd.wscale;
        t.snd.max_wnd = t.snd.wnd;
        t.snd.wl1 = seg.seq();
        t.snd.wl2 = ack;
        establish(t, env);
        if (t.fin_queued) {
            t.state = TcpState::fin_wait_1; // closed while in SYN-RECEIVED: the FIN goes now
        }
        return true;
    }
    // RFC 5961 section 5.2: acceptable when (SND.UNA - MAX.SND.WND) =<
    // SEG.ACK =< SND.NXT (SND.MAX here: after a timeout SND.NXT rewinds).
    const Seq32 oldest = t.snd.una - std::max<std::uint32_t>(t.snd.max_wnd, 1);
    if (after(ack, t.snd.max) || before(ack, oldest)) {
        // "discarded and an ACK sent back", throttled as every answer to
        // an unacceptable segment is (section 7): a peer forging such ACKs
        // must not get one back for each.
        if (invalid_ack_allowed(t.last_invalid_ack, env)) {
            send_ack(t, env);
        }
        env.counters.drops.add(DropReason::bad_ack);
        return false;
    }
    if (t.sack_ok) {
        const wire::TcpOptions& o = seg.options();
        for (std::uint8_t i = 0; i < o.sack_count; ++i) {
            t.sacked.add(o.sack[i].left, o.sack[i].right, t.snd.una, t.snd.max);
        }
    }
    if (after(ack, t.snd.una)) {
        new_ack(t, seg, env);
    } else if (is_duplicate_ack(t, seg)) {
        ++t.dupacks;
        const DupAckResult r =
            t.cc.on_duplicate_ack(DupAckEvent{ack, t.snd.max, t.flight_size(), env.now});
        if (r.action == CongestionAction::fast_retransmit) {
            ++env.counters.fast_retransmits;
            t.rtt_timing = false; // Karn: the timed segment may be the one resent
            retransmit_first_unacked(t, env);
            if (t.sack_ok) {
                // RFC 6675 section 5, step 4: HighRxt is where that resend ended.
                const std::uint32_t resent = std::min(t.send.bytes(), payload_max(t));
                enter_sack_recovery(t, t.snd.una + resent);
            }
        }
    }
    update_window(t, seg, env);

    switch (t.state) {
    case TcpState::fin_wait_1:
        if (our_fin_acked(t)) {
            t.state = TcpState::fin_wait_2;
            // Not in RFC 9293: Linux's bound on an orphan waiting for a FIN
            // that may never come. A half-closed connection still being read waits.
            if (t.app_closed) {
                t.misc_timer.set_kind(static_cast<std::uint8_t>(TimerKind::fin_wait_2));
                env.timers.arm(t.misc_timer, env.now + env.config.fin_wait_2_timeout);
            }
        }
        break;
    case TcpState::closing:
        if (our_fin_acked(t)) {
            enter_time_wait(t, env);
        }
        break;
    case TcpState::last_ack:
        if (our_fin_acked(t)) {
            enter_closed(t, CloseReason::normal, env);
            return false;
        }
        break;
    case TcpState::closed:
    case TcpState::listen:
    case TcpState::syn_sent:
    case TcpState::syn_received:
    case TcpState::established:
    case TcpState::fin_wait_2:
    case TcpState::close_wait:
    case TcpState::time_wait: break;
    }
    return true;
}

} // namespace

void segment_arrives(Tcb& t, Incoming in, TcpEnv& env) noexcept {
    const wire::TcpSegment& seg = in.seg;
    t.last_activity = env.now;
    t.last_heard = env.now;
    t.probes_unanswered = 0;
    if (t.state == TcpState::syn_sent) {
        syn_sent_arrives(t, in, env);
        return;
    }
    // A repeated SYN in SYN-RECEIVED: our SYN-ACK was lost. Linux answers
    // with the SYN-ACK again rather than the bare ACK of the first check.
    if (t.state == TcpState::syn_received && seg.has(flag::syn) && !seg.has(flag::ack) &&
        seg.seq() == t.rcv.irs) {
        (void)emit(t, flag::syn | flag::ack, t.snd.iss, 0, env, true);
        return;
    }

    // First: sequence number (PAWS before it, RFC 7323 section 5.3 R1).
    if (paws_rejects(t, seg)) {
        env.counters.drops.add(DropReason::paws);
        answer_invalid(t, seg, env);
        return;
    }
    Seq32 seq = seg.seq();
    std::uint32_t len = static_cast<std::uint32_t>(seg.payload().size());
    if (!acceptable(t, seq, seg.seg_len())) {
        env.counters.drops.add(DropReason::out_of_window);
        if (seg.has(flag::syn) && is_synchronized(t.state)) {
            // RFC 5961 section 4.2: a SYN, "irrespective of the sequence
            // number", draws a challenge ACK (throttled, section 7).
            send_challenge_ack(t, env);
        } else if (!seg.has(flag::rst)) {
            answer_invalid(t, seg, env); // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
            if (t.state == TcpState::time_wait && seg.has(flag::fin)) {
                enter_time_wait(t, env); // a retransmitted FIN restarts 2 MSL
            }
        }
        return;
    }
    // RFC 7323 section 4.3: TS.Recent follows the segment covering RCV.NXT.
    if (t.ts_ok && seg.options().timestamps && before_eq(seq, t.rcv.nxt)) {
        t.ts_recent = seg.options().timestamps->value;
    }

    // Second: RST (RFC 5961 section 3.2).
    if (seg.has(flag::rst)) {
        if (t.state == TcpState::time_wait) {
            // RFC 1337 section 3 (fix F1): a RST must not cut TIME-WAIT short,
            // or an old duplicate could reach a new incarnation.
            env.counters.drops.add(DropReason::rst_in_time_wait);
            return;
        }
        if (seq != t.rcv.nxt) {
            env.counters.drops.add(DropReason::rst_not_exact);
            send_challenge_ack(t, env);
            return;
        }
        if (t.state == TcpState::syn_received && t.passive) {
            enter_closed(t, CloseReason::reset, env); // back to LISTEN: the listener stays
            return;
        }
        const bool refused = t.state == TcpState::syn_received;
        enter_closed(t, refused ? CloseReason::refused : CloseReason::reset, env);
        return;
    }

    // Fourth: SYN (RFC 5961 section 4.2: challenge ACK whatever the sequence).
    if (seg.has(flag::syn)) {
        env.counters.drops.add(DropReason::syn_in_window);
        if (t.state == TcpState::syn_received && t.passive) {
            enter_closed(t, CloseReason::reset, env);
            return;
        }
        send_challenge_ack(t, env);
        return;
    }

    // Fifth: ACK.
    if (!process_ack(t, seg, env)) {
        return;
    }

    // Sixth (URG) is not acted upon: urgent data is delivered inline (RFC 6093).
    // Trim to the window: "only the new parts are processed".
    bool fin = seg.has(flag::fin);
    wire::MbufPtr payload = payload_of(in);
    if (len != 0 && before(seq, t.rcv.nxt)) {
        const auto old = static_cast<std::uint32_t>(t.rcv.nxt - seq);
        if (old >= len) {
            payload.reset();
            len = 0;
        } else {
            chain_drop_front(payload, old);
            len -= old;
        }
        seq = t.rcv.nxt;
    }
    const Seq32 wnd_end = t.rcv.nxt + std::max(advertised_window(t), t.recv.window());
    if (len != 0 && after(seq + len, wnd_end)) {
        const auto beyond = static_cast<std::uint32_t>((seq + len) - wnd_end);
        if (beyond >= len) {
            payload.reset();
            len = 0;
        } else {
            chain_drop_back(payload, beyond);
            len -= beyond;
        }
        fin = false; // the FIN lies beyond the window too
    }
    // Nothing of the stream lies beyond the peer's FIN (RFC 9293 section
    // 3.10.7.4, eighth): text past a FIN already held is cut off, or a peer
    // could add to a stream it has closed.
    if (const std::optional<Seq32> held_fin = t.ooo.fin(); held_fin && len != 0 && after(seq + len, *held_fin)) {
        const auto beyond = static_cast<std::uint32_t>((seq + len) - *held_fin);
        if (beyond >= len) {
            payload.reset();
            len = 0;
        } else {
            chain_drop_back(payload, beyond);
            len -= beyond;
        }
    }

    // Seventh: segment text.
    if (len != 0 && t.app_closed) {
        // Nobody will read it: tell the peer its data is lost (RFC 1122
        // section 4.2.2.13).
        env.counters.drops.add(DropReason::data_after_close);
        abort(t, env);
        return;
    }
    if (len != 0) {
        switch (t.state) {
        case TcpState::established:
        case TcpState::fin_wait_1:
        case TcpState::fin_wait_2: accept_text(t, seq, std::move(payload), len, env); break;
        case TcpState::close_wait:
        case TcpState::closing:
        case TcpState::last_ack:
        case TcpState::time_wait:
        case TcpState::closed:
        case TcpState::listen:
        case TcpState::syn_sent:
        case TcpState::syn_received: break; // after the peer's FIN: ignored
        }
    }

    // Eighth: FIN. Its place is after the segment's text; taken once every
    // byte before it has arrived, and held until then (SHLD-31), this
    // segment's FIN or one held from before that its text reached.
    if (fin && can_take_fin(t.state) && !before(seq + len, t.rcv.nxt)) {
        t.ooo.hold_fin(seq + len, env.ooo_pool);
        t.ack_now = true; // an out-of-order FIN is ACKed at once too (RFC 5681 section 4.2)
    }
    take_held_fin(t, env);
}

void reset_for_no_connection(const FourTuple& tuple, const wire::TcpSegment& seg,
                             TcpEnv& env) noexcept {
    env.counters.drops.add(DropReason::no_connection);
    // RFC 9293 section 3.10.7.1: "An incoming segment containing a RST is
    // discarded."
    if (seg.has(flag::rst)) {
        return;
    }
    if (seg.has(flag::ack)) {
        send_rst(tuple, seg.ack(), std::nullopt, env); // <SEQ=SEG.ACK><CTL=RST>
    } else {
        // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        send_rst(tuple, Seq32(0), seg.seq() + seg.seg_len(), env);
    }
}

} // namespace synack::tcp
