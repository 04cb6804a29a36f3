#include <synack/tcp/congestion.hpp>

#include <catch2/catch.hpp>

#include <cstdint>

using namespace synack::tcp;
using synack::time::Duration;
using synack::time::Instant;
using synack::wire::Seq32;

namespace {

constexpr std::uint32_t smss = 1000;

/// A sender's view of one connection, driving a Congestion the way the TCP
/// output and input paths will: SND.UNA and SND.NXT move in whole segments.
struct Flow {
    Congestion cc;
    Seq32 una;
    Seq32 nxt;
    Instant now;

    explicit Flow(const CongestionConfig& config = {}, Seq32 iss = Seq32(0))
        : cc(CongestionAlgorithmId::newreno, config), una(iss + 1), nxt(iss + 1) {
        cc.on_start({.smss_bytes = smss, .iss = iss});
    }

    std::uint32_t flight() const { return static_cast<std::uint32_t>(nxt - una); }

    /// Sends n new full-sized segments.
    void send(std::uint32_t n) { nxt += n * smss; }

    /// An ACK that advances SND.UNA by n segments.
    CongestionAction ack(std::uint32_t n) { return ack_to(una + n * smss); }

    /// An ACK that advances SND.UNA to a.
    CongestionAction ack_to(Seq32 a) {
        const AckEvent e{.bytes_acked = static_cast<std::uint32_t>(a - una),
                         .snd_una = a,
                         .snd_nxt = nxt,
                         .flight_size_before_bytes = flight(),
                         .now = now};
        una = a;
        return cc.on_ack(e);
    }

    /// A duplicate ACK (SEG.ACK == SND.UNA).
    DupAckResult dup() {
        return cc.on_duplicate_ack(
            {.ack = una, .snd_nxt = nxt, .flight_size_bytes = flight(), .now = now});
    }

    /// The retransmission timer expires.
    void timeout(bool already_retransmitted_by_timer = false) {
        cc.on_retransmit_timeout({.flight_size_bytes = flight(),
                                  .snd_nxt = nxt,
                                  .already_retransmitted_by_timer = already_retransmitted_by_timer,
                                  .now = now});
    }

    Seq32 recover() const { return cc.get_if<NewReno>()->recover(); }
};

/// Three duplicate ACKs; returns the third one's result.
DupAckResult three_dups(Flow& f) {
    f.dup();
    f.dup();
    return f.dup();
}

/// Grows cwnd from IW10 (10 segments) to 20 segments in slow start.
void warm_up_to_20_segments(Flow& f) {
    f.send(10);
    for (int i = 0; i < 10; ++i) {
        f.ack(1);
    }
    REQUIRE(f.cc.cwnd_bytes() == 20 * smss);
    REQUIRE(f.flight() == 0);
}

} // namespace

// ---- Initial window and the start of a connection ----

TEST_CASE("IW: IW10 is min(10*SMSS, max(2*SMSS, 14600)) (RFC 6928 section 2)",
          "[tcp][rfc5681][rfc6928]") {
    constexpr auto rule = InitialWindowRule::rfc6928;
    STATIC_REQUIRE(initial_window_bytes(rule, 1460) == 14600);
    STATIC_REQUIRE(initial_window_bytes(rule, 1000) == 10000);
    STATIC_REQUIRE(initial_window_bytes(rule, 1200) == 12000);
    STATIC_REQUIRE(initial_window_bytes(rule, 536) == 5360);
    STATIC_REQUIRE(initial_window_bytes(rule, 9000) == 18000);

    const Flow f;
    REQUIRE(f.cc.cwnd_bytes() == 10 * smss);
}

TEST_CASE("IW: 4, 3 or 2 segments by SMSS (RFC 5681 section 3.1)", "[tcp][rfc5681]") {
    constexpr auto rule = InitialWindowRule::rfc5681;
    STATIC_REQUIRE(initial_window_bytes(rule, 536) == 2144);
    STATIC_REQUIRE(initial_window_bytes(rule, 1095) == 4380);
    STATIC_REQUIRE(initial_window_bytes(rule, 1096) == 3288);
    STATIC_REQUIRE(initial_window_bytes(rule, 1460) == 4380);
    STATIC_REQUIRE(initial_window_bytes(rule, 2190) == 6570);
    STATIC_REQUIRE(initial_window_bytes(rule, 2191) == 4382);

    const Flow f(CongestionConfig{.initial_window = rule});
    REQUIRE(f.cc.cwnd_bytes() == 4 * smss);
}

