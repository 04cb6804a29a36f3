#pragma once
// Shared by the unit tests: the mempool started by test_main, golden packets
// captured from Linux (tests/data/linux/*.hex), and mbufs made from bytes.

#include <synack/wire/mbuf.hpp>

#include <rte_mempool.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace synack::test {

/// The mbuf pool of the test process (4095 mbufs, default data room).
rte_mempool* pool();

/// Bytes of hex text: whitespace separates, lines starting with '#' are comments.
std::vector<std::uint8_t> parse_hex(std::string_view text);

/// The frame in tests/data/linux/<name>.hex. Throws if it is missing.
std::vector<std::uint8_t> golden(std::string_view name);

/// Names of every golden frame (file names without .hex), sorted.
std::vector<std::string> golden_names();

/// A fresh mbuf from pool() holding bytes in its first segment.
wire::MbufPtr mbuf_from(std::span<const std::uint8_t> bytes);

/// The first sum(sizes) bytes of bytes as a chain of segments of those sizes
/// (zeros allowed); throws if they overrun bytes or the chain is too long.
wire::MbufPtr chain_of(std::span<const std::uint8_t> bytes, std::initializer_list<std::size_t> sizes);

/// The segments of a chain, head first.
std::vector<rte_mbuf*> segments_of(rte_mbuf* m);

/// Mbufs of pool() in use now (leak checks).
unsigned in_use();

/// The whole packet of a chain, copied out.
std::vector<std::uint8_t> bytes_of(const rte_mbuf* m);

} // namespace synack::test
