#pragma once
// A connection's receive buffer (docs/design.md "Buffers and the zero-copy
// path"): in-order payload the application has not released yet, held in the
// very mbufs the NIC filled. The TCP layer trims the headers (rte_pktmbuf_adj)
// and pushes the payload; the application reads it in place (peek, front) and
// releases it (consume), or takes the mbufs themselves to forward them (take).
//
// The advertised window follows what the application has not released:
// RCV.WND = capacity - bytes held. When to announce a window that reopened
// (receiver-side SWS avoidance, RFC 9293 section 3.8.6.2.2) is for the TCP
// layer to decide, not this buffer.
//
// Two limits: bytes (the window) and segments (mbufs). A small segment is
// copied onto the end of the last mbuf held when it fits there (as Linux
// collapses its receive queue), so a peer sending 1-byte segments into a
// 64 KiB window fills an mbuf with a couple of thousand of them rather than
// pinning one mbuf per byte of the RX pool. What still exceeds the segment
// limit is refused (the TCP layer drops and counts it; the peer resends).

#include <synack/base/result.hpp>
#include <synack/tcp/mbuf_queue.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/mbuf.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstddef>
#include <cstdint>

namespace synack::tcp {

/// Why push() refused a payload. On every error the payload stays with the
/// caller, untouched; the TCP layer frees it and counts a drop.
enum class RecvError : std::uint8_t {
    /// The handle is empty or len is 0: nothing to queue.
    empty,
    /// len exceeds window(): a peer ignoring the advertised window, or a bug.
    would_exceed_limit,
    /// Queuing would hold more than segments_max mbufs.
    too_many_segments,
    /// The payload needs an mbuf of its own and the caller allows none (the
    /// engine's pool is low): only a copy into the last mbuf would do.
    no_mbuf_budget,
};

/// Payloads up to this size are copied onto the last mbuf held when it has
/// room: cheaper than the mbuf they would pin, and reads see fewer pieces.
inline constexpr std::uint32_t recv_copy_max_bytes = 512;

/// Stable lower-case name of the error, for logs and counter names.
const char* to_string(RecvError e) noexcept;

/// In-order received bytes not yet released by the application, held in the
/// mbufs they arrived in. Move-only: it owns its mbufs.
class RecvBuffer {
public:
    /// An empty buffer offering capacity_bytes of window, holding at most
    /// segments_max mbufs, copying payloads of up to copy_max_bytes onto the
    /// last mbuf held when it has room (0: never, every push links).
    RecvBuffer(std::uint32_t capacity_bytes, std::uint32_t segments_max,
               std::uint32_t copy_max_bytes = recv_copy_max_bytes) noexcept
        : capacity_bytes_(capacity_bytes), segments_max_(segments_max), copy_max_bytes_(copy_max_bytes) {}
    /// Takes o's bytes and limits; o is left empty (its limits unchanged).
    RecvBuffer(RecvBuffer&& o) noexcept = default;
    /// Frees this buffer's mbufs, then takes o's bytes and limits; o is left empty.
    RecvBuffer& operator=(RecvBuffer&& o) noexcept = default;
    RecvBuffer(const RecvBuffer&) = delete;
    RecvBuffer& operator=(const RecvBuffer&) = delete;
    /// Frees every mbuf held.
    ~RecvBuffer() = default;

    /// Queues the first len bytes of the chain `payload` behind what is held.
    /// Up to copy_max_bytes (or any size when may_add_mbufs is false)
    /// they are copied onto the last mbuf held if it has the room; otherwise
    /// the chain's segments are linked as they are, without copying. Bytes
    /// past len (Ethernet padding of a short frame, data beyond the window
    /// the TCP layer cut off) are dropped, and segments left empty are freed.
    /// Ownership: on success `payload` is emptied (freed after a copy); on any
    /// error it is left as it was, for the caller to free (and count) or keep.
    /// Precondition: the chain holds at least len bytes, starting at the
    /// first payload byte (headers already trimmed).
    /// Returns ok; RecvError::empty for an empty handle or len 0;
    /// RecvError::would_exceed_limit when len > window();
    /// RecvError::no_mbuf_budget when the bytes could not be copied and
    /// may_add_mbufs is false; RecvError::too_many_segments when the mbufs
    /// carrying the len bytes would bring segments() past segments_max().
    Status<RecvError> push(wire::MbufPtr& payload, std::uint32_t len, bool may_add_mbufs = true) noexcept;

    /// Fills out[0..k) with spans over the unread bytes, in order, one per
    /// segment from the front, each pointing into the mbuf that carried it
    /// (nothing is copied), with k = min(max, segments()).
    /// The spans stay valid until the next consume(), take(), take_exact() or
    /// clear(), or the buffer's destruction.
    /// Precondition: out points to at least max spans.
    /// Returns k (0 when empty or max is 0).
    std::size_t peek(wire::Bytes* out, std::size_t max) const noexcept;

    /// The first mbuf held, or null when empty; the others follow through
    /// next. Only data_off and data_len describe the buffer (the head's
    /// pkt_len and nb_segs are its own); read, do not modify or free.
    const rte_mbuf* front() const noexcept { return queue_.front(); }

    /// Releases the first n bytes (the application is done with them): frees
    /// the mbufs they cover and trims the one they end inside; window() grows
    /// by n.
    /// Precondition: n <= bytes().
    void consume(std::uint32_t n) noexcept { queue_.drop_front(n); }

    /// Hands over whole mbufs from the front, without copying, as many as fit
    /// in max_bytes (and in one chain, UINT16_MAX segments): the proxy case.
    /// A segment is never split, so the result may hold fewer than max_bytes;
    /// use take_exact() for an exact count.
    /// Returns the chain (its pkt_len is the number of bytes taken, which
    /// window() grows by), or an empty handle when the first segment alone
    /// exceeds max_bytes or nothing is held.
    wire::MbufPtr take(std::uint32_t max_bytes) noexcept;

    /// Hands over exactly the first n bytes as one chain, without copying:
    /// the whole mbufs they cover, then, when n ends inside a segment, an
    /// indirect mbuf from clone_pool attached to that segment's first part
    /// (the rest stays held, referencing the same data).
    /// Precondition: n <= bytes().
    /// Returns the chain (pkt_len n); an empty handle when n is 0, when
    /// clone_pool is exhausted, or when the n bytes span more mbufs than one
    /// chain holds; in each empty case nothing was taken.
    wire::MbufPtr take_exact(std::uint32_t n, rte_mempool* clone_pool) noexcept;

    /// Frees everything held (connection aborted); the limits stay.
    void clear() noexcept { queue_.clear(); }

    /// Unread bytes held.
    std::uint32_t bytes() const noexcept { return queue_.bytes(); }
    /// The window offered when empty.
    std::uint32_t capacity() const noexcept { return capacity_bytes_; }
    /// RCV.WND: capacity minus the bytes held, never below 0.
    std::uint32_t window() const noexcept {
        return queue_.bytes() < capacity_bytes_ ? capacity_bytes_ - queue_.bytes() : 0;
    }
    /// Mbufs held.
    std::uint32_t segments() const noexcept { return queue_.segments(); }
    /// The limit on segments() given at construction.
    std::uint32_t segments_max() const noexcept { return segments_max_; }
    /// True when no unread byte is held.
    bool empty() const noexcept { return queue_.empty(); }

private:
    MbufQueue queue_;
    std::uint32_t capacity_bytes_;
    std::uint32_t segments_max_;
    std::uint32_t copy_max_bytes_;
};

} // namespace synack::tcp
