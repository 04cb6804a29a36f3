#pragma once
// Out-of-order reassembly on the receive side: the data segments that arrived
// beyond RCV.NXT, held in the very mbufs they arrived in (no copying), until
// the hole in front of them fills.
//
// Read before editing:
// - RFC 9293 section 3.10.7.4, SHLD-31: "Segments with higher beginning
//   sequence numbers SHOULD be held for later processing." The RFC does not
//   say which copy to keep where a retransmission overlaps held data: the
//   bytes are the same, so either is correct.
// - RFC 9293 section 3.4: sequence arithmetic is modulo 2**32 (Seq32).
// - RFC 2018 sections 3 and 4: SACK blocks describe contiguous held data; the
//   first block names the data that triggered the ACK.
// - RFC 7323 section 2.3: a window never exceeds 2**30 bytes, so all the data
//   held lies within 2**30 of RCV.NXT and before()/after() order it correctly.
//
// Overlap policy. The queue is a list sorted by sequence number whose nodes
// never overlap. Data already held wins: a new segment loses the bytes it
// shares with a node that starts before it (its front is trimmed) or ends
// after it (its tail is trimmed), so the bytes behind a SACK block already
// reported stay held in the mbufs that first brought them. A new segment that
// covers a node entirely (equal ends included) replaces it: the node's mbufs
// are freed and the new segment is kept whole between its neighbours, since
// keeping both would mean splitting the new chain in two around the old one.
// A segment whose every byte is already held, by one node or by several
// adjacent ones, is a duplicate and is freed.
//
// Limits. Nodes come from an engine-wide pool whose capacity is the engine's
// limit in segments; ReassemblyLimits caps each connection in bytes and in
// segments. A segment that does not fit is refused whole (no_room), never
// trimmed to fit, and data already held is never given up to make room for it
// (no reneging, RFC 2018 section 8).

#include <synack/base/assert.hpp>
#include <synack/base/object_pool.hpp>
#include <synack/wire/mbuf.hpp>
#include <synack/wire/seq.hpp>
#include <synack/wire/tcp.hpp>

#include <boost/intrusive/list.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace synack::tcp {

/// One held segment: the payload bytes [seq, seq + len), exactly the bytes of
/// the mbuf chain `data` (data->pkt_len == len).
struct ReassemblySegment {
    using Hook = boost::intrusive::list_member_hook<
        boost::intrusive::link_mode<boost::intrusive::safe_link>>;

    ReassemblySegment(wire::Seq32 start, std::uint32_t length, wire::MbufPtr payload) noexcept
        : seq(start), len(length), data(std::move(payload)) {}

    /// The first sequence number after the segment.
    wire::Seq32 end() const noexcept { return seq + len; }

    // safe_link: destroying a node still in a queue asserts (in Boost's
    // debug checks) instead of leaving the list pointing at a freed slot.
    Hook hook;
    wire::Seq32 seq;
    std::uint32_t len = 0;
    wire::MbufPtr data;
};

/// The engine-wide node pool; its capacity is the engine's limit in held
/// segments, shared by every connection of the core.
using ReassemblyPool = ObjectPool<ReassemblySegment>;

/// Per-connection limits on held out-of-order data.
struct ReassemblyLimits {
    std::uint32_t max_bytes;
    std::uint16_t max_segments;
};

/// What insert() did with a segment. In every case but queued the payload was
/// freed.
enum class InsertOutcome : std::uint8_t {
    /// Held, possibly trimmed at either end, possibly replacing nodes it
    /// covered.
    queued,
    /// Every byte was already held: nothing changed.
    duplicate,
    /// Refused whole: the pool was empty, or holding the segment would exceed
    /// a per-connection limit. The caller counts a drop (the pool's
    /// available() tells the two apart).
    no_room,
};

/// The enumerator's name ("queued"), for logs and test messages.
const char* to_string(InsertOutcome o) noexcept;

/// The out-of-order data of one connection. Lives in the TCB; takes its
/// nodes from the pool passed to each call, which must be the same pool for
/// the queue's whole life. Not thread-safe (one core owns the connection).
class ReassemblyQueue {
public:
    ReassemblyQueue() noexcept = default;
    ReassemblyQueue(const ReassemblyQueue&) = delete;
    ReassemblyQueue& operator=(const ReassemblyQueue&) = delete;

