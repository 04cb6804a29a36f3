#include "sim/raw_tcp.hpp"

#include <algorithm>
#include <vector>

namespace synack::sim {

namespace {

namespace flag = wire::tcp_flag;
using wire::Seq32;

constexpr time::Duration rto_max = time::Duration::from_s(60);

} // namespace

Segment RawTcp::header(std::uint8_t flags, Seq32 seq) const {
    Segment s;
    s.src_mac = c_.host.mac;
    s.dst_mac = c_.peer_mac;
    s.src = c_.host.ip;
    s.dst = c_.peer_ip;
    s.tcp.src_port = c_.port;
    s.tcp.dst_port = c_.peer_port;
    s.tcp.seq = seq;
    s.tcp.flags = flags;
    if ((flags & flag::ack) != 0) {
        s.tcp.ack = rcv_nxt_;
    }
    s.tcp.window = window_field();
    return s;
}

std::uint16_t RawTcp::window_field() const noexcept {
    if (state_ == State::listen || state_ == State::syn_sent || state_ == State::syn_received) {
        // RFC 7323 section 2.2: the window of a SYN is never scaled.
        return static_cast<std::uint16_t>(std::min<std::uint32_t>(c_.recv_buffer_bytes, 65535));
    }
    const auto offered = static_cast<std::uint32_t>(rcv_edge_ - rcv_nxt_);
    // Rounded up, so that the right edge the peer computes never falls short
    // of the one we promised (we accept up to rcv_edge_).
    const std::uint32_t field = (offered + (1u << rcv_wscale_) - 1) >> rcv_wscale_;
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(field, 65535));
}

void RawTcp::emit(World& w, Segment s, wire::Bytes payload) {
    if (silent_) {
        return;
    }
    if (ts_ok_ || (c_.timestamps && state_ == State::syn_sent)) {
        // RFC 7323 section 3.2: TSval from our clock (milliseconds), TSecr
        // the peer's latest TSval (0 on a SYN, where we know none).
        s.tcp.options.timestamps = wire::Timestamps{static_cast<std::uint32_t>(w.now.us() / 1000),
                                                    s.has(flag::ack) ? ts_recent_ : 0};
    }
    x_.send(w, c_.peer_is_a, s, payload);
}

void RawTcp::connect(World& w) {
    state_ = State::syn_sent;
    snd_una_ = c_.iss;
    snd_nxt_ = c_.iss + 1;
    snd_max_ = snd_nxt_;
    rto_ = c_.rto;
    send_syn(w);
    arm(w);
}

void RawTcp::send_syn(World& w) {
    const bool answer = state_ == State::syn_received;
    Segment s = header(answer ? flag::syn | flag::ack : flag::syn, c_.iss);
    s.tcp.options.mss = c_.mss;
    // RFC 7323 section 2.2: in a <SYN,ACK> "only if the corresponding option
    // was received in the initial <SYN>".
    if (!answer || wscale_ok_) {
        s.tcp.options.window_scale = c_.wscale;
    }
    emit(w, s, {});
}

void RawTcp::take_syn_options(const Segment& s) {
    const wire::TcpOptions& o = s.tcp.options;
    wscale_ok_ = c_.wscale && o.window_scale;
    if (wscale_ok_) {
        snd_wscale_ = std::min<std::uint8_t>(*o.window_scale, 14); // RFC 7323 section 2.3
        rcv_wscale_ = *c_.wscale;
    }
    ts_ok_ = c_.timestamps && o.timestamps.has_value();
    if (ts_ok_) {
        ts_recent_ = o.timestamps->value;
    }
    irs_ = s.tcp.seq;
    rcv_nxt_ = irs_ + 1;
    rcv_edge_ = rcv_nxt_ + c_.recv_buffer_bytes;
    snd_wnd_ = s.tcp.window; // never scaled on a SYN
}

