// Out-of-order reassembly: see reassembly.hpp for the RFCs and the overlap
// policy.

#include <synack/tcp/reassembly.hpp>

#include <rte_mbuf.h>

#include <cstdint>
#include <utility>

namespace synack::tcp {

using wire::MbufPtr;
using wire::SackBlock;
using wire::Seq32;

// A node is half a cache line on 64-bit targets (hook 16, seq 4, len 4, mbuf
// 8); sack_blocks() keeps no per-node arrival stamp partly to stay so.
static_assert(sizeof(void*) != 8 || sizeof(ReassemblySegment) == 32);

namespace {

// The distance b - a of two sequence numbers with a before or at b (a
// non-negative length, by the caller's ordering).
std::uint32_t distance(Seq32 a, Seq32 b) noexcept { return b.raw() - a.raw(); }

// Calls f(SackBlock) for each maximal run of adjacent segments, in sequence
// order, until f returns false.
template <class List, class F>
void for_each_block(const List& list, F&& f) noexcept {
    auto it = list.begin();
    while (it != list.end()) {
        const Seq32 left = it->seq;
        Seq32 right = it->end();
        for (++it; it != list.end() && it->seq == right; ++it) {
            right = it->end();
        }
        if (!f(SackBlock{left, right})) {
            return;
        }
    }
}

} // namespace

const char* to_string(InsertOutcome o) noexcept {
    switch (o) {
    case InsertOutcome::queued: return "queued";
    case InsertOutcome::duplicate: return "duplicate";
    case InsertOutcome::no_room: return "no_room";
    }
    return "?";
}

InsertOutcome ReassemblyQueue::insert(Seq32 seq, MbufPtr payload, std::uint32_t len,
                                      ReassemblyPool& pool,
                                      const ReassemblyLimits& limits) noexcept {
    SYNACK_ASSERT(payload ? payload->pkt_len == len : len == 0);
    // RFC 7323 section 2.3 bounds the window to 2**30: longer is a caller bug
    // that would break every before()/after() below.
    SYNACK_ASSERT(len < (std::uint32_t{1} << 31));
    if (len == 0) {
        return InsertOutcome::duplicate;
    }

    // Plan first, change nothing until the outcome is known: a refused
    // segment must leave the queue as it was.
    Seq32 start = seq;
    Seq32 end = seq + len;
    auto it = list_.end();
    // Appending behind everything held is the common case (one hole, data
    // still arriving in order behind it): O(1). Otherwise walk from the front
    // to the first segment that ends after start.
    if (!list_.empty() && after(list_.back().end(), start)) {
        it = list_.begin();
        while (before_eq(it->end(), start)) {
            ++it;
        }
    }

    // A held segment reaching over start from before it keeps its bytes
    // (what was SACKed stays as reported); the new one loses its front. One
    // starting at start too is covered by the new one (below), unless it is
    // at least as long.
    std::uint32_t front_cut_bytes = 0;
    if (it != list_.end() && before_eq(it->seq, start)) {
        if (after_eq(it->end(), end)) {
            note_latest(seq);
            return InsertOutcome::duplicate;
        }
        if (before(it->seq, start)) {
            front_cut_bytes = distance(start, it->end());
            start = it->end();
            ++it;
        }
    }

    // Held segments wholly inside [start, end): the new one replaces them,
    // rather than being split around them.
    const auto first_covered = it;
    std::uint32_t covered_bytes = 0;
    std::uint32_t covered_segments = 0;
    while (it != list_.end() && before_eq(it->end(), end)) {
        covered_bytes += it->len;
        ++covered_segments;
        ++it;
    }

    // A held segment reaching over end: the new one loses its tail.
    std::uint32_t back_cut_bytes = 0;
    if (it != list_.end() && before(it->seq, end)) {
        back_cut_bytes = distance(it->seq, end);
        end = it->seq;
    }

    const std::uint32_t kept_bytes = distance(start, end);
    const std::uint32_t new_bytes = kept_bytes - covered_bytes; // the holes it fills
    if (new_bytes == 0) {
        note_latest(seq);
        return InsertOutcome::duplicate;
    }
    if (std::uint64_t{bytes_} + new_bytes > limits.max_bytes ||
        segments_ - covered_segments + 1 > limits.max_segments) {
        return InsertOutcome::no_room;
    }
    ReassemblySegment* node = nullptr;
    if (covered_segments == 0) {
        node = pool.acquire(start, kept_bytes, MbufPtr{});
        if (node == nullptr) {
            return InsertOutcome::no_room;
        }
    }

    chain_drop_front(payload, front_cut_bytes);
    chain_drop_back(payload, back_cut_bytes);
    if (node != nullptr) {
        list_.insert(it, *node);
        ++segments_;
    } else {
        // Reuse the first covered node in place (it already sits where the
        // new segment goes) and free the others: no pool node is needed.
        node = &*first_covered;
        auto rest = first_covered;
        ++rest;
        while (rest != it) {
            erase_and_free(rest++, pool);
        }
        bytes_ -= node->len;
        node->seq = start;
        node->len = kept_bytes;
    }
    node->data = std::move(payload);
    bytes_ += node->len;
    note_latest(start);
    return InsertOutcome::queued;
}

ReassemblySegment* ReassemblyQueue::ready_front(Seq32 next, ReassemblyPool& pool) noexcept {
    while (!list_.empty()) {
        ReassemblySegment& front = list_.front();
        if (after(front.seq, next)) {
            return nullptr;
        }
        if (before_eq(front.end(), next)) {
            // Wholly delivered already (the caller's in-order segment
            // overlapped it): nothing new in it.
            erase_and_free(list_.begin(), pool);
            forget_latest_if_gone();
            continue;
        }
        const std::uint32_t cut_bytes = distance(front.seq, next);
        if (cut_bytes != 0) {
            chain_drop_front(front.data, cut_bytes);
            front.seq = next;
            front.len -= cut_bytes;
            bytes_ -= cut_bytes;
        }
        return &front;
    }
    return nullptr;
}

void ReassemblyQueue::erase_and_free(List::iterator seg, ReassemblyPool& pool) noexcept {
    bytes_ -= seg->len;
    --segments_;
    list_.erase_and_dispose(seg, [&pool](ReassemblySegment* s) { pool.release(s); });
}

void ReassemblyQueue::hold_fin(Seq32 fin_seq, ReassemblyPool& pool) noexcept {
    if (has_fin_) {
        return;
    }
    fin_seq_ = fin_seq;
    has_fin_ = true;
    drop_from(fin_seq, pool);
}

void ReassemblyQueue::drop_from(Seq32 end, ReassemblyPool& pool) noexcept {
    while (!list_.empty() && after(list_.back().end(), end)) {
        ReassemblySegment& last = list_.back();
        if (after_eq(last.seq, end)) {
            auto it = list_.end();
            erase_and_free(--it, pool);
            continue;
        }
        const std::uint32_t cut_bytes = distance(end, last.end());
        chain_drop_back(last.data, cut_bytes);
        last.len -= cut_bytes;
        bytes_ -= cut_bytes;
    }
    forget_latest_if_gone();
    if (has_latest_ && after_eq(latest_seq_, end)) {
        has_latest_ = false;
    }
}

void ReassemblyQueue::note_latest(Seq32 held) noexcept {
    latest_seq_ = held;
    has_latest_ = true;
}

void ReassemblyQueue::forget_latest_if_gone() noexcept {
    // Everything held lies at or after the first segment; a latest byte
    // before it was handed over. Forgetting it keeps a stale number from
    // matching new data after the sequence space wraps.
    if (has_latest_ && (list_.empty() || before(latest_seq_, list_.front().seq))) {
        has_latest_ = false;
    }
}

std::size_t ReassemblyQueue::sack_blocks(SackBlock* out, std::size_t max) const noexcept {
    if (max == 0) {
        return 0;
    }
    std::size_t n = 0;
    // RFC 2018 section 4: the first block holds the segment that triggered
    // the ACK (here: the latest insert still held).
    if (has_latest_) {
        for_each_block(list_, [&](SackBlock b) noexcept {
            if (in_window(b.left, latest_seq_, b.right)) {
                out[n++] = b;
                return false;
            }
            return true;
        });
    }
    const bool have_first = n == 1;
    const Seq32 first_left = have_first ? out[0].left : Seq32{};
    if (n == max) {
        return n;
    }
    // The rest by sequence number (see the declaration for why not by
    // recency).
    for_each_block(list_, [&](SackBlock b) noexcept {
        if (have_first && b.left == first_left) {
            return true;
        }
        out[n++] = b;
        return n < max;
    });
    return n;
}

void ReassemblyQueue::clear(ReassemblyPool& pool) noexcept {
    list_.clear_and_dispose([&pool](ReassemblySegment* s) { pool.release(s); });
    bytes_ = 0;
    segments_ = 0;
    has_latest_ = false;
    has_fin_ = false;
}

void chain_drop_front(MbufPtr& chain, std::uint32_t n) noexcept {
    SYNACK_ASSERT(chain && n < chain->pkt_len);
    if (n == 0) {
        return;
    }
    // Whole leading segments first (and empty ones behind them, so the head
    // holds data): rte_pktmbuf_adj stops at the first segment.
    while (n >= chain->data_len) {
        rte_mbuf* old = chain.release();
        rte_mbuf* next = old->next;
        SYNACK_ASSERT(next != nullptr); // n < pkt_len leaves a byte behind
        next->pkt_len = old->pkt_len - old->data_len;
        next->nb_segs = static_cast<std::uint16_t>(old->nb_segs - 1);
        n -= old->data_len;
        old->next = nullptr;
        old->nb_segs = 1;
        old->pkt_len = old->data_len;
        chain.reset(next);
        rte_pktmbuf_free_seg(old);
    }
    if (n > 0) {
        // Moving data_off of a segment someone else also references would
        // move their data too.
        SYNACK_ASSERT(rte_mbuf_refcnt_read(chain.get()) == 1);
        char* data = rte_pktmbuf_adj(chain.get(), static_cast<std::uint16_t>(n));
        SYNACK_ASSERT(data != nullptr);
    }
}

void chain_drop_back(MbufPtr& chain, std::uint32_t n) noexcept {
    SYNACK_ASSERT(chain && n < chain->pkt_len);
    if (n == 0) {
        return;
    }
    rte_mbuf* head = chain.get();
    const std::uint32_t keep_bytes = head->pkt_len - n;
    // Find the segment holding the last byte kept. The data_len of a chain
    // add up to pkt_len, so the walk ends before the chain does.
    rte_mbuf* last = head;
    std::uint32_t bytes_before = 0;
    std::uint16_t kept_segments = 1;
    while (bytes_before + last->data_len < keep_bytes) {
        bytes_before += last->data_len;
        last = last->next;
        ++kept_segments;
    }
    SYNACK_ASSERT(rte_mbuf_refcnt_read(last) == 1);
    last->data_len = static_cast<std::uint16_t>(keep_bytes - bytes_before);
    rte_mbuf* rest = last->next;
    last->next = nullptr;
    while (rest != nullptr) {
        rte_mbuf* next = rest->next;
        rte_pktmbuf_free_seg(rest);
        rest = next;
    }
    head->nb_segs = kept_segments;
    head->pkt_len = keep_bytes;
}

} // namespace synack::tcp
