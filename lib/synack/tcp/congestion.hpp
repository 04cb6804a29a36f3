#pragma once
// Congestion control: the events a TCP sender reports, what it gets back, and
// the one type it holds (Congestion) whatever the algorithm.
//
// Read before editing: RFC 5681 (slow start, congestion avoidance, fast
// retransmit and fast recovery, restart after idle), RFC 6582 (NewReno's
// partial ACKs and `recover`), RFC 3465 (byte counting), RFC 6928 (IW10),
// RFC 3042 (limited transmit), and for the next algorithm RFC 9438 (CUBIC).
//
// Pure logic: no I/O, no timers, no clock reads; every time value comes in an
// event. Each algorithm is a plain class satisfying CongestionAlgorithm;
// Congestion holds them in a std::variant and forwards each call with
// std::visit, a switch on the index, so the per-ACK path makes no virtual call
// (STYLE.md "The data path").
//
// How the sender drives it:
//   - on_start() once SMSS is known (the handshake is done);
//   - on_ack() for every ACK that advances SND.UNA, then act on the returned
//     CongestionAction;
//   - on_duplicate_ack() for every duplicate ACK as RFC 5681 section 2 defines
//     it ("(a) the receiver of the ACK has outstanding data, (b) the incoming
//     acknowledgment carries no data, (c) the SYN and FIN bits are both off,
//     (d) the acknowledgment number is equal to the greatest acknowledgment
//     received ... and (e) the advertised window in the incoming
//     acknowledgment equals the advertised window in the last incoming
//     acknowledgment"), then act on the returned DupAckResult;
//   - on_retransmit_timeout() when the retransmission timer expires, before
//     retransmitting;
//   - on_idle_restart() before sending new data when nothing was sent for a
//     while;
//   - and it may have min(cwnd_bytes(), SND.WND) bytes in flight.

#include <synack/time/clock.hpp>
#include <synack/wire/seq.hpp>

#include <synack/base/assert.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <variant>

namespace synack::tcp {

/// What the sender must do in answer to an ACK, besides sending whatever the
/// windows now allow.
enum class CongestionAction : std::uint8_t {
    /// Nothing beyond the usual transmission.
    none,
    /// Retransmit the segment that starts at SND.UNA now, before any new data:
    /// the third duplicate ACK began fast retransmit (RFC 5681 section 3.2
    /// step 3: "The lost segment starting at SND.UNA MUST be retransmitted").
    fast_retransmit,
    /// Retransmit the segment that starts at the new SND.UNA now: a partial
    /// ACK during fast recovery (RFC 6582 section 3.2 step 3: "retransmit the
    /// first unacknowledged segment"). RFC 6582 also asks to reset the
    /// retransmission timer on the first partial ACK; the sender does that on
    /// every ACK of new data anyway (RFC 6298 section 5.3).
    retransmit_first_unacked,
};

/// Which rule sets the initial window (IW).
enum class InitialWindowRule : std::uint8_t {
    /// RFC 5681 section 3.1: 2, 3 or 4 segments by SMSS (at most 4380 bytes).
    rfc5681,
    /// RFC 6928 section 2: "min (10*MSS, max (2*MSS, 14600))", IW10, the
    /// Linux default since 2.6.39.
    rfc6928,
};

/// The initial window in bytes for a sender maximum segment size of smss_bytes.
/// RFC 5681 section 3.1: "If SMSS > 2190 bytes: IW = 2 * SMSS bytes ... If
/// (SMSS > 1095 bytes) and (SMSS <= 2190 bytes): IW = 3 * SMSS bytes ... if
/// SMSS <= 1095 bytes: IW = 4 * SMSS bytes". RFC 6928 section 2:
/// "min (10*MSS, max (2*MSS, 14600))". Precondition: 0 < smss_bytes <= 65535.
constexpr std::uint32_t initial_window_bytes(InitialWindowRule rule,
                                             std::uint32_t smss_bytes) noexcept {
    switch (rule) {
    case InitialWindowRule::rfc5681:
        if (smss_bytes > 2190) {
            return 2 * smss_bytes;
        }
        if (smss_bytes > 1095) {
            return 3 * smss_bytes;
        }
        return 4 * smss_bytes;
    case InitialWindowRule::rfc6928: {
        const std::uint32_t floor_bytes = smss_bytes * 2 > 14600 ? smss_bytes * 2 : 14600;
        return smss_bytes * 10 < floor_bytes ? smss_bytes * 10 : floor_bytes;
    }
    }
    return 2 * smss_bytes;
}

/// Settings shared by the algorithms; per engine, copied into each connection.
struct CongestionConfig {
    /// The rule for the initial window.
    InitialWindowRule initial_window = InitialWindowRule::rfc6928;

