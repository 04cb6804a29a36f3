// Two engines joined back to back on a virtual clock: the embedding API
// (input, poll, drain) and the application calls, end to end.

#include <synack/engine/engine.hpp>
#include <synack/wire/arp.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/tcp.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
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

/// The IPv4 header checksum of a frame is right.
bool ip_checksum_ok(const std::vector<std::uint8_t>& frame) {
    auto eth = wire::parse_ethernet(frame);
    return eth.ok() && wire::parse_ipv4(eth->payload, wire::ChecksumCheck::verify()).ok();
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
    std::vector<std::uint8_t> ipv6(60, 0);
    ipv6[12] = 0x86;
    ipv6[13] = 0xdd;
    burst[1] = synack::test::mbuf_from(ipv6).release();
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

// ---------------------------------------------------------------- ARP, ICMP

namespace {

/// The engine in the place of B of the Linux captures (tests/data/linux):
/// 10.77.0.2, 02:77:00:00:00:02, with ARP to find its neighbours.
Engine linux_b_engine(time::Instant now, bool arp_responder = true) {
    engine::EngineConfig c;
    c.arp_responder = arp_responder;
    c.ipv4 = wire::Ipv4Addr::from_octets(10, 77, 0, 2);
    c.mac = wire::MacAddr{{0x02, 0x77, 0, 0, 0, 0x02}};
    c.max_connections = 16;
    c.secret = {7, 7};
    return Engine(c, synack::test::pool(), now);
}

std::vector<std::vector<std::uint8_t>> answer(Engine& e, const std::vector<std::uint8_t>& frame, time::Instant now) {
    deliver(e, frame, now);
    return drain_frames(e);
}

/// Bytes [from, to) of a frame.
std::vector<std::uint8_t> part(const std::vector<std::uint8_t>& f, std::size_t from, std::size_t to) {
    return {f.begin() + static_cast<std::ptrdiff_t>(from), f.begin() + static_cast<std::ptrdiff_t>(std::min(to, f.size()))};
}

/// As config(), with ARP finding the next hop.
engine::EngineConfig arp_config(wire::Ipv4Addr ip, wire::MacAddr mac) {
    engine::EngineConfig c = config(ip, mac, mac);
    c.next_hop_mac.reset();
    return c;
}

} // namespace

TEST_CASE("engine: an ARP request for our address gets the reply Linux sends, byte for byte (RFC 826)",
          "[engine][rfc826]") {
    const time::Instant now = time::Instant::from_us(1'000'000);
    Engine b = linux_b_engine(now);
    const auto replies = answer(b, synack::test::golden("arp_request"), now);
    REQUIRE(replies.size() == 1);
    REQUIRE(replies[0] == synack::test::golden("arp_reply"));
    REQUIRE(b.counters().arp_replies_sent == 1);
    // RFC 826 merge: the asker is learnt, so the reply to it needs no request.
    REQUIRE(b.counters().neighbors.resolved == 1);
}

TEST_CASE("engine: an engine that is not the ARP responder learns from a request but does not answer it",
          "[engine][rfc826]") {
    // Several engines on one port all see ARP; one answers (runtime/steering.hpp).
    const time::Instant now = time::Instant::from_us(1'000'000);
    Engine b = linux_b_engine(now, false);
    REQUIRE(answer(b, synack::test::golden("arp_request"), now).empty());
    REQUIRE(b.counters().arp_replies_sent == 0);
    REQUIRE(b.counters().neighbors.resolved == 1);
}

TEST_CASE("engine: connect() takes only an ephemeral port that owns_tuple accepts", "[engine][api]") {
    // With several engines on a port, an active open must pick a port whose
    // replies are steered back to its own engine (docs/design.md "Steering").
    const time::Instant now = time::Instant::from_us(1'000'000);
    engine::EngineConfig c = config(ip_a, mac_a, mac_b);
    c.owns_tuple = [](const tcp::FourTuple& t) { return t.local_port % 3 == 1; };
    Engine a(c, synack::test::pool(), now);
    std::vector<std::uint16_t> ports;
    for (int i = 0; i < 5; ++i) {
        auto id = a.connect(ip_b, 80, now);
        REQUIRE(id.ok());
        ports.push_back(a.tuple(*id)->local_port);
    }
    for (const std::uint16_t p : ports) {
        REQUIRE(p % 3 == 1);
        REQUIRE(p >= c.ephemeral_port_min);
        REQUIRE(p <= c.ephemeral_port_max);
    }
    std::sort(ports.begin(), ports.end());
    REQUIRE(std::adjacent_find(ports.begin(), ports.end()) == ports.end());

    engine::EngineConfig none = config(ip_a, mac_a, mac_b);
    none.owns_tuple = [](const tcp::FourTuple&) { return false; };
    Engine n(none, synack::test::pool(), now);
    auto refused = n.connect(ip_b, 80, now);
    REQUIRE_FALSE(refused.ok());
    REQUIRE(refused.error() == engine::ConnectError::no_local_port);
}

TEST_CASE("engine: a ping gets the echo reply Linux sends (RFC 792, RFC 1122 3.2.2.6)", "[engine][rfc792]") {
    const time::Instant now = time::Instant::from_us(1'000'000);
    Engine b = linux_b_engine(now);
    (void)answer(b, synack::test::golden("arp_request"), now); // Linux resolves us first
    const auto reply = answer(b, synack::test::golden("icmp4_echo_request"), now);
    REQUIRE(reply.size() == 1);
    const auto linux_reply = synack::test::golden("icmp4_echo_reply");
    REQUIRE(reply[0].size() == linux_reply.size());
    REQUIRE(part(reply[0], 0, 14) == part(linux_reply, 0, 14));  // Ethernet
    REQUIRE(part(reply[0], 26, 34) == part(linux_reply, 26, 34)); // addresses
    REQUIRE(part(reply[0], 34, linux_reply.size()) == part(linux_reply, 34, linux_reply.size())); // all of ICMP
    REQUIRE(ip_checksum_ok(reply[0]));
    REQUIRE(b.counters().icmp_echo_replies == 1);
}

TEST_CASE("engine: UDP to us draws a port unreachable quoting the datagram as Linux does (RFC 1122 3.2.2.1)",
          "[engine][rfc1122]") {
    const time::Instant now = time::Instant::from_us(1'000'000);
    Engine b = linux_b_engine(now);
    (void)answer(b, synack::test::golden("arp_request"), now);
    const auto error = answer(b, synack::test::golden("udp4_closed_port"), now);
    REQUIRE(error.size() == 1);
    const auto linux_error = synack::test::golden("icmp4_port_unreachable");
    REQUIRE(error[0].size() == linux_error.size());
    REQUIRE(part(error[0], 34, linux_error.size()) == part(linux_error, 34, linux_error.size()));
    REQUIRE(b.counters().icmp_errors_sent == 1);
    REQUIRE(b.counters().dropped(engine::FrameDrop::not_tcp) == 1);
}

TEST_CASE("engine: ICMP errors are rate-limited (RFC 1812 4.3.2.8)", "[engine][rfc1812]") {
    const time::Instant now = time::Instant::from_us(1'000'000);
    engine::EngineConfig c;
    c.ipv4 = wire::Ipv4Addr::from_octets(10, 77, 0, 2);
    c.mac = wire::MacAddr{{0x02, 0x77, 0, 0, 0, 0x02}};
    c.next_hop_mac = wire::MacAddr{{0x02, 0x77, 0, 0, 0, 0x01}};
    c.max_connections = 16;
    c.icmp_errors_per_second = 3;
    Engine b(c, synack::test::pool(), now);
    for (int i = 0; i < 5; ++i) {
        (void)answer(b, synack::test::golden("udp4_closed_port"), now);
    }
    REQUIRE(b.counters().icmp_errors_sent == 3);
    REQUIRE(b.counters().icmp_errors_limited == 2);
    (void)answer(b, synack::test::golden("udp4_closed_port"), now + Duration::from_s(1));
    REQUIRE(b.counters().icmp_errors_sent == 4);
}

TEST_CASE("engine: two engines with no next hop configured find each other by ARP and connect",
          "[engine][rfc826]") {
    time::Instant now = time::Instant::from_us(5'000'000);
    Engine a(arp_config(ip_a, mac_a), synack::test::pool(), now);
    Engine b(arp_config(ip_b, mac_b), synack::test::pool(), now);
    REQUIRE(a.listen(7).ok());
    auto client = b.connect(ip_a, 7, now);
    REQUIRE(client.ok());
    // The SYN waits; an ARP request goes out first.
    auto frames = drain_frames(b);
    REQUIRE(frames.size() == 1);
    REQUIRE(frames[0][12] == 0x08);
    REQUIRE(frames[0][13] == 0x06);
    for (int round = 0; round < 10 && !frames.empty(); ++round) {
        for (const auto& f : frames) {
            deliver(a, f, now);
        }
        frames = drain_frames(a);
        for (const auto& f : frames) {
            deliver(b, f, now);
        }
        frames = drain_frames(b);
    }
    REQUIRE(b.state(*client) == tcp::TcpState::established);
    REQUIRE(a.accept(7).has_value());
    REQUIRE(b.counters().arp_requests_sent == 1);
    REQUIRE(a.counters().arp_requests_sent == 0); // A learnt B from B's request
}

TEST_CASE("engine: a neighbour that never answers: its packets are dropped after the retries, counted",
          "[engine][rfc1122]") {
    engine::EngineConfig c = arp_config(ip_b, mac_b);
    time::Instant now = time::Instant::from_us(5'000'000);
    Engine b(c, synack::test::pool(), now);
    auto client = b.connect(ip_a, 7, now);
    REQUIRE(client.ok());
    for (int i = 0; i < 5; ++i) {
        (void)drain_frames(b);
        now += Duration::from_s(1);
        b.poll(now);
    }
    // Three requests, then given up; the SYN's retransmission starts over.
    REQUIRE(b.counters().arp_requests_sent >= 3);
    REQUIRE(b.counters().neighbors.unreachable >= 1);
    REQUIRE(b.counters().neighbors.pending_dropped >= 1);
    b.abort(*client);
    (void)drain_frames(b);
}

TEST_CASE("engine: off-link destinations go through the gateway; with none they are dropped as no_route",
          "[engine]") {
    engine::EngineConfig c = arp_config(ip_b, mac_b);
    time::Instant now = time::Instant::from_us(5'000'000);
    {
        Engine b(c, synack::test::pool(), now);
        auto far = b.connect(wire::Ipv4Addr::from_octets(192, 0, 2, 1), 7, now);
        REQUIRE(far.ok());
        REQUIRE(b.counters().dropped(engine::FrameDrop::no_route) == 1);
        b.abort(*far);
    }
    c.gateway = wire::Ipv4Addr::from_octets(10, 9, 0, 254);
    Engine b(c, synack::test::pool(), now);
    auto far = b.connect(wire::Ipv4Addr::from_octets(192, 0, 2, 1), 7, now);
    const auto frames = drain_frames(b);
    REQUIRE(frames.size() == 1);
    auto arp = wire::parse_arp(wire::Bytes(frames[0]).subspan(14));
    REQUIRE(arp.ok());
    REQUIRE(arp->target_ip == *c.gateway);
    b.abort(*far);
}

TEST_CASE("engine: announce() sends a gratuitous ARP for our address (RFC 5227 2.3)", "[engine][rfc5227]") {
    Pair p;
    p.a.announce();
    const auto frames = drain_frames(p.a);
    REQUIRE(frames.size() == 1);
    auto arp = wire::parse_arp(wire::Bytes(frames[0]).subspan(14));
    REQUIRE(arp.ok());
    REQUIRE(arp->sender_ip == ip_a);
    REQUIRE(arp->target_ip == ip_a);
    REQUIRE(std::vector<std::uint8_t>(frames[0].begin(), frames[0].begin() + 6) ==
            std::vector<std::uint8_t>(6, 0xff));
}
