// blind_injection: a third party on the link forges RSTs, SYNs and data into
// live connections (RFC 5961 sections 3 to 5). It knows each connection's
// addresses and ports, not its sequence numbers.
//
// B and A run one-way bulk transfers, each from the client or the server.
// While a connection carries data (both ends past the handshake, no FIN
// seen yet) the attacker sends, spoofing one end to the other:
// - blind segments, with random sequence and acknowledgment numbers: RST
//   (RFC 5961 section 3), SYN (section 4), data (section 5);
// - "lucky" ones, whose sequence number falls in the victim's receive window
//   (what a blind attacker achieves once in many guesses; here the test
//   computes it from the sniffed handshake). These go to the end that sends
//   the data: its RCV.NXT stays where the handshake left it, so the guess is
//   in the window and never exactly RCV.NXT. An in-window RST or any SYN
//   must draw a challenge ACK, not a reset (sections 3.2, 4.2); in-window
//   data must be dropped for its unacceptable ACK, or for having none
//   (section 5.2; RFC 9293 section 3.10.7.4, fifth).
// Checked: every connection closes normally and every stream arrives whole
// and intact (a forged byte accepted shows up there); every lucky RST was
// counted as one not at RCV.NXT; challenge ACKs stay within one per
// invalid_ack_interval per connection (RFC 5961 section 7), counted over each
// connection's life (a legitimate duplicate SYN may draw one too).
//
// The attacker's wire is faster than the shortest link between A and B, so
// what it sent before it saw a FIN arrives before the FIN itself does.

#include "sim/adversary.hpp"
#include "sim/hostile/hostile.hpp"

#include <fmt/core.h>

#include <map>

namespace synack::sim::hostile {

namespace {

using time::Duration;
using time::Instant;
using wire::Seq32;
namespace flag = wire::tcp_flag;

/// One end of a connection as the attacker sniffs it.
struct Sniffed {
    std::optional<Seq32> iss;
    std::optional<std::uint8_t> wscale; // offered in its SYN
    bool past_handshake = false;        // sent a segment without SYN
    std::uint16_t window = 0;           // the last window field
    std::optional<Seq32> snd_max;       // the highest sequence number sent, plus one
};

struct Target {
    bool sender_is_a = false;
    std::uint64_t bytes = 0;
    Sniffed a;
    Sniffed b;
    bool fin = false;
    // Per end (B, A): when it was first and last heard of (its own frames and
    // forged ones reaching it), and the lucky RSTs it got.
    std::optional<Instant> first[2];
    Instant last[2];
    unsigned lucky_rsts[2] = {0, 0};

    void heard(bool of_a, Instant t) noexcept {
        if (!first[of_a]) {
            first[of_a] = t;
        }
        last[of_a] = std::max(last[of_a], t);
    }