TEST_CASE("IW: after a lost SYN the window is 1 SMSS; IW10 forgives one "
          "(RFC 5681 section 3.1, RFC 6928 section 2)",
          "[tcp][rfc5681][rfc6928]") {
    Congestion classic(CongestionAlgorithmId::newreno,
                       {.initial_window = InitialWindowRule::rfc5681});
    classic.on_start({.smss_bytes = smss, .syn_retransmits = 1});
    REQUIRE(classic.cwnd_bytes() == smss);

    Congestion iw10(CongestionAlgorithmId::newreno, {});
    iw10.on_start({.smss_bytes = smss, .syn_retransmits = 1});
    REQUIRE(iw10.cwnd_bytes() == 10 * smss);
    iw10.on_start({.smss_bytes = smss, .syn_retransmits = 2});
    REQUIRE(iw10.cwnd_bytes() == smss);
}

TEST_CASE("Start: ssthresh is arbitrarily high, no recovery, recover = ISS "
          "(RFC 5681 section 3.1, RFC 6582 section 3.2 step 1)",
          "[tcp][rfc5681][rfc6582]") {
    const Flow f(CongestionConfig{}, Seq32(12345));
    REQUIRE(f.cc.ssthresh_bytes() == UINT32_MAX);
    REQUIRE_FALSE(f.cc.in_recovery());
    REQUIRE(f.recover() == Seq32(12345));
    REQUIRE(f.cc.id() == CongestionAlgorithmId::newreno);
}

// ---- Slow start and congestion avoidance ----

TEST_CASE("Slow start: each ACK grows cwnd by min(bytes acked, L = 2*SMSS) "
          "(RFC 3465 section 2.2, RFC 5681 section 3.1)",
          "[tcp][rfc5681][rfc3465]") {
    Flow f;
    f.send(10);
    REQUIRE(f.ack(1) == CongestionAction::none);
    REQUIRE(f.cc.cwnd_bytes() == 11000);
    f.ack(3); // a stretch ACK of 3 segments counts as 2
    REQUIRE(f.cc.cwnd_bytes() == 13000);
    f.ack_to(f.una + 500); // a partial segment counts its bytes
    REQUIRE(f.cc.cwnd_bytes() == 13500);
}

TEST_CASE("Slow start: with L = 1*SMSS a stretch ACK counts one segment (RFC 3465 section 2.3)",
          "[tcp][rfc5681][rfc3465]") {
    Flow f(CongestionConfig{.abc_limit_segments = 1});
    f.send(10);
    f.ack(3);
    REQUIRE(f.cc.cwnd_bytes() == 11000);
}

TEST_CASE("Slow start ends at ssthresh, congestion avoidance takes over (RFC 5681 section 3.1)",
          "[tcp][rfc5681]") {
    Flow f(CongestionConfig{.initial_ssthresh_bytes = 12000});
    f.send(20);
    f.ack(1);
    REQUIRE(f.cc.cwnd_bytes() == 11000);
    f.ack(2); // would reach 13000; slow start stops at ssthresh
    REQUIRE(f.cc.cwnd_bytes() == 12000);
    f.ack(1); // cwnd == ssthresh: congestion avoidance, 1000 of 12000 counted
    REQUIRE(f.cc.cwnd_bytes() == 12000);
}

TEST_CASE("Congestion avoidance: cwnd grows by SMSS once per cwnd of ACKed bytes "
          "(RFC 5681 section 3.1, RFC 3465 section 2.1)",
          "[tcp][rfc5681][rfc3465]") {
    Flow f(CongestionConfig{.initial_ssthresh_bytes = 10000});
    f.send(100);
    for (int i = 0; i < 9; ++i) {
        f.ack(1);
        REQUIRE(f.cc.cwnd_bytes() == 10000);
    }
    f.ack(1); // 10000 bytes acked == cwnd
    REQUIRE(f.cc.cwnd_bytes() == 11000);
    for (int i = 0; i < 10; ++i) {
        f.ack(1);
    }
    REQUIRE(f.cc.cwnd_bytes() == 11000);
    f.ack(1); // 11000 bytes since the last increase
    REQUIRE(f.cc.cwnd_bytes() == 12000);
    // "cwnd MUST NOT be increased by more than SMSS bytes per RTT": a stretch
    // ACK of two windows adds one SMSS.
    f.ack(24);
    REQUIRE(f.cc.cwnd_bytes() == 13000);
}

