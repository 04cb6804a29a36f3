#pragma once
// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012): a keyed hash that an attacker who does not know the key cannot steer.
// Used where the network chooses the input: ISNs (RFC 6528), SYN cookies and
// the flow-table hash.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace synack {

/// A 128-bit SipHash key.
struct SipKey {
    std::uint64_t k0 = 0;
    std::uint64_t k1 = 0;
};

/// SipHash-2-4 of the bytes under the key.
std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> bytes) noexcept;

/// A key for one use, derived from a root secret and a label naming the use
/// ("flow table", "isn", ...): two SipHash-2-4 outputs of the label under the
/// root. Keys of different labels are unrelated, so what one use reveals
/// (an ISN on the wire) tells nothing of another (the flow table's buckets).
SipKey derive_key(const SipKey& root, std::string_view label) noexcept;

} // namespace synack
