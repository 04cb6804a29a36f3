#include <synack/tcp/newreno.hpp>

#include <synack/base/assert.hpp>

#include <algorithm>

namespace synack::tcp {

namespace {

/// FlightSize from sequence numbers: SND.NXT - SND.UNA, zero if SND.NXT is
/// not after SND.UNA.
std::uint32_t outstanding_bytes(wire::Seq32 snd_una, wire::Seq32 snd_nxt) noexcept {
    return after(snd_nxt, snd_una) ? static_cast<std::uint32_t>(snd_nxt - snd_una) : 0;
}

/// v, or limit_bytes if v is larger.
std::uint32_t at_most(std::uint64_t v, std::uint32_t limit_bytes) noexcept {
    return v > limit_bytes ? limit_bytes : static_cast<std::uint32_t>(v);
}

} // namespace

NewReno::NewReno(const CongestionConfig& config) noexcept : config_(config) {
    SYNACK_ASSERT(config.is_valid());
}

void NewReno::on_start(const StartEvent& e) noexcept {
    SYNACK_ASSERT(e.smss_bytes > 0 && e.smss_bytes <= 65535);
    smss_bytes_ = e.smss_bytes;
    initial_window_bytes_ = initial_window_bytes(config_.initial_window, e.smss_bytes);

    // RFC 5681 section 3.1: "if the SYN or SYN/ACK is lost, the initial window
    // used by a sender after a correctly transmitted SYN MUST be one segment
    // consisting of at most SMSS bytes." RFC 6928 section 2 recommends that
    // IW10 senders "refrain from resetting the initial window to 1 segment,
    // unless there have been more than one SYN or SYN/ACK retransmissions".
    const std::uint8_t tolerated_syn_retransmits =
        config_.initial_window == InitialWindowRule::rfc6928 ? 1 : 0;
    const std::uint32_t iw_bytes =
        e.syn_retransmits > tolerated_syn_retransmits ? smss_bytes_ : initial_window_bytes_;
    cwnd_bytes_ = std::min(iw_bytes, config_.cwnd_max_bytes);
    ssthresh_bytes_ = config_.initial_ssthresh_bytes;
    ca_acked_bytes_ = 0;

    // RFC 6582 section 3.2 step 1: "recover is set to the initial send
    // sequence number." We keep recover one past the RFC's value (see
    // recover()), as FreeBSD keeps snd_recover: so ISS here reads "nothing
    // transmitted yet", and a loss of the very first data segment (duplicate
    // ACKs carrying ISS + 1) can still be fast-retransmitted. Read literally,
    // "ack_number - 1 > recover" with recover = ISS would refuse it, although
    // nothing sent before that segment can have produced spurious duplicates.
    recover_ = e.iss;
    duplicate_acks_ = 0;
    in_recovery_ = false;
    slow_start_after_timeout_ = false;
}

CongestionAction NewReno::on_ack(const AckEvent& e) noexcept {
    SYNACK_ASSERT(smss_bytes_ != 0);
    // RFC 5681 section 3.2: duplicates count only "without any intervening
    // ACKs which move SND.UNA".
    duplicate_acks_ = 0;
    if (in_recovery_) {
        return on_recovery_ack(e);
    }
    // Drag recover along behind SND.UNA: the test "SEG.ACK covers more than
    // recover" answers the same for every ACK at or above SND.UNA whether
    // recover is far behind or just behind, and keeping it within 2**31 of
    // SND.UNA keeps before()/after() meaningful on a connection that runs for
    // gigabytes without a loss.
    if (before(recover_, e.snd_una)) {
        recover_ = e.snd_una - 1;
    }
    grow(e.bytes_acked);
    return CongestionAction::none;
}

CongestionAction NewReno::on_recovery_ack(const AckEvent& e) noexcept {
    // RFC 6582 section 3.2 step 3, full acknowledgments: "If this ACK
    // acknowledges all of the data up to and including recover" (with recover
    // kept one past, SND.UNA >= recover_).
    if (after_eq(e.snd_una, recover_)) {
        // "Set cwnd to either (1) min (ssthresh, max(FlightSize, SMSS) + SMSS)
        // or (2) ssthresh ... where FlightSize in (1) is the amount of data
        // presently outstanding." We take (1): with (2) "the implementation is
        // encouraged to take measures to avoid a possible burst of data", and
        // we do not pace yet. "Exit the fast recovery procedure."
        const std::uint32_t flight_bytes = outstanding_bytes(e.snd_una, e.snd_nxt);
        const std::uint64_t option1_bytes =
            std::uint64_t{std::max(flight_bytes, smss_bytes_)} + smss_bytes_;
        cwnd_bytes_ = at_most(option1_bytes, ssthresh_bytes_);
        in_recovery_ = false;
        ca_acked_bytes_ = 0;
        return CongestionAction::none;
    }

    // Partial acknowledgments: "retransmit the first unacknowledged segment.
    // Deflate the congestion window by the amount of new data acknowledged by
    // the Cumulative Acknowledgment field. If the partial ACK acknowledges at
    // least one SMSS of new data, then add back SMSS bytes to the congestion
    // window." cwnd stays at least 1 SMSS, the loss window: the RFC sets no
    // floor, but a cwnd below one segment would stall everything but the
    // retransmission.
    cwnd_bytes_ -= std::min(e.bytes_acked, cwnd_bytes_);
    if (e.bytes_acked >= smss_bytes_) {
        cwnd_bytes_ = at_most(std::uint64_t{cwnd_bytes_} + smss_bytes_, config_.cwnd_max_bytes);
    }
    cwnd_bytes_ = std::max(cwnd_bytes_, smss_bytes_);
    return CongestionAction::retransmit_first_unacked;
}

void NewReno::grow(std::uint32_t bytes_acked) noexcept {
    // RFC 5681 section 3.1: "The slow start algorithm is used when cwnd <
    // ssthresh, while the congestion avoidance algorithm is used when cwnd >
    // ssthresh. When cwnd and ssthresh are equal, the sender may use either";
    // we use congestion avoidance, as Linux does.
    if (cwnd_bytes_ < ssthresh_bytes_) {
        // RFC 3465 section 2.2: slow start grows cwnd by the bytes the ACK
        // covers, at most L; section 2.3: "MAY use L=2*SMSS bytes and MUST NOT
        // use L > 2*SMSS bytes", and L = 1*SMSS in slow start after a
        // retransmission timeout, where ACKs can cover segments that left the
        // network long ago. Growth stops at ssthresh (as Linux's
        // tcp_slow_start() does) so that slow start never overshoots the
        // threshold a loss just set; the rest of that ACK is not carried over.
        const std::uint32_t l_segments = slow_start_after_timeout_ ? 1 : config_.abc_limit_segments;
        const std::uint64_t increase_bytes =
            std::min<std::uint64_t>(bytes_acked, std::uint64_t{l_segments} * smss_bytes_);
        const std::uint64_t target_bytes =
            std::min<std::uint64_t>(cwnd_bytes_ + increase_bytes, ssthresh_bytes_);
        cwnd_bytes_ = at_most(target_bytes, config_.cwnd_max_bytes);
        if (cwnd_bytes_ >= ssthresh_bytes_) {
            slow_start_after_timeout_ = false;
        }
        return;
    }
    slow_start_after_timeout_ = false;

    // Congestion avoidance. RFC 5681 section 3.1: "The RECOMMENDED way to
    // increase cwnd during congestion avoidance is to count the number of
    // bytes that have been acknowledged by ACKs for new data ... When the
    // number of bytes acknowledged reaches cwnd, then cwnd can be incremented
    // by up to SMSS bytes." RFC 3465 section 2.1: "bytes_acked is reduced by
    // the value of cwnd. Next, cwnd is incremented by a full-sized segment".
    // One increment per ACK at most: "cwnd MUST NOT be increased by more than
    // SMSS bytes per RTT".
    ca_acked_bytes_ += bytes_acked;
    if (ca_acked_bytes_ >= cwnd_bytes_) {
        ca_acked_bytes_ -= cwnd_bytes_;
        cwnd_bytes_ = at_most(std::uint64_t{cwnd_bytes_} + smss_bytes_, config_.cwnd_max_bytes);
    }
}

DupAckResult NewReno::on_duplicate_ack(const DupAckEvent& e) noexcept {
    SYNACK_ASSERT(smss_bytes_ != 0);
    if (duplicate_acks_ < UINT8_MAX) {
        ++duplicate_acks_;
    }
    DupAckResult result;

    if (in_recovery_) {
        // RFC 5681 section 3.2 step 4: "For each additional duplicate ACK
        // received (after the third), cwnd MUST be incremented by SMSS." RFC
        // 6582 keeps this after partial ACKs: "if any duplicate ACKs
        // subsequently arrive, execute step 4 of Section 3.2 of [RFC5681]".
        cwnd_bytes_ = at_most(std::uint64_t{cwnd_bytes_} + smss_bytes_, config_.cwnd_max_bytes);
        return result;
    }

    if (duplicate_acks_ < 3) {
        // RFC 5681 section 3.2 step 1: "On the first and second duplicate ACKs
        // received at a sender, a TCP SHOULD send a segment of previously
        // unsent data per [RFC3042] ... Further, the TCP sender MUST NOT
        // change cwnd to reflect these two segments".
        result.limited_transmit_segments = config_.limited_transmit ? 1 : 0;
        return result;
    }
    if (duplicate_acks_ > 3) {
        // The third one was declined by the recover check below: these
        // duplicates are echoes of needless retransmissions (RFC 6582
        // section 4), not news of a loss.
        return result;
    }

    // RFC 6582 section 3.2 step 2: "When the third duplicate ACK is received,
    // the TCP sender first checks the value of recover to see if the
    // Cumulative Acknowledgment field covers more than recover. ... If not,
    // the TCP does not enter fast retransmit and does not reset ssthresh."
    // "Covers more than recover" is "ack_number - 1 > recover" (section 3.2,
    // after step 4); with recover kept one past, SEG.ACK > recover_.
    if (!after(e.ack, recover_)) {
        return result;
    }
    // "If so, the value of recover is incremented to the value of the highest
    // sequence number transmitted by the TCP so far."
    recover_ = e.snd_nxt;
    // RFC 5681 section 3.2 step 2: "a TCP MUST set ssthresh to no more than
    // the value given in equation (4)"; step 3: "The lost segment starting at
    // SND.UNA MUST be retransmitted and cwnd set to ssthresh plus 3*SMSS."
    reduce_ssthresh(e.flight_size_bytes);
    cwnd_bytes_ = at_most(std::uint64_t{ssthresh_bytes_} + 3 * std::uint64_t{smss_bytes_},
                          config_.cwnd_max_bytes);
    in_recovery_ = true;
    ca_acked_bytes_ = 0;
    slow_start_after_timeout_ = false;
    result.action = CongestionAction::fast_retransmit;
    return result;
}

void NewReno::on_retransmit_timeout(const TimeoutEvent& e) noexcept {
    SYNACK_ASSERT(smss_bytes_ != 0);
    // RFC 5681 section 3.1: "When a TCP sender detects segment loss using the
    // retransmission timer and the given segment has not yet been resent by
    // way of the retransmission timer, the value of ssthresh MUST be set to no
    // more than the value given in equation (4)"; on later expiries for the
    // same segment it stays, or it would collapse to 2*SMSS as FlightSize
    // shrinks.
    if (!e.already_retransmitted_by_timer) {
        reduce_ssthresh(e.flight_size_bytes);
    }
    // "upon a timeout ... cwnd MUST be set to no more than the loss window,
    // LW, which equals 1 full-sized segment (regardless of the value of IW)."
    cwnd_bytes_ = smss_bytes_;
    // RFC 6582 section 3.2 step 4: "After a retransmit timeout, record the
    // highest sequence number transmitted in the variable recover, and exit
    // the fast recovery procedure if applicable."
    recover_ = e.snd_nxt;
    in_recovery_ = false;
    duplicate_acks_ = 0;
    ca_acked_bytes_ = 0;
    slow_start_after_timeout_ = true;
}

bool NewReno::on_idle_restart(const IdleEvent& e) noexcept {
    SYNACK_ASSERT(smss_bytes_ != 0);
    // RFC 5681 section 4.1: "a TCP SHOULD set cwnd to no more than RW before
    // beginning transmission if the TCP has not sent data in an interval
    // exceeding the retransmission timeout", with "RW = min(IW,cwnd)".
    // ssthresh stays, as the RFC says nothing of it (Linux's
    // tcp_cwnd_restart() also raises it to 3/4 of the old cwnd, after RFC
    // 2861; a candidate once we measure idle restarts).
    if (e.idle <= e.rto) {
        return false;
    }
    cwnd_bytes_ = std::min(initial_window_bytes_, cwnd_bytes_);
    ca_acked_bytes_ = 0;
    return true;
}

void NewReno::reduce_ssthresh(std::uint32_t flight_size_bytes) noexcept {
    // RFC 5681 equation (4): "ssthresh = max (FlightSize / 2, 2*SMSS)".
    ssthresh_bytes_ = std::max(flight_size_bytes / 2, 2 * smss_bytes_);
}

} // namespace synack::tcp