// ---- Fast retransmit and fast recovery ----

TEST_CASE("Limited transmit: the 1st and 2nd duplicate ACKs allow one new segment each and "
          "leave cwnd alone (RFC 3042 section 2, RFC 5681 section 3.2 step 1)",
          "[tcp][rfc5681][rfc3042]") {
    Flow f;
    f.send(10);
    for (int i = 0; i < 2; ++i) {
        const DupAckResult r = f.dup();
        REQUIRE(r.action == CongestionAction::none);
        REQUIRE(r.limited_transmit_segments == 1);
        REQUIRE(f.cc.cwnd_bytes() == 10000);
        f.send(1);
    }

    Flow off(CongestionConfig{.limited_transmit = false});
    off.send(10);
    REQUIRE(off.dup().limited_transmit_segments == 0);
}

TEST_CASE("Fast retransmit: the 3rd duplicate ACK -> one fast retransmit, "
          "ssthresh = max(FlightSize/2, 2*SMSS), cwnd = ssthresh + 3*SMSS (RFC 5681 section 3.2)",
          "[tcp][rfc5681][rfc6582]") {
    Flow f;
    f.send(10);
    const DupAckResult r = three_dups(f);
    REQUIRE(r.action == CongestionAction::fast_retransmit);
    REQUIRE(r.limited_transmit_segments == 0);
    REQUIRE(f.cc.ssthresh_bytes() == 5000);
    REQUIRE(f.cc.cwnd_bytes() == 8000);
    REQUIRE(f.cc.in_recovery());
    REQUIRE(f.recover() == f.nxt); // "the highest sequence number transmitted", one past

    Flow small;
    small.send(3);
    REQUIRE(three_dups(small).action == CongestionAction::fast_retransmit);
    REQUIRE(small.cc.ssthresh_bytes() == 2000); // max(1500, 2 * 1000)
    REQUIRE(small.cc.cwnd_bytes() == 5000);
}

TEST_CASE("Fast recovery: each further duplicate ACK inflates cwnd by SMSS, no second fast "
          "retransmit (RFC 5681 section 3.2 step 4)",
          "[tcp][rfc5681]") {
    Flow f;
    f.send(10);
    three_dups(f);
    for (std::uint32_t i = 1; i <= 5; ++i) {
        const DupAckResult r = f.dup();
        REQUIRE(r.action == CongestionAction::none);
        REQUIRE(r.limited_transmit_segments == 0);
        REQUIRE(f.cc.cwnd_bytes() == 8000 + i * smss);
    }
    REQUIRE(f.cc.ssthresh_bytes() == 5000);
}

TEST_CASE("Fast recovery: a partial ACK -> retransmit the first unacked segment, deflate by "
          "the bytes acked, add back SMSS (RFC 6582 section 3.2 step 3)",
          "[tcp][rfc6582]") {
    Flow f;
    f.send(10);
    three_dups(f); // cwnd 8000, ssthresh 5000
    for (int i = 0; i < 4; ++i) {
        f.dup(); // cwnd 12000
    }
    REQUIRE(f.ack(4) == CongestionAction::retransmit_first_unacked);
    REQUIRE(f.cc.cwnd_bytes() == 12000 - 4000 + 1000);
    REQUIRE(f.cc.in_recovery());
    REQUIRE(f.cc.ssthresh_bytes() == 5000);

    // Less than one SMSS acknowledged: no add-back.
    REQUIRE(f.ack_to(f.una + 500) == CongestionAction::retransmit_first_unacked);
    REQUIRE(f.cc.cwnd_bytes() == 8500);

    // "if any duplicate ACKs subsequently arrive, execute step 4": inflate.
    REQUIRE(f.dup().action == CongestionAction::none);
    REQUIRE(f.cc.cwnd_bytes() == 9500);
}

