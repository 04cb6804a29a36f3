// Which run loop owns a packet (runtime/steering.hpp): software steering by
// the symmetric Toeplitz hash, RSS steering by the port's RETA held to what
// the software hash says, active opens that pick ports coming back to their
// own loop, and rings that give back what they hold.

#include <synack/runtime/steering.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <rte_ethdev.h>
#include <rte_thash.h>

#include <vector>

using namespace synack;
using runtime::Steering;
using runtime::SteeringCounters;
using runtime::SteeringMode;

namespace {

const wire::Ipv4Addr us = wire::Ipv4Addr::from_octets(10, 1, 0, 2);

/// An Ethernet/IPv4/TCP frame from src:sport to dst:dport (checksums are not
/// steering's business).
wire::MbufPtr tcp_frame(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport) {
    std::vector<std::uint8_t> f(54, 0);
    f[12] = 0x08; // IPv4
    f[14] = 0x45;
    f[16] = 0;
    f[17] = 40;
    f[22] = 64;
    f[23] = 6; // TCP
    src.store(&f[26]);
    dst.store(&f[30]);
    f[34] = static_cast<std::uint8_t>(sport >> 8);
    f[35] = static_cast<std::uint8_t>(sport);
    f[36] = static_cast<std::uint8_t>(dport >> 8);
    f[37] = static_cast<std::uint8_t>(dport);
    f[46] = 0x50;
    return synack::test::mbuf_from(f);
}

wire::Ipv4Addr peer(std::uint32_t i) { return wire::Ipv4Addr::from_octets(10, 1, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)); }

std::unique_ptr<Steering> make(unsigned workers, unsigned rx_queues, unsigned tx_queues,
                               const std::optional<runtime::RssState>& rss = std::nullopt) {
    auto s = Steering::create(0, workers, rx_queues, tx_queues, rss);
    REQUIRE(s.ok());
    return std::move(*s);
}

/// An RSS port as a NIC would report it: the symmetric key, a RETA of
/// `entries` spreading over `queues`.
runtime::RssState rss_of(unsigned queues, unsigned entries) {
    runtime::RssState r;
    const auto key = runtime::symmetric_rss_key();
    r.key.assign(key.begin(), key.end());
    for (unsigned i = 0; i < entries; ++i) {
        r.reta.push_back(static_cast<std::uint16_t>(i % queues));
    }
    r.hash_functions = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP;
    return r;
}

/// The loop a NIC with rss's key and RETA puts the packet src:sport -> dst:dport
/// on, by DPDK's reference hash (not the one under test).
unsigned nic_queue(const runtime::RssState& rss, unsigned loops, wire::Ipv4Addr src, wire::Ipv4Addr dst,
                   std::uint16_t sport, std::uint16_t dport) {
    rte_ipv4_tuple t{};
    t.src_addr = src.value;
    t.dst_addr = dst.value;
    t.sport = sport;
    t.dport = dport;
    const std::uint32_t h = rte_softrss(reinterpret_cast<std::uint32_t*>(&t), RTE_THASH_V4_L4_LEN, rss.key.data());
    return rss.reta[h % rss.reta.size()] % loops;
}

/// As rss_of(), with the key of Microsoft's RSS specification: not
/// symmetric, so a hash of the wrong direction shows.
runtime::RssState asymmetric_rss_of(unsigned queues, unsigned entries) {
    runtime::RssState r = rss_of(queues, entries);
    r.key = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
             0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
             0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
    return r;
}

} // namespace

TEST_CASE("steering (software): a packet's owner is its Toeplitz hash modulo the loops; ARP goes to all",
          "[runtime][steering]") {
    auto s = make(3, 1, 1);
    REQUIRE(s->mode() == SteeringMode::software);
    const auto key = runtime::symmetric_rss_key();
    SteeringCounters c;
    std::vector<unsigned> per_loop(3, 0);
    // A client as Linux is one: one address, ephemeral ports in sequence.
    const wire::Ipv4Addr client = peer(1);
    for (std::uint32_t i = 0; i < 300; ++i) {
        const auto sport = static_cast<std::uint16_t>(40000 + i);
        auto m = tcp_frame(client, us, sport, 5001);
        rte_ipv4_tuple t{};
        t.src_addr = client.value;
        t.dst_addr = us.value;
        t.sport = sport;
        t.dport = 5001;
        const std::uint32_t h = rte_softrss(reinterpret_cast<std::uint32_t*>(&t), RTE_THASH_V4_L4_LEN, key.data());
        const unsigned o = s->owner(m.get(), 0, c);
        REQUIRE(o == h % 3);
        ++per_loop[o];
        // Our replies hash alike (the key is symmetric).
        auto reply = tcp_frame(us, client, 5001, sport);
        REQUIRE(s->owner(reply.get(), 1, c) == o);
    }
    for (const unsigned n : per_loop) {
        CHECK(n > 60); // about a third each
    }
    auto arp = synack::test::mbuf_from(synack::test::golden("arp_request"));
    REQUIRE(s->owner(arp.get(), 2, c) == Steering::everyone);
    REQUIRE(c.rss_mismatches == 0);
}

