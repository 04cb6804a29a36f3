#include <synack/base/siphash.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>

TEST_CASE("siphash24: the reference vector of the SipHash paper (appendix A)", "[base]") {
    // Key 00 01 .. 0f, message 00 01 .. 0e (15 bytes).
    const synack::SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    std::array<std::uint8_t, 15> msg{};
    for (std::uint8_t i = 0; i < msg.size(); ++i) {
        msg[i] = i;
    }
    REQUIRE(synack::siphash24(key, msg) == 0xa129ca6149be45e5ULL);
}

TEST_CASE("siphash24: every message length up to 64 gives a distinct value", "[base]") {
    const synack::SipKey key{1, 2};
    std::array<std::uint8_t, 64> msg{};
    std::uint64_t previous = 0;
    for (std::size_t len = 0; len <= msg.size(); ++len) {
        const std::uint64_t h = synack::siphash24(key, std::span(msg).first(len));
        REQUIRE(h != previous); // the length is part of the last word
        previous = h;
    }
}

TEST_CASE("siphash24: the key changes the hash", "[base]") {
    const std::array<std::uint8_t, 4> msg = {1, 2, 3, 4};
    REQUIRE(synack::siphash24({1, 2}, msg) != synack::siphash24({1, 3}, msg));
}

TEST_CASE("derive_key: one root gives unrelated keys per label, the same ones every time", "[base]") {
    const synack::SipKey root{0x1111, 0x2222};
    const synack::SipKey flow = synack::derive_key(root, "flow table");
    const synack::SipKey isn = synack::derive_key(root, "isn");
    REQUIRE((flow.k0 != isn.k0 && flow.k1 != isn.k1));
    REQUIRE(flow.k0 != flow.k1);
    const synack::SipKey again = synack::derive_key(root, "flow table");
    REQUIRE((again.k0 == flow.k0 && again.k1 == flow.k1));
    const synack::SipKey other_root = synack::derive_key(synack::SipKey{0x1111, 0x2223}, "flow table");
    REQUIRE(other_root.k0 != flow.k0);
    // The label is not the root: deriving never hands the root back.
    REQUIRE((flow.k0 != root.k0 || flow.k1 != root.k1));
}
