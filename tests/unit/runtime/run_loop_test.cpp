// Two run loops on one single-queue port (DPDK's ring PMD, so no kernel and
// no namespace): loop 0 receives everything and passes loop 1 its packets,
// loop 1 hands its frames to loop 0's TX queue, ARP reaches both engines and
// only loop 0 answers, and a full ring drops and counts, leaking nothing.
// A third engine, the client, is the far end of the "wire".

#include <synack/engine/engine.hpp>
#include <synack/runtime/port.hpp>
#include <synack/runtime/run_loop.hpp>
#include <synack/runtime/steering.hpp>
#include <synack/time/clock.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <memory>
#include <string>
#include <vector>

using namespace synack;
using time::Duration;

namespace {

// The addresses of the Linux captures, so that their ARP request is for us.
const wire::Ipv4Addr server_ip = wire::Ipv4Addr::from_octets(10, 77, 0, 2);
const wire::Ipv4Addr client_ip = wire::Ipv4Addr::from_octets(10, 77, 0, 1);
const wire::MacAddr client_mac{{0x02, 0x77, 0, 0, 0, 0x01}};

/// A ring-PMD port and everything on it: two loops, two engines, a client.
struct Bench {
    rte_ring* rx = nullptr; // what the "wire" delivers to the port
    rte_ring* tx = nullptr; // what the port sends
    std::optional<runtime::Port> port;
    std::unique_ptr<runtime::Steering> steering;
    time::VirtualClock clock{time::Instant::from_us(1'000'000)};
    std::vector<std::unique_ptr<engine::Engine>> engines;
    std::vector<std::unique_ptr<runtime::RunLoop>> loops;
    std::unique_ptr<engine::Engine> client;