TEST_CASE("steering: a frame too short to hash, or not IPv4, stays with the loop that received it",
          "[runtime][steering]") {
    auto s = make(2, 2, 2);
    SteeringCounters c;
    const std::vector<std::uint8_t> runt(20, 0);
    auto m = synack::test::mbuf_from(runt);
    REQUIRE(s->owner(m.get(), 1, c) == 1);
    auto v6 = synack::test::mbuf_from(synack::test::golden("ipv6_hopbyhop"));
    REQUIRE(s->owner(v6.get(), 1, c) == 1);
    REQUIRE(s->owner(v6.get(), 0, c) == 0);
}

TEST_CASE("steering (rss): packets on the queue the port's RETA names agree; one elsewhere is counted, "
          "the mode falls back to software, and the owner does not change",
          "[runtime][steering]") {
    const auto rss = rss_of(2, 128);
    auto s = make(2, 2, 2, rss);
    REQUIRE(s->mode() == SteeringMode::rss);
    SteeringCounters c;
    // Each packet arrives on the loop the RETA names: no mismatch.
    std::vector<unsigned> owners;
    for (std::uint32_t i = 0; i < 64; ++i) {
        const auto sport = static_cast<std::uint16_t>(50000 + i);
        const unsigned queue = nic_queue(rss, 2, peer(1), us, sport, 80);
        auto m = tcp_frame(peer(1), us, sport, 80);
        REQUIRE(s->owner(m.get(), queue, c) == queue);
        REQUIRE(c.rss_mismatches == 0);
        owners.push_back(queue);
    }
    REQUIRE(s->mode() == SteeringMode::rss);
    // One arrives on the other loop's queue: the port disagrees.
    auto stray = tcp_frame(peer(1), us, 50000, 80);
    REQUIRE(s->owner(stray.get(), 1 - owners[0], c) == owners[0]);
    REQUIRE(c.rss_mismatches == 1);
    REQUIRE(s->mode() == SteeringMode::software);
    // Ownership is fixed at start: every flow keeps its loop.
    for (std::uint32_t i = 0; i < 64; ++i) {
        auto m = tcp_frame(peer(1), us, static_cast<std::uint16_t>(50000 + i), 80);
        REQUIRE(s->owner(m.get(), owners[i], c) == owners[i]);
    }
}

TEST_CASE("steering (rss): the NIC's own hash in the mbuf, when it differs from ours, is a mismatch",
          "[runtime][steering]") {
    const auto rss = rss_of(2, 128);
    auto s = make(2, 2, 2, rss);
    SteeringCounters c;
    auto m = tcp_frame(peer(7), us, 41000, 80);
    const unsigned o = nic_queue(rss, 2, peer(7), us, 41000, 80);
    m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
    const runtime::Toeplitz h(runtime::symmetric_rss_key());
    m->hash.rss = h.ipv4_tcp(peer(7), us, 41000, 80);
    REQUIRE(s->owner(m.get(), o, c) == o);
    REQUIRE(c.rss_mismatches == 0);
    m->hash.rss ^= 1;
    REQUIRE(s->owner(m.get(), o, c) == o);
    REQUIRE(c.rss_mismatches == 1);
}

TEST_CASE("steering: RSS the port cannot describe, or that ignores TCP ports, means software steering",
          "[runtime][steering]") {
    auto no_reta = rss_of(2, 128);
    no_reta.reta.clear();
    CHECK(make(2, 2, 2, no_reta)->mode() == SteeringMode::software);
    auto addresses_only = rss_of(2, 128);
    addresses_only.hash_functions = RTE_ETH_RSS_IPV4;
    CHECK(make(2, 2, 2, addresses_only)->mode() == SteeringMode::software);
    CHECK(make(2, 1, 1, rss_of(1, 128))->mode() == SteeringMode::software);
    CHECK(make(1, 1, 1)->mode() == SteeringMode::single);
}