    /// The initial ssthresh. RFC 5681 section 3.1: "The initial value of
    /// ssthresh SHOULD be set arbitrarily high (e.g., to the size of the
    /// largest possible advertised window)".
    std::uint32_t initial_ssthresh_bytes = std::numeric_limits<std::uint32_t>::max();

    /// L of RFC 3465 in segments: slow start grows cwnd by at most L * SMSS
    /// per ACK. RFC 3465 section 2.3: "MAY use L=2*SMSS bytes and MUST NOT use
    /// L > 2*SMSS bytes"; 2 makes up for delayed ACKs. 1 or 2.
    std::uint32_t abc_limit_segments = 2;

    /// Limited transmit (RFC 3042): one new segment for each of the first two
    /// duplicate ACKs. RFC 5681 section 3.2 step 1 says a TCP "SHOULD" do it.
    bool limited_transmit = true;

    /// The largest cwnd: the largest window a peer can advertise, 65535 << 14
    /// (RFC 7323 section 2.3). A larger cwnd could never be used and would
    /// only risk overflow.
    std::uint32_t cwnd_max_bytes = 65535U << 14;

    /// Whether the settings are coherent: abc_limit_segments is 1 or 2,
    /// cwnd_max_bytes holds an IW10 of the largest SMSS (10 * 65535), and
    /// initial_ssthresh_bytes is not zero. Configuration parsing checks this;
    /// the algorithms assert it.
    constexpr bool is_valid() const noexcept {
        return (abc_limit_segments == 1 || abc_limit_segments == 2) &&
               cwnd_max_bytes >= 10U * 65535U && initial_ssthresh_bytes > 0;
    }
};

/// The connection's congestion state begins: the handshake is complete and
/// SMSS is known.
struct StartEvent {
    /// SMSS: the largest segment the sender will send (RFC 5681 section 2),
    /// after the peer's MSS option and the path MTU. Precondition: 1 to 65535;
    /// the caller clamps what the network offered.
    std::uint32_t smss_bytes = 0;
    /// The initial send sequence number: `recover` starts there (RFC 6582
    /// section 3.2 step 1).
    wire::Seq32 iss{};
    /// How many times our SYN or SYN-ACK was retransmitted. RFC 5681 section
    /// 3.1: after a lost SYN or SYN/ACK, the initial window "MUST be one
    /// segment"; RFC 6928 section 2 relaxes this for IW10 to "more than one
    /// SYN or SYN/ACK retransmissions".
    std::uint8_t syn_retransmits = 0;
    /// The time now.
    time::Instant now{};
};

/// An acceptable ACK that advances SND.UNA (RFC 9293 section 3.10.7.4,
/// "SND.UNA < SEG.ACK =< SND.NXT").
struct AckEvent {
    /// How far SND.UNA advanced: SEG.ACK - old SND.UNA, SYN and FIN included.
    std::uint32_t bytes_acked = 0;
    /// SND.UNA after this ACK (SEG.ACK).
    wire::Seq32 snd_una{};
    /// One past the highest sequence number sent so far: SND.NXT, or, where
    /// the sender rewinds SND.NXT to retransmit after a timeout, the highest
    /// value it had reached (BSD's snd_max).
    wire::Seq32 snd_nxt{};
    /// FlightSize before this ACK: bytes sent and not yet acknowledged.
    std::uint32_t flight_size_before_bytes = 0;
    /// The estimator's SRTT now (zero before any sample). NewReno ignores it;
    /// CUBIC needs it (RFC 9438 section 4.2).
    time::Duration srtt{};
    /// The time now.
    time::Instant now{};
};

/// A duplicate ACK, as RFC 5681 section 2 defines it (see the file comment).
struct DupAckEvent {
    /// SEG.ACK, equal to SND.UNA.
    wire::Seq32 ack{};
    /// One past the highest sequence number sent so far (see AckEvent).
    wire::Seq32 snd_nxt{};
    /// FlightSize now.
    std::uint32_t flight_size_bytes = 0;
    /// The time now.
    time::Instant now{};
};

/// The answer to a duplicate ACK.
struct DupAckResult {
    /// fast_retransmit on the third duplicate ACK when fast retransmit
    /// begins; none otherwise.
    CongestionAction action = CongestionAction::none;
    /// Limited transmit (RFC 3042 section 2): how many previously unsent
    /// full-sized segments the sender may send now beyond cwnd, 1 on the first
    /// and second duplicate ACKs, else 0. It sends them only "provided that
    /// the receiver's advertised window allows, the total FlightSize would
    /// remain less than or equal to cwnd plus 2*SMSS, and that new data is
    /// available" (RFC 5681 section 3.2 step 1); cwnd does not change.
    std::uint8_t limited_transmit_segments = 0;
};

/// The retransmission timer expired.
struct TimeoutEvent {
    /// FlightSize when the timer expired.
    std::uint32_t flight_size_bytes = 0;
    /// One past the highest sequence number sent so far (see AckEvent).
    wire::Seq32 snd_nxt{};
    /// True when the segment at SND.UNA was already retransmitted by this
    /// timer: ssthresh changes only the first time (RFC 5681 section 3.1:
    /// "the given segment has not yet been resent by way of the
    /// retransmission timer").
    bool already_retransmitted_by_timer = false;
    /// The time now.
    time::Instant now{};
};

/// The sender is about to send new data after a pause.
struct IdleEvent {
    /// Time since the sender last sent a segment.
    time::Duration idle{};
    /// The current RTO (RttEstimator::rto()).
    time::Duration rto{};
    /// The time now.
    time::Instant now{};
};

/// What an algorithm type provides. Every call is noexcept and allocation-
/// free; the events above are everything an algorithm learns. Preconditions
/// shared by all: on_start() ran before any other event.
// (clang-format 14 breaks requires-expressions apart.)
// clang-format off
template <typename A>
concept CongestionAlgorithm =
    std::is_nothrow_constructible_v<A, const CongestionConfig&> &&
    requires(A a, const A ca, const StartEvent& start, const AckEvent& ack,
             const DupAckEvent& dup, const TimeoutEvent& timeout, const IdleEvent& idle) {
        { a.on_start(start) } noexcept -> std::same_as<void>;
        { a.on_ack(ack) } noexcept -> std::same_as<CongestionAction>;
        { a.on_duplicate_ack(dup) } noexcept -> std::same_as<DupAckResult>;
        { a.on_retransmit_timeout(timeout) } noexcept -> std::same_as<void>;
        { a.on_idle_restart(idle) } noexcept -> std::same_as<bool>;
        { ca.cwnd_bytes() } noexcept -> std::same_as<std::uint32_t>;
        { ca.ssthresh_bytes() } noexcept -> std::same_as<std::uint32_t>;
        { ca.in_recovery() } noexcept -> std::same_as<bool>;
    };
// clang-format on

/// The algorithms, in the order of the alternatives of Congestion's variant.
enum class CongestionAlgorithmId : std::uint8_t {
    newreno, ///< RFC 5681 with RFC 6582's NewReno recovery.
    // TODO(CUBIC, RFC 9438): add `cubic` here and Cubic to Congestion.
};

/// Holds one algorithm of Algorithms (listed in CongestionAlgorithmId order)
/// and forwards each event to it with std::visit. A template only so that the
/// algorithms' headers can include this one for the event types: the
/// algorithms must be complete only where Congestion is used. Use the alias
/// Congestion below.
template <typename... Algorithms> class BasicCongestion {
    static_assert((CongestionAlgorithm<Algorithms> && ...));

public:
    /// The algorithm id with settings config, before on_start().
    /// Precondition: id names one of Algorithms (asserts).
    BasicCongestion(CongestionAlgorithmId id, const CongestionConfig& config) noexcept
        : algorithm_(make<0>(static_cast<std::size_t>(id), config)) {}

    /// Which algorithm runs.
    CongestionAlgorithmId id() const noexcept {
        return static_cast<CongestionAlgorithmId>(algorithm_.index());
    }

    /// See StartEvent. Sets cwnd to the initial window and ssthresh to its
    /// initial value.
    void on_start(const StartEvent& e) noexcept {
        std::visit([&e](auto& a) noexcept { a.on_start(e); }, algorithm_);
    }

    /// See AckEvent. Returns fast-recovery work for the sender:
    /// retransmit_first_unacked on a partial ACK, none otherwise.
    CongestionAction on_ack(const AckEvent& e) noexcept {
        return std::visit([&e](auto& a) noexcept { return a.on_ack(e); }, algorithm_);
    }

    /// See DupAckEvent. Returns whether to fast-retransmit now and how many
    /// new segments limited transmit allows (DupAckResult).
    DupAckResult on_duplicate_ack(const DupAckEvent& e) noexcept {
        return std::visit([&e](auto& a) noexcept { return a.on_duplicate_ack(e); }, algorithm_);
    }

    /// See TimeoutEvent. Leaves cwnd at the loss window (1 SMSS) and fast
    /// recovery, if it was in it.
    void on_retransmit_timeout(const TimeoutEvent& e) noexcept {
        std::visit([&e](auto& a) noexcept { a.on_retransmit_timeout(e); }, algorithm_);
    }

    /// See IdleEvent. Returns true when the idle period exceeded the RTO and
    /// cwnd was cut to the restart window, false when nothing changed.
    bool on_idle_restart(const IdleEvent& e) noexcept {
        return std::visit([&e](auto& a) noexcept { return a.on_idle_restart(e); }, algorithm_);
    }

    /// The congestion window: the most bytes the sender may have in flight
    /// (further limited by SND.WND). Zero before on_start().
    std::uint32_t cwnd_bytes() const noexcept {
        return std::visit([](const auto& a) noexcept { return a.cwnd_bytes(); }, algorithm_);
    }

    /// The slow start threshold: slow start below it, congestion avoidance at
    /// or above it.
    std::uint32_t ssthresh_bytes() const noexcept {
        return std::visit([](const auto& a) noexcept { return a.ssthresh_bytes(); }, algorithm_);
    }

    /// Whether fast recovery is under way (between the fast retransmit and the
    /// ACK that covers `recover`, or a timeout).
    bool in_recovery() const noexcept {
        return std::visit([](const auto& a) noexcept { return a.in_recovery(); }, algorithm_);
    }

    /// The algorithm itself if it is an A, else nullptr: for tests and
    /// diagnostics, not for the data path.
    template <typename A> const A* get_if() const noexcept { return std::get_if<A>(&algorithm_); }

private:
    using Variant = std::variant<Algorithms...>;

    template <std::size_t I>
    static Variant make(std::size_t index, const CongestionConfig& config) noexcept {
        if constexpr (I + 1 == sizeof...(Algorithms)) {
            SYNACK_ASSERT(index == I);
            return Variant(std::in_place_index<I>, config);
        } else {
            return index == I ? Variant(std::in_place_index<I>, config)
                              : make<I + 1>(index, config);
        }
    }

    Variant algorithm_;
};

class NewReno;

/// The congestion controller a connection holds.
using Congestion = BasicCongestion<NewReno>;

} // namespace synack::tcp

// The algorithms Congestion names. Included last because each of them
// includes this header for the event types; with it here, including this one
// header is enough to use Congestion.
#include <synack/tcp/newreno.hpp>
