// ack_unsent: a peer that acknowledges data never sent (and data long since
// acknowledged), with and without data of its own in the segment.
//
// A peer spoken by hand exchanges a stream each way with A. Among its real
// segments it sends forged ones: an ACK beyond anything A can have sent (RFC
// 9293 section 3.10.7.4, fifth: "If the ACK acks something not yet sent
// (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and return"), an
// ACK older than SND.UNA - MAX.SND.WND (RFC 5961 section 5.2: "MUST be
// discarded and an ACK sent back"), either one carrying garbage data in
// A's window, and garbage data without the ACK bit (RFC 9293 section
// 3.10.7.4, fifth: "if the ACK bit is off, drop the segment"). None may move
// SND.UNA, corrupt A's state, or put a byte of garbage in the stream: both
// streams must arrive whole and intact and the connection close normally.
//
// Then, with both streams done and the connection idle, the peer sends a
// train of forged ACKs: the ACKs A sends back must be rate-limited (RFC
// 5961 section 7; TcpConfig::invalid_ack_interval), at most one per interval.

#include "sim/hostile/hostile.hpp"
#include "sim/raw_tcp.hpp"

#include <fmt/core.h>

#include <vector>

namespace synack::sim::hostile {

namespace {

using time::Duration;
using time::Instant;
namespace flag = wire::tcp_flag;

class AckUnsent final : public Scenario {
public:
    AckUnsent(Rng& r, Setup& s)
        : setup_(default_setup(r)), rng_(r.next()), to_peer_(r.between(1, 256 * 1024)),
          to_a_(r.between(1, 256 * 1024)),
          every_(Duration::from_us(static_cast<std::int64_t>(r.between(500, 20'000)))),
          idle_for_(Duration::from_ms(static_cast<std::int64_t>(r.between(2'000, 6'000)))),
          train_every_(Duration::from_us(static_cast<std::int64_t>(r.between(1'000, 50'000)))),
          iss_(static_cast<std::uint32_t>(r.next())), timestamps_(r.chance(0.5)),
          port_(static_cast<std::uint16_t>(r.between(1024, 65535))) {
        s = setup_;
    }

    void start(App& app, World& w) override {
        x_.add_host(Host{ip_x, mac_x, true});
        x_.set_handler([this](World& world, bool, const Segment& seg) {
            if (raw_->ours(seg)) {
                raw_->receive(world, seg);
            }
        });
        w.attach(&x_);
        app.listen(true, server_port, [this](std::uint16_t) {
            return Policy{.send_bytes = to_peer_,
                          .shutdown = Policy::Shutdown::after_peer_fin,
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
                                      .send_bytes = to_a_,
                                      .fin = false,
                                      .recv_key = app.stream_key(server_port, port_)});
        raw_->connect(w);
        next_ = w.now + every_;
    }

    bool step(App&, World& w) override {
        raw_->on_timer(w);
        if (!idle_at_ && raw_->received().bytes == to_peer_ && raw_->acked() == to_a_) {
            // Both streams are through: let the last ACKs settle, then the train.
            idle_at_ = w.now + Duration::from_s(1);
            next_ = *idle_at_;
        }
        if (closed_ || w.now < next_ || !raw_->established()) {
            return false;
        }
        if (!idle_at_) {
            forge(w, rng_.below(4));
            next_ = w.now + every_;
        } else if (w.now < *idle_at_ + idle_for_) {
            forge(w, rng_.below(2));
            ++train_;
            next_ = w.now + train_every_;
        } else {
            closed_ = true;
            raw_->close(w);
        }
        return true;
    }
    std::optional<Instant> wakeup() const override {
        std::optional<Instant> t = raw_->wakeup();
        if (!closed_ && raw_->established() && (!t || next_ < *t)) {
            t = next_;
        }
        return t;
    }
    bool finished() const override { return closed_; }

    void observe(Instant now, bool from_a, const rte_mbuf* m) override {
        // What A sends the peer while the connection is idle answers the train.
        if (from_a && idle_at_ && now >= *idle_at_ && !closed_) {
            auto seg = reader_.tcp(m);
            if (seg && seg->dst == ip_x) {
                ++answers_;
            }
        }
    }

    void check(App& app, World& w, std::vector<std::string>& failures) const override {
        const Endpoint* server = nullptr;
        for (const Endpoint& ep : app.endpoints()) {
            server = ep.on_a ? &ep : server;
        }
        if (server == nullptr) {
            failures.push_back("ack unsent: A never accepted the connection");
            return;
        }
        if (server->received.bytes != to_a_ || server->received.first_bad) {
            failures.push_back(fmt::format(
                "ack unsent: A read {} of {} bytes{}", server->received.bytes, to_a_,
                server->received.first_bad ? ", some wrong (forged data accepted)" : ""));
        }
        if (raw_->received().bytes != to_peer_ || raw_->received().first_bad) {
            failures.push_back(fmt::format("ack unsent: the peer got {} of {} bytes{}",
                                           raw_->received().bytes, to_peer_,
                                           raw_->received().first_bad ? ", some wrong" : ""));
        }
        if (raw_->acks_of_unsent() != 0) {
            failures.push_back(fmt::format("ack unsent: A acknowledged data never sent, {} times",
                                           raw_->acks_of_unsent()));
        }
        if (!idle_at_) {
            return;
        }
        // At most one answer per interval, and one more for the interval
        // under way when the train began.
        const Duration interval = setup_.a.tcp.invalid_ack_interval;
        const std::uint64_t allowed =
            static_cast<std::uint64_t>(idle_for_.us() / interval.us()) + 1;
        if (answers_ > allowed) {
            failures.push_back(
                fmt::format("ack unsent: {} forged ACKs in {} ms drew {} ACKs from A; at most {} "
                            "(one per {} ms, RFC 5961 section 7)",
                            train_, idle_for_.ms(), answers_, allowed, interval.ms()));
        }
        if (w.a.counters().tcp.drops[tcp::DropReason::bad_ack] == 0) {
            failures.push_back("ack unsent: A counted no bad_ack drop");
        }
        check_limits_unreached(w, failures);
    }

private:
    /// Sends a forged segment: 0 an ACK of data never sent, 1 an ACK too
    /// old, 2 either with garbage data, 3 garbage data without ACK.
    void forge(World& w, std::uint64_t kind) {
        const RawTcpConfig& c = raw_->config();
        // What A may have sent: at most its send buffer beyond what we
        // acknowledged (a FIN included); what A may count as acknowledged:
        // exactly what we acknowledged, our ACKs going ahead on the wire.
        const std::uint32_t sendable = setup_.a.tcp.send_buffer_bytes + 2;
        const std::uint32_t max_wnd = c.recv_buffer_bytes + (1u << c.wscale.value_or(0));
        const bool unsent = kind == 0 || (kind == 2 && rng_.chance(0.5));
        const wire::Seq32 ack =
            unsent
                ? raw_->rcv_nxt() + sendable + static_cast<std::uint32_t>(rng_.below(1u << 30))
                : raw_->rcv_nxt() - max_wnd - 1 - static_cast<std::uint32_t>(rng_.below(1u << 29));
        // A bare ACK at SND.MAX, which A's window holds; data at SND.UNA
        // (partly old, to be trimmed) or at SND.MAX (all new).
        const wire::Seq32 seq = kind < 2 || rng_.chance(0.5) ? raw_->snd_max() : raw_->snd_una();
        std::vector<std::uint8_t> garbage;
        if (kind >= 2) {
            // In A's window, but never the stream's bytes.
            garbage.resize(rng_.between(1, 512));
            const auto offset = static_cast<std::uint32_t>(seq - (c.iss + 1));
            fill_stream(c.send_key, offset, garbage.data(), garbage.size());
            for (std::uint8_t& b : garbage) {
                b ^= 0x5a;
            }
        }
        raw_->send_raw(w, kind == 3 ? flag::psh : flag::ack, seq, ack,
                       wire::Bytes(garbage.data(), garbage.size()));
    }

    Setup setup_;
    Rng rng_;
    std::uint64_t to_peer_;
    std::uint64_t to_a_;
    Duration every_;
    Duration idle_for_;
    Duration train_every_;
    std::uint32_t iss_;
    bool timestamps_;
    std::uint16_t port_;
    Adversary x_;
    std::optional<RawTcp> raw_;
    FrameReader reader_;
    Instant next_;
    std::optional<Instant> idle_at_;
    bool closed_ = false;
    std::uint64_t train_ = 0;
    std::uint64_t answers_ = 0;
};

} // namespace

std::unique_ptr<Scenario> make_ack_unsent(Rng& r, Setup& s) {
    return std::make_unique<AckUnsent>(r, s);
}

} // namespace synack::sim::hostile
