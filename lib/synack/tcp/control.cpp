// Opening, closing, timers and the application's calls (RFC 9293 sections
// 3.10.1 to 3.10.5 and 3.10.8).

#include <synack/tcp/control.hpp>
#include <synack/tcp/half_open.hpp>
#include <synack/tcp/output.hpp>
#include <synack/tcp/tcp.hpp>

#include <algorithm>

namespace synack::tcp {

namespace {

namespace flag = wire::tcp_flag;

constexpr std::uint16_t min_snd_mss = 64; // Linux's floor is 48: tiny MSSes are an attack
constexpr std::uint8_t max_window_scale = 14;

RtoConfig rto_config(const TcpConfig& c) noexcept {
    RtoConfig r;
    r.rto_initial = c.rto_initial;
    r.rto_min = c.rto_min;
    r.rto_max = c.rto_max;
    return r;
}

void arm_misc(Tcb& t, TimerKind kind, time::Duration after_d, TcpEnv& env) noexcept {
    t.misc_timer.set_kind(static_cast<std::uint8_t>(kind));
    env.timers.arm(t.misc_timer, env.now + after_d);
}

void arm_keepalive(Tcb& t, TcpEnv& env) noexcept {
    if (t.keepalive.enabled) {
        arm_misc(t, TimerKind::keepalive, t.keepalive.idle, env);
    }
}

void syn_timeout(Tcb& t, TcpEnv& env) noexcept {
    const bool active = t.state == TcpState::syn_sent;
    const std::uint8_t limit = active ? env.config.syn_retries : env.config.synack_retries;
    if (t.retransmits >= limit) {
        enter_closed(t, CloseReason::timed_out, env);
        return;
    }
    ++t.retransmits;
    t.rtt.backoff();
    t.rtt_timing = false; // Karn's rule
    const std::uint8_t flags = active ? flag::syn : (flag::syn | flag::ack);
    (void)emit(t, flags, t.snd.iss, 0, env, true);
    arm_retransmit(t, env);
}

void retransmit_timeout(Tcb& t, TcpEnv& env) noexcept {
    // Data in flight behind a window the peer closed: the timeout probes it,
    // and probing never gives up while the peer answers (RFC 9293 section
    // 3.8.6.1, MUST-26), only once it has been silent for RTO.max.
    const bool probing = t.snd.wnd == 0 && env.now - t.last_heard < env.config.rto_max;
    if (t.retransmits >= env.config.data_retries && !probing) {
        enter_closed(t, CloseReason::timed_out, env);
        return;
    }
    ++env.counters.timeouts;
    // SND.MAX, not the SND.NXT a previous timeout may have rewound (RFC 6582 "recover").
    t.cc.on_retransmit_timeout(TimeoutEvent{t.flight_size(), t.snd.max, t.retransmits != 0, env.now});
    if (t.retransmits < UINT8_MAX) {
        ++t.retransmits;
    }
    t.rtt.backoff(); // RFC 6298 section 5.5
    t.rtt_timing = false; // Karn's rule
    t.dupacks = 0;
    // RFC 6675 section 5.1: a timeout ends SACK recovery, and the resending
    // from SND.UNA skips what the peer SACKed. A second timeout in a row may
    // mean the peer dropped what it SACKed (RFC 2018 section 8 allows it):
    // forget it all then, and resend everything.
    t.sack_recovery = false;
    if (t.retransmits >= 2) {
        t.sacked.clear();
    }
    // Go back to SND.UNA: output() resends from there as cwnd (now one
    // segment) allows; SND.MAX remembers how far we had gone.
    t.snd.nxt = t.snd.una;
    if (t.fin_sent && t.snd.una != t.snd.max) {
        t.fin_sent = false;
    }
    output(t, env);
    if (t.snd.wnd == 0 && t.snd.nxt == t.snd.una && t.snd.una != t.snd.max) {
        // The closed window let output() send nothing: resend the first
        // segment anyway, as the probe. Its ACK brings the window, which a
        // lost update may have opened long ago.
        retransmit_first_unacked(t, env);
    }
    if (!env.timers.armed(t.rtx_timer) && t.snd.una != t.snd.max) {
        arm_retransmit(t, env);
    }
}

void persist_timeout(Tcb& t, TcpEnv& env) noexcept {
    if (t.flight_size() != 0 || t.send.bytes() == 0) {
        arm_keepalive(t, env); // the window opened meanwhile: data flows
        return;
    }
    if (t.snd.wnd != 0) {
        // RFC 9293 section 3.8.6.2.1: the window is open but smaller than
        // SWS avoidance waits for; the override timeout sends what fits.
        t.sws_override = true;
        output(t, env);
        t.sws_override = false;
        return;
    }
    // Persisting never gives up while the peer keeps answering (RFC 9293
    // section 3.8.6.1, MUST-26: "as long as the receiving TCP continues to
    // send acknowledgments in response to the probe segments"). A peer gone
    // silent behind its zero window is given up on after as many unanswered
    // probes as data retransmissions, as Linux's tcp_probe_timer does: else
    // it would hold the connection (an orphan even, that no one can abort)
    // for ever.
    if (t.probes_unanswered >= env.config.data_retries) {
        enter_closed(t, CloseReason::timed_out, env);
        return;
    }
    // Zero-window probe, as Linux sends it: an ACK with SEQ = SND.UNA - 1,
    // which any stack answers with its current window.
    emit(t, flag::ack, t.snd.una - 1, 0, env);
    ++t.probes_unanswered;
    t.rtt.backoff();
    arm_misc(t, TimerKind::persist, t.rtt.rto(), env);
}

void keepalive_timeout(Tcb& t, TcpEnv& env) noexcept {
    const KeepaliveConfig& k = t.keepalive;
    // The states that wait on the peer with nothing of ours in flight (with
    // something in flight the retransmission timer is watching): a
    // half-closed connection in FIN-WAIT-2 too, as in Linux.
    if (t.state != TcpState::established && t.state != TcpState::close_wait &&
        t.state != TcpState::fin_wait_2) {
        return;
    }
    const time::Duration idle = env.now - t.last_activity;
    if (t.probes_unanswered == 0 && idle < k.idle) {
        arm_misc(t, TimerKind::keepalive, k.idle - idle, env);
        return;
    }
    if (t.probes_unanswered >= k.probes) {
        enter_closed(t, CloseReason::timed_out, env);
        return;
    }
    // RFC 9293 section 3.8.4: a probe "with SEG.SEQ = SND.NXT-1", no data.
    const time::Instant last = t.last_activity;
    emit(t, flag::ack, t.snd.nxt - 1, 0, env);
    t.last_activity = last; // a probe is not activity
    ++t.probes_unanswered;
    arm_misc(t, TimerKind::keepalive, k.interval, env);
}

} // namespace

const char* to_string(CloseReason r) noexcept {
    switch (r) {
    case CloseReason::normal: return "normal";
    case CloseReason::reset: return "reset";
    case CloseReason::refused: return "refused";
    case CloseReason::timed_out: return "timed_out";
    case CloseReason::aborted: return "aborted";
    }
    return "unknown";
}

const char* to_string(ConnEvent e) noexcept {
    switch (e) {
    case ConnEvent::connected: return "connected";
    case ConnEvent::readable: return "readable";
    case ConnEvent::writable: return "writable";
    case ConnEvent::peer_closed: return "peer_closed";
    case ConnEvent::closed: return "closed";
    }
    return "unknown";
}

Tcb::Tcb(const TcpConfig& config) noexcept
    : nagle(config.nagle), keepalive(config.keepalive), send(config.send_buffer_bytes),
      recv(config.recv_buffer_bytes, config.recv_buffer_bytes / 256 + 16), rtt(rto_config(config)),
      cc(CongestionAlgorithmId::newreno, CongestionConfig{}) {}

void notify(Tcb& t, ConnEvent e, TcpEnv& env) noexcept {
    if (!env.events.push(EventRecord{t.user_id, e})) {
        ++env.counters.events_lost;
    }
}

void enter_closed(Tcb& t, CloseReason why, TcpEnv& env) noexcept {
    t.state = TcpState::closed;
    t.close_reason = why;
    env.timers.cancel(t.rtx_timer);
    env.timers.cancel(t.delack_timer);
    env.timers.cancel(t.misc_timer);
    notify(t, ConnEvent::closed, env);
}

void enter_time_wait(Tcb& t, TcpEnv& env) noexcept {
    t.state = TcpState::time_wait;
    env.timers.cancel(t.rtx_timer);
    env.timers.cancel(t.delack_timer);
    arm_misc(t, TimerKind::time_wait, env.config.msl + env.config.msl, env);
}

std::uint32_t take_reassembled(Tcb& t, TcpEnv& env) noexcept {
    const std::uint32_t more = t.ooo.pop_ready(t.rcv.nxt, env.ooo_pool, [&](wire::MbufPtr& p, std::uint32_t n) noexcept {
        return t.recv.push(p, n).ok();
    });
    t.rcv.nxt += more;
    t.bytes_received += more;
    take_held_fin(t, env);
    return more;
}

bool our_fin_acked(const Tcb& t) noexcept {
    return t.fin_sent && t.snd.una == t.snd.max;
}

bool can_take_fin(TcpState s) noexcept {
    switch (s) {
    case TcpState::syn_received:
    case TcpState::established:
    case TcpState::fin_wait_1:
    case TcpState::fin_wait_2: return true;
    case TcpState::closed:
    case TcpState::listen:
    case TcpState::syn_sent:
    case TcpState::close_wait:
    case TcpState::closing:
    case TcpState::last_ack:
    case TcpState::time_wait: return false; // the peer's FIN came already (or cannot yet)
    }
    return false;
}

void take_held_fin(Tcb& t, TcpEnv& env) noexcept {
    const std::optional<wire::Seq32> fin = t.ooo.fin();
    if (!fin || *fin != t.rcv.nxt || !can_take_fin(t.state)) {
        return;
    }
    t.ooo.forget_fin();
    accept_fin(t, env);
}

void accept_fin(Tcb& t, TcpEnv& env) noexcept {
    t.rcv.nxt += 1;
    t.ack_now = true;
    switch (t.state) {
    case TcpState::syn_received:
    case TcpState::established:
        t.state = TcpState::close_wait;
        notify(t, ConnEvent::peer_closed, env);
        break;
    case TcpState::fin_wait_1:
        notify(t, ConnEvent::peer_closed, env);
        if (our_fin_acked(t)) {
            enter_time_wait(t, env);
        } else {
            t.state = TcpState::closing; // simultaneous close
        }
        break;
    case TcpState::fin_wait_2:
        notify(t, ConnEvent::peer_closed, env);
        enter_time_wait(t, env);
        break;
    case TcpState::time_wait: enter_time_wait(t, env); break; // restart 2 MSL
    case TcpState::close_wait:
    case TcpState::closing:
    case TcpState::last_ack:
    case TcpState::closed:
    case TcpState::listen:
    case TcpState::syn_sent: break;
    }
}



void establish(Tcb& t, TcpEnv& env) noexcept {
    t.state = TcpState::established;
    t.cc.on_start(StartEvent{t.snd.mss, t.snd.iss, t.retransmits, env.now});
    if (t.retransmits != 0 && !t.rtt.has_sample()) {
        t.rtt.restart_after_syn_timeout(); // Karn's rule left no sample
    }
    t.retransmits = 0;
    arm_keepalive(t, env);
    notify(t, ConnEvent::connected, env);
}

std::uint8_t window_scale_for(std::uint32_t buffer_bytes) noexcept {
    std::uint8_t shift = 0;
    while (shift < max_window_scale && (buffer_bytes >> shift) > 65535) {
        ++shift;
    }
    return shift;
}

SynOptions negotiate_syn(const wire::TcpSegment& syn, const TcpConfig& config) noexcept {
    const wire::TcpOptions& o = syn.options();
    SynOptions r;
    // RFC 9293 section 3.7.1: send no more than the peer's MSS (536 when it
    // sends none, MUST-15) and than our own.
    const std::uint16_t peer_mss = o.mss ? *o.mss : config.default_peer_mss;
    r.snd_mss = std::max(min_snd_mss, std::min(peer_mss, config.mss));
    // RFC 7323 section 2.2: scaling only when both SYNs carry the option; "If
    // a Window Scale shift count greater than 14 is received, the TCP MUST
    // use 14".
    r.wscale_ok = o.window_scale.has_value() && config.window_scaling;
    if (r.wscale_ok) {
        r.snd_wscale = std::min(*o.window_scale, max_window_scale);
        r.rcv_wscale = window_scale_for(config.recv_buffer_bytes);
    }
    r.ts_ok = config.timestamps && o.timestamps.has_value();
    if (r.ts_ok) {
        r.ts_recent = o.timestamps->value;
    }
    r.sack_ok = config.sack && o.sack_permitted;
    return r;
}

void take_syn_options(Tcb& t, const wire::TcpSegment& syn, const TcpConfig& config) noexcept {
    const SynOptions o = negotiate_syn(syn, config);
    t.snd.mss = o.snd_mss;
    t.snd.wscale = o.snd_wscale;
    t.rcv.wscale = o.rcv_wscale;
    t.ts_ok = o.ts_ok;
    t.ts_recent = o.ts_recent;
    t.sack_ok = o.sack_ok;
}

std::uint32_t ts_value(time::Instant now, std::uint32_t ts_offset) noexcept {
    return static_cast<std::uint32_t>(now.us() / 1000) + ts_offset;
}

bool open_active(Tcb& t, wire::Seq32 iss, TcpEnv& env) noexcept {
    t.snd.iss = iss;
    t.snd.sml = iss;
    t.snd.una = iss;
    t.snd.nxt = iss + 1;
    t.snd.max = t.snd.nxt;
    t.rcv.wscale = env.config.window_scaling ? window_scale_for(env.config.recv_buffer_bytes) : 0;
    t.passive = false;
    t.state = TcpState::syn_sent;
    t.rtt_timing = true; // the SYN times the first RTT (RFC 6298 section 2.1)
    t.rtt_seq = iss + 1;
    t.rtt_start = env.now;
    t.retransmits = 0;
    if (!emit(t, flag::syn, iss, 0, env)) {
        t.state = TcpState::closed;
        return false;
    }
    arm_retransmit(t, env);
    return true;
}

bool open_passive(Tcb& t, const wire::TcpSegment& syn, wire::Seq32 iss, TcpEnv& env) noexcept {
    const HalfOpen h = half_open_for(t.tuple, syn, iss, t.ts_offset, env.config, env.now);
    if (!send_syn_ack(h, false, env)) {
        return false;
    }
    open_from_half_open(t, h, env);
    arm_retransmit(t, env);
    return true;
}

void timer_fired(Tcb& t, TimerKind kind, TcpEnv& env) noexcept {
    switch (kind) {
    case TimerKind::retransmit:
        if (t.state == TcpState::syn_sent || t.state == TcpState::syn_received) {
            syn_timeout(t, env);
        } else if (t.snd.una != t.snd.max) {
            retransmit_timeout(t, env);
        }
        break;
    case TimerKind::delayed_ack: send_ack(t, env); break;
    case TimerKind::persist: persist_timeout(t, env); break;
    case TimerKind::keepalive: keepalive_timeout(t, env); break;
    case TimerKind::fin_wait_2: enter_closed(t, CloseReason::timed_out, env); break;
    case TimerKind::time_wait: enter_closed(t, CloseReason::normal, env); break;
    }
}

Status<SendCallError> check_send(Tcb& t) noexcept {
    switch (t.state) {
    case TcpState::syn_sent:
    case TcpState::syn_received:
    case TcpState::established:
    case TcpState::close_wait: break;
    case TcpState::closed:
    case TcpState::listen: return Err{SendCallError::not_connected};
    case TcpState::fin_wait_1:
    case TcpState::fin_wait_2:
    case TcpState::closing:
    case TcpState::last_ack:
    case TcpState::time_wait: return Err{SendCallError::write_closed};
    }
    if (t.fin_queued) {
        return Err{SendCallError::write_closed};
    }
    if (t.send.space() == 0) {
        t.send_blocked = true;
        return Err{SendCallError::no_room};
    }
    return {};
}

Status<SendCallError> send(Tcb& t, wire::MbufPtr& data, TcpEnv&) noexcept {
    if (auto r = check_send(t); !r.ok()) {
        return r;
    }
    if (!t.send.append(data).ok()) {
        t.send_blocked = true;
        return Err{SendCallError::no_room};
    }
    t.send_blocked = t.send.space() == 0;
    return {};
}

void shutdown_write(Tcb& t, TcpEnv& env) noexcept {
    switch (t.state) {
    case TcpState::syn_sent:
        enter_closed(t, CloseReason::normal, env); // RFC 9293 section 3.10.4: delete the TCB
        return;
    case TcpState::syn_received:
        // RFC 9293 section 3.10.4: "queue for processing after entering
        // ESTABLISHED state" (process_ack moves on to FIN-WAIT-1 then).
        t.fin_queued = true;
        return;
    case TcpState::established: t.state = TcpState::fin_wait_1; break;
    case TcpState::close_wait: t.state = TcpState::last_ack; break;
    case TcpState::closed:
    case TcpState::listen:
    case TcpState::fin_wait_1:
    case TcpState::fin_wait_2:
    case TcpState::closing:
    case TcpState::last_ack:
    case TcpState::time_wait: return; // already closing: "error: connection closing"
    }
    t.fin_queued = true;
    output(t, env);
}

void close(Tcb& t, TcpEnv& env) noexcept {
    t.app_closed = true;
    if (t.recv.bytes() != 0) {
        abort(t, env);
        return;
    }
    shutdown_write(t, env);
    if (t.state == TcpState::fin_wait_2) {
        arm_misc(t, TimerKind::fin_wait_2, env.config.fin_wait_2_timeout, env);
    }
}

void abort(Tcb& t, TcpEnv& env) noexcept {
    // RFC 9293 section 3.10.5: in SYN-RECEIVED and the synchronized states
    // "send a reset segment: <SEQ=SND.NXT><CTL=RST>".
    if (t.state == TcpState::syn_received || is_synchronized(t.state)) {
        if (t.state != TcpState::time_wait) {
            send_rst(t.tuple, t.snd.nxt, std::nullopt, env);
        }
    }
    enter_closed(t, CloseReason::aborted, env);
}

namespace {

// Received bytes left the receive buffer (read or taken).
void released(Tcb& t, TcpEnv& env) noexcept {
    // Held data that found no room in the receive buffer may fit now.
    if (!t.ooo.empty() && take_reassembled(t, env) != 0) {
        t.ack_now = true;
        notify(t, ConnEvent::readable, env);
    }
    // A window update when the right edge can move by enough: receiver SWS
    // avoidance (RFC 9293 section 3.8.6.2.2), from a closed window too. A
    // smaller opening is found by the sender's persist timer.
    if (is_synchronized(t.state) && window_update_due(t)) {
        t.ack_now = true;
    }
}

} // namespace

void consumed(Tcb& t, std::uint32_t bytes, TcpEnv& env) noexcept {
    t.recv.consume(bytes);
    released(t, env);
}

void set_keepalive(Tcb& t, const KeepaliveConfig& k, TcpEnv& env) noexcept {
    t.keepalive = k;
    const bool keepalive_timer =
        t.misc_timer.kind() == static_cast<std::uint8_t>(TimerKind::keepalive);
    if (env.timers.armed(t.misc_timer) && !keepalive_timer) {
        return; // keepalive starts when that timer's state is over, if ever
    }
    env.timers.cancel(t.misc_timer);
    if (is_synchronized(t.state)) {
        arm_keepalive(t, env);
    }
}

wire::MbufPtr take(Tcb& t, std::uint32_t max_bytes, TcpEnv& env) noexcept {
    wire::MbufPtr taken = t.recv.take(max_bytes);
    if (taken) {
        released(t, env);
    }
    return taken;
}

void release_resources(Tcb& t, TcpEnv& env) noexcept {
    env.timers.cancel(t.rtx_timer);
    env.timers.cancel(t.delack_timer);
    env.timers.cancel(t.misc_timer);
    t.send.clear();
    t.recv.clear();
    t.ooo.clear(env.ooo_pool);
}

} // namespace synack::tcp
