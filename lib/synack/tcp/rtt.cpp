#include <synack/tcp/rtt.hpp>

#include <synack/base/assert.hpp>

#include <algorithm>

namespace synack::tcp {

namespace {

// Samples beyond this are clamped: 7 * (8 * 2**40) and 6 * (4 * 2**40) stay
// far below 2**63, and no RTO could ever follow such a sample anyway.
constexpr std::int64_t max_sample_us = std::int64_t{1} << 40;

} // namespace

RttEstimator::RttEstimator(const RtoConfig& config) noexcept
    : config_(config), rto_us_(config.rto_initial.us()) {
    SYNACK_ASSERT(config.is_valid());
}

void RttEstimator::on_sample(time::Duration rtt) noexcept {
    if (rtt < time::Duration{}) {
        return;
    }
    const std::int64_t r_us = std::min(rtt.us(), max_sample_us);
    if (!has_sample_) {
        // RFC 6298 section 2.2: "SRTT <- R, RTTVAR <- R/2".
        srtt_us8_ = 8 * r_us;
        rttvar_us4_ = 2 * r_us;
        has_sample_ = true;
    } else {
        // RFC 6298 section 2.3: "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,
        // SRTT <- (1 - alpha) * SRTT + alpha * R'" with alpha = 1/8, beta = 1/4;
        // "the value of SRTT used in the update to RTTVAR is its value before
        // updating SRTT itself". In the scaled units:
        //   4*RTTVAR' = (6 * (4*RTTVAR) + |8*SRTT - 8*R'|) / 8
        //   8*SRTT'   = (7 * (8*SRTT) + 8*R') / 8
        // each with a single truncation.
        const std::int64_t err_us8 =
            srtt_us8_ >= 8 * r_us ? srtt_us8_ - 8 * r_us : 8 * r_us - srtt_us8_;
        rttvar_us4_ = (6 * rttvar_us4_ + err_us8) / 8;
        srtt_us8_ = (7 * srtt_us8_ + 8 * r_us) / 8;
    }
    backoff_count_ = 0;
    update_rto();
}

void RttEstimator::backoff() noexcept {
    // RFC 6298 section 5.5: "RTO <- RTO * 2 ... The maximum value discussed in
    // (2.5) above may be used to provide an upper bound to this doubling".
    const std::int64_t max_us = config_.rto_max.us();
    rto_us_ = rto_us_ > max_us / 2 ? max_us : rto_us_ * 2;
    if (backoff_count_ < UINT8_MAX) {
        ++backoff_count_;
    }
}

void RttEstimator::restart_after_syn_timeout() noexcept {
    constexpr std::int64_t after_syn_timeout_us = 3'000'000;
    rto_us_ =
        std::min(std::max(config_.rto_initial.us(), after_syn_timeout_us), config_.rto_max.us());
    backoff_count_ = 0;
}

void RttEstimator::update_rto() noexcept {
    // RFC 6298 section 2.2: "RTO <- SRTT + max (G, K*RTTVAR) where K = 4".
    // SRTT rounds up so that the timer never fires before SRTT has passed.
    const std::int64_t srtt_us_ceil = (srtt_us8_ + 7) / 8;
    const std::int64_t rto_us = srtt_us_ceil + std::max(config_.granularity.us(), rttvar_us4_);
    // Section 2.4 (the minimum, see RtoConfig::rto_min) and 2.5 (the maximum).
    rto_us_ = std::clamp(rto_us, config_.rto_min.us(), config_.rto_max.us());
}

} // namespace synack::tcp