TEST_CASE("steering: owns() accepts an active open's tuple exactly when its replies reach that loop",
          "[runtime][steering]") {
    const auto rss = rss_of(4, 128);
    for (const bool with_rss : {false, true}) {
        auto s = with_rss ? make(4, 4, 4, rss) : make(4, 1, 1);
        const wire::Ipv4Addr server = wire::Ipv4Addr::from_octets(192, 0, 2, 9);
        std::vector<unsigned> per_loop(4, 0);
        for (std::uint16_t port = 32768; port < 33768; ++port) {
            const tcp::FourTuple t{tcp::FourTuple::mapped(us), tcp::FourTuple::mapped(server), port, 443};
            // The reply from server:443 to us:port arrives at the loop the hash names.
            const unsigned o = nic_queue(rss, 4, server, us, 443, port);
            for (unsigned w = 0; w < 4; ++w) {
                REQUIRE(s->owns(w, t) == (w == o));
            }
            ++per_loop[o];
        }
        for (const unsigned n : per_loop) {
            CHECK(n > 150); // about a quarter each
        }
    }
}

TEST_CASE("steering: queues are shared out by loop, and loops without a TX queue hand off to one that has one",
          "[runtime][steering]") {
    auto s = make(3, 5, 2);
    REQUIRE(s->rx_queues(0) == std::vector<std::uint16_t>{0, 3});
    REQUIRE(s->rx_queues(1) == std::vector<std::uint16_t>{1, 4});
    REQUIRE(s->rx_queues(2) == std::vector<std::uint16_t>{2});
    REQUIRE(s->tx_queue(0) == std::uint16_t{0});
    REQUIRE(s->tx_queue(1) == std::uint16_t{1});
    REQUIRE_FALSE(s->tx_queue(2));
    REQUIRE(s->tx_owner(2) == 0);
    REQUIRE(s->tx_ring(2) != nullptr);
    REQUIRE(s->tx_ring(0) == nullptr);
    s.reset(); // one steering per port at a time: the rings are named after it
    auto one = make(2, 1, 1);
    REQUIRE(one->rx_queues(1).empty());
}

TEST_CASE("steering: mbufs still in the rings are freed with them", "[runtime][steering]") {
    const unsigned before = synack::test::in_use();
    {
        auto s = make(2, 1, 1);
        for (int i = 0; i < 10; ++i) {
            rte_mbuf* m = tcp_frame(peer(1), us, 1, 2).release();
            REQUIRE(rte_ring_sp_enqueue(s->ring(0, 1), m) == 0);
            rte_mbuf* t = tcp_frame(us, peer(1), 2, 1).release();
            REQUIRE(rte_ring_sp_enqueue(s->tx_ring(1), t) == 0);
        }
        REQUIRE(synack::test::in_use() == before + 20);
    }
    REQUIRE(synack::test::in_use() == before);
}

TEST_CASE("steering (rss, a key that is not symmetric): received packets and active opens are hashed "
          "in the direction the port hashes them",
          "[runtime][steering]") {
    const auto rss = asymmetric_rss_of(4, 128);
    auto s = make(4, 4, 4, rss);
    REQUIRE(s->mode() == SteeringMode::rss);
    SteeringCounters c;
    const wire::Ipv4Addr server = wire::Ipv4Addr::from_octets(192, 0, 2, 9);
    std::vector<unsigned> per_loop(4, 0);
    for (std::uint16_t port = 40000; port < 41000; ++port) {
        // A packet from the peer arrives where the port's hash of it says.
        const unsigned q = nic_queue(rss, 4, server, us, 443, port);
        auto m = tcp_frame(server, us, 443, port);
        REQUIRE(s->owner(m.get(), q, c) == q);
        // An active open from that port is owned by the loop its replies reach.
        const tcp::FourTuple t{tcp::FourTuple::mapped(us), tcp::FourTuple::mapped(server), port, 443};
        for (unsigned w = 0; w < 4; ++w) {
            REQUIRE(s->owns(w, t) == (w == q));
        }
        ++per_loop[q];
    }
    REQUIRE(c.rss_mismatches == 0);
    for (const unsigned n : per_loop) {
        CHECK(n > 150);
    }
}

TEST_CASE("steering: with fewer RX queues than loops, RSS cannot reach every loop: software steering",
          "[runtime][steering]") {
    auto s = make(4, 2, 2, rss_of(2, 128));
    REQUIRE(s->mode() == SteeringMode::software);
    const wire::Ipv4Addr server = wire::Ipv4Addr::from_octets(192, 0, 2, 9);
    std::vector<unsigned> owned(4, 0);
    for (std::uint16_t port = 40000; port < 41000; ++port) {
        const tcp::FourTuple t{tcp::FourTuple::mapped(us), tcp::FourTuple::mapped(server), port, 443};
        for (unsigned w = 0; w < 4; ++w) {
            owned[w] += s->owns(w, t) ? 1 : 0;
        }
    }
    for (const unsigned n : owned) {
        CHECK(n > 150); // every loop owns some
    }
}
