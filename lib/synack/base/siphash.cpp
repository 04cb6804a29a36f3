#include <synack/base/siphash.hpp>

#include <algorithm>
#include <bit>
#include <cstring>

namespace synack {

namespace {

struct State {
    std::uint64_t v0, v1, v2, v3;

    void round() noexcept {
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    }

    void compress(std::uint64_t m) noexcept {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

// The paper reads message words little-endian, whatever the host.
std::uint64_t load_le64(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

} // namespace

std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> bytes) noexcept {
    // Initialisation constants: "somepseudorandomlygeneratedbytes".
    State s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
            key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
    const std::size_t n = bytes.size();
    const std::uint8_t* p = bytes.data();
    const std::size_t whole = n - n % 8;
    for (std::size_t i = 0; i < whole; i += 8) {
        s.compress(load_le64(p + i));
    }
    // Last word: the remaining bytes, with the message length mod 256 on top.
    std::uint64_t last = static_cast<std::uint64_t>(n & 0xff) << 56;
    for (std::size_t i = 0; i < n % 8; ++i) {
        last |= static_cast<std::uint64_t>(p[whole + i]) << (8 * i);
    }
    s.compress(last);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) {
        s.round();
    }
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

SipKey derive_key(const SipKey& root, std::string_view label) noexcept {
    // The label, then a byte telling the two halves apart. Labels are short
    // constants: longer ones are cut at 62 bytes.
    std::uint8_t in[64] = {};
    const std::size_t n = std::min<std::size_t>(label.size(), sizeof in - 2);
    std::memcpy(in, label.data(), n);
    in[n] = 0; // the end of the label, so "ab" + 1 differs from "ab\x01"
    in[n + 1] = 0;
    const std::span<const std::uint8_t> bytes(in, n + 2);
    const std::uint64_t k0 = siphash24(root, bytes);
    in[n + 1] = 1;
    return SipKey{k0, siphash24(root, bytes)};
}

} // namespace synack