void RawTcp::receive(World& w, const Segment& s) {
    if (silent_ || state_ == State::reset) {
        return;
    }
    if (s.has(flag::rst)) {
        // We never forge our own sequence checks away: an exact RST resets.
        if (state_ == State::syn_sent ? s.has(flag::ack) && s.tcp.ack == snd_nxt_
                                      : s.tcp.seq == rcv_nxt_) {
            state_ = State::reset;
            rtx_at_.reset();
        }
        return;
    }
    switch (state_) {
    case State::listen:
        if (s.has(flag::syn) && !s.has(flag::ack)) {
            c_.peer_port = s.tcp.src_port;
            take_syn_options(s);
            state_ = State::syn_received;
            snd_una_ = c_.iss;
            snd_nxt_ = c_.iss + 1;
            snd_max_ = snd_nxt_;
            rto_ = c_.rto;
            send_syn(w);
            arm(w);
        }
        return;
    case State::syn_sent:
        if (s.has(flag::syn) && s.has(flag::ack) && s.tcp.ack == c_.iss + 1) {
            take_syn_options(s);
            snd_una_ = s.tcp.ack;
            state_ = State::established;
            opened_ = true;
            rto_ = c_.rto;
            rtx_at_.reset();
            send_ack(w);
            push(w);
        }
        return;
    case State::syn_received:
        if (s.has(flag::syn)) {
            send_syn(w); // our SYN-ACK was lost: the same again
            return;
        }
        if (!s.has(flag::ack) || s.tcp.ack != c_.iss + 1) {
            return;
        }
        state_ = State::established;
        opened_ = true;
        snd_una_ = s.tcp.ack;
        rtx_at_.reset();
        break; // the ACK may carry data
    case State::established: break;
    case State::reset: return;
    }
    if (s.has(flag::syn)) {
        // A retransmitted SYN-ACK: our ACK was lost.
        send_ack(w);
        return;
    }
    if (ts_ok_ && s.tcp.options.timestamps && before_eq(s.tcp.seq, rcv_nxt_)) {
        ts_recent_ = s.tcp.options.timestamps->value; // RFC 7323 section 4.3
    }
    take_ack(w, s);
    take_data(w, s);
    push(w);
}

void RawTcp::take_ack(World& w, const Segment& s) {
    if (!s.has(flag::ack)) {
        return;
    }
    const Seq32 ack = s.tcp.ack;
    if (after(ack, snd_max_)) {
        ++acks_of_unsent_;
        return;
    }
    if (before(ack, snd_una_)) {
        return; // old
    }
    snd_wnd_ = std::uint32_t{s.tcp.window} << snd_wscale_;
    if (after(ack, snd_una_)) {
        const Seq32 snd_una_prev = snd_una_;
        snd_una_ = ack;
        if (before(snd_nxt_, snd_una_)) {
            snd_nxt_ = snd_una_;
        }
        rto_ = c_.rto;
        // Slow start (RFC 5681 section 3.1): the window grows by what was acknowledged.
        cwnd_ = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(std::uint64_t{cwnd_} + (ack - snd_una_prev), UINT32_MAX));
        if (snd_una_ == snd_max_) {
            rtx_at_.reset();
        } else {
            arm(w);
        }
    }
}

void RawTcp::take_data(World& w, const Segment& s) {
    const auto len = static_cast<std::uint32_t>(s.payload.size());
    const bool fin = s.has(flag::fin);
    if (len == 0 && !fin) {
        if (s.tcp.seq != rcv_nxt_) {
            send_ack(w); // unacceptable (a window probe below RCV.NXT): RFC 9293 3.10.7.4
        }
        return;
    }
    // The part of the payload at or after RCV.NXT and inside the right edge we offered.
    const std::int32_t skip = rcv_nxt_ - s.tcp.seq;
    if (skip >= 0 && static_cast<std::uint32_t>(skip) <= len && !peer_fin_) {
        const std::uint32_t room = static_cast<std::uint32_t>(rcv_edge_ - rcv_nxt_);
        const std::uint32_t take = std::min(len - static_cast<std::uint32_t>(skip), room);
        std::uint8_t expected[2048];
        for (std::uint32_t i = 0; i < take;) {
            const auto n = std::min<std::uint32_t>(take - i, sizeof expected);
            fill_stream(c_.recv_key, received_.bytes, expected, n);
            for (std::uint32_t j = 0; j < n; ++j) {
                received_.add(s.payload[static_cast<std::uint32_t>(skip) + i + j], expected[j]);
            }
            i += n;
        }
        rcv_nxt_ += take;
        if (c_.reads) {
            // Read at once: the window slides along.
            rcv_edge_ = seq_max(rcv_edge_, rcv_nxt_ + c_.recv_buffer_bytes);
        } else {
            held_ += take;
        }
        if (fin && static_cast<std::uint32_t>(skip) + take == len) {
            rcv_nxt_ += 1; // a FIN takes no room in the buffer
            rcv_edge_ = seq_max(rcv_edge_, rcv_nxt_);
            peer_fin_ = true;
        }
    }
    send_ack(w);
}

