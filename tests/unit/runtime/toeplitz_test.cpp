// The table-driven Toeplitz hash against DPDK's bit-by-bit rte_softrss(),
// against Microsoft's RSS verification values, and the symmetric key.

#include <synack/runtime/toeplitz.hpp>

#include <catch2/catch.hpp>

#include <rte_thash.h>

#include <random>
#include <vector>

using namespace synack;
using runtime::Toeplitz;

namespace {

// The key of Microsoft's RSS specification ("Verifying the RSS Hash Calculation").
const std::vector<std::uint8_t> microsoft_key = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

std::uint32_t softrss(std::span<const std::uint8_t> key, std::uint32_t src, std::uint32_t dst, std::uint16_t sport,
                      std::uint16_t dport, bool ports) {
    rte_ipv4_tuple t{};
    t.src_addr = src;
    t.dst_addr = dst;
    t.sport = sport;
    t.dport = dport;
    return rte_softrss(reinterpret_cast<std::uint32_t*>(&t), ports ? RTE_THASH_V4_L4_LEN : RTE_THASH_V4_L3_LEN,
                       key.data());
}

wire::Ipv4Addr addr(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return wire::Ipv4Addr::from_octets(a, b, c, d);
}

} // namespace

TEST_CASE("toeplitz: Microsoft's RSS verification values (IPv4, IPv4 with TCP)", "[runtime][rss]") {
    const Toeplitz h(microsoft_key);
    // Source 66.9.149.187:2794, destination 161.142.100.80:1766.
    CHECK(h.ipv4(addr(66, 9, 149, 187), addr(161, 142, 100, 80)) == 0x323e8fc2u);
    CHECK(h.ipv4_tcp(addr(66, 9, 149, 187), addr(161, 142, 100, 80), 2794, 1766) == 0x51ccc178u);
    // Source 199.92.111.2:14230, destination 65.69.140.83:4739.
    CHECK(h.ipv4(addr(199, 92, 111, 2), addr(65, 69, 140, 83)) == 0xd718262au);
    CHECK(h.ipv4_tcp(addr(199, 92, 111, 2), addr(65, 69, 140, 83), 14230, 4739) == 0xc626b0eau);
}

TEST_CASE("toeplitz: the table gives what rte_softrss gives, for any key and tuple", "[runtime][rss]") {
    std::mt19937 rng(20261121);
    const auto symmetric = runtime::symmetric_rss_key();
    std::vector<std::vector<std::uint8_t>> keys = {microsoft_key, {symmetric.begin(), symmetric.end()}};
    std::vector<std::uint8_t> random52(52); // some NICs (i40e) take 52 bytes
    for (auto& b : random52) {
        b = static_cast<std::uint8_t>(rng());
    }
    keys.push_back(random52);
    for (const auto& key : keys) {
        const Toeplitz h(key);
        for (int i = 0; i < 2000; ++i) {
            const std::uint32_t src = rng();
            const std::uint32_t dst = rng();
            const auto sport = static_cast<std::uint16_t>(rng());
            const auto dport = static_cast<std::uint16_t>(rng());
            REQUIRE(h.ipv4_tcp({src}, {dst}, sport, dport) == softrss(key, src, dst, sport, dport, true));
            REQUIRE(h.ipv4({src}, {dst}) == softrss(key, src, dst, 0, 0, false));
        }
    }
}

TEST_CASE("toeplitz: with the symmetric key both directions of a flow hash alike", "[runtime][rss]") {
    const auto key = runtime::symmetric_rss_key();
    const Toeplitz h(key);
    std::mt19937 rng(7);
    for (int i = 0; i < 2000; ++i) {
        const wire::Ipv4Addr a{static_cast<std::uint32_t>(rng())};
        const wire::Ipv4Addr b{static_cast<std::uint32_t>(rng())};
        const auto pa = static_cast<std::uint16_t>(rng());
        const auto pb = static_cast<std::uint16_t>(rng());
        REQUIRE(h.ipv4_tcp(a, b, pa, pb) == h.ipv4_tcp(b, a, pb, pa));
        REQUIRE(h.ipv4(a, b) == h.ipv4(b, a));
    }
    // And Microsoft's key is not symmetric: the property is the key's.
    const Toeplitz m(microsoft_key);
    CHECK(m.ipv4_tcp(addr(66, 9, 149, 187), addr(161, 142, 100, 80), 2794, 1766) !=
          m.ipv4_tcp(addr(161, 142, 100, 80), addr(66, 9, 149, 187), 1766, 2794));
}
