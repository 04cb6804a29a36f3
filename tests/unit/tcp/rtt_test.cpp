#include <synack/tcp/rtt.hpp>

#include <catch2/catch.hpp>

using synack::tcp::RtoConfig;
using synack::tcp::RttEstimator;
using synack::time::Duration;

namespace {

Duration ms(std::int64_t n) { return Duration::from_ms(n); }
Duration us(std::int64_t n) { return Duration::from_us(n); }
Duration s(std::int64_t n) { return Duration::from_s(n); }

} // namespace

TEST_CASE("RTO: 1 s before any sample (RFC 6298 section 2.1)", "[tcp][rfc6298]") {
    const RttEstimator est;
    REQUIRE_FALSE(est.has_sample());
    REQUIRE(est.rto() == s(1));
    REQUIRE(est.srtt() == Duration{});
    REQUIRE(est.rttvar() == Duration{});
    REQUIRE(est.backoff_count() == 0);
}

TEST_CASE("RTO: defaults are rto_min 200 ms, rto_max 120 s, G 1 ms (RFC 6298 sections 2.4, 2.5)",
          "[tcp][rfc6298]") {
    const RtoConfig config;
    REQUIRE(config.rto_initial == s(1));
    REQUIRE(config.rto_min == ms(200));
    REQUIRE(config.rto_max == s(120));
    REQUIRE(config.granularity == ms(1));
    REQUIRE(config.is_valid());
    REQUIRE_FALSE(RtoConfig{.rto_max = s(59)}.is_valid());
    REQUIRE_FALSE(RtoConfig{.rto_min = s(2)}.is_valid());
    REQUIRE_FALSE(RtoConfig{.granularity = Duration{}}.is_valid());
}

TEST_CASE("RTO: first sample sets SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR "
          "(RFC 6298 section 2.2)",
          "[tcp][rfc6298]") {
    RttEstimator est;
    est.on_sample(ms(100));
    REQUIRE(est.has_sample());
    REQUIRE(est.srtt() == ms(100));
    REQUIRE(est.rttvar() == ms(50));
    REQUIRE(est.rto() == ms(300)); // 100 + 4 * 50
}