TEST_CASE("Fast recovery: a full ACK exits with cwnd = min(ssthresh, max(FlightSize, SMSS) + "
          "SMSS) (RFC 6582 section 3.2 step 3, option 1)",
          "[tcp][rfc6582]") {
    SECTION("little new data outstanding") {
        Flow f;
        f.send(10);
        three_dups(f); // ssthresh 5000, recover = SND.NXT
        const Seq32 recover = f.recover();
        f.send(3); // new data sent during recovery
        REQUIRE(f.ack_to(recover) == CongestionAction::none);
        REQUIRE_FALSE(f.cc.in_recovery());
        REQUIRE(f.cc.cwnd_bytes() == 4000); // min(5000, 3000 + 1000)
    }
    SECTION("much new data outstanding") {
        Flow f;
        f.send(10);
        three_dups(f);
        const Seq32 recover = f.recover();
        f.send(10);
        REQUIRE(f.ack_to(recover) == CongestionAction::none);
        REQUIRE(f.cc.cwnd_bytes() == 5000); // min(5000, 11000)
    }
    SECTION("nothing outstanding") {
        Flow f;
        f.send(10);
        three_dups(f);
        REQUIRE(f.ack(10) == CongestionAction::none);
        REQUIRE(f.cc.cwnd_bytes() == 2000); // min(5000, max(0, 1000) + 1000)
    }
}

TEST_CASE("NewReno: duplicate ACKs after a timeout that do not cover more than recover trigger "
          "no fast retransmit (RFC 6582 section 3.2 step 2, section 4)",
          "[tcp][rfc6582]") {
    Flow f;
    f.send(20);
    f.timeout();
    const Seq32 recover = f.nxt;
    REQUIRE(f.recover() == recover);
    REQUIRE(f.cc.ssthresh_bytes() == 10000);

    // Go-back-N retransmissions reach a receiver that had most of them: the
    // duplicates echo needless retransmissions, not a new loss.
    f.ack(5);
    REQUIRE(f.cc.cwnd_bytes() == 2000);
    for (int i = 0; i < 8; ++i) {
        REQUIRE(f.dup().action == CongestionAction::none);
    }
    REQUIRE_FALSE(f.cc.in_recovery());
    REQUIRE(f.cc.ssthresh_bytes() == 10000);
    REQUIRE(f.cc.cwnd_bytes() == 2000);

    // SEG.ACK == recover still does not cover more than it ("ack_number - 1 > recover").
    f.ack_to(recover);
    f.send(5);
    REQUIRE(three_dups(f).action == CongestionAction::none);
    REQUIRE_FALSE(f.cc.in_recovery());

    // One byte beyond, and a loss is news again.
    f.ack(1);
    REQUIRE(three_dups(f).action == CongestionAction::fast_retransmit);
    REQUIRE(f.cc.in_recovery());
}

TEST_CASE("NewReno: a loss of the first data segment can be fast-retransmitted "
          "(RFC 6582 section 3.2 step 1, recover = ISS)",
          "[tcp][rfc6582]") {
    Flow f(CongestionConfig{}, Seq32(5000));
    f.send(10);
    REQUIRE(three_dups(f).action == CongestionAction::fast_retransmit);
}

TEST_CASE("NewReno: recover stays meaningful after gigabytes without a loss "
          "(sequence numbers compared with before()/after())",
          "[tcp][rfc6582]") {
    Flow f(CongestionConfig{.initial_ssthresh_bytes = 64 * smss});
    // 7 GB in 64 KB flights: SND.UNA laps the sequence space and ends more than
    // 2**31 past ISS, where a stale recover would read as "after" every ACK.
    for (int i = 0; i < 110'000; ++i) {
        f.send(64);
        f.ack(64);
    }
    f.send(10);
    REQUIRE(three_dups(f).action == CongestionAction::fast_retransmit);
}

// ---- Retransmission timeout and idle restart ----