    /// Precondition: empty (asserts). The owner clear()s the queue with its
    /// pool on abort or close; a queue dropped while holding data would leak
    /// its nodes and mbufs.
    ~ReassemblyQueue() { SYNACK_ASSERT(list_.empty()); }

    /// Holds the payload bytes [seq, seq + len) of one received segment, by
    /// the overlap policy of the file comment. O(1) when the segment lands
    /// after everything held (the common case: data keeps arriving behind a
    /// single hole), else O(held segments).
    /// Preconditions: payload is an mbuf chain holding exactly the len payload
    /// bytes (headers trimmed; payload->pkt_len == len, asserts), owned
    /// exclusively (its segments' reference counts are 1, asserts where a
    /// segment is trimmed); the caller has trimmed the segment to the receive
    /// window and dropped every byte before RCV.NXT (RFC 9293 section
    /// 3.10.7.4), so it lies within 2**30 of everything held; len < 2**31
    /// (asserts). len == 0 (payload may be empty) holds nothing: duplicate.
    /// Returns queued (the queue owns the payload now), duplicate (every byte
    /// already held; payload freed) or no_room (pool empty, or max_bytes or
    /// max_segments of limits would be exceeded; payload freed, the queue
    /// unchanged).
    [[nodiscard]] InsertOutcome insert(wire::Seq32 seq, wire::MbufPtr payload, std::uint32_t len,
                                       ReassemblyPool& pool,
                                       const ReassemblyLimits& limits) noexcept;

    /// Hands over the data that has become contiguous with rcv_nxt: each held
    /// segment that starts at or before the (advancing) next sequence number
    /// is trimmed of any bytes before it and offered, in sequence order, to
    /// sink(wire::MbufPtr& data, std::uint32_t len) -> bool (the very mbuf
    /// inserted, when no trimming was needed). A sink that takes the data
    /// empties the handle and returns true, and the segment is removed; one
    /// that cannot (the receive buffer is full) leaves it and returns false,
    /// and the segment stays held for a later call. Segments wholly before
    /// the next sequence number are freed without a call. Stops at the first
    /// hole or refusal.
    /// Preconditions: rcv_nxt is the connection's RCV.NXT, not after the
    /// first held byte by 2**30 or more; the sink does not throw (checked at
    /// compile time) and does not call back into this queue.
    /// Returns the bytes taken (0 when the first held segment is beyond
    /// rcv_nxt, refused, or nothing is held): the caller advances RCV.NXT by that.
    template <class Sink>
    std::uint32_t pop_ready(wire::Seq32 rcv_nxt, ReassemblyPool& pool, Sink&& sink) noexcept {
        static_assert(std::is_nothrow_invocable_r_v<bool, Sink&, wire::MbufPtr&, std::uint32_t>,
                      "pop_ready() is noexcept: the sink must not throw");
        std::uint32_t delivered = 0;
        while (ReassemblySegment* front = ready_front(rcv_nxt + delivered, pool)) {
            const std::uint32_t len = front->len;
            if (!sink(front->data, len)) {
                break; // still held, starting at RCV.NXT
            }
            delivered += len;
            erase_and_free(list_.begin(), pool);
            forget_latest_if_gone();
        }
        return delivered;
    }

    /// Writes up to max SACK blocks (RFC 2018 section 3), one per contiguous
    /// range of held data (adjacent segments form one block), to out.
    /// Order: first the block holding the most recently inserted segment
    /// (RFC 2018 section 4: "The first SACK block ... MUST specify the
    /// contiguous block of data containing the segment which triggered this
    /// ACK"), then the other blocks in ascending sequence order. RFC 2018
    /// asks (SHOULD) for the rest in order of recent arrival; we keep only the
    /// latest insert, not a stamp per node, so a node stays 32 bytes and the
    /// insert path touches nothing more. A refused segment (no_room) is not
    /// held and does not count as the latest. Once the latest segment has
    /// been handed over by pop_ready() (its ACK advances RCV.NXT, the case
    /// RFC 2018 excepts) no block is put first: all go by sequence.
    /// Precondition: out has room for max blocks (max may be 0).
    /// Returns the number of blocks written: min(max, contiguous ranges).
    std::size_t sack_blocks(wire::SackBlock* out, std::size_t max) const noexcept;

