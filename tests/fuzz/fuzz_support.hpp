#pragma once
// Shared by the fuzz targets: each parser wrapped with the checks of what its
// view promises, and the layer slices of a golden frame that seed a target.
//
// A check that fails traps (__builtin_trap after one line on stderr): libFuzzer
// reports it as a crash with the input saved, and the replay test dies with it.
// The checks never assert on what the input contains, only on what a parser
// that accepted it hands back.
//
// Only span-level wire headers are included: the targets run without DPDK.

#include <synack/base/result.hpp>
#include <synack/wire/arp.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/error.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/icmp.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/ipv6.hpp>
#include <synack/wire/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace synack::fuzz {

using wire::Bytes;

[[noreturn]] void check_failed(const char* expr, const char* file, int line) noexcept;

} // namespace synack::fuzz

/// Traps when a promise of a parsed view does not hold.
#define FUZZ_CHECK(expr)                                                                           \
    (__builtin_expect(static_cast<bool>(expr), 1)                                                  \
         ? static_cast<void>(0)                                                                    \
         : ::synack::fuzz::check_failed(#expr, __FILE__, __LINE__))

namespace synack::fuzz {

/// Every parser entry point below parses `in` (under each checksum mode where
/// the parser takes one), traps if what it returns breaks a promise, and
/// returns the result of the permissive mode (known_good) so that a caller can
/// go on to the next layer whatever the checksums say.
Result<wire::EthernetFrame, wire::WireError> check_ethernet(Bytes in) noexcept;
Result<wire::ArpRepr, wire::WireError> check_arp(Bytes in) noexcept;
Result<wire::Ipv4Packet, wire::WireError> check_ipv4(Bytes in) noexcept;
Result<wire::Ipv6Packet, wire::WireError> check_ipv6(Bytes in) noexcept;
Result<wire::Icmpv4Packet, wire::WireError> check_icmpv4(Bytes in) noexcept;
Result<wire::TcpSegment, wire::WireError> check_tcp(Bytes in, std::uint16_t pseudo_sum) noexcept;
/// parse_tcp_options on an area of any length, with the emit/re-parse round trip.
void check_tcp_options(Bytes area) noexcept;

/// The whole frame, layer by layer, as tests/unit/wire/golden_test.cpp walks it:
/// Ethernet, then ARP, IPv4 (TCP or ICMP above it) or IPv6 (TCP above it).
void check_stack(Bytes frame) noexcept;

/// One real input of some layer, cut from a golden frame.
struct Slice {
    Bytes bytes;
    /// The pseudo-header sum that belongs to bytes when they are a TCP
    /// segment (0 for the other slices).
    std::uint16_t pseudo_sum = 0;
};

/// The frame whole, without its Ethernet header, and (where the IP header
/// parses) its IP payload: the inputs each per-layer target sees from it.
std::vector<Slice> layer_slices(Bytes frame);

using Input = std::vector<std::uint8_t>;

} // namespace synack::fuzz

/// Defined by each target next to LLVMFuzzerTestOneInput: the inputs in that
/// target's format made from one golden frame, for the replay test and the
/// seed corpus of scripts/fuzz.sh.
std::vector<synack::fuzz::Input> fuzz_seeds_from_frame(synack::fuzz::Bytes frame);

/// Inputs of the libFuzzer entry point (declared for the replay driver).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
