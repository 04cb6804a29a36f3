#pragma once
// NewReno congestion control: slow start and congestion avoidance with byte
// counting, fast retransmit, and fast recovery with NewReno's response to
// partial acknowledgments.
//
// Read before editing: RFC 5681 sections 2, 3 and 4.1; RFC 6582 sections 3
// and 4; RFC 3465 sections 2.1 to 2.3; RFC 6928 section 2; RFC 3042
// section 2. The events and their preconditions are in congestion.hpp.
//
// Where it follows Linux or FreeBSD rather than one reading of an RFC, the
// comment at that spot in newreno.cpp says so and why.

#include <synack/tcp/congestion.hpp>

#include <cstdint>

namespace synack::tcp {

/// RFC 5681 congestion control with RFC 6582 (NewReno) fast recovery, RFC
/// 3465 byte counting (L = 2 * SMSS by default), RFC 6928's IW10 and RFC 3042
/// limited transmit. Satisfies CongestionAlgorithm; held by Congestion.
///
/// Choices: congestion avoidance counts acknowledged bytes (RFC 5681 section
/// 3.1, "the RECOMMENDED way"; RFC 3465 section 2.1), not SMSS*SMSS/cwnd per
/// ACK; a full ACK sets cwnd to RFC 6582's option (1), "min (ssthresh,
/// max(FlightSize, SMSS) + SMSS)", because we have no pacing yet to soften the
/// burst option (2) can release.
class NewReno {
public:
    /// A controller with settings config, before on_start(): cwnd is zero.
    /// Precondition: config.is_valid() (asserts).
    explicit NewReno(const CongestionConfig& config) noexcept;

    /// Starts (or restarts) the connection's state: cwnd = IW (RFC 5681 /
    /// RFC 6928, or 1 SMSS after lost SYNs), ssthresh = its initial value,
    /// recover = ISS, no recovery. Precondition: 0 < e.smss_bytes <= 65535
    /// (asserts).
    void on_start(const StartEvent& e) noexcept;

    /// An ACK that advanced SND.UNA. Outside fast recovery: grows cwnd (slow
    /// start below ssthresh, congestion avoidance at or above it) and returns
    /// none. In fast recovery: a full ACK (SND.UNA reaches `recover`) exits
    /// with cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) and returns
    /// none; a partial ACK deflates cwnd and returns retransmit_first_unacked.
    /// Resets the duplicate ACK count. Precondition: on_start() ran (asserts).
    CongestionAction on_ack(const AckEvent& e) noexcept;

    /// A duplicate ACK. The first and second allow limited transmit; the
    /// third begins fast retransmit and returns fast_retransmit unless the ACK
    /// does not cover more than `recover` (RFC 6582 section 3.2 step 2), in
    /// which case nothing changes; in fast recovery each one inflates cwnd by
    /// SMSS. Precondition: on_start() ran (asserts).
    DupAckResult on_duplicate_ack(const DupAckEvent& e) noexcept;

    /// The retransmission timer expired: ssthresh = max(FlightSize / 2,
    /// 2 * SMSS) unless this segment already timed out, cwnd = 1 SMSS,
    /// recover = SND.NXT, fast recovery ends. Precondition: on_start() ran
    /// (asserts).
    void on_retransmit_timeout(const TimeoutEvent& e) noexcept;

    /// Before sending after a pause: when e.idle exceeds e.rto, cwnd becomes
    /// the restart window min(IW, cwnd) (RFC 5681 section 4.1) and this
    /// returns true; otherwise nothing changes and it returns false.
    /// Precondition: on_start() ran (asserts).
    bool on_idle_restart(const IdleEvent& e) noexcept;

    /// The congestion window in bytes; zero before on_start().
    std::uint32_t cwnd_bytes() const noexcept { return cwnd_bytes_; }

    /// The slow start threshold in bytes.
    std::uint32_t ssthresh_bytes() const noexcept { return ssthresh_bytes_; }

    /// Whether fast recovery is under way.
    bool in_recovery() const noexcept { return in_recovery_; }

    /// SMSS as given to on_start(); zero before.
    std::uint32_t smss_bytes() const noexcept { return smss_bytes_; }

    /// Duplicate ACKs since the last ACK that advanced SND.UNA (at most 255).
    std::uint8_t duplicate_acks() const noexcept { return duplicate_acks_; }

    /// RFC 6582's `recover`, kept one past the RFC's value: SND.NXT when fast
    /// retransmit began or the timer last expired (the RFC records "the
    /// highest sequence number transmitted"), ISS at the start. Exposed for
    /// tests and diagnostics.
    wire::Seq32 recover() const noexcept { return recover_; }

private:
    /// Slow start or congestion avoidance for an ACK of bytes_acked outside
    /// fast recovery (RFC 5681 section 3.1, RFC 3465).
    void grow(std::uint32_t bytes_acked) noexcept;

    /// RFC 6582 section 3.2 step 3: a full or a partial acknowledgment.
    CongestionAction on_recovery_ack(const AckEvent& e) noexcept;

    /// ssthresh = max(FlightSize / 2, 2*SMSS), RFC 5681 equation (4).
    void reduce_ssthresh(std::uint32_t flight_size_bytes) noexcept;

    CongestionConfig config_;
    std::uint32_t smss_bytes_ = 0;
    std::uint32_t initial_window_bytes_ = 0; // IW by the configured rule, for RW
    std::uint32_t cwnd_bytes_ = 0;
    std::uint32_t ssthresh_bytes_ = 0;
    std::uint64_t ca_acked_bytes_ = 0; // RFC 3465's bytes_acked in congestion avoidance
    wire::Seq32 recover_;
    std::uint8_t duplicate_acks_ = 0;
    bool in_recovery_ = false;
    bool slow_start_after_timeout_ = false; // RFC 3465 section 2.3: L = 1 SMSS
};

static_assert(CongestionAlgorithm<NewReno>);

} // namespace synack::tcp
