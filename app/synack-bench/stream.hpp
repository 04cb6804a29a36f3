#pragma once
// The stream synack-bench sends and checks in every mode, so that either
// end can tell that nothing was lost, duplicated or reordered: byte i of a
// connection is i mod 251 (a prime, so it never lines up with segment sizes).

#include "sha256.hpp"

#include <synack/api/stack.hpp>

#include <cstdint>

namespace synack::bench {

inline std::uint8_t stream_byte(std::uint64_t i) noexcept { return static_cast<std::uint8_t>(i % 251); }

/// The stream's bytes from offset on, at most max of them (and at most
/// 64 KiB): a view of a table, for a copy or a send().
wire::Bytes stream_piece(std::uint64_t offset, std::size_t max) noexcept;

/// How many bytes of data differ from the stream at offset.
std::uint64_t stream_errors(wire::Bytes data, std::uint64_t offset) noexcept;

/// Queues the stream's bytes from offset `sent` up to `total`, as far as the
/// send buffer and the pool allow (filled buffers, zero copy from there on).
/// Returns the bytes queued.
std::uint64_t send_stream(Stack& s, Conn c, std::uint64_t sent, std::uint64_t total) noexcept;

/// Reads and releases what arrived, checking it in place against the stream
/// from offset `received`, and adding it to hash when one is given.
struct Checked {
    std::uint32_t bytes = 0;
    std::uint64_t errors = 0; // bytes that differ from the stream
};
Checked read_stream(Stack& s, Conn c, std::uint64_t received, Sha256* hash = nullptr) noexcept;

/// Sends back what arrived, as far as the send buffer and the pool allow,
/// and releases what was sent back; the rest stays unread (the window
/// closes on the peer: back-pressure, no buffering here). Returns the bytes.
std::uint32_t echo_stream(Stack& s, Conn c) noexcept;

} // namespace synack::bench