TEST_CASE("Timeout: cwnd = 1 SMSS, ssthresh = max(FlightSize/2, 2*SMSS) "
          "(RFC 5681 section 3.1, equation 4)",
          "[tcp][rfc5681]") {
    Flow f;
    warm_up_to_20_segments(f);
    f.send(20);
    f.timeout();
    REQUIRE(f.cc.cwnd_bytes() == 1000);
    REQUIRE(f.cc.ssthresh_bytes() == 10000);

    Flow small;
    small.send(3);
    small.timeout();
    REQUIRE(small.cc.cwnd_bytes() == 1000);
    REQUIRE(small.cc.ssthresh_bytes() == 2000);
}

TEST_CASE("Timeout: a repeated timeout of the same segment keeps ssthresh (RFC 5681 section 3.1)",
          "[tcp][rfc5681]") {
    Flow f;
    warm_up_to_20_segments(f);
    f.send(20);
    f.timeout();
    REQUIRE(f.cc.ssthresh_bytes() == 10000);
    f.ack(17); // only 3 segments outstanding now
    f.timeout(/*already_retransmitted_by_timer=*/true);
    REQUIRE(f.cc.ssthresh_bytes() == 10000);
    REQUIRE(f.cc.cwnd_bytes() == 1000);
}

TEST_CASE("Timeout: exits fast recovery and records recover = SND.NXT "
          "(RFC 6582 section 3.2 step 4)",
          "[tcp][rfc6582]") {
    Flow f;
    f.send(10);
    three_dups(f);
    f.send(2);
    REQUIRE(f.cc.in_recovery());
    f.timeout();
    REQUIRE_FALSE(f.cc.in_recovery());
    REQUIRE(f.recover() == f.nxt);
    REQUIRE(f.cc.cwnd_bytes() == 1000);
    REQUIRE(f.cc.ssthresh_bytes() == 6000); // max(12000 / 2, 2000)
}

TEST_CASE("Timeout: slow start afterwards counts at most 1 SMSS per ACK (RFC 3465 section 2.3)",
          "[tcp][rfc5681][rfc3465]") {
    Flow f;
    f.send(20);
    f.timeout();
    f.ack(3);
    REQUIRE(f.cc.cwnd_bytes() == 2000);
    f.ack(3);
    REQUIRE(f.cc.cwnd_bytes() == 3000);
}

TEST_CASE("Idle restart: after an idle period longer than RTO, cwnd = min(IW, cwnd) "
          "(RFC 5681 section 4.1)",
          "[tcp][rfc5681]") {
    Flow f;
    warm_up_to_20_segments(f);
    const Duration rto = Duration::from_s(1);

    REQUIRE_FALSE(f.cc.on_idle_restart({.idle = rto, .rto = rto}));
    REQUIRE(f.cc.cwnd_bytes() == 20000);

    REQUIRE(f.cc.on_idle_restart({.idle = rto + Duration::from_us(1), .rto = rto}));
    REQUIRE(f.cc.cwnd_bytes() == 10000); // IW10

    f.send(3);
    f.timeout(); // cwnd 1000 < IW
    REQUIRE(f.cc.on_idle_restart({.idle = Duration::from_s(5), .rto = rto}));
    REQUIRE(f.cc.cwnd_bytes() == 1000); // min(IW, cwnd)
}

// ---- Scripted scenarios, end to end ----