    /// Remembers where the peer's FIN lies: it arrived beyond a hole, and
    /// is taken once every byte before it has (RFC 9293 section 3.10.7.4,
    /// SHLD-31 holds it as it holds data; a FIN dropped here would leave the
    /// peer to resend it a whole RTO later). Nothing of the stream lies
    /// beyond its FIN: data held past fin_seq is freed, and the caller holds
    /// no more there. The first FIN held stays; a peer that moves its FIN
    /// contradicts itself, and the later one is ignored.
    void hold_fin(wire::Seq32 fin_seq, ReassemblyPool& pool) noexcept;
    /// Forgets a held FIN (taken, or the connection is done with).
    void forget_fin() noexcept { has_fin_ = false; }
    /// The sequence number of a held FIN, if one is held.
    std::optional<wire::Seq32> fin() const noexcept {
        return has_fin_ ? std::optional(fin_seq_) : std::nullopt;
    }

    /// Payload bytes held.
    std::uint32_t bytes() const noexcept { return bytes_; }
    /// Segments (pool nodes) held.
    std::size_t segments() const noexcept { return segments_; }
    /// True when nothing is held.
    bool empty() const noexcept { return list_.empty(); }

    /// Frees every held segment (its node to pool, its mbufs to their
    /// mempools) and forgets a held FIN: on abort, reset or close. Afterwards
    /// empty().
    void clear(ReassemblyPool& pool) noexcept;

private:
    using List = boost::intrusive::list<
        ReassemblySegment,
        boost::intrusive::member_hook<ReassemblySegment, ReassemblySegment::Hook,
                                      &ReassemblySegment::hook>,
        boost::intrusive::constant_time_size<false>>;

    // The first held segment if it starts at or before next, trimmed to start
    // there; segments that end at or before next are freed on the way.
    // Returns null at a hole or when nothing is held.
    ReassemblySegment* ready_front(wire::Seq32 next, ReassemblyPool& pool) noexcept;
    // Unlinks *seg, takes it out of the counters and returns its node (with
    // its data) to pool.
    void erase_and_free(List::iterator seg, ReassemblyPool& pool) noexcept;
    // Frees every held byte at or after `end`, trimming a segment across it.
    void drop_from(wire::Seq32 end, ReassemblyPool& pool) noexcept;
    // Records a byte of the latest segment inserted, now held.
    void note_latest(wire::Seq32 held) noexcept;
    // Drops the record once that byte has been handed over.
    void forget_latest_if_gone() noexcept;

    List list_;
    std::uint32_t bytes_ = 0;
    std::uint32_t segments_ = 0;
    // A byte of the most recently inserted segment (queued or duplicate),
    // for the order of sack_blocks(); valid while has_latest_.
    wire::Seq32 latest_seq_;
    bool has_latest_ = false;
    wire::Seq32 fin_seq_; // valid while has_fin_
    bool has_fin_ = false;
};

/// Drops the first n bytes of an mbuf chain, freeing the leading segments that
/// empties (rte_pktmbuf_adj alone stops at the first segment). The new head
/// takes pkt_len and nb_segs; other packet-level fields of a freed head
/// (ol_flags, port, hash) are not carried over: once headers are trimmed the
/// TCP layer reads none of them.
/// Preconditions: chain is non-empty, n < chain->pkt_len (at least one byte
/// stays; asserts), and the segment left at the front has reference count 1
/// (asserts). n == 0 changes nothing; otherwise empty segments that would
/// lead the chain are freed too, so the head holds data.
void chain_drop_front(wire::MbufPtr& chain, std::uint32_t n) noexcept;

/// Drops the last n bytes of an mbuf chain, freeing the trailing segments
/// that empties and fixing the head's pkt_len and nb_segs (rte_pktmbuf_trim
/// handles only the last segment).
/// Preconditions: chain is non-empty, n < chain->pkt_len (at least one byte
/// stays; asserts), and the segment left at the end has reference count 1
/// (asserts). n == 0 changes nothing.
void chain_drop_back(wire::MbufPtr& chain, std::uint32_t n) noexcept;

} // namespace synack::tcp