    bool live() const noexcept { return a.past_handshake && b.past_handshake && !fin; }
    Sniffed& side(bool of_a) noexcept { return of_a ? a : b; }
};

class BlindInjection final : public Scenario {
public:
    BlindInjection(Rng& r, Setup& s)
        : setup_(default_setup(r)), rng_(r.next()), count_(static_cast<unsigned>(r.between(1, 4))),
          every_(Duration::from_us(static_cast<std::int64_t>(r.between(20, 2'000)))),
          budget_(static_cast<unsigned>(r.between(50, 300))) {
        // Shorter than the shortest A-B delay (10 us), see above.
        setup_.station.delay = Duration::from_us(5);
        for (unsigned i = 0; i < count_; ++i) {
            plans_.push_back(
                Target{.sender_is_a = r.chance(0.5), .bytes = r.between(64 * 1024, 512 * 1024)});
        }
        s = setup_;
    }

    void start(App& app, World& w) override {
        w.attach(&x_);
        app.listen(true, server_port, [this](std::uint16_t client_port) {
            const Target& t = targets_.at(client_port);
            return t.sender_is_a ? Policy{.send_bytes = t.bytes}
                                 : Policy{.shutdown = Policy::Shutdown::after_peer_fin};
        });
        for (const Target& plan : plans_) {
            const Policy client = plan.sender_is_a
                                      ? Policy{.shutdown = Policy::Shutdown::after_peer_fin}
                                      : Policy{.send_bytes = plan.bytes};
            Endpoint* ep = app.connect(false, server_port, client);
            SYNACK_ASSERT(ep != nullptr);
            targets_[ep->local_port] = plan;
        }
        next_ = w.now;
    }

    void observe(Instant now, bool from_a, const rte_mbuf* m) override {
        auto seg = reader_.tcp(m, false);
        if (!seg) {
            return;
        }
        const std::uint16_t b_port = from_a ? seg->tcp.dst_port : seg->tcp.src_port;
        auto it = targets_.find(b_port);
        if (it == targets_.end()) {
            return;
        }
        Target& t = it->second;
        t.heard(from_a, now);
        Sniffed& s = t.side(from_a);
        if (seg->has(flag::syn)) {
            s.iss = seg->tcp.seq;
            s.wscale = seg->tcp.options.window_scale;
        } else {
            s.past_handshake = true;
            s.window = seg->tcp.window;
        }
        const Seq32 end = seg->tcp.seq + seg->seg_len();
        if (!s.snd_max || after(end, *s.snd_max)) {
            s.snd_max = end;
        }
        t.fin |= seg->has(flag::fin) || seg->has(flag::rst);
    }

    bool step(App&, World& w) override {
        if (injected_ >= budget_ || w.now < next_) {
            return false;
        }
        std::vector<std::uint16_t> live;
        for (const auto& [port, t] : targets_) {
            if (t.live()) {
                live.push_back(port);
            }
        }
        if (live.empty()) {
            return false;
        }
        const std::uint16_t port = live[rng_.below(live.size())];
        inject(w, port, targets_[port]);
        next_ = w.now + every_;
        return true;
    }
    std::optional<Instant> wakeup() const override {
        const bool any = std::any_of(targets_.begin(), targets_.end(),
                                     [](const auto& t) { return t.second.live(); });
        return injected_ < budget_ && any ? std::optional(next_) : std::nullopt;
    }

    void check(App&, World& w, std::vector<std::string>& failures) const override {
        const Duration interval = setup_.a.tcp.invalid_ack_interval;
        for (const bool of_a : {true, false}) {
            engine::Engine& e = of_a ? w.a : w.b;
            const engine::EngineCounters& c = e.counters();
            std::uint64_t allowed = 0;
            unsigned lucky = 0;
            for (const auto& [port, t] : targets_) {
                if (t.first[of_a]) {
                    allowed += static_cast<std::uint64_t>((t.last[of_a] - *t.first[of_a]).us() /
                                                          interval.us()) +
                               1;
                }
                lucky += t.lucky_rsts[of_a];
            }
            if (c.tcp.challenge_acks > allowed) {
                failures.push_back(fmt::format(
                    "blind injection: {} sent {} challenge ACKs, at most {} allowed (one per "
                    "{} ms per connection, RFC 5961 section 7)",
                    of_a ? 'A' : 'B', c.tcp.challenge_acks, allowed, interval.ms()));
            }
            if (c.tcp.drops[tcp::DropReason::rst_not_exact] < lucky) {
                failures.push_back(fmt::format(
                    "blind injection: {} got {} RSTs inside its window, counted {} as not "
                    "at RCV.NXT",
                    of_a ? 'A' : 'B', lucky, c.tcp.drops[tcp::DropReason::rst_not_exact]));
            }
        }
        check_limits_unreached(w, failures);
    }

private:
    /// A random number at least `margin` away from `around` either way.
    Seq32 far_from(Seq32 around, std::uint32_t margin) {
        return around + margin +
               static_cast<std::uint32_t>(rng_.below(0x1'0000'0000ULL - 2ULL * margin));
    }

    void inject(World& w, std::uint16_t b_port, Target& t) {
        // The victim: either end for a blind guess; for a lucky one the end
        // that sends the data, whose RCV.NXT the handshake fixed.
        const bool lucky = rng_.chance(0.5);
        const bool to_a = lucky ? t.sender_is_a : rng_.chance(0.5);
        const Sniffed& victim = t.side(to_a);
        const Sniffed& peer = t.side(!to_a);
        Segment s;
        s.src_mac = to_a ? mac_b : mac_a;
        s.dst_mac = to_a ? mac_a : mac_b;
        s.src = to_a ? ip_b : ip_a;
        s.dst = to_a ? ip_a : ip_b;
        s.tcp.src_port = to_a ? b_port : server_port;
        s.tcp.dst_port = to_a ? server_port : b_port;
        s.tcp.window = static_cast<std::uint16_t>(rng_.next());
        // Far from anything the victim may have sent or acknowledged (its
        // acceptable ACKs, RFC 5961 section 5.2), and from its window.
        constexpr std::uint32_t margin = 1u << 22;
        const Seq32 wild_ack = far_from(*victim.snd_max, margin);
        std::vector<std::uint8_t> payload;
        const unsigned kind = static_cast<unsigned>(rng_.below(3)); // RST, SYN, data
        if (!lucky) {
            s.tcp.seq = kind == 1 ? Seq32(static_cast<std::uint32_t>(rng_.next()))
                                  : far_from(*peer.snd_max, margin);
        } else {
            const std::uint8_t shift = t.a.wscale && t.b.wscale ? *victim.wscale : 0;
            const std::uint32_t window = std::uint32_t{victim.window} << shift;
            if (window < 8) {
                return;
            }
            // RCV.NXT is the peer's ISS + 1 (it sent no data); +1 more could be
            // its FIN in flight, so a lucky RST starts two past it.
            const Seq32 rcv_nxt = *peer.iss + 1;
            s.tcp.seq = rcv_nxt + (kind == 0 ? 2u : 0u) +
                        static_cast<std::uint32_t>(rng_.below(window / 2));
        }
        switch (kind) {
        case 0:
            s.tcp.flags = flag::rst | (rng_.chance(0.5) ? flag::ack : 0);
            s.tcp.ack = wild_ack;
            t.lucky_rsts[to_a] += lucky ? 1 : 0;
            break;
        case 1: s.tcp.flags = flag::syn; break;
        default: {
            // Data never acceptable: no ACK bit, or an ACK no one sent.
            s.tcp.flags = rng_.chance(0.3) ? flag::psh : flag::ack | flag::psh;
            s.tcp.ack = wild_ack;
            payload.resize(rng_.between(1, 1000));
            for (std::uint8_t& b : payload) {
                b = static_cast<std::uint8_t>(rng_.next());
            }
            break;
        }
        }
        x_.send(w, to_a, s, wire::Bytes(payload.data(), payload.size()));
        ++injected_;
        t.heard(to_a, w.now + setup_.station.delay);
    }

    Setup setup_;
    Rng rng_;
    unsigned count_;
    Duration every_;
    unsigned budget_;
    std::vector<Target> plans_;
    std::map<std::uint16_t, Target> targets_; // by B's port
    Adversary x_;
    FrameReader reader_;
    Instant next_;
    unsigned injected_ = 0;
};

} // namespace

std::unique_ptr<Scenario> make_blind_injection(Rng& r, Setup& s) {
    return std::make_unique<BlindInjection>(r, s);
}

} // namespace synack::sim::hostile