void RawTcp::send_ack(World& w) { emit(w, header(flag::ack, snd_nxt_), {}); }

void RawTcp::send_raw(World& w, std::uint8_t flags, Seq32 seq, Seq32 ack, wire::Bytes payload) {
    Segment s = header(flags, seq);
    s.tcp.ack = ack;
    emit(w, s, payload);
}

void RawTcp::send_data(World& w, std::uint64_t offset, std::uint32_t len) {
    std::uint8_t bytes[RTE_MBUF_DEFAULT_DATAROOM];
    SYNACK_ASSERT(len <= sizeof bytes);
    fill_stream(c_.send_key, offset, bytes, len);
    const Seq32 seq = c_.iss + 1 + static_cast<std::uint32_t>(offset);
    emit(w, header(flag::ack, seq), wire::Bytes(bytes, len));
    if (after(seq + len, snd_max_)) {
        snd_max_ = seq + len;
    }
    if (!rtx_at_) {
        arm(w);
    }
}

void RawTcp::push(World& w) {
    if (state_ != State::established || silent_) {
        return;
    }
    const Seq32 end = data_end();
    // The peer's window, and our own limits on what is in flight.
    const Seq32 limit = snd_una_ + std::min({snd_wnd_, c_.max_flight_bytes, cwnd_});
    std::vector<std::pair<std::uint64_t, std::uint32_t>> segments;
    std::size_t resent = 0;
    while (before(snd_nxt_, end) && before(snd_nxt_, limit)) {
        const auto len = static_cast<std::uint32_t>(
            std::min<std::int64_t>({c_.segment_bytes, end - snd_nxt_, limit - snd_nxt_}));
        segments.emplace_back(static_cast<std::uint32_t>(snd_nxt_ - (c_.iss + 1)), len);
        resent += before(snd_nxt_, snd_max_) ? 1 : 0;
        snd_nxt_ += len;
    }
    if (shuffle_ != nullptr && shuffle_->chance(shuffle_share_)) {
        // Out of order: the new segments in a random order (Fisher-Yates);
        // what is resent goes in order, as any sender resends after a timeout.
        for (std::size_t i = segments.size(); i > resent + 1; --i) {
            std::swap(segments[i - 1], segments[resent + shuffle_->below(i - resent)]);
        }
    }
    for (const auto& [offset, len] : segments) {
        send_data(w, offset, len);
    }
    if (c_.fin && snd_nxt_ == end && !fin_sent_) {
        fin_sent_ = true;
        emit(w, header(flag::fin | flag::ack, end), {});
        snd_nxt_ = end + 1;
        snd_max_ = seq_max(snd_max_, snd_nxt_);
        if (!rtx_at_) {
            arm(w);
        }
    }
}

void RawTcp::on_timer(World& w) {
    if (!rtx_at_ || w.now < *rtx_at_ || silent_) {
        return;
    }
    rto_ = std::min(rto_ * 2, rto_max);
    // RFC 5681 section 3.1: after a timeout, one segment in flight.
    cwnd_ = c_.segment_bytes;
    arm(w);
    switch (state_) {
    case State::syn_sent:
    case State::syn_received: send_syn(w); return;
    case State::listen:
    case State::reset: rtx_at_.reset(); return;
    case State::established: break;
    }
    if (snd_una_ == snd_max_) {
        rtx_at_.reset();
        return;
    }
    // Go back N: resend from SND.UNA. Into a zero window, one byte probes it
    // (RFC 9293 section 3.8.6.1).
    snd_nxt_ = snd_una_;
    fin_sent_ = fin_sent_ && snd_una_ == data_end() + 1;
    if (snd_wnd_ == 0 && before(snd_nxt_, data_end())) {
        send_data(w, static_cast<std::uint32_t>(snd_nxt_ - (c_.iss + 1)), 1);
        snd_nxt_ += 1;
        return;
    }
    push(w);
}

bool RawTcp::done_sending() const noexcept {
    return state_ == State::established && snd_una_ == data_end() + (c_.fin ? 1 : 0);
}

std::uint64_t RawTcp::acked() const noexcept {
    if (!opened_) {
        return 0;
    }
    const auto n = static_cast<std::uint64_t>(static_cast<std::uint32_t>(snd_una_ - (c_.iss + 1)));
    return std::min(n, c_.send_bytes);
}

} // namespace synack::sim
