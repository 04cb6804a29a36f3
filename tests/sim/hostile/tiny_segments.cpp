// tiny_segments: a peer that sends its stream one byte per segment, in order
// and out of order, thousands of segments, while the application at A does
// not read for a while.
//
// One mbuf holds one segment, so each byte held costs A a whole mbuf: what a
// connection may hold must be bounded in mbufs, not only in bytes, or one
// peer drains the pool every connection shares. Checked, at every step of
// the run: the mbufs A holds stay within what its configuration allows one
// connection, the receive buffer's segment limit plus the out-of-order
// segment limit (plus the few frames an ARP queue may hold). Then the
// application reads: the stream must arrive whole and intact (the peer
// resends what A had to refuse) and the connection close normally.

#include "sim/hostile/hostile.hpp"
#include "sim/raw_tcp.hpp"

#include <synack/tcp/tcb.hpp>

#include <fmt/core.h>

namespace synack::sim::hostile {

namespace {

using time::Duration;
using time::Instant;

class TinySegments final : public Scenario {
public:
    TinySegments(Rng& r, Setup& s)
        : setup_(default_setup(r)), rng_(r.next()), stream_bytes_(r.between(2'000, 4'000)),
          flight_bytes_(static_cast<std::uint32_t>(r.between(1'400, 2'200))),
          shuffle_share_(r.pick({0.0, 0.3, 0.7, 1.0})),
          hold_(Duration::from_ms(static_cast<std::int64_t>(r.between(500, 8'000)))),
          iss_(static_cast<std::uint32_t>(r.next())), timestamps_(r.chance(0.5)),
          port_(static_cast<std::uint16_t>(r.between(1024, 65535))) {
        s = setup_;
        // What one connection may hold at A, in mbufs: one per segment in the
        // receive buffer and in the reassembly queue, and an ARP queue's worth
        // of frames waiting for the peer's address.
        const tcp::Tcb limits(setup_.a.tcp);
        bound_ = limits.recv.segments_max() + setup_.a.tcp.ooo_max_segments +
                 setup_.a.neighbors.max_pending;
    }

    void start(App& app, World& w) override {
        gauge_.emplace(w.pool);
        x_.add_host(Host{ip_x, mac_x, true});
        x_.set_handler([this](World& world, bool, const Segment& seg) {
            if (raw_->ours(seg)) {
                raw_->receive(world, seg);
            }
        });
        w.attach(&x_);
        app.listen(true, server_port, [this, &w](std::uint16_t) {
            return Policy{.shutdown = Policy::Shutdown::after_peer_fin,
                          .hold_until = w.now + hold_,
                          .raw_peer = true};
        });
        raw_.emplace(x_, RawTcpConfig{.host = Host{ip_x, mac_x, true},
                                      .port = port_,
                                      .peer_is_a = true,
                                      .peer_ip = ip_a,
                                      .peer_mac = mac_a,
                                      .peer_port = server_port,
                                      .iss = wire::Seq32(iss_),
                                      .timestamps = timestamps_,
                                      .send_key = app.stream_key(port_, server_port),
                                      .send_bytes = stream_bytes_,
                                      .segment_bytes = 1,
                                      .max_flight_bytes = flight_bytes_,
                                      .recv_key = app.stream_key(server_port, port_)});
        raw_->set_shuffle(&rng_, shuffle_share_);
        // A answers once ARP has found the peer, a host it never heard of.
        raw_->connect(w);
    }

    bool step(App&, World& w) override {
        raw_->on_timer(w);
        gauge_->sample(w);
        return false;
    }
    std::optional<Instant> wakeup() const override { return raw_->wakeup(); }

    void check(App& app, World& w, std::vector<std::string>& failures) const override {
        if (gauge_->peak() > bound_) {
            failures.push_back(fmt::format(
                "tiny segments: A held {} mbufs at once, above the {} one connection may "
                "hold (receive buffer and reassembly segment limits)",
                gauge_->peak(), bound_));
        }
        const Endpoint* server = nullptr;
        for (const Endpoint& ep : app.endpoints()) {
            server = ep.on_a ? &ep : server;
        }
        if (server == nullptr) {
            failures.push_back("tiny segments: A never accepted the connection");
            return;
        }
        if (server->received.bytes != stream_bytes_ || server->received.first_bad) {
            failures.push_back(fmt::format("tiny segments: A read {} of {} bytes{}",
                                           server->received.bytes, stream_bytes_,
                                           server->received.first_bad ? ", some wrong" : ""));
        }
        if (!raw_->done_sending()) {
            failures.push_back(
                fmt::format("tiny segments: the peer's stream and FIN were not all acknowledged "
                            "({} of {} bytes)",
                            raw_->acked(), stream_bytes_));
        }
        if (raw_->acks_of_unsent() != 0) {
            failures.push_back(fmt::format(
                "tiny segments: A acknowledged data never sent, {} times", raw_->acks_of_unsent()));
        }
        check_limits_unreached(w, failures);
    }

private:
    Setup setup_;
    Rng rng_;
    std::uint64_t stream_bytes_;
    std::uint32_t flight_bytes_;
    double shuffle_share_;
    Duration hold_;
    std::uint32_t iss_;
    bool timestamps_;
    std::uint16_t port_;
    unsigned bound_ = 0;
    Adversary x_;
    std::optional<RawTcp> raw_;
    std::optional<MbufGauge> gauge_;
};

} // namespace

std::unique_ptr<Scenario> make_tiny_segments(Rng& r, Setup& s) {
    return std::make_unique<TinySegments>(r, s);
}

} // namespace synack::sim::hostile
