#pragma once
// Round-trip time estimation and the retransmission timeout (RTO).
//
// Read before editing: RFC 6298 (the whole of it: it is six pages), RFC 7323
// section 4 (RTT measurement with timestamps), RFC 2119 section 3 (what a
// SHOULD permits).
//
// Pure arithmetic: no timer, no clock. The sender measures a sample, hands it
// to on_sample(), arms its timer-wheel entry with rto(), and calls backoff()
// when that entry expires.

#include <synack/time/clock.hpp>

#include <cstdint>

namespace synack::tcp {

/// Limits of the retransmission timeout. The defaults are Linux's, except
/// rto_initial, which is RFC 6298's.
struct RtoConfig {
    /// The RTO before the first sample. RFC 6298 section 2.1: "the sender
    /// SHOULD set RTO <- 1 second".
    time::Duration rto_initial = time::Duration::from_s(1);

    /// The smallest RTO a sample can produce. RFC 6298 section 2.4: "if it is
    /// less than 1 second, then the RTO SHOULD be rounded up to 1 second". That
    /// is a SHOULD, not a MUST: RFC 2119 section 3 lets an implementation
    /// ignore it for "valid reasons in particular circumstances" once "the full
    /// implications [are] understood and carefully weighed", and section 2.4
    /// itself expects that "research may show that a smaller minimum RTO is
    /// acceptable or superior". We take Linux's 200 ms (TCP_RTO_MIN): a 1 s
    /// floor was set for the coarse 500 ms clocks of the time, and our timer
    /// ticks every millisecond; on data-centre paths with RTTs in microseconds
    /// a 1 s floor turns every tail loss into a second of dead air; and the
    /// peers we serve, Linux kernels, have run with 200 ms for decades. The
    /// implication weighed: a peer that delays its ACK longer than 200 ms
    /// (RFC 5681 section 4.2 allows up to 500 ms) can draw a spurious timeout
    /// when a single segment is outstanding. Raise it here for such paths.
    time::Duration rto_min = time::Duration::from_ms(200);

    /// The largest RTO, backoff included. RFC 6298 section 2.5: "A maximum
    /// value MAY be placed on RTO provided it is at least 60 seconds." 120 s is
    /// Linux's TCP_RTO_MAX.
    time::Duration rto_max = time::Duration::from_s(120);

    /// G, the clock granularity of RFC 6298 section 2: the timer wheel's tick.
    /// It keeps RTO above SRTT when the variance collapses to zero.
    time::Duration granularity = time::Duration::from_ms(1);

    /// Whether the limits are coherent: 0 < granularity,
    /// 0 < rto_min <= rto_initial <= rto_max, and rto_max >= 60 s
    /// (RFC 6298 section 2.5). Configuration parsing checks this and reports
    /// the error; RttEstimator asserts it.
    constexpr bool is_valid() const noexcept {
        return granularity > time::Duration{} && rto_min > time::Duration{} &&
               rto_min <= rto_initial && rto_initial <= rto_max &&
               rto_max >= time::Duration::from_s(60);
    }
};

/// SRTT, RTTVAR and RTO of RFC 6298 section 2, with the exponential backoff of
/// section 5.5.
///
/// Samples: Karn's rule (RFC 6298 section 3) is the caller's to apply: "RTT
/// samples MUST NOT be made using segments that were retransmitted". The one
/// exception is a sample taken from the TCP timestamp option (RFC 7323
/// section 4), whose echo says which transmission the ACK answers; such a
/// sample may come from a retransmitted segment.
///
/// Arithmetic: integer microseconds, SRTT scaled by 8 and RTTVAR by 4 (as
/// Linux keeps srtt_us << 3 and mdev_us << 2), so alpha = 1/8 and beta = 1/4
/// cost one rounding each and K * RTTVAR is exact. RTO rounds SRTT up: a timer
/// may fire late, never early.
class RttEstimator {
public:
    /// An estimator with no sample yet: rto() is config.rto_initial.
    /// Precondition: config.is_valid() (asserts).
    explicit RttEstimator(const RtoConfig& config = RtoConfig{}) noexcept;

    /// Takes one RTT measurement R.
    /// First sample (section 2.2): SRTT <- R, RTTVAR <- R/2.
    /// Later samples (section 2.3), RTTVAR first, from the old SRTT:
    ///   RTTVAR <- 3/4 * RTTVAR + 1/4 * |SRTT - R|,  SRTT <- 7/8 * SRTT + 1/8 * R.
    /// Then RTO <- SRTT + max(G, 4 * RTTVAR), clamped to [rto_min, rto_max]
    /// (sections 2.2 to 2.5), and the backoff is cleared: a fresh estimate
    /// replaces the backed-off value (section 5, after 5.7: "may result in
    /// 'collapsing' RTO back down after it has been doubled").
    /// A negative sample is ignored (a bogus timestamp echo can produce one);
    /// a sample above 2**40 us (12.7 days) counts as 2**40 us, which keeps the
    /// scaled arithmetic inside 64 bits.
    void on_sample(time::Duration rtt) noexcept;

    /// The timeout to arm now: the estimate, doubled once per backoff() since
    /// the last sample, at most rto_max. Always within [rto_min, rto_max].
    time::Duration rto() const noexcept { return time::Duration::from_us(rto_us_); }

    /// RFC 6298 section 5.5, on expiry of the retransmission timer: "The host
    /// MUST set RTO <- RTO * 2 ('back off the timer')", capped at rto_max as
    /// section 5.5 allows. Counts the backoff (saturating at 255).
    void backoff() noexcept;

    /// RFC 6298 section 5.7: "If the timer expires awaiting the ACK of a SYN
    /// segment and the TCP implementation is using an RTO less than 3
    /// seconds, the RTO MUST be re-initialized to 3 seconds when data
    /// transmission begins". For a handshake that timed out and gave no
    /// sample: the SYN's backoff is cleared (a SYN that waited out six
    /// timeouts must not leave the first data with a 64 s timer).
    void restart_after_syn_timeout() noexcept;

    /// How many times backoff() ran since the last sample (or since
    /// construction), at most 255. The sender compares it with its retry
    /// limit (RFC 9293 section 3.8.3, R2).
    std::uint8_t backoff_count() const noexcept { return backoff_count_; }

    /// Whether any sample has been taken. Until then srtt() and rttvar() are
    /// zero and rto() derives from rto_initial.
    bool has_sample() const noexcept { return has_sample_; }

    /// SRTT, truncated to whole microseconds; zero before the first sample.
    time::Duration srtt() const noexcept { return time::Duration::from_us(srtt_us8_ / 8); }

    /// RTTVAR, truncated to whole microseconds; zero before the first sample.
    time::Duration rttvar() const noexcept { return time::Duration::from_us(rttvar_us4_ / 4); }

    /// The limits this estimator was built with.
    const RtoConfig& config() const noexcept { return config_; }

private:
    /// Recomputes rto_us_ from SRTT and RTTVAR (sections 2.2 to 2.5).
    void update_rto() noexcept;

    RtoConfig config_;
    std::int64_t srtt_us8_ = 0;   // SRTT * 8, in microseconds
    std::int64_t rttvar_us4_ = 0; // RTTVAR * 4, in microseconds: K * RTTVAR for K = 4
    std::int64_t rto_us_ = 0;     // current RTO, backoff included
    std::uint8_t backoff_count_ = 0;
    bool has_sample_ = false;
};

} // namespace synack::tcp
