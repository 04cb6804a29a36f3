#pragma once
// A FIFO of byte segments held in mbufs, linked through the mbufs' own `next`
// pointers: the storage under a connection's send and receive buffers
// (docs/design.md "Buffers and the zero-copy path"). Linking through the mbufs
// needs no allocation and no node type; the queue keeps head, tail, byte and
// segment counts itself, because the head mbuf's pkt_len and nb_segs are 16-
// and 32-bit fields of one packet, not of a stream.
//
// Invariants: every queued segment holds at least one byte (empty segments are
// freed on entry, so walking by offset never meets a zero-length step); each
// segment has nb_segs 1 and pkt_len equal to its data_len, so that any of them
// can be attached to (rte_pktmbuf_attach) or freed (rte_pktmbuf_free_seg) on
// its own; the tail's next is null.

#include <rte_mbuf.h>

#include <cstdint>

namespace synack::tcp {

/// How much of a chain a queue would hold: the bytes it carries, up to a limit,
/// and the number of non-empty segments that carry them.
struct ChainExtent {
    std::uint64_t bytes = 0;
    std::uint32_t segments = 0;
};

/// Measures the first len_max bytes of the chain m (all of it by default) by
/// walking data_len through next, trusting neither pkt_len nor nb_segs.
/// A null m measures as zero bytes, zero segments.
ChainExtent chain_extent(const rte_mbuf* m, std::uint64_t len_max = UINT64_MAX) noexcept;

/// Owns a sequence of single mbuf segments linked through rte_mbuf::next.
/// Move-only; moving leaves the source empty. The destructor frees every
/// segment (rte_pktmbuf_free_seg, so segments shared with indirect clones
/// elsewhere live on until those are freed).
class MbufQueue {
public:
    /// An empty queue.
    MbufQueue() noexcept = default;
    /// Takes o's segments; o is left empty.
    MbufQueue(MbufQueue&& o) noexcept;
    /// Frees this queue's segments, then takes o's; o is left empty.
    MbufQueue& operator=(MbufQueue&& o) noexcept;
    MbufQueue(const MbufQueue&) = delete;
    MbufQueue& operator=(const MbufQueue&) = delete;
    /// Frees every segment (see clear()).
    ~MbufQueue() { clear(); }

    /// Bytes held, summed over the segments' data_len.
    std::uint32_t bytes() const noexcept { return bytes_; }
    /// Segments (mbufs) held.
    std::uint32_t segments() const noexcept { return segments_; }
    /// True when nothing is held.
    bool empty() const noexcept { return head_ == nullptr; }
    /// The first segment, or null when empty; walk the rest through next (the
    /// last segment's next is null). Only data_off and data_len describe the
    /// queue: the head's pkt_len and nb_segs are those of one segment.
    rte_mbuf* front() const noexcept { return head_; }

    /// Takes ownership of the chain and links the first len bytes at the tail,
    /// segment by segment, without copying: segments are kept as they are,
    /// the one in which len ends is cut short (data_len), and segments that are
    /// empty or lie past len are freed.
    /// Preconditions: the chain holds at least len bytes; bytes() + len fits
    /// in 32 bits; no other chain links these mbuf headers (their data buffers
    /// may be shared with clones).
    void push_back(rte_mbuf* chain, std::uint32_t len) noexcept;

    /// Copies the first len bytes of the chain onto the end of the tail
    /// segment, when the tail is a direct mbuf that nobody else references
    /// (no clone in flight shares its buffer) and has len bytes of tailroom:
    /// a small segment then costs no mbuf of its own (as Linux collapses its
    /// receive queue). The chain is left as it was, for the caller to free.
    /// Precondition: the chain holds at least len bytes.
    /// Returns whether the bytes were copied (false: nothing changed).
    bool append_copy(const rte_mbuf* chain, std::uint32_t len) noexcept;

    /// Drops n bytes from the front: frees the segments they cover entirely,
    /// and advances data_off of the one they end inside. In-flight indirect
    /// clones of these segments keep their own data_off and their reference
    /// on the data, so they stay intact.
    /// Precondition: n <= bytes().
    void drop_front(std::uint32_t n) noexcept;

    /// Unlinks whole segments from the front, in order, as long as their total
    /// stays within max_bytes and their count within segments_max, and returns
    /// them as one valid chain (nb_segs and pkt_len of the whole, last next
    /// null) that the caller owns. Returns null when the first segment alone
    /// exceeds max_bytes, or when the queue is empty.
    /// Precondition: 1 <= segments_max <= UINT16_MAX (an mbuf chain's limit).
    rte_mbuf* pop_front(std::uint32_t max_bytes, std::uint32_t segments_max = UINT16_MAX) noexcept;

    /// Frees every segment and leaves the queue empty.
    void clear() noexcept;

private:
    void link_tail(rte_mbuf* seg) noexcept;

    rte_mbuf* head_ = nullptr;
    rte_mbuf* tail_ = nullptr;
    std::uint32_t bytes_ = 0;
    std::uint32_t segments_ = 0;
};

} // namespace synack::tcp
