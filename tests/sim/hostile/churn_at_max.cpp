// churn_at_max: clients open and close connections faster than the server's
// connection limit allows.
//
// A's max_connections is small. First B opens twice the limit at once to a
// port whose server reads nothing for a second: the first max_connections
// take every slot and hold it, so the rest must be refused and counted
// (no_connection_slot) until slots free, then get in on a retransmission
// (of the SYN, or of the handshake's last ACK, depending on where the
// engine refuses). Then the churn: several times the limit in short
// request/response connections, in waves of up to twice the limit, on a
// port whose server answers at once. Checked: A never holds more than its
// limit; it counted at least a refusal per connection it could not hold in
// the first wave; every connection is admitted within its SYN retries and
// completes normally; once everything is closed, a last wave of exactly
// max_connections is admitted whole, without one refusal: every slot came
// back. The link loses nothing here (delays, rates and reordering as
// drawn), so that each refusal is the limit's and not the link's.

#include "sim/hostile/hostile.hpp"

#include <fmt/core.h>

namespace synack::sim::hostile {

namespace {

using time::Duration;
using time::Instant;
using Shutdown = Policy::Shutdown;

class ChurnAtMax final : public Scenario {
public:
    ChurnAtMax(Rng& r, Setup& s)
        : setup_(default_setup(r)), rng_(r.next()),
          max_(static_cast<std::uint32_t>(r.between(2, 24))),
          total_(max_ * static_cast<std::uint32_t>(r.between(3, 6))), request_(r.between(1, 4096)),
          response_(r.between(1, 8192)), client_first_(r.chance(0.5)) {
        for (LinkProfile* p : {&setup_.a_to_b, &setup_.b_to_a}) {
            p->loss = 0;
            p->corrupt = 0;     // a corrupted frame is a lost one
            p->queue_bytes = 0; // no tail drop either
        }
        setup_.a.max_connections = max_;
        s = setup_;
    }

    void start(App& app, World& w) override {
        if (client_first_) {
            app.listen(true, server_port,
                       [](std::uint16_t) { return Policy{.echo = true, .close = true}; });
        } else {
            app.listen(true, server_port, [this](std::uint16_t) {
                return Policy{.send_bytes = response_, .shutdown = Shutdown::when_sent};
            });
        }
        // The first wave's server holds each connection a second.
        app.listen(true, hold_port, [&w](std::uint16_t) {
            return Policy{.shutdown = Shutdown::after_peer_fin,
                          .hold_until = w.now + Duration::from_s(1)};
        });
        // One connection first, so that ARP has found A before the waves
        // (its queue holds a few packets per address, not a wave's SYNs).
        open(app, server_port, 1);
        next_ = w.now;
    }

    bool step(App& app, World& w) override {
        peak_ = std::max<std::size_t>(peak_, w.a.connections());
        if (w.now < next_ || phase_ == Phase::done) {
            return false;
        }
        const bool a_idle = w.a.connections() == 0;
        switch (phase_) {
        case Phase::warm_up:
            if (!app.all_closed()) {
                return false;
            }
            open(app, hold_port, 2 * max_);
            phase_ = Phase::pinned;
            return true;
        case Phase::pinned:
            if (!app.all_closed()) {
                return false;
            }
            phase_ = Phase::churn;
            return true;
        case Phase::churn: {
            const std::uint32_t wave = std::min<std::uint32_t>(
                total_ - churned_, static_cast<std::uint32_t>(rng_.between(1, 2 * max_)));
            open(app, server_port, wave);
            next_ = w.now + Duration::from_us(static_cast<std::int64_t>(rng_.between(0, 200'000)));
            churned_ += wave;
            if (churned_ == total_) {
                phase_ = Phase::drain;
            }
            return true;
        }
        case Phase::drain:
            if (!a_idle || !app.all_closed()) {
                return false;
            }
            // Every slot must be free again: a wave of exactly the limit.
            refused_before_last_ = w.a.counters().dropped(engine::FrameDrop::no_connection_slot);
            last_wave_first_ = app.endpoints().size();
            open(app, server_port, max_);
            phase_ = Phase::done;
            return true;
        case Phase::done: return false;
        }
        return false;
    }
    std::optional<Instant> wakeup() const override {
        return phase_ == Phase::churn && next_ > Instant{} ? std::optional(next_) : std::nullopt;
    }
    bool finished() const override { return phase_ == Phase::done; }

    void check(App& app, World& w, std::vector<std::string>& failures) const override {
        const engine::EngineCounters& c = w.a.counters();
        const std::uint64_t refused = c.dropped(engine::FrameDrop::no_connection_slot);
        if (peak_ > max_) {
            failures.push_back(
                fmt::format("churn: A held {} connections, its limit is {}", peak_, max_));
        }
        if (refused < max_) {
            failures.push_back(fmt::format(
                "churn: {} connections at once against a limit of {}, {} refusals counted",
                2 * max_, max_, refused));
        }
        if (phase_ != Phase::done) {
            failures.push_back("churn: the last wave never started");
            return;
        }
        if (refused != refused_before_last_) {
            failures.push_back(fmt::format(
                "churn: with every connection closed, A refused {} of the last wave's {}",
                refused - refused_before_last_, max_));
        }
        std::size_t i = 0;
        for (const Endpoint& ep : app.endpoints()) {
            if (!ep.on_a && ep.reason == tcp::CloseReason::timed_out) {
                failures.push_back(fmt::format("churn: {} {} never admitted within its SYN retries",
                                               ep.trace_name(),
                                               i >= last_wave_first_ ? "(last wave)" : ""));
            }
            ++i;
        }
        check_limits_unreached(w, failures, false);
    }

private:
    enum class Phase : std::uint8_t { warm_up, pinned, churn, drain, done };
    static constexpr std::uint16_t hold_port = 81;

    void open(App& app, std::uint16_t port, std::uint32_t n) {
        for (std::uint32_t i = 0; i < n; ++i) {
            Policy p{.send_bytes = request_};
            if (port == server_port && client_first_) {
                p.expect_echo = true;
            } else if (port == server_port) {
                p.shutdown = Shutdown::after_peer_fin;
            }
            SYNACK_ASSERT(app.connect(false, port, p) != nullptr);
        }
    }

    Setup setup_;
    Rng rng_;
    std::uint32_t max_;
    std::uint32_t total_;
    std::uint64_t request_;
    std::uint64_t response_;
    bool client_first_;
    Phase phase_ = Phase::warm_up;
    std::uint32_t churned_ = 0;
    Instant next_;
    std::size_t peak_ = 0;
    std::uint64_t refused_before_last_ = 0;
    std::size_t last_wave_first_ = 0;
};

} // namespace

std::unique_ptr<Scenario> make_churn_at_max(Rng& r, Setup& s) {
    return std::make_unique<ChurnAtMax>(r, s);
}

} // namespace synack::sim::hostile
