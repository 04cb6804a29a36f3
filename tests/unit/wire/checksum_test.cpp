#include <synack/wire/checksum.hpp>

#include <catch2/catch.hpp>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

using namespace synack::wire;

namespace {

std::vector<std::uint8_t> random_bytes(std::mt19937& rng, std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) {
        b = static_cast<std::uint8_t>(rng());
    }
    return v;
}

// DPDK's rte_raw_cksum sums native-order words; on this (little-endian) host
// that is our network-order sum byte-swapped. An independent oracle.
std::uint16_t dpdk_folded(const std::vector<std::uint8_t>& v) {
    return rte_be_to_cpu_16(rte_raw_cksum(v.data(), v.size()));
}

} // namespace

TEST_CASE("checksum: RFC 1071 section 3 numerical example", "[wire][rfc1071]") {
    const std::array<std::uint8_t, 8> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    Checksum c;
    c.add(data);
    REQUIRE(c.folded() == 0xddf2);
    REQUIRE(c.finish() == 0x220d);
}

TEST_CASE("checksum: matches DPDK's rte_raw_cksum for every length 0..300", "[wire][rfc1071]") {
    std::mt19937 rng(1);
    for (std::size_t n = 0; n <= 300; ++n) {
        const auto v = random_bytes(rng, n);
        Checksum c;
        c.add(v);
        INFO("length " << n);
        REQUIRE(c.folded() == dpdk_folded(v));
    }
}

TEST_CASE("checksum: pieces of odd length sum like the whole (RFC 1071 section 2(B))",
          "[wire][rfc1071]") {
    std::mt19937 rng(2);
    const auto v = random_bytes(rng, 97);
    Checksum whole;
    whole.add(v);
    for (std::size_t a = 0; a <= v.size(); ++a) {
        for (std::size_t b = a; b <= v.size(); b += 7) {
            Checksum pieces;
            pieces.add({v.data(), a});
            pieces.add({v.data() + a, b - a});
            pieces.add({v.data() + b, v.size() - b});
            INFO("split at " << a << " and " << b);
            REQUIRE(pieces.folded() == whole.folded());
        }
    }
}

TEST_CASE("checksum: data carrying its correct checksum verifies", "[wire][rfc1071]") {
    std::mt19937 rng(3);
    auto v = random_bytes(rng, 40);
    v[10] = v[11] = 0;
    const std::uint16_t sum = checksum(v);
    store_be16(v.data() + 10, sum);
    Checksum c;
    c.add(v);
    REQUIRE(c.verifies());
    v[20] ^= 0x01;
    Checksum broken;
    broken.add(v);
    REQUIRE_FALSE(broken.verifies());
}

TEST_CASE("checksum: IPv4 pseudo-header matches DPDK's rte_ipv4_phdr_cksum",
          "[wire][rfc9293]") {
    rte_ipv4_hdr ip{};
    ip.version_ihl = 0x45;
    ip.total_length = rte_cpu_to_be_16(20 + 1234);
    ip.next_proto_id = 6;
    ip.src_addr = rte_cpu_to_be_32(0x0a4d0001);
    ip.dst_addr = rte_cpu_to_be_32(0xc0a80102);
    const std::uint16_t ours = ipv4_pseudo_sum(Ipv4Addr{0x0a4d0001}, Ipv4Addr{0xc0a80102}, 6, 1234);
    REQUIRE(ours == rte_be_to_cpu_16(rte_ipv4_phdr_cksum(&ip, 0)));
}

TEST_CASE("checksum: IPv6 pseudo-header matches DPDK's rte_ipv6_phdr_cksum",
          "[wire][rfc8200]") {
    rte_ipv6_hdr ip{};
    ip.payload_len = rte_cpu_to_be_16(1234);
    ip.proto = 6;
    Ipv6Addr src;
    Ipv6Addr dst;
    for (std::uint8_t i = 0; i < 16; ++i) {
        src.bytes[i] = static_cast<std::uint8_t>(0xfd + i * 7);
        dst.bytes[i] = static_cast<std::uint8_t>(0x20 + i * 13);
    }
    std::memcpy(ip.src_addr, src.bytes.data(), 16);
    std::memcpy(ip.dst_addr, dst.bytes.data(), 16);
    REQUIRE(ipv6_pseudo_sum(src, dst, 6, 1234) == rte_be_to_cpu_16(rte_ipv6_phdr_cksum(&ip, 0)));
}

TEST_CASE("checksum: RFC 1624 section 4 example gives 0x0000, not RFC 1141's 0xffff",
          "[wire][rfc1624]") {
    REQUIRE(checksum_adjust16(0xdd2f, 0x5555, 0x3285) == 0x0000);
}

TEST_CASE("checksum: incremental update equals a full recompute (RFC 1624 eqn 3)",
          "[wire][rfc1624]") {
    std::mt19937 rng(4);
    for (int round = 0; round < 2000; ++round) {
        auto v = random_bytes(rng, 20);
        v[10] = v[11] = 0;
        const std::uint16_t before = checksum(v);
        store_be16(v.data() + 10, before);

        // Rewrite a 16-bit word (a port) and a 32-bit field (an address).
        const std::size_t at16 = (rng() % 4) * 2;
        const std::uint16_t old16 = load_be16(v.data() + at16);
        const auto new16 = static_cast<std::uint16_t>(rng());
        store_be16(v.data() + at16, new16);
        const std::uint32_t old32 = load_be32(v.data() + 12);
        const std::uint32_t new32 = round % 3 == 0 ? 0 : static_cast<std::uint32_t>(rng());
        store_be32(v.data() + 12, new32);
        std::uint16_t adjusted = checksum_adjust16(before, old16, new16);
        adjusted = checksum_adjust32(adjusted, old32, new32);

        store_be16(v.data() + 10, adjusted);
        Checksum c;
        c.add(v);
        INFO("round " << round);
        REQUIRE(c.verifies());
    }
}
