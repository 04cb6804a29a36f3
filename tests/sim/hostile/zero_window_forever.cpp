// zero_window_forever: a peer that takes a little (or nothing) and then keeps
// its window at zero for good, answering every probe.
//
// A connects to a peer spoken by hand that never reads: its window closes as
// A's data fills it (or is zero from its SYN-ACK on). A must persist (RFC 9293
// section 3.8.6.1): probe the zero window with a first interval of about the
// RTO and each next one double the last, up to RTO.max, and never give up
// while the peer answers (RFC 1122 section 4.2.2.17: "As long as the
// receiving TCP continues to send acknowledgments in response to the probe
// segments, the sending TCP MUST allow the connection to stay open"; RFC
// 6429). After a long virtual time the application aborts. Checked:
// the probe intervals double to RTO.max and stay there; the connection ends
// by the abort, not by a timeout; the peer got exactly the bytes its window
// allowed, intact; the engine's mbufs stay flat while it probes.

#include "sim/hostile/hostile.hpp"
#include "sim/raw_tcp.hpp"

#include <fmt/core.h>

namespace synack::sim::hostile {

namespace {

using time::Duration;
using time::Instant;

class ZeroWindowForever final : public Scenario {
public:
    ZeroWindowForever(Rng& r, Setup& s)
        : setup_(default_setup(r)),
          window_(r.chance(0.2) ? 0 : static_cast<std::uint32_t>(r.between(1, 64 * 1024))),
          stream_bytes_(window_ + r.between(1, 512 * 1024)),
          abort_after_(Duration::from_s(static_cast<std::int64_t>(r.between(10 * 60, 60 * 60)))),
          iss_(static_cast<std::uint32_t>(r.next())), timestamps_(r.chance(0.5)) {
        s = setup_;
    }

    void start(App& app, World& w) override {
        app_ = &app;
        gauge_.emplace(w.pool);
        x_.add_host(Host{ip_x, mac_x, true});
        x_.set_handler([this](World& world, bool, const Segment& seg) { on_segment(world, seg); });
        w.attach(&x_);
        raw_.emplace(x_, RawTcpConfig{.host = Host{ip_x, mac_x, true},
                                      .port = server_port,
                                      .peer_is_a = true,
                                      .peer_ip = ip_a,
                                      .peer_mac = mac_a,
                                      .iss = wire::Seq32(iss_),
                                      .timestamps = timestamps_,
                                      .recv_buffer_bytes = window_,
                                      .reads = false,
                                      .fin = false});
        sender_ = app.connect_to(true, ip_x, server_port,
                                 Policy{.send_bytes = stream_bytes_,
                                        .shutdown = Policy::Shutdown::never,
                                        .expect_reasons = reason_bit(tcp::CloseReason::aborted),
                                        .raw_peer = true});
        SYNACK_ASSERT(sender_ != nullptr);
        abort_at_ = w.now + abort_after_;
    }

    bool step(App& app, World& w) override {
        raw_->on_timer(w);
        if (!probes_.empty()) {
            const unsigned held = gauge_->sample(w);
            if (probes_.size() == 1) {
                flat_ = held;
            }
        }
        if (!aborted_ && w.now >= abort_at_ && !sender_->closed) {
            aborted_ = true;
            app.abort(*sender_);
            return true;
        }
        return false;
    }
    std::optional<Instant> wakeup() const override {
        std::optional<Instant> t = raw_->wakeup();
        if (!aborted_ && (!t || abort_at_ < *t)) {
            t = abort_at_;
        }
        return t;
    }
    bool finished() const override { return aborted_; }

    void observe(Instant now, bool from_a, const rte_mbuf* m) override {
        if (!from_a || !closed_at_ || aborted_) {
            return;
        }
        // Whatever A sends the peer once the window is shut is a probe.
        auto seg = reader_.tcp(m);
        if (seg && seg->dst == ip_x && !seg->has(wire::tcp_flag::rst) && now > *closed_at_) {
            probes_.push_back(now);
        }
    }