TEST_CASE("Scenario: one loss in a window of 20 segments -> one fast retransmit, recovery, "
          "slow start to ssthresh (RFC 5681 section 3.2, RFC 6582 section 3.2)",
          "[tcp][rfc5681][rfc6582]") {
    // Once at sequence 0, once with the window straddling the 2**32 wrap.
    const Seq32 iss = GENERATE(Seq32(0), Seq32(0xffffffffU - 15000));
    Flow f(CongestionConfig{}, iss);
    warm_up_to_20_segments(f); // segments 0-9 sent and acknowledged; cwnd 20

    f.send(20); // segments 10-29; segment 10 is lost
    int fast_retransmits = 0;
    int partial_retransmits = 0;
    auto count = [&](CongestionAction a) {
        fast_retransmits += a == CongestionAction::fast_retransmit ? 1 : 0;
        partial_retransmits += a == CongestionAction::retransmit_first_unacked ? 1 : 0;
    };

    // Segments 11 and 12 arrive: limited transmit sends segments 30 and 31.
    for (int i = 0; i < 2; ++i) {
        const DupAckResult r = f.dup();
        count(r.action);
        REQUIRE(r.limited_transmit_segments == 1);
        f.send(1);
    }
    REQUIRE(f.cc.cwnd_bytes() == 20000);

    // Segment 13: fast retransmit of segment 10. FlightSize 22 segments.
    const DupAckResult third = f.dup();
    count(third.action);
    REQUIRE(third.action == CongestionAction::fast_retransmit);
    REQUIRE(f.cc.ssthresh_bytes() == 11000);
    REQUIRE(f.cc.cwnd_bytes() == 14000);

    // Segments 14-29, 30 and 31: 18 more duplicates; the application has no more data.
    for (int i = 0; i < 18; ++i) {
        count(f.dup().action);
    }
    REQUIRE(f.cc.cwnd_bytes() == 32000);

    // The retransmitted segment 10 arrives: the ACK covers everything, a full ACK.
    count(f.ack_to(f.nxt));
    REQUIRE_FALSE(f.cc.in_recovery());
    REQUIRE(f.cc.cwnd_bytes() == 2000); // min(11000, max(0, 1000) + 1000)
    REQUIRE(fast_retransmits == 1);
    REQUIRE(partial_retransmits == 0);

    // New data: slow start again up to ssthresh, then congestion avoidance.
    f.send(100);
    for (int i = 0; i < 9; ++i) {
        count(f.ack(1));
    }
    REQUIRE(f.cc.cwnd_bytes() == 11000);
    for (int i = 0; i < 11; ++i) {
        count(f.ack(1));
    }
    REQUIRE(f.cc.cwnd_bytes() == 12000);
    REQUIRE(fast_retransmits == 1);
    REQUIRE(partial_retransmits == 0);
}

TEST_CASE("Scenario: three losses in one window of 20 -> one fast retransmit, two partial ACK "
          "retransmissions, one exit (RFC 6582 section 3.2)",
          "[tcp][rfc5681][rfc6582]") {
    const Seq32 iss = GENERATE(Seq32(0), Seq32(0xffffffffU - 15000));
    Flow f(CongestionConfig{}, iss);
    warm_up_to_20_segments(f);

    f.send(20); // segments 10-29; 10, 15 and 20 are lost; no more data to send
    const Seq32 window_end = f.nxt;

    // Segments 11-14 arrive.
    REQUIRE(f.dup().action == CongestionAction::none);
    REQUIRE(f.dup().action == CongestionAction::none);
    REQUIRE(f.dup().action == CongestionAction::fast_retransmit); // retransmit 10
    REQUIRE(f.cc.ssthresh_bytes() == 10000);
    REQUIRE(f.cc.cwnd_bytes() == 13000);
    REQUIRE(f.recover() == window_end);
    REQUIRE(f.dup().action == CongestionAction::none);

    // Segments 16-19 and 21-29: 13 more duplicates.
    for (int i = 0; i < 13; ++i) {
        REQUIRE(f.dup().action == CongestionAction::none);
    }
    REQUIRE(f.cc.cwnd_bytes() == 27000);

    // Retransmitted 10 arrives: ACK up to 15, partial.
    REQUIRE(f.ack(5) == CongestionAction::retransmit_first_unacked); // retransmit 15
    REQUIRE(f.cc.cwnd_bytes() == 23000);                             // 27 - 5 + 1
    REQUIRE(f.cc.in_recovery());

    // Retransmitted 15 arrives: ACK up to 20, partial.
    REQUIRE(f.ack(5) == CongestionAction::retransmit_first_unacked); // retransmit 20
    REQUIRE(f.cc.cwnd_bytes() == 19000);                             // 23 - 5 + 1
    REQUIRE(f.cc.in_recovery());

    // Retransmitted 20 arrives: ACK up to 30, full.
    REQUIRE(f.ack_to(window_end) == CongestionAction::none);
    REQUIRE_FALSE(f.cc.in_recovery());
    REQUIRE(f.cc.cwnd_bytes() == 2000);
    REQUIRE(f.cc.ssthresh_bytes() == 10000);
}
