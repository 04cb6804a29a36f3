#pragma once
// A connection's send buffer, which is also its retransmission queue
// (docs/design.md "Buffers and the zero-copy path"): the bytes the application
// committed and the peer has not acknowledged, as the very mbufs the
// application handed over. Offset 0 is SND.UNA (RFC 9293 section 3.3.1); the
// TCP layer keeps SND.NXT and the sequence numbers, this buffer only bytes.
//
// Sending never copies: slice() builds a packet whose first mbuf is a fresh,
// empty header mbuf (wire::prepend_* write TCP, IP and Ethernet into its
// headroom) followed by indirect mbufs attached to the buffered segments. The
// buffered originals stay as the retransmission copy; the attachments hold a
// reference on their data, so an ACK that frees an original while a slice of
// it still waits in a TX ring leaves that slice intact.

#include <synack/base/result.hpp>
#include <synack/tcp/mbuf_queue.hpp>
#include <synack/wire/mbuf.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>

namespace synack::tcp {

/// Why append() refused a chain. On either error the chain stays with the
/// caller, untouched.
enum class SendError : std::uint8_t {
    /// The handle is empty or the chain carries no byte.
    empty,
    /// The chain carries more bytes than space() allows.
    would_exceed_limit,
};

/// Stable lower-case name of the error, for logs and counter names.
const char* to_string(SendError e) noexcept;

/// Bytes from SND.UNA onwards, held in mbufs, at most bytes_max of them.
/// Move-only: it owns its mbufs.
class SendBuffer {
public:
    /// An empty buffer that will hold at most bytes_max bytes.
    explicit SendBuffer(std::uint32_t bytes_max) noexcept : bytes_max_(bytes_max) {}
    /// Takes o's bytes and limit; o is left empty (its limit unchanged).
    SendBuffer(SendBuffer&& o) noexcept;
    /// Frees this buffer's mbufs, then takes o's bytes and limit; o is left empty.
    SendBuffer& operator=(SendBuffer&& o) noexcept;
    SendBuffer(const SendBuffer&) = delete;
    SendBuffer& operator=(const SendBuffer&) = delete;
    /// Frees every buffered mbuf (slices in flight keep their own references).
    ~SendBuffer() = default;

    /// Links the segments of the chain `data` at the tail, without copying.
    /// Each segment's data (data_off, data_len) is payload; whatever headroom
    /// the application reserved is left alone. Empty segments are freed.
    /// Ownership: on success `data` is emptied (the buffer owns the chain); on
    /// any error `data` is left as it was, so the caller decides whether to
    /// retry after a writable event or free it. Nothing leaks either way.
    /// Precondition: the caller owns the chain's mbuf headers outright (no
    /// other chain links them); their data may be shared with clones.
    /// Returns ok; SendError::empty for an empty handle or a chain without
    /// bytes; SendError::would_exceed_limit when its bytes exceed space().
    Status<SendError> append(wire::MbufPtr& data) noexcept;

    /// Packet for the bytes [offset, offset + len): a new direct header mbuf
    /// from hdr_pool (data_len 0, the pool's full headroom, ready for
    /// wire::prepend_*), followed by one indirect mbuf from clone_pool per
    /// buffered segment the range touches, attached to it and cut to the
    /// range. nb_segs and pkt_len describe the packet (pkt_len == len before
    /// headers are prepended). No byte is copied, and the buffer is unchanged
    /// except for its cursor: a slice starting at or after the previous one
    /// walks on from where that one ended, so sending a long queue in order is
    /// amortized O(1) per packet; a slice from offset 0 (retransmission)
    /// starts at the head.
    /// clone_pool may be hdr_pool; an indirect mbuf never uses its own data
    /// room, so a pool with data room 0 saves memory for it. len 0 is allowed
    /// and yields the header mbuf alone (a pure ACK, SYN or FIN).
    /// Preconditions: offset + len <= bytes(); hdr_pool's data room holds
    /// wire::max_header_room; the range spans fewer than UINT16_MAX segments.
    /// Returns the packet, owned by the caller; or an empty handle when either
    /// pool ran dry (back-pressure: retry later), in which case every mbuf
    /// taken so far has been returned and the buffer is unchanged.
    wire::MbufPtr slice(std::uint32_t offset, std::uint32_t len, rte_mempool* hdr_pool,
                        rte_mempool* clone_pool) noexcept;

    /// slice() with the indirect mbufs from hdr_pool too.
    wire::MbufPtr slice(std::uint32_t offset, std::uint32_t len, rte_mempool* pool) noexcept {
        return slice(offset, len, pool, pool);
    }

    /// Drops n bytes from the front (SND.UNA advanced by n): frees the
    /// segments they cover and trims the one they end inside. Slices in flight
    /// stay valid: they hold their own references and offsets.
    /// Precondition: n <= bytes().
    void acknowledge(std::uint32_t n) noexcept;

    /// Frees every buffered mbuf (connection aborted); bytes_max stays.
    void clear() noexcept;

    /// Bytes held: committed by the application, not yet acknowledged.
    std::uint32_t bytes() const noexcept { return queue_.bytes(); }
    /// Bytes append() still accepts (0 when full): the writable signal.
    std::uint32_t space() const noexcept { return bytes_max_ - queue_.bytes(); }
    /// The limit given at construction.
    std::uint32_t bytes_max() const noexcept { return bytes_max_; }
    /// True when no byte is held.
    bool empty() const noexcept { return queue_.empty(); }
    /// Mbufs held (one per buffered segment).
    std::uint32_t segments() const noexcept { return queue_.segments(); }

private:
    MbufQueue queue_;
    std::uint32_t bytes_max_;
    // The segment that held the last byte of the latest slice, and the offset
    // of its first byte; null when unknown (after an ACK dropped it, clear,
    // or a move). Only ever points at a segment of queue_.
    rte_mbuf* cursor_ = nullptr;
    std::uint32_t cursor_offset_ = 0;
};

} // namespace synack::tcp