    void check(App&, World& w, std::vector<std::string>& failures) const override {
        const tcp::TcpConfig& tcp = setup_.a.tcp;
        if (!raw_->opened()) {
            failures.push_back("zero window: the connection never opened");
            return;
        }
        if (raw_->received().bytes != window_ || raw_->received().first_bad) {
            failures.push_back(fmt::format(
                "zero window: the peer got {} bytes{}, its window was {}", raw_->received().bytes,
                raw_->received().first_bad ? " (wrong)" : "", window_));
        }
        if (!sender_->closed || sender_->reason != tcp::CloseReason::aborted) {
            return; // App::check reports the close reason
        }
        if (probes_.size() < 2) {
            failures.push_back(fmt::format("zero window: {} probes in {} s", probes_.size(),
                                           abort_after_.us() / 1'000'000));
            return;
        }
        // RFC 9293 section 3.8.6.1: "SHOULD increase exponentially the
        // interval between successive probes" (RFC 6298's doubling, capped).
        const Duration first = probes_[0] - *closed_at_;
        if (first < tcp.rto_min || first > tcp.rto_max + Duration::from_ms(2)) {
            failures.push_back(
                fmt::format("zero window: first probe {} ms after the window closed", first.ms()));
        }
        Duration last = first;
        for (std::size_t i = 1; i < probes_.size(); ++i) {
            const Duration gap = probes_[i] - probes_[i - 1];
            const Duration want = std::min(last * 2, tcp.rto_max);
            if (gap + Duration::from_ms(2) < want || gap > want + Duration::from_ms(2)) {
                failures.push_back(
                    fmt::format("zero window: probe {} came {} ms after the last, which came {} ms "
                                "after its own (want {} ms)",
                                i, gap.ms(), last.ms(), want.ms()));
                break;
            }
            last = gap;
        }
        // Ten minutes at least: the doubling from any RTO reaches RTO.max.
        if (last + Duration::from_ms(2) < tcp.rto_max) {
            failures.push_back(
                fmt::format("zero window: the probe interval reached only {} ms", last.ms()));
        }
        if (gauge_->peak() > flat_) {
            failures.push_back(
                fmt::format("zero window: the engine held {} mbufs at the first probe, {} later",
                            flat_, gauge_->peak()));
        }
        check_limits_unreached(w, failures);
    }

private:
    void on_segment(World& w, const Segment& seg) {
        if (!raw_->ours(seg)) {
            return;
        }
        if (raw_->state() == RawTcp::State::listen) {
            raw_->set_keys(0, app_->stream_key(seg.tcp.src_port, seg.tcp.dst_port));
        }
        raw_->receive(w, seg);
        // The segment that shuts the window (our SYN-ACK for a window of 0,
        // else the ACK of its last byte) reaches A after the wire's delay.
        const bool shut = window_ == 0 ? raw_->state() == RawTcp::State::syn_received
                                       : raw_->established() && raw_->held_bytes() == window_;
        if (!closed_at_ && shut) {
            closed_at_ = w.now + setup_.station.delay;
        }
    }

    Setup setup_;
    std::uint32_t window_;
    std::uint64_t stream_bytes_;
    Duration abort_after_;
    std::uint32_t iss_;
    bool timestamps_;
    App* app_ = nullptr;
    Adversary x_;
    std::optional<RawTcp> raw_;
    std::optional<MbufGauge> gauge_;
    FrameReader reader_;
    Endpoint* sender_ = nullptr;
    Instant abort_at_;
    bool aborted_ = false;
    std::optional<Instant> closed_at_;
    std::vector<Instant> probes_;
    unsigned flat_ = 0;
};

} // namespace

std::unique_ptr<Scenario> make_zero_window_forever(Rng& r, Setup& s) {
    return std::make_unique<ZeroWindowForever>(r, s);
}

} // namespace synack::sim::hostile