    Bench() {
        // Names are process-wide, and a closed ring port keeps its name.
        static int made = 0;
        const std::string tag = std::to_string(made++);
        rx = rte_ring_create(("rl_rx" + tag).c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        tx = rte_ring_create(("rl_tx" + tag).c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        REQUIRE(rx != nullptr);
        REQUIRE(tx != nullptr);
        const int id = rte_eth_from_rings(("net_ring_rl" + tag).c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
        REQUIRE(id >= 0);
        runtime::PortConfig pc;
        pc.port_id = static_cast<std::uint16_t>(id);
        pc.mbufs = 2047;
        pc.queues = 2;
        auto p = runtime::Port::open(pc);
        REQUIRE(p.ok());
        port.emplace(std::move(*p));
        REQUIRE(port->rx_queues() == 1);
        auto s = runtime::Steering::create(*port, 2);
        REQUIRE(s.ok());
        steering = std::move(*s);
        for (unsigned i = 0; i < 2; ++i) {
            engine::EngineConfig c;
            c.ipv4 = server_ip;
            c.mac = port->mac();
            c.next_hop_mac = client_mac;
            c.max_connections = 256;
            c.secret = {i + 1, 2};
            c.arp_responder = i == 0;
            const auto loop = static_cast<std::uint16_t>(i);
            engines.push_back(std::make_unique<engine::Engine>(c, port->pool(loop), clock.now(), port->ctrl_pool(loop)));
            loops.push_back(std::make_unique<runtime::RunLoop>(*port, *engines[i], clock, i, *steering, i));
            REQUIRE(engines[i]->listen(80).ok());
        }
        engine::EngineConfig c;
        c.ipv4 = client_ip;
        c.mac = client_mac;
        c.next_hop_mac = port->mac();
        c.max_connections = 256;
        c.secret = {9, 9};
        client = std::make_unique<engine::Engine>(c, synack::test::pool(), clock.now());
    }

    ~Bench() {
        client.reset();
        loops.clear();
        engines.clear();
        steering.reset();
        port.reset();
        drain(rx);
        drain(tx);
        rte_ring_free(rx);
        rte_ring_free(tx);
    }

    static void drain(rte_ring* r) {
        void* m = nullptr;
        while (rte_ring_dequeue(r, &m) == 0) {
            rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        }
    }

    /// One round trip of the wire: the client's frames in, both loops, the
    /// port's frames back to the client. Returns the frames the port sent.
    std::vector<std::vector<std::uint8_t>> step() {
        clock.advance(Duration::from_ms(1));
        client->poll(clock.now());
        rte_mbuf* burst[32];
        while (const std::uint16_t n = client->drain(burst, 32)) {
            REQUIRE(rte_ring_enqueue_burst(rx, reinterpret_cast<void**>(burst), n, nullptr) == n);
        }
        for (auto& l : loops) {
            l->once();
        }
        loops[0]->once(); // what loop 1 handed off after loop 0's pass
        std::vector<std::vector<std::uint8_t>> sent;
        while (const unsigned n = rte_ring_dequeue_burst(tx, reinterpret_cast<void**>(burst), 32, nullptr)) {
            for (unsigned i = 0; i < n; ++i) {
                sent.push_back(synack::test::bytes_of(burst[i]));
            }
            client->input(burst, static_cast<std::uint16_t>(n), clock.now());
        }
        return sent;
    }
};

std::uint16_t ethertype(const std::vector<std::uint8_t>& f) { return static_cast<std::uint16_t>(f[12] << 8 | f[13]); }

} // namespace

TEST_CASE("run loops: on one queue, loop 0 passes loop 1 its connections and sends what loop 1 hands back",
          "[runtime][run_loop]") {
    const unsigned before = synack::test::in_use();
    {
        Bench b;
        for (int i = 0; i < 64; ++i) {
            REQUIRE(b.client->connect(server_ip, 80, b.clock.now()).ok());
        }
        for (int i = 0; i < 20; ++i) {
            b.step();
        }
        std::size_t connected = 0;
        engine::Event events[128];
        while (const std::size_t n = b.client->events(events, 128)) {
            for (std::size_t i = 0; i < n; ++i) {
                connected += events[i].kind == tcp::ConnEvent::connected ? 1 : 0;
            }
        }
        REQUIRE(connected == 64);
        const auto& l0 = *b.loops[0];
        const auto& l1 = *b.loops[1];
        CHECK(b.engines[0]->connections() > 10); // about half each
        CHECK(b.engines[1]->connections() > 10);
        REQUIRE(b.engines[0]->connections() + b.engines[1]->connections() == 64);
        REQUIRE(l1.port_counters().rx_packets == 0); // no queue of its own
        REQUIRE(l0.steering_counters().passed == l1.steering_counters().taken);
        REQUIRE(l1.steering_counters().taken == b.engines[1]->counters().frames_in);
        REQUIRE(l1.steering_counters().tx_handed_off == b.engines[1]->counters().frames_out);
        REQUIRE(l0.port_counters().tx_packets ==
                b.engines[0]->counters().frames_out + b.engines[1]->counters().frames_out);
        REQUIRE(l0.steering_counters().ring_full == 0);
        REQUIRE(l0.port_counters().tx_dropped + l1.port_counters().tx_dropped == 0);
    }
    REQUIRE(synack::test::in_use() == before);
}

TEST_CASE("run loops: ARP reaches every engine, and only loop 0's answers (RFC 826)", "[runtime][run_loop]") {
    Bench b;
    auto request = synack::test::mbuf_from(synack::test::golden("arp_request"));
    rte_mbuf* m = request.release();
    REQUIRE(rte_ring_enqueue(b.rx, m) == 0);
    const auto sent = b.step();
    REQUIRE(sent.size() == 1);
    REQUIRE(ethertype(sent[0]) == 0x0806);
    REQUIRE(b.engines[0]->counters().arp_replies_sent == 1);
    REQUIRE(b.engines[1]->counters().arp_replies_sent == 0);
    REQUIRE(b.engines[0]->counters().neighbors.resolved == 1);
    REQUIRE(b.engines[1]->counters().neighbors.resolved == 1);
    REQUIRE(b.loops[0]->steering_counters().arp_copies == 1);
}

TEST_CASE("run loops: a packet for a loop whose ring is full is dropped and counted, not leaked",
          "[runtime][run_loop]") {
    const unsigned before = synack::test::in_use();
    {
        Bench b;
        // Fill loop 1's ring from loop 0 as a stalled loop 1 would leave it
        // (with placeholders: loop 1 never runs here, and they are taken out
        // before the ring is freed).
        rte_ring* r = b.steering->ring(0, 1);
        static int placeholder = 0;
        while (rte_ring_free_count(r) != 0) {
            REQUIRE(rte_ring_enqueue(r, &placeholder) == 0);
        }
        // SYNs from many ports: those loop 1 owns cannot be passed.
        runtime::SteeringCounters probe;
        unsigned for_loop_1 = 0;
        for (int i = 0; i < 16; ++i) {
            REQUIRE(b.client->connect(server_ip, 80, b.clock.now()).ok());
        }
        rte_mbuf* burst[32];
        const std::uint16_t n = b.client->drain(burst, 32);
        REQUIRE(n == 16);
        for (std::uint16_t i = 0; i < n; ++i) {
            for_loop_1 += b.steering->owner(burst[i], 0, probe) == 1 ? 1 : 0;
        }
        REQUIRE(for_loop_1 > 0);
        REQUIRE(rte_ring_enqueue_burst(b.rx, reinterpret_cast<void**>(burst), n, nullptr) == n);
        b.loops[0]->once();
        REQUIRE(b.loops[0]->steering_counters().ring_full == for_loop_1);
        REQUIRE(b.loops[0]->steering_counters().passed == 0);
        REQUIRE(b.engines[0]->counters().frames_in == 16 - for_loop_1);
        void* x = nullptr;
        while (rte_ring_dequeue(r, &x) == 0) {
            REQUIRE(x == &placeholder); // nothing real went in: the full ring refused it
        }
    }
    REQUIRE(synack::test::in_use() == before); // the ring's contents were freed with it
}

TEST_CASE("run loops: a total of port counters adds every counter, the port's receive drops included",
          "[runtime][run_loop]") {
    // Loop 0 holds the port's drops and the others 0 (RunLoop::publish), so
    // the total is the port's own figure, counted once.
    runtime::PortCounters loop0{.rx_packets = 10, .tx_packets = 20, .tx_dropped = 1, .rx_missed = 3,
                                .rx_nombuf = 4, .rx_errors = 5};
    runtime::PortCounters loop1{.rx_packets = 0, .tx_packets = 7, .tx_dropped = 2};
    runtime::PortCounters total;
    total += loop0;
    total += loop1;
    CHECK(total.rx_packets == 10);
    CHECK(total.tx_packets == 27);
    CHECK(total.tx_dropped == 3);
    CHECK(total.rx_missed == 3);
    CHECK(total.rx_nombuf == 4);
    CHECK(total.rx_errors == 5);
}

TEST_CASE("port: its receive drops are read from the port while it is open, and not after",
          "[runtime][port]") {
    Bench b;
    runtime::PortCounters c{.rx_packets = 1, .rx_missed = 9, .rx_nombuf = 9, .rx_errors = 9};
    REQUIRE(b.port->read_rx_drops(c));
    CHECK(c.rx_missed == 0); // the ring PMD drops nothing on receive
    CHECK(c.rx_nombuf == 0);
    CHECK(c.rx_errors == 0);
    CHECK(c.rx_packets == 1); // the loop's own counters are left alone
    b.port->close();
    c.rx_errors = 9;
    REQUIRE_FALSE(b.port->read_rx_drops(c));
    CHECK(c.rx_errors == 9);
}
