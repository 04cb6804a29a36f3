#include <synack/tcp/time_wait.hpp>

#include <synack/tcp/output.hpp>

#include <algorithm>

namespace synack::tcp {

namespace flag = wire::tcp_flag;

TimeWait time_wait_of(const Tcb& t) noexcept {
    TimeWait tw;
    tw.tuple = t.tuple;
    tw.snd_nxt = t.snd.max;
    tw.rcv_nxt = t.rcv.nxt;
    tw.ts_recent = t.ts_recent;
    tw.ts_offset = t.ts_offset;
    tw.ts_ok = t.ts_ok;
    const std::uint32_t wnd = after(t.rcv.adv_edge, t.rcv.nxt) ? static_cast<std::uint32_t>(t.rcv.adv_edge - t.rcv.nxt) : 0;
    tw.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd >> t.rcv.wscale, 65535));
    return tw;
}

TimeWaitAction time_wait_arrives(TimeWait& tw, const wire::TcpSegment& seg, TcpEnv& env) noexcept {
    if (seg.has(flag::rst)) {
        env.counters.drops.add(DropReason::rst_in_time_wait);
        return TimeWaitAction::keep;
    }
    const auto& ts = seg.options().timestamps;
    const bool newer_ts = tw.ts_ok && ts && static_cast<std::int32_t>(ts->value - tw.ts_recent) > 0;
    if (seg.has(flag::syn) && !seg.has(flag::ack)) {
        if (after(seg.seq(), tw.rcv_nxt) || newer_ts) {
            return TimeWaitAction::reopen;
        }
        env.counters.drops.add(DropReason::syn_in_window);
        if (invalid_ack_allowed(tw.last_invalid_ack, env)) {
            ++env.counters.challenge_acks;
            send_time_wait_ack(tw, env);
        }
        return TimeWaitAction::keep;
    }
    if (tw.ts_ok && ts && static_cast<std::int32_t>(ts->value - tw.ts_recent) < 0) {
        env.counters.drops.add(DropReason::paws); // RFC 7323 section 5.3: ACK and drop
        if (seg.seg_len() != 0 || invalid_ack_allowed(tw.last_invalid_ack, env)) {
            send_time_wait_ack(tw, env);
        }
        return TimeWaitAction::keep;
    }
    if (newer_ts && before_eq(seg.seq(), tw.rcv_nxt)) {
        tw.ts_recent = ts->value; // RFC 7323 section 4.3
    }
    if (seg.has(flag::fin) && seg.seq() + static_cast<std::uint32_t>(seg.payload().size()) + 1 == tw.rcv_nxt) {
        send_time_wait_ack(tw, env); // the peer's FIN again: our ACK was lost
        return TimeWaitAction::restart;
    }
    if (!seg.payload().empty() || seg.has(flag::fin) || seg.seq() != tw.rcv_nxt) {
        env.counters.drops.add(DropReason::out_of_window);
        // Throttled like a connection's (TcpConfig::invalid_ack_interval).
        if (seg.seg_len() != 0 || invalid_ack_allowed(tw.last_invalid_ack, env)) {
            send_time_wait_ack(tw, env);
        }
    }
    return TimeWaitAction::keep;
}

} // namespace synack::tcp
