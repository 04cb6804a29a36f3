// syn_flood: SYNs from spoofed sources at a high rate against A's listener,
// while established connections transfer and new clients keep coming.
//
// Most spoofed sources lie in 198.18.0.0/15 (RFC 2544's benchmark network),
// reached through the gateway: A's SYN-ACKs to them go to the gateway's MAC,
// or, in a share of the seeds where the gateway does not answer ARP, wait
// for it in vain. The rest claim on-link addresses that nobody holds, so A's
// ARP requests for them go unanswered. Nothing answers a SYN-ACK.
//
// The flood fills A's SYN backlog (1024 half-open connections by default,
// each held about a minute of SYN-ACK retransmissions) and keeps it full.
// While it lasts, B opens new connections; each must open within its SYN
// retries (RFC 4987 section 3.6: SYN cookies answer when the backlog is
// full) and complete. The flood lasts until well after the last new
// client's last SYN retransmission, so that no half-open connection's expiry
// can let it in by luck. The connections established before the flood carry
// data through it and must finish too.
//
// A SYN cookie keeps nothing, so a delayed duplicate of a handshake's ACK,
// arriving after its connection has ended (the server closed last, keeping
// no TIME-WAIT), opens a connection the client knows nothing of: as with
// Linux. A's server uses keepalive, as servers do, and such a phantom ends
// when the client answers a probe with RST (or its TIME-WAIT times out).

#include "sim/adversary.hpp"
#include "sim/hostile/hostile.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <set>

namespace synack::sim::hostile {

namespace {

using time::Duration;
using time::Instant;
using Shutdown = Policy::Shutdown;

class SynFlood final : public Scenario {
public:
    SynFlood(Rng& r, Setup& s)
        : setup_(default_setup(r)), rng_(r.next()), gateway_answers_(r.chance(0.7)),
          rate_per_s_(r.pick({std::uint64_t{200}, std::uint64_t{500}, std::uint64_t{1000}})),
          on_link_share_(r.pick({0.0, 0.05, 0.2})),
          bulk_count_(static_cast<unsigned>(r.between(1, 3))),
          clients_(static_cast<unsigned>(r.between(4, 12))),
          clients_within_(Duration::from_ms(static_cast<std::int64_t>(r.between(1'000, 8'000)))),
          syn_options_(r.chance(0.7)) {
        // A's reader is slow: each transfer lasts a good part of the flood.
        for (unsigned i = 0; i < bulk_count_; ++i) {
            bulk_.push_back(
                Bulk{.bytes = r.between(64 * 1024, 512 * 1024),
                     .chunk = static_cast<std::uint32_t>(r.between(2 * 1024, 8 * 1024)),
                     .every = Duration::from_ms(static_cast<std::int64_t>(r.between(100, 500)))});
        }
        for (unsigned i = 0; i < clients_; ++i) {
            client_at_.push_back(Duration::from_us(static_cast<std::int64_t>(
                r.between(0, static_cast<std::uint64_t>(clients_within_.us())))));
            client_bytes_.push_back(r.between(1, 4096));
        }
        std::sort(client_at_.begin(), client_at_.end());
        setup_.a.tcp.keepalive = tcp::KeepaliveConfig{.enabled = true,
                                                      .idle = Duration::from_s(30),
                                                      .interval = Duration::from_s(10),
                                                      .probes = 3};
        s = setup_;
    }

    void start(App& app, World& w) override {
        x_.add_host(Host{ip_gateway, mac_gateway, gateway_answers_});
        w.attach(&x_);
        app.listen(true, server_port, [this](std::uint16_t port) {
            for (const Bulk& b : bulk_) {
                if (b.client_port == port) {
                    return Policy{.shutdown = Shutdown::after_peer_fin,
                                  .read_chunk = b.chunk,
                                  .read_every = b.every};
                }
            }
            if (!accepted_ports_.insert(port).second) {
                // A second connection from the same client port: a phantom
                // of a cookie (see the file comment), with no peer to check
                // a stream against.
                return Policy{.echo = true,
                              .close = true,
                              .expect_reasons = reason_bit(tcp::CloseReason::reset) |
                                                reason_bit(tcp::CloseReason::timed_out),
                              .raw_peer = true};
            }
            return Policy{.echo = true, .close = true}; // a new client: echo and close
        });
        for (Bulk& b : bulk_) {
            Endpoint* ep = app.connect(false, server_port, Policy{.send_bytes = b.bytes});
            SYNACK_ASSERT(ep != nullptr);
            b.client_port = ep->local_port;
            bulk_eps_.push_back(ep);
        }
        start_ = w.now;
    }

