#include <synack/tcp/sack_recovery.hpp>

#include <synack/tcp/output.hpp>

#include <algorithm>

namespace synack::tcp {

using wire::Seq32;

bool sack_is_lost(const Tcb& t, Seq32 seq) noexcept {
    return t.sacked.ranges_above(seq) >= dup_thresh ||
           t.sacked.bytes_above(seq) > (dup_thresh - 1) * payload_max(t);
}

std::uint32_t sack_pipe(const Tcb& t) noexcept {
    // The unSACKed stretches between the ranges: within one, the bytes SACKed
    // above are the same, so IsLost() is too.
    std::uint32_t pipe = 0;
    Seq32 from = t.snd.una;
    for (std::size_t k = 0; k <= t.sacked.size(); ++k) {
        const Seq32 to = k < t.sacked.size() ? t.sacked[k].start : t.snd.max;
        if (before(from, to)) {
            if (!sack_is_lost(t, from)) {
                pipe += static_cast<std::uint32_t>(to - from);
            }
            const Seq32 resent_end = seq_min(to, t.high_rxt);
            if (t.sack_recovery && before(from, resent_end)) {
                pipe += static_cast<std::uint32_t>(resent_end - from);
            }
        }
        if (k < t.sacked.size()) {
            from = t.sacked[k].end;
        }
    }
    return pipe;
}

void enter_sack_recovery(Tcb& t, Seq32 retransmitted_end) noexcept {
    t.sack_recovery = true;
    t.recovery_point = t.snd.max;
    t.high_rxt = retransmitted_end;
}

namespace {

// Resends [seq, min(limit, seq + SMSS)) from the send buffer, with the FIN
// when the data ends there and the FIN is covered. Returns the sequence
// space sent (0 when nothing could be).
std::uint32_t resend(Tcb& t, Seq32 seq, Seq32 limit, TcpEnv& env) noexcept {
    const Seq32 data_end = t.snd.una + t.send.bytes();
    const std::uint32_t in_buffer = after(data_end, seq) ? static_cast<std::uint32_t>(data_end - seq) : 0;
    const std::uint32_t len = std::min({payload_max(t), static_cast<std::uint32_t>(limit - seq), in_buffer});
    const bool fin = t.fin_sent && seq + len == data_end && after(limit, data_end);
    if (len == 0 && !fin) {
        return 0;
    }
    std::uint8_t flags = wire::tcp_flag::ack;
    flags |= fin ? wire::tcp_flag::fin : 0;
    flags |= len != 0 && seq + len == data_end ? wire::tcp_flag::psh : 0;
    if (!emit(t, flags, seq, len, env, true)) {
        return 0;
    }
    return len + (fin ? 1 : 0);
}

} // namespace

std::uint32_t sack_recovery_retransmit(Tcb& t, bool new_data_waiting, TcpEnv& env) noexcept {
    const std::uint32_t smss = payload_max(t);
    const std::uint32_t window = std::max(t.cc.ssthresh_bytes(), smss);
    std::uint32_t pipe = sack_pipe(t);
    for (const int rule : {1, 3}) {
        if (rule == 3 && new_data_waiting) {
            break; // rule 2, new data, comes first
        }
        Seq32 next = seq_max(t.snd.una, t.high_rxt);
        while (pipe + smss <= window) {
            if (auto end = t.sacked.covering_end(next)) {
                next = *end;
            }
            // Only holes below the highest SACK: above it nothing is known.
            const auto hole_end = t.sacked.next_start(next);
            if (!hole_end) {
                break;
            }
            // IsLost() only weakens going up: the first hole not lost ends rule 1.
            if (rule == 1 && !sack_is_lost(t, next)) {
                break;
            }
            const std::uint32_t sent = resend(t, next, *hole_end, env);
            if (sent == 0) {
                break;
            }
            next += sent;
            t.high_rxt = next;
            pipe += sent;
        }
    }
    return window > pipe ? window - pipe : 0;
}

} // namespace synack::tcp
