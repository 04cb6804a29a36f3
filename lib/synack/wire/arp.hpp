#pragma once
// ARP for IPv4 over Ethernet (RFC 826). Only hardware type 1 (Ethernet) with
// protocol type 0x0800 (IPv4) is handled; anything else is `unsupported`.

#include <synack/base/result.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/error.hpp>

#include <cstdint>

namespace synack::wire {

inline constexpr std::size_t arp_len = 28;

enum class ArpOp : std::uint16_t { request = 1, reply = 2 };

/// An ARP packet for IPv4 over Ethernet, as a value.
struct ArpRepr {
    std::uint16_t op = 0; // an ArpOp, kept raw: other opcodes (RARP) parse too
    MacAddr sender_mac;
    Ipv4Addr sender_ip;
    MacAddr target_mac;
    Ipv4Addr target_ip;

    bool is_request() const noexcept { return op == static_cast<std::uint16_t>(ArpOp::request); }
    bool is_reply() const noexcept { return op == static_cast<std::uint16_t>(ArpOp::reply); }

    /// Writes arp_len bytes. Precondition: out.size() >= arp_len.
    void emit(MutBytes out) const noexcept;
};

/// Parses the ARP payload of an Ethernet frame (trailing padding allowed).
/// Returns the packet, or: truncated (fewer than 28 bytes); unsupported (a
/// hardware type, protocol type or address length other than Ethernet/IPv4).
Result<ArpRepr, WireError> parse_arp(Bytes packet) noexcept;

} // namespace synack::wire