TEST_CASE("RTO: later samples update RTTVAR from the old SRTT, then SRTT, alpha 1/8, beta 1/4 "
          "(RFC 6298 section 2.3)",
          "[tcp][rfc6298]") {
    RttEstimator est;
    est.on_sample(ms(100)); // SRTT 100, RTTVAR 50

    est.on_sample(ms(200));
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 37.5 + 25 = 62.5 ms (old SRTT 100).
    // SRTT = 7/8 * 100 + 1/8 * 200 = 87.5 + 25 = 112.5 ms.
    REQUIRE(est.rttvar() == us(62'500));
    REQUIRE(est.srtt() == us(112'500));
    REQUIRE(est.rto() == us(362'500)); // 112.5 + 4 * 62.5

    est.on_sample(ms(50));
    // RTTVAR = 3/4 * 62.5 + 1/4 * |112.5 - 50| = 46.875 + 15.625 = 62.5 ms.
    // SRTT = 7/8 * 112.5 + 1/8 * 50 = 98.4375 + 6.25 = 104.6875 ms.
    REQUIRE(est.rttvar() == us(62'500));
    REQUIRE(est.srtt() == us(104'687)); // truncated for display
    // RTO = 104.6875 + 250 = 354.6875 ms, rounded up to the microsecond: never early.
    REQUIRE(est.rto() == us(354'688));
}

TEST_CASE("RTO: a steady RTT decays RTTVAR by 3/4 per sample (RFC 6298 section 2.3)",
          "[tcp][rfc6298]") {
    RttEstimator est;
    est.on_sample(ms(80)); // RTTVAR 40 ms
    est.on_sample(ms(80)); // 30 ms
    est.on_sample(ms(80)); // 22.5 ms
    REQUIRE(est.srtt() == ms(80));
    REQUIRE(est.rttvar() == us(22'500));
    REQUIRE(est.rto() == ms(200)); // 80 + 90 = 170, raised to rto_min
}

TEST_CASE("RTO: never below rto_min (RFC 6298 section 2.4, our 200 ms)", "[tcp][rfc6298]") {
    RttEstimator est;
    est.on_sample(ms(10)); // 10 + 4 * 5 = 30 ms
    REQUIRE(est.rto() == ms(200));

    RttEstimator strict(RtoConfig{.rto_min = s(1)});
    strict.on_sample(ms(100)); // 300 ms
    REQUIRE(strict.rto() == s(1));
}

TEST_CASE("RTO: never above rto_max (RFC 6298 section 2.5)", "[tcp][rfc6298]") {
    RttEstimator est;
    est.on_sample(s(50)); // 50 + 4 * 25 = 150 s
    REQUIRE(est.rto() == s(120));
}

TEST_CASE("RTO: G bounds the variance term, RTO = SRTT + max(G, K*RTTVAR) "
          "(RFC 6298 section 2.2)",
          "[tcp][rfc6298]") {
    // A coarse 100 ms clock: 4 * RTTVAR = 40 ms < G.
    RttEstimator coarse(RtoConfig{.rto_min = ms(1), .granularity = ms(100)});
    coarse.on_sample(ms(20));
    REQUIRE(coarse.rto() == ms(120)); // 20 + max(100, 40)

    // A zero RTT (loopback): RTO = G, not 0.
    RttEstimator fine(RtoConfig{.rto_min = us(1)});
    fine.on_sample(Duration{});
    REQUIRE(fine.rto() == ms(1));
}

TEST_CASE("RTO: backoff doubles the timer and caps it at rto_max (RFC 6298 section 5.5)",
          "[tcp][rfc6298]") {
    RttEstimator est;
    std::int64_t expect_s = 1;
    for (int i = 1; i <= 6; ++i) {
        est.backoff();
        expect_s *= 2;
        REQUIRE(est.rto() == s(expect_s)); // 2, 4, ..., 64 s
        REQUIRE(est.backoff_count() == i);
    }
    est.backoff(); // 128 s > 120 s
    REQUIRE(est.rto() == s(120));
    est.backoff();
    REQUIRE(est.rto() == s(120));
    REQUIRE(est.backoff_count() == 8);
}

TEST_CASE("RTO: the backoff count saturates at 255", "[tcp][rfc6298]") {
    RttEstimator est;
    for (int i = 0; i < 300; ++i) {
        est.backoff();
    }
    REQUIRE(est.backoff_count() == 255);
    REQUIRE(est.rto() == s(120));
}

TEST_CASE("RTO: a new sample clears the backoff and recomputes RTO (RFC 6298 section 5)",
          "[tcp][rfc6298]") {
    RttEstimator est;
    est.on_sample(ms(100)); // RTO 300 ms
    est.backoff();
    est.backoff();
    REQUIRE(est.rto() == ms(1200));
    REQUIRE(est.backoff_count() == 2);

    est.on_sample(ms(100));
    // RTTVAR = 3/4 * 50 + 0 = 37.5; SRTT = 100; RTO = 100 + 150 = 250 ms.
    REQUIRE(est.backoff_count() == 0);
    REQUIRE(est.rto() == ms(250));
}

TEST_CASE("RTO: negative samples are ignored, huge ones clamp without overflow", "[tcp][rfc6298]") {
    RttEstimator est;
    est.on_sample(ms(-5));
    REQUIRE_FALSE(est.has_sample());
    REQUIRE(est.rto() == s(1));

    est.on_sample(Duration::from_us(std::int64_t{1} << 62));
    REQUIRE(est.has_sample());
    REQUIRE(est.srtt() == us(std::int64_t{1} << 40));
    REQUIRE(est.rto() == s(120));
    est.on_sample(Duration::from_us(std::int64_t{1} << 62));
    REQUIRE(est.srtt() == us(std::int64_t{1} << 40));
    est.on_sample(ms(1));
    REQUIRE(est.rto() == s(120));
}
