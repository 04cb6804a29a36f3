// The ARP neighbour cache (RFC 826, RFC 1122 section 2.3.2): resolution,
// the packets held meanwhile, retries, expiry, and its limits.

#include <synack/net/neighbor.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace synack;
using net::NeighborCache;
using time::Duration;
using time::Instant;

namespace {

const wire::Ipv4Addr peer = wire::Ipv4Addr::from_octets(10, 1, 0, 2);
const wire::MacAddr peer_mac{{0x02, 0, 0, 0, 1, 2}};

struct Fixture {
    Instant now = Instant::from_us(1'000'000);
    time::TimerWheel wheel{now};
    net::NeighborConfig config;
    std::unique_ptr<NeighborCache> cache;
    std::vector<wire::Ipv4Addr> asked; // requests the cache asked for from timers

    explicit Fixture(net::NeighborConfig c = {}) : config(c) {
        cache = std::make_unique<NeighborCache>(config, SipKey{1, 2}, wheel);
    }
    ~Fixture() {
        cache.reset();
        REQUIRE(wheel.size() == 0);
    }
    wire::MbufPtr packet(std::uint8_t tag) { return synack::test::mbuf_from(std::vector<std::uint8_t>(20, tag)); }
    void advance(Duration d) {
        now += d;
        wheel.expire(now, [&](time::TimerNode& n) noexcept {
            REQUIRE(n.kind() == net::neighbor_timer_kind);
            if (auto ip = cache->timer_fired(n, now)) {
                asked.push_back(*ip);
            }
        });
    }
};

} // namespace

TEST_CASE("neighbours: an unknown address holds the packet and asks once; the reply releases it in order"
          " (RFC 826, RFC 1122 2.3.2.2)",
          "[net][rfc826]") {
    Fixture f;
    auto p1 = f.packet(1);
    auto r = f.cache->resolve(peer, p1, f.now);
    REQUIRE_FALSE(r.mac);
    REQUIRE(r.ask);
    REQUIRE_FALSE(p1); // held
    auto p2 = f.packet(2);
    r = f.cache->resolve(peer, p2, f.now);
    REQUIRE_FALSE(r.ask); // asked already
    std::vector<std::uint8_t> released;
    f.cache->learn(peer, peer_mac, false, f.now, [&](rte_mbuf* m, wire::MacAddr mac) noexcept {
        REQUIRE(mac == peer_mac);
        released.push_back(rte_pktmbuf_mtod(m, std::uint8_t*)[0]);
        rte_pktmbuf_free(m);
    });
    REQUIRE(released == std::vector<std::uint8_t>{1, 2});
    auto p3 = f.packet(3);
    r = f.cache->resolve(peer, p3, f.now);
    REQUIRE(r.mac == peer_mac);
    REQUIRE(p3); // not taken: the caller sends it
    REQUIRE(f.cache->counters().resolved == 1);
}

TEST_CASE("neighbours: no answer -> asked again each retry, then given up and its packets freed",
          "[net][rfc1122]") {
    Fixture f;
    const unsigned mbufs = rte_mempool_in_use_count(synack::test::pool());
    auto p = f.packet(1);
    REQUIRE(f.cache->resolve(peer, p, f.now).ask);
    f.advance(f.config.retry);
    f.advance(f.config.retry);
    REQUIRE(f.asked.size() == 2); // three requests in all
    f.advance(f.config.retry);
    REQUIRE(f.asked.size() == 2);
    REQUIRE(f.cache->size() == 0);
    REQUIRE(f.cache->counters().unreachable == 1);
    REQUIRE(f.cache->counters().pending_dropped == 1);
    REQUIRE(rte_mempool_in_use_count(synack::test::pool()) == mbufs);
}

TEST_CASE("neighbours: a stale entry is still used while it is asked for again (RFC 1122 2.3.2.1)",
          "[net][rfc1122]") {
    Fixture f;
    f.cache->learn(peer, peer_mac, true, f.now, [](rte_mbuf*, wire::MacAddr) noexcept {});
    f.advance(f.config.reachable);
    auto p = f.packet(1);
    auto r = f.cache->resolve(peer, p, f.now);
    REQUIRE(r.mac == peer_mac);
    REQUIRE(r.ask);
    auto p2 = f.packet(2);
    REQUIRE_FALSE(f.cache->resolve(peer, p2, f.now).ask);
    // No answer at all: dropped after the retries; the next use starts over.
    for (int i = 0; i < f.config.max_requests; ++i) {
        f.advance(f.config.retry);
    }
    REQUIRE(f.cache->size() == 0);
}

TEST_CASE("neighbours: ARP from an address nobody asked about is learnt only when meant for us (RFC 826 merge)",
          "[net][rfc826]") {
    Fixture f;
    f.cache->learn(peer, peer_mac, false, f.now, [](rte_mbuf*, wire::MacAddr) noexcept {});
    REQUIRE_FALSE(f.cache->peek(peer));
    f.cache->learn(peer, peer_mac, true, f.now, [](rte_mbuf*, wire::MacAddr) noexcept {});
    REQUIRE(f.cache->peek(peer) == peer_mac);
    const wire::MacAddr moved{{0x02, 0, 0, 0, 9, 9}};
    f.cache->learn(peer, moved, false, f.now, [](rte_mbuf*, wire::MacAddr) noexcept {});
    REQUIRE(f.cache->peek(peer) == moved); // an entry is updated whoever the packet was for
}

TEST_CASE("neighbours: the wait queue keeps the latest packets; a full cache refuses new addresses",
          "[net][rfc1122]") {
    net::NeighborConfig c;
    c.capacity = 2;
    c.max_pending = 2;
    Fixture f(c);
    for (std::uint8_t i = 1; i <= 3; ++i) {
        auto p = f.packet(i);
        (void)f.cache->resolve(peer, p, f.now);
    }
    REQUIRE(f.cache->counters().pending_dropped == 1);
    std::vector<std::uint8_t> released;
    f.cache->learn(peer, peer_mac, false, f.now, [&](rte_mbuf* m, wire::MacAddr) noexcept {
        released.push_back(rte_pktmbuf_mtod(m, std::uint8_t*)[0]);
        rte_pktmbuf_free(m);
    });
    REQUIRE(released == std::vector<std::uint8_t>{2, 3});
    auto a = f.packet(4);
    (void)f.cache->resolve(wire::Ipv4Addr::from_octets(10, 1, 0, 3), a, f.now);
    auto b = f.packet(5);
    const auto r = f.cache->resolve(wire::Ipv4Addr::from_octets(10, 1, 0, 4), b, f.now);
    REQUIRE_FALSE(r.mac);
    REQUIRE_FALSE(r.ask);
    REQUIRE_FALSE(b); // freed
    REQUIRE(f.cache->counters().cache_full == 1);
}