    bool step(App& app, World& w) override {
        if (!flood_start_) {
            // The flood starts once the transfers are under way (or after a
            // while anyway: a lost SYN may delay one).
            const bool connected = std::all_of(bulk_eps_.begin(), bulk_eps_.end(),
                                               [](const Endpoint* ep) { return ep->connected; });
            if (!connected && w.now < start_ + Duration::from_s(10)) {
                return false;
            }
            flood_start_ = w.now;
            // Full once rate x fill >= 1024 (the default SYN backlog); the
            // new clients come after that.
            const Duration fill =
                Duration::from_us(static_cast<std::int64_t>(std::uint64_t{setup_.a.syn_backlog} *
                                                            1'000'000 / rate_per_s_)) +
                Duration::from_ms(500);
            clients_from_ = w.now + fill;
            // Their SYN retransmissions end by backoff_total(syn_retries) from
            // their connect; the flood outlasts the last by a few seconds.
            const Duration retries = backoff_total(setup_.b.tcp.rto_initial, setup_.b.tcp.rto_max,
                                                   setup_.b.tcp.syn_retries);
            flood_end_ = *clients_from_ + clients_within_ + retries + Duration::from_s(5);
            next_syn_ = w.now;
        }
        bool acted = false;
        while (next_client_ < client_at_.size() &&
               w.now >= *clients_from_ + client_at_[next_client_]) {
            Endpoint* ep =
                app.connect(false, server_port,
                            Policy{.send_bytes = client_bytes_[next_client_], .expect_echo = true});
            SYNACK_ASSERT(ep != nullptr);
            clients_eps_.push_back(ep);
            client_opened_.push_back(w.now);
            ++next_client_;
            acted = true;
        }
        if (w.now >= next_syn_ && w.now < *flood_end_) {
            // A burst every 20 ms at the flood's rate.
            const std::uint64_t burst = std::max<std::uint64_t>(1, rate_per_s_ / 50);
            for (std::uint64_t i = 0; i < burst; ++i) {
                spoof(w);
            }
            next_syn_ = w.now + Duration::from_ms(20);
            acted = true;
        }
        return acted;
    }
    std::optional<Instant> wakeup() const override {
        if (!flood_start_) {
            return start_ + Duration::from_s(10);
        }
        std::optional<Instant> t;
        if (next_client_ < client_at_.size()) {
            t = *clients_from_ + client_at_[next_client_];
        }
        if (next_syn_ < *flood_end_ && (!t || next_syn_ < *t)) {
            t = next_syn_;
        }
        return t;
    }
    bool finished() const override {
        return flood_end_ && next_syn_ >= *flood_end_ && next_client_ == client_at_.size();
    }

    void check(App&, World& w, std::vector<std::string>& failures) const override {
        const engine::EngineCounters& c = w.a.counters();
        for (std::size_t i = 0; i < clients_eps_.size(); ++i) {
            const Endpoint* ep = clients_eps_[i];
            if (ep->closed && ep->reason != tcp::CloseReason::normal) {
                failures.push_back(fmt::format(
                    "syn flood: new client {}, opened {:.1f} s into a flood of {} SYN/s, ended {}; "
                    "A dropped {} SYNs "
                    "for a full SYN backlog and sent {} SYN cookies",
                    ep->trace_name(),
                    static_cast<double>((client_opened_[i] - *flood_start_).us()) / 1e6,
                    rate_per_s_, tcp::to_string(ep->reason),
                    c.dropped(engine::FrameDrop::syn_backlog_full), c.syn_cookies_sent));
                break; // one names the cause; App::check lists every one
            }
        }
        if (spoofed_ == 0) {
            failures.push_back("syn flood: no SYN sent");
        }
        check_limits_unreached(w, failures);
    }

private:
    struct Bulk {
        std::uint64_t bytes;
        std::uint32_t chunk;
        Duration every;
        std::uint16_t client_port = 0;
    };

    void spoof(World& w) {
        Segment s;
        s.dst_mac = mac_a;
        s.dst = ip_a;
        if (rng_.chance(on_link_share_)) {
            // An on-link address nobody holds (10.0.0.5 - 10.0.0.253), from a
            // made-up locally administered MAC.
            s.src = wire::Ipv4Addr{wire::Ipv4Addr::from_octets(10, 0, 0, 0).value +
                                   static_cast<std::uint32_t>(rng_.between(5, 253))};
            s.src_mac = wire::MacAddr{{0x02, 0x5f, static_cast<std::uint8_t>(rng_.next()),
                                       static_cast<std::uint8_t>(rng_.next()),
                                       static_cast<std::uint8_t>(rng_.next()),
                                       static_cast<std::uint8_t>(rng_.next())}};
        } else {
            s.src = wire::Ipv4Addr{wire::Ipv4Addr::from_octets(198, 18, 0, 0).value +
                                   static_cast<std::uint32_t>(rng_.below(1u << 17))};
            s.src_mac = mac_gateway;
        }
        s.tcp.src_port = static_cast<std::uint16_t>(rng_.between(1024, 65535));
        s.tcp.dst_port = server_port;
        s.tcp.seq = wire::Seq32(static_cast<std::uint32_t>(rng_.next()));
        s.tcp.flags = wire::tcp_flag::syn;
        s.tcp.window = 64240;
        if (syn_options_) {
            // As a Linux client's SYN: the options a cookie must carry.
            s.tcp.options.mss = 1460;
            s.tcp.options.sack_permitted = true;
            s.tcp.options.timestamps = wire::Timestamps{static_cast<std::uint32_t>(rng_.next()), 0};
            s.tcp.options.window_scale = 7;
        }
        x_.send(w, true, s);
        ++spoofed_;
    }

    Setup setup_;
    Rng rng_;
    bool gateway_answers_;
    std::uint64_t rate_per_s_;
    double on_link_share_;
    unsigned bulk_count_;
    unsigned clients_;
    Duration clients_within_;
    bool syn_options_;
    std::vector<Bulk> bulk_;
    std::vector<Duration> client_at_;
    std::vector<std::uint64_t> client_bytes_;
    Adversary x_;
    std::vector<Endpoint*> bulk_eps_;
    std::vector<Endpoint*> clients_eps_;
    std::vector<Instant> client_opened_;
    Instant start_;
    std::optional<Instant> flood_start_;
    std::optional<Instant> clients_from_;
    std::optional<Instant> flood_end_;
    Instant next_syn_;
    std::size_t next_client_ = 0;
    std::uint64_t spoofed_ = 0;
    std::set<std::uint16_t> accepted_ports_;
};

} // namespace

std::unique_ptr<Scenario> make_syn_flood(Rng& r, Setup& s) {
    return std::make_unique<SynFlood>(r, s);
}

} // namespace synack::sim::hostile
