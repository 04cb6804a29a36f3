// Two engines joined back to back on a virtual clock: the embedding API
// (input, poll, drain) and the application calls, end to end.

#include <synack/engine/engine.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/tcp.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <string_view>

using namespace synack;
using engine::ConnId;
using engine::Engine;
using engine::Event;
using tcp::ConnEvent;
using time::Duration;

namespace {

const wire::Ipv4Addr ip_a = wire::Ipv4Addr::from_octets(10, 9, 0, 1);
const wire::Ipv4Addr ip_b = wire::Ipv4Addr::from_octets(10, 9, 0, 2);
const wire::MacAddr mac_a{{0x02, 0, 0, 0, 9, 1}};
const wire::MacAddr mac_b{{0x02, 0, 0, 0, 9, 2}};

engine::EngineConfig config(wire::Ipv4Addr ip, wire::MacAddr mac, wire::MacAddr peer) {
    engine::EngineConfig c;
    c.ipv4 = ip;
    c.mac = mac;
    c.next_hop_mac = peer;
    c.max_connections = 256;
    c.tcp.msl = Duration::from_s(1);
    c.secret = {0x5eed, ip.value};
    return c;
}

struct Pair {
    time::Instant now = time::Instant::from_us(5'000'000);
    Engine a{config(ip_a, mac_a, mac_b), synack::test::pool(), now};
    Engine b{config(ip_b, mac_b, mac_a), synack::test::pool(), now};

    /// Moves frames as a wire does: serialised out of the sender's mbufs
    /// (which are freed, releasing any zero-copy references) into fresh ones.
    std::size_t shuttle(Engine& from, Engine& to) {
        rte_mbuf* burst[32];
        const std::uint16_t n = from.drain(burst, 32);
        for (std::uint16_t i = 0; i < n; ++i) {
            wire::MbufPtr sent(burst[i]);
            burst[i] = synack::test::mbuf_from(synack::test::bytes_of(sent.get())).release();
        }
        if (n != 0) {
            to.input(burst, n, now);
        }
        return n;
    }

