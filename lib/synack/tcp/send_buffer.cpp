#include <synack/base/assert.hpp>
#include <synack/tcp/send_buffer.hpp>

#include <algorithm>
#include <utility>

namespace synack::tcp {

const char* to_string(SendError e) noexcept {
    switch (e) {
    case SendError::empty: return "empty";
    case SendError::would_exceed_limit: return "would_exceed_limit";
    }
    return "?";
}

SendBuffer::SendBuffer(SendBuffer&& o) noexcept
    : queue_(std::move(o.queue_)), bytes_max_(o.bytes_max_),
      cursor_(std::exchange(o.cursor_, nullptr)),
      cursor_offset_(std::exchange(o.cursor_offset_, 0)) {}

SendBuffer& SendBuffer::operator=(SendBuffer&& o) noexcept {
    if (this != &o) {
        queue_ = std::move(o.queue_);
        bytes_max_ = o.bytes_max_;
        cursor_ = std::exchange(o.cursor_, nullptr);
        cursor_offset_ = std::exchange(o.cursor_offset_, 0);
    }
    return *this;
}

Status<SendError> SendBuffer::append(wire::MbufPtr& data) noexcept {
    // Measure before taking anything, so that a refusal leaves the chain whole.
    const ChainExtent e = chain_extent(data.get());
    if (e.bytes == 0) {
        return Err{SendError::empty};
    }
    if (e.bytes > space()) {
        return Err{SendError::would_exceed_limit};
    }
    queue_.push_back(data.release(), static_cast<std::uint32_t>(e.bytes));
    return {};
}

wire::MbufPtr SendBuffer::slice(std::uint32_t offset, std::uint32_t len, rte_mempool* hdr_pool,
                                rte_mempool* clone_pool) noexcept {
    SYNACK_ASSERT(std::uint64_t{offset} + len <= queue_.bytes());
    wire::MbufPtr pkt(rte_pktmbuf_alloc(hdr_pool));
    if (!pkt || len == 0) {
        return pkt;
    }

    // Find the segment holding byte `offset`, walking on from the cursor when
    // the slice does not start before it (in-order sending), else from SND.UNA.
    rte_mbuf* seg = queue_.front();
    std::uint32_t seg_offset = 0;
    if (cursor_ != nullptr && offset >= cursor_offset_) {
        seg = cursor_;
        seg_offset = cursor_offset_;
    }
    while (offset - seg_offset >= seg->data_len) {
        seg_offset += seg->data_len;
        seg = seg->next;
    }

    rte_mbuf* last = pkt.get();
    std::uint32_t skip = offset - seg_offset;
    std::uint32_t left = len;
    for (;;) {
        rte_mbuf* piece = rte_pktmbuf_alloc(clone_pool);
        if (piece == nullptr) {
            // pkt's chain is consistent so far (nb_segs, pkt_len): its handle
            // frees the header and every attachment, dropping their references.
            return {};
        }
        // attach, not rte_pktmbuf_clone: clone would follow `next` through the
        // rest of the queue. attach references the segment's data (or what the
        // segment itself references, when it is indirect) and raises its refcnt.
        rte_pktmbuf_attach(piece, seg);
        const auto take =
            static_cast<std::uint16_t>(std::min<std::uint32_t>(left, seg->data_len - skip));
        const char* start = rte_pktmbuf_adj(piece, static_cast<std::uint16_t>(skip));
        const int trimmed =
            rte_pktmbuf_trim(piece, static_cast<std::uint16_t>(piece->data_len - take));
        SYNACK_ASSERT(start != nullptr && trimmed == 0);
        SYNACK_ASSERT(pkt->nb_segs < UINT16_MAX);
        last->next = piece;
        last = piece;
        ++pkt->nb_segs;
        pkt->pkt_len += take;
        left -= take;
        if (left == 0) {
            break;
        }
        seg_offset += seg->data_len;
        seg = seg->next;
        skip = 0;
    }
    cursor_ = seg;
    cursor_offset_ = seg_offset;
    return pkt;
}

void SendBuffer::acknowledge(std::uint32_t n) noexcept {
    queue_.drop_front(n);
    // A cursor segment starting at or after n lost no byte: it only moves
    // closer to the front. One starting before n was freed or trimmed.
    if (cursor_ != nullptr) {
        if (cursor_offset_ >= n) {
            cursor_offset_ -= n;
        } else {
            cursor_ = nullptr;
            cursor_offset_ = 0;
        }
    }
}

void SendBuffer::clear() noexcept {
    queue_.clear();
    cursor_ = nullptr;
    cursor_offset_ = 0;
}

} // namespace synack::tcp
