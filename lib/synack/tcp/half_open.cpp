// SYN-RECEIVED as a record: see half_open.hpp.

#include <synack/tcp/control.hpp>
#include <synack/tcp/half_open.hpp>
#include <synack/tcp/output.hpp>
#include <synack/tcp/syn_cookie.hpp>

#include <synack/wire/build.hpp>

#include <algorithm>

namespace synack::tcp {

namespace {

namespace flag = wire::tcp_flag;

// RFC 9293 section 3.10.7.4, first check, with RCV.NXT = IRS + 1 and
// RCV.WND the SYN-ACK's window.
bool acceptable(const HalfOpen& h, const wire::TcpSegment& seg, const TcpConfig& config) noexcept {
    const wire::Seq32 nxt = h.irs + 1;
    const wire::Seq32 end = nxt + syn_ack_window(config);
    const std::uint32_t len = seg.seg_len();
    if (len == 0) {
        return in_window(nxt, seg.seq(), end);
    }
    return in_window(nxt, seg.seq(), end) || in_window(nxt, seg.seq() + len - 1, end);
}

} // namespace

HalfOpen half_open_for(const FourTuple& tuple, const wire::TcpSegment& syn, wire::Seq32 iss,
                       std::uint32_t ts_offset, const TcpConfig& config, time::Instant now) noexcept {
    HalfOpen h;
    h.tuple = tuple;
    h.irs = syn.seq();
    h.iss = iss;
    h.options = negotiate_syn(syn, config);
    h.ts_offset = ts_offset;
    h.peer_window = syn.window();
    h.sent_at = now;
    return h;
}

std::uint16_t syn_ack_window(const TcpConfig& config) noexcept {
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(config.recv_buffer_bytes, 65535));
}

bool send_syn_ack(const HalfOpen& h, bool retransmission, TcpEnv& env) noexcept {
    wire::MbufPtr pkt(rte_pktmbuf_alloc(env.ctrl_pool));
    if (!pkt) {
        env.counters.drops.add(DropReason::no_mbuf);
        return false;
    }
    wire::TcpRepr repr;
    repr.src_port = h.tuple.local_port;
    repr.dst_port = h.tuple.remote_port;
    repr.seq = h.iss;
    repr.ack = h.irs + 1;
    repr.flags = flag::syn | flag::ack;
    repr.window = syn_ack_window(env.config);
    // Only what the peer offered (RFC 7323 sections 1.3 and 2.2, RFC 2018
    // section 2): negotiate_syn() settled it.
    const SynOptions& o = h.options;
    repr.options.mss = env.config.mss;
    if (o.wscale_ok) {
        repr.options.window_scale = o.rcv_wscale;
    }
    repr.options.sack_permitted = o.sack_ok;
    if (o.ts_ok) {
        const std::uint32_t now = ts_value(env.now, h.ts_offset);
        repr.options.timestamps =
            wire::Timestamps{h.cookie ? SynCookies::ts_value(now, o) : now, o.ts_recent};
    }
    if (!wire::prepend_tcp(pkt.get(), repr)) {
        env.counters.drops.add(DropReason::no_mbuf);
        return false;
    }
    return push_segment(h.tuple, std::move(pkt), env, retransmission);
}

HalfOpenAction half_open_arrives(HalfOpen& h, const wire::TcpSegment& seg, TcpEnv& env) noexcept {
    if (seg.has(flag::rst)) {
        // Second check, with RFC 5961 section 3.2: only a RST at exactly
        // RCV.NXT ends it. No challenge ACK: we have said nothing yet that a
        // peer could have missed.
        if (seg.seq() == h.irs + 1) {
            return HalfOpenAction::drop;
        }
        env.counters.drops.add(DropReason::rst_not_exact);
        return HalfOpenAction::keep;
    }
    if (seg.has(flag::syn)) {
        if (!seg.has(flag::ack) && seg.seq() == h.irs) {
            // The peer sent its SYN again: our SYN-ACK was lost. Linux
            // answers so too, rather than with the bare ACK of the first check.
            (void)send_syn_ack(h, true, env);
            return HalfOpenAction::keep;
        }
        // Fourth check: "If the connection was initiated with a passive
        // OPEN, then return this connection to the LISTEN state".
        env.counters.drops.add(DropReason::syn_in_window);
        return HalfOpenAction::drop;
    }
    if (!seg.has(flag::ack)) {
        env.counters.drops.add(DropReason::no_ack);
        return HalfOpenAction::keep;
    }
    if (!acceptable(h, seg, env.config)) {
        env.counters.drops.add(DropReason::out_of_window);
        return HalfOpenAction::keep;
    }
    const auto& ts = seg.options().timestamps;
    if (h.options.ts_ok && ts && static_cast<std::int32_t>(ts->value - h.options.ts_recent) < 0) {
        env.counters.drops.add(DropReason::paws);
        return HalfOpenAction::keep;
    }
    // Fifth check: "If SND.UNA < SEG.ACK =< SND.NXT" (ISS < SEG.ACK =< ISS + 1).
    if (seg.ack() != h.iss + 1) {
        send_rst(h.tuple, seg.ack(), std::nullopt, env);
        env.counters.drops.add(DropReason::bad_ack);
        return HalfOpenAction::keep;
    }
    return HalfOpenAction::open;
}

void open_from_half_open(Tcb& t, const HalfOpen& h, const TcpEnv& env) noexcept {
    t.passive = true;
    t.rcv.irs = h.irs;
    t.rcv.nxt = h.irs + 1;
    t.rcv.adv_edge = t.rcv.nxt + syn_ack_window(env.config);
    t.snd.iss = h.iss;
    t.snd.sml = h.iss;
    t.snd.una = h.iss;
    t.snd.nxt = h.iss + 1;
    t.snd.max = t.snd.nxt;
    t.snd.wnd = h.peer_window;
    t.snd.max_wnd = h.peer_window;
    t.snd.wl1 = h.irs;
    t.snd.wl2 = h.iss;
    t.snd.mss = h.options.snd_mss;
    t.snd.wscale = h.options.snd_wscale;
    t.rcv.wscale = h.options.rcv_wscale;
    t.ts_ok = h.options.ts_ok;
    t.ts_recent = h.options.ts_recent;
    t.sack_ok = h.options.sack_ok;
    t.ts_offset = h.ts_offset;
    t.retransmits = h.retransmits;
    // RFC 6298 section 3 (Karn): the SYN-ACK times the first RTT only if it
    // was sent once; timestamps give a sample anyway (RFC 7323 section 4.1).
    t.rtt_timing = h.sent_at.has_value() && h.retransmits == 0;
    t.rtt_seq = h.iss + 1;
    if (h.sent_at) {
        t.rtt_start = *h.sent_at;
    }
    t.last_activity = env.now;
    t.last_heard = env.now;
    t.state = TcpState::syn_received;
}

} // namespace synack::tcp
