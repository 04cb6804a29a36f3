#pragma once
// Frames by hand, for the parties of the simulation that are not engines: a
// TCP segment or an ARP packet built into a fresh mbuf with every checksum
// right, and a frame read back into values. The engines' own code builds
// them (wire/build.hpp), so what a hand-made peer sends is what a real one
// would.

#include <synack/wire/arp.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/tcp.hpp>

#include <rte_mbuf.h>

#include <array>
#include <optional>

namespace synack::sim {

/// A TCP segment with its addresses, as values. Received, `payload` points
/// into the FrameReader that parsed it and lives as long as its next read.
struct Segment {
    wire::MacAddr src_mac;
    wire::MacAddr dst_mac;
    wire::Ipv4Addr src;
    wire::Ipv4Addr dst;
    wire::TcpRepr tcp;
    wire::Bytes payload;

    bool has(std::uint8_t flag) const noexcept { return (tcp.flags & flag) != 0; }
    /// RFC 9293 section 3.4: SEG.LEN counts the payload plus SYN and FIN.
    std::uint32_t seg_len() const noexcept {
        return static_cast<std::uint32_t>(payload.size()) + (has(wire::tcp_flag::syn) ? 1u : 0u) +
               (has(wire::tcp_flag::fin) ? 1u : 0u);
    }
};

/// An Ethernet/IPv4/TCP frame carrying s.tcp and s.payload (s.payload is
/// ignored; `payload` is sent), checksums filled; nullptr when the pool is empty.
rte_mbuf* build_tcp_frame(rte_mempool* pool, const Segment& s, wire::Bytes payload) noexcept;

/// An Ethernet frame carrying an ARP packet; nullptr when the pool is empty.
rte_mbuf* build_arp_frame(rte_mempool* pool, wire::MacAddr dst, wire::MacAddr src,
                          const wire::ArpRepr& arp) noexcept;

/// Reads frames (a chain or one mbuf) into values.
class FrameReader {
public:
    /// The ARP packet the frame carries, if it is one.
    std::optional<wire::ArpRepr> arp(const rte_mbuf* frame) noexcept;
    /// The TCP segment the frame carries, if it is one (IPv4, not a
    /// fragment). With `verify`, a bad checksum makes it none, as a NIC would
    /// drop it; without, the checksums are taken as right (a frame an engine
    /// just built).
    std::optional<Segment> tcp(const rte_mbuf* frame, bool verify = true) noexcept;

private:
    wire::Bytes gather(const rte_mbuf* frame) noexcept;

    std::array<std::uint8_t, RTE_MBUF_DEFAULT_DATAROOM> bytes_;
};

} // namespace synack::sim