    /// Delivers frames both ways and fires timers until nothing moves or
    /// `limit` of virtual time has passed.
    void run(Duration limit) {
        const time::Instant end = now + limit;
        for (int guard = 0; guard < 1'000'000; ++guard) {
            if (shuttle(a, b) + shuttle(b, a) != 0) {
                continue;
            }
            auto wa = a.next_wakeup();
            auto wb = b.next_wakeup();
            std::optional<time::Instant> w = wa;
            if (!w || (wb && *wb < *w)) {
                w = wb;
            }
            if (!w || *w > end) {
                now = end;
                a.poll(now);
                b.poll(now);
                if (shuttle(a, b) + shuttle(b, a) == 0) {
                    return;
                }
                continue;
            }
            now = std::max(now, *w);
            a.poll(now);
            b.poll(now);
        }
        FAIL("the pair did not settle");
    }
};

std::vector<Event> events_of(Engine& e) {
    std::vector<Event> v(64);
    v.resize(e.events(v.data(), v.size()));
    return v;
}

bool has(const std::vector<Event>& v, ConnEvent kind) {
    return std::any_of(v.begin(), v.end(), [&](const Event& e) { return e.kind == kind; });
}

void send_text(Engine& e, ConnId id, std::string_view s) {
    wire::MbufPtr m = synack::test::mbuf_from(
        std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    REQUIRE(e.send(id, m).ok());
}

std::string read_all(Engine& e, ConnId id) {
    std::string s;
    wire::Bytes spans[64];
    const std::size_t n = e.peek(id, spans, 64);
    for (std::size_t i = 0; i < n; ++i) {
        s.append(spans[i].begin(), spans[i].end());
    }
    e.consume(id, static_cast<std::uint32_t>(s.size()));
    return s;
}

} // namespace

TEST_CASE("engine: handshake, echo and close between two engines; nothing leaks", "[engine]") {
    const unsigned mbufs = rte_mempool_in_use_count(synack::test::pool());
    {
        Pair p;
        REQUIRE(p.a.listen(7).ok());
        auto client = p.b.connect(ip_a, 7, p.now);
        REQUIRE(client.ok());
        p.run(Duration::from_ms(10));
        REQUIRE(p.b.state(*client) == tcp::TcpState::established);
        REQUIRE(has(events_of(p.b), ConnEvent::connected));
        auto server = p.a.accept(7);
        REQUIRE(server.has_value());
        REQUIRE(p.a.state(*server) == tcp::TcpState::established);

        send_text(p.b, *client, "ping");
        p.run(Duration::from_ms(100));
        REQUIRE(read_all(p.a, *server) == "ping");
        send_text(p.a, *server, "pong");
        p.run(Duration::from_ms(100));
        REQUIRE(read_all(p.b, *client) == "pong");

        p.b.shutdown(*client);
        p.run(Duration::from_ms(100));
        REQUIRE(has(events_of(p.a), ConnEvent::peer_closed));
        p.a.shutdown(*server);
        p.run(Duration::from_ms(100));
        REQUIRE(p.a.state(*server) == std::nullopt); // LAST-ACK -> CLOSED, freed
        // TIME-WAIT with everything read: the connection shrinks to a record
        // and, for the application, is closed.
        REQUIRE(p.b.state(*client) == std::nullopt);
        const auto closing = events_of(p.b);
        REQUIRE(closing.back().kind == ConnEvent::closed);
        REQUIRE(closing.back().reason == tcp::CloseReason::normal);
        REQUIRE(p.b.connections() == 0);
        REQUIRE(p.b.time_wait_records() == 1);
        REQUIRE(p.b.timers() == 1);
        REQUIRE(p.b.counters().connections_by_state[static_cast<std::size_t>(tcp::TcpState::time_wait)] == 1);
        p.run(Duration::from_s(3)); // 2 MSL
        REQUIRE(p.b.time_wait_records() == 0);
        REQUIRE(p.a.connections() == 0);
        REQUIRE(p.a.timers() == 0);
        REQUIRE(p.b.timers() == 0);
        REQUIRE(p.a.counters().connections_closed == 1);
    }
    REQUIRE(rte_mempool_in_use_count(synack::test::pool()) == mbufs);
}

namespace {

/// The TCP header fields of a frame the engine sent.
struct Seen {
    std::uint8_t flags;
    wire::Seq32 seq;
    wire::Seq32 ack;
};

Seen tcp_of(const std::vector<std::uint8_t>& frame) {
    auto eth = wire::parse_ethernet(frame);
    REQUIRE(eth.ok());
    auto ip = wire::parse_ipv4(eth->payload, wire::ChecksumCheck::verify());
    REQUIRE(ip.ok());
    auto seg = wire::parse_tcp(ip->payload(), wire::ChecksumCheck::verify(ip->pseudo_sum()));
    REQUIRE(seg.ok());
    return {seg->flags(), seg->seq(), seg->ack()};
}

std::vector<std::vector<std::uint8_t>> drain_frames(Engine& e) {
    std::vector<std::vector<std::uint8_t>> frames;
    rte_mbuf* burst[32];
    const std::uint16_t n = e.drain(burst, 32);
    for (std::uint16_t i = 0; i < n; ++i) {
        wire::MbufPtr m(burst[i]);
        frames.push_back(synack::test::bytes_of(m.get()));
    }
    return frames;
}

void deliver(Engine& to, const std::vector<std::uint8_t>& frame, time::Instant now) {
    rte_mbuf* m = synack::test::mbuf_from(frame).release();
    to.input(&m, 1, now);
}

} // namespace

TEST_CASE("engine: a retransmitted FIN reaching a TIME-WAIT record is ACKed and restarts 2 MSL"
          " (RFC 9293 3.10.7.4)",
          "[engine][rfc9293]") {
    Pair p;
    REQUIRE(p.a.listen(7).ok());
    auto client = p.b.connect(ip_a, 7, p.now);
    p.run(Duration::from_ms(10));
    auto server = p.a.accept(7);
    p.b.shutdown(*client);
    p.run(Duration::from_ms(100));
    p.a.shutdown(*server);
    const auto fin = drain_frames(p.a);
    REQUIRE(fin.size() == 1);
    REQUIRE((tcp_of(fin[0]).flags & wire::tcp_flag::fin) != 0);
    deliver(p.b, fin[0], p.now);
    p.run(Duration::from_ms(10)); // B's ACK reaches A: both done
    REQUIRE(p.b.time_wait_records() == 1);
    REQUIRE(p.a.connections() == 0);

    p.run(Duration::from_ms(1500)); // 2 MSL is 2 s here
    deliver(p.b, fin[0], p.now);    // as if B's ACK had been lost
    const auto ack = drain_frames(p.b);
    REQUIRE(ack.size() == 1);
    const Seen seen = tcp_of(ack[0]);
    REQUIRE(seen.flags == wire::tcp_flag::ack);
    REQUIRE(seen.ack == tcp_of(fin[0]).seq + 1);
    p.run(Duration::from_ms(1500)); // 3 s after TIME-WAIT began, 1.5 s after the restart
    REQUIRE(p.b.time_wait_records() == 1);
    p.run(Duration::from_ms(600));
    REQUIRE(p.b.time_wait_records() == 0);
    REQUIRE(p.b.timers() == 0);
}

TEST_CASE("engine: a new SYN beyond the old sequence space reopens a tuple in TIME-WAIT (RFC 6191)",
          "[engine][rfc6191]") {
    Pair p;
    REQUIRE(p.a.listen(7).ok());
    auto first = p.b.connect(ip_a, 7, p.now);
    p.run(Duration::from_ms(10));
    auto server = p.a.accept(7);
    const std::uint16_t port = p.b.tuple(*first)->local_port;
    p.a.shutdown(*server); // the server closes first: TIME-WAIT is on its side
    p.run(Duration::from_ms(100));
    p.b.shutdown(*first);
    p.run(Duration::from_ms(100));
    REQUIRE(p.a.time_wait_records() == 1);
    REQUIRE(p.b.connections() == 0);
    (void)events_of(p.a);

    auto second = p.b.connect(ip_a, 7, p.now, port); // the same four ports and addresses
    REQUIRE(second.ok());
    p.run(Duration::from_ms(10));
    REQUIRE(p.b.state(*second) == tcp::TcpState::established);
    REQUIRE(p.a.accept(7).has_value());
    REQUIRE(p.a.time_wait_records() == 0);
}

namespace {

/// A pair with an established connection B -> A on port 7.
struct Connected : Pair {
    ConnId client;
    ConnId server;
    Connected() {
        REQUIRE(a.listen(7).ok());
        client = *b.connect(ip_a, 7, now);
        run(Duration::from_ms(10));
        server = *a.accept(7);
        (void)events_of(a);
        (void)events_of(b);
    }
};

bool inside(const rte_mbuf* m, const std::uint8_t* p) {
    const auto* base = static_cast<const std::uint8_t*>(m->buf_addr);
    return p >= base && p < base + m->buf_len;
}

} // namespace

TEST_CASE("engine: the application reads received bytes in the very mbuf that arrived", "[engine][api]") {
    Connected p;
    send_text(p.b, p.client, "in place");
    rte_mbuf* burst[8];
    const std::uint16_t n = p.b.drain(burst, 8);
    REQUIRE(n == 1);
    rte_mbuf* arrived = synack::test::mbuf_from(synack::test::bytes_of(burst[0])).release();
    rte_pktmbuf_free(burst[0]);
    p.a.input(&arrived, 1, p.now);
    wire::Bytes spans[4];
    REQUIRE(p.a.peek(p.server, spans, 4) == 1);
    REQUIRE(std::string(spans[0].begin(), spans[0].end()) == "in place");
    REQUIRE(inside(arrived, spans[0].data())); // no copy on the way in
    p.a.consume(p.server, 8);
    p.run(Duration::from_ms(100));
}

TEST_CASE("engine: a buffer the application fills, or an mbuf it hands over, is sent without a copy",
          "[engine][api]") {
    Connected p;
    wire::MbufPtr buf = p.b.alloc_buffer();
    REQUIRE(buf);
    char* room = rte_pktmbuf_append(buf.get(), 5);
    std::memcpy(room, "fill!", 5);
    rte_mbuf* const original = buf.get();
    REQUIRE(p.b.send(p.client, buf).ok());
    REQUIRE_FALSE(buf); // taken over
    rte_mbuf* burst[8];
    REQUIRE(p.b.drain(burst, 8) == 1);
    // Headers in a mbuf of their own, then the payload: an indirect mbuf
    // attached to the application's buffer.
    const rte_mbuf* payload = burst[0]->next;
    REQUIRE(payload != nullptr);
    REQUIRE(RTE_MBUF_CLONED(payload));
    REQUIRE(rte_mbuf_from_indirect(const_cast<rte_mbuf*>(payload)) == original);
    rte_pktmbuf_free(burst[0]);
    p.run(Duration::from_s(2)); // retransmitted from the same buffer, then ACKed
    REQUIRE(read_all(p.a, p.server) == "fill!");
}

TEST_CASE("engine: a full send buffer refuses data and leaves it with the caller; the writable event"
          " says when to go on",
          "[engine][api]") {
    Connected p;
    std::size_t queued = 0;
    wire::MbufPtr m;
    for (;;) {
        m = synack::test::mbuf_from(std::vector<std::uint8_t>(1000, 'x'));
        if (!p.b.send(p.client, m).ok()) {
            break;
        }
        queued += 1000;
    }
    REQUIRE(m); // refused: still ours
    REQUIRE(p.b.writable(p.client) < 1000);
    REQUIRE(queued >= 200 * 1000);
    (void)events_of(p.b);
    // The peer reads; ACKs free the buffer.
    bool writable = false;
    for (int i = 0; i < 200 && !writable; ++i) {
        p.run(Duration::from_ms(5));
        (void)read_all(p.a, p.server);
        writable = has(events_of(p.b), ConnEvent::writable);
    }
    REQUIRE(writable);
    REQUIRE(p.b.send(p.client, m).ok());
}

TEST_CASE("engine: abort frees the connection with data still queued both ways", "[engine][api]") {
    const unsigned mbufs = rte_mempool_in_use_count(synack::test::pool());
    {
        Connected p;
        send_text(p.b, p.client, "unread by A");
        p.run(Duration::from_ms(100));
        REQUIRE(p.a.readable(p.server) == 11);
        send_text(p.a, p.server, "queued by A");
        p.a.abort(p.server);
        REQUIRE(p.a.connections() == 0);
        REQUIRE(p.a.timers() == 0);
        p.run(Duration::from_ms(100));
        REQUIRE(p.b.connections() == 0); // the RST reached B
        const auto ev = events_of(p.b);
        REQUIRE(ev.back().kind == ConnEvent::closed);
        REQUIRE(ev.back().reason == tcp::CloseReason::reset);
    }
    REQUIRE(rte_mempool_in_use_count(synack::test::pool()) == mbufs);
}

TEST_CASE("engine: close after everything is read ends the connection with no further events",
          "[engine][api]") {
    Connected p;
    p.b.shutdown(p.client);
    p.run(Duration::from_ms(100));
    REQUIRE(has(events_of(p.a), ConnEvent::peer_closed));
    p.a.close(p.server);
    p.run(Duration::from_ms(100));
    REQUIRE(p.a.connections() == 0);
    REQUIRE(events_of(p.a).empty());
    REQUIRE(p.b.time_wait_records() == 1);
}

TEST_CASE("engine: SYN to a port nobody listens on -> RST, the connect is refused", "[engine]") {
    Pair p;
    auto client = p.b.connect(ip_a, 9, p.now);
    REQUIRE(client.ok());
    p.run(Duration::from_ms(10));
    const auto ev = events_of(p.b);
    REQUIRE(ev.size() == 1);
    REQUIRE(ev[0].kind == ConnEvent::closed);
    REQUIRE(ev[0].reason == tcp::CloseReason::refused);
    REQUIRE(p.b.state(*client) == std::nullopt);
    REQUIRE(p.a.counters().tcp.drops[tcp::DropReason::no_connection] == 1);
}

TEST_CASE("engine: a stale connection id is refused, never confused with a new one", "[engine]") {
    Pair p;
    auto c1 = p.b.connect(ip_a, 9, p.now);
    p.run(Duration::from_ms(10)); // refused and freed
    auto c2 = p.b.connect(ip_a, 9, p.now);
    REQUIRE(c2->index == c1->index); // the slot is reused ...
    REQUIRE_FALSE(c2->generation == c1->generation); // ... under a new generation
    wire::MbufPtr m = synack::test::mbuf_from(std::vector<std::uint8_t>(4, 1));
    REQUIRE(p.b.send(*c1, m).error() == engine::ConnError::stale_id);
    p.run(Duration::from_ms(10));
}

TEST_CASE("engine: malformed and foreign frames are counted and dropped", "[engine]") {
    Pair p;
    rte_mbuf* burst[3];
    burst[0] = synack::test::mbuf_from(std::vector<std::uint8_t>(5, 0xff)).release();
    std::vector<std::uint8_t> arp(42, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    burst[1] = synack::test::mbuf_from(arp).release();
    std::vector<std::uint8_t> bad_ip(60, 0);
    bad_ip[12] = 0x08;
    bad_ip[14] = 0x45; // IPv4, IHL 5, total length 0: malformed
    burst[2] = synack::test::mbuf_from(bad_ip).release();
    p.a.input(burst, 3, p.now);
    REQUIRE(p.a.counters().dropped(engine::FrameDrop::malformed) == 2);
    REQUIRE(p.a.counters().dropped(engine::FrameDrop::not_ipv4) == 1);
    REQUIRE(p.a.tx_pending() == 0);
}

TEST_CASE("engine: 1 MiB one way arrives intact and in order", "[engine]") {
    Pair p;
    REQUIRE(p.a.listen(5001).ok());
    auto client = p.b.connect(ip_a, 5001, p.now);
    p.run(Duration::from_ms(10));
    auto server = p.a.accept(5001);
    REQUIRE(server.has_value());
    constexpr std::size_t total = 1 << 20;
    std::size_t sent = 0;
    std::string received;
    std::uint64_t expected_sum = 0;
    for (int round = 0; round < 100'000 && received.size() < total; ++round) {
        while (sent < total && p.b.writable(*client) >= 1000) {
            std::vector<std::uint8_t> chunk(std::min<std::size_t>(1000, total - sent));
            for (std::size_t i = 0; i < chunk.size(); ++i) {
                chunk[i] = static_cast<std::uint8_t>((sent + i) * 7 + ((sent + i) >> 9));
                expected_sum += chunk[i];
            }
            wire::MbufPtr m = synack::test::mbuf_from(chunk);
            REQUIRE(p.b.send(*client, m).ok());
            sent += chunk.size();
        }
        p.run(Duration::from_ms(1));
        received += read_all(p.a, *server);
    }
    REQUIRE(received.size() == total);
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < total; ++i) {
        REQUIRE(static_cast<std::uint8_t>(received[i]) ==
                static_cast<std::uint8_t>(i * 7 + (i >> 9)));
        sum += static_cast<std::uint8_t>(received[i]);
    }
    REQUIRE(sum == expected_sum);
    p.a.abort(*server);
    p.run(Duration::from_ms(10));
    REQUIRE(p.a.connections() == 0);
    REQUIRE(p.b.connections() == 0); // the RST reached it
}
