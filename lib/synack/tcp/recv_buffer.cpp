#include <synack/base/assert.hpp>
#include <synack/tcp/recv_buffer.hpp>

namespace synack::tcp {

const char* to_string(RecvError e) noexcept {
    switch (e) {
    case RecvError::empty: return "empty";
    case RecvError::would_exceed_limit: return "would_exceed_limit";
    case RecvError::too_many_segments: return "too_many_segments";
    case RecvError::no_mbuf_budget: return "no_mbuf_budget";
    }
    return "?";
}

Status<RecvError> RecvBuffer::push(wire::MbufPtr& payload, std::uint32_t len, bool may_add_mbufs) noexcept {
    if (!payload || len == 0) {
        return Err{RecvError::empty};
    }
    // Measure before taking anything, so that a refusal leaves the chain whole.
    const ChainExtent e = chain_extent(payload.get(), len);
    SYNACK_ASSERT(e.bytes == len);
    if (len > window()) {
        return Err{RecvError::would_exceed_limit};
    }
    if ((len <= copy_max_bytes_ || !may_add_mbufs) && queue_.append_copy(payload.get(), len)) {
        payload.reset();
        return {};
    }
    if (!may_add_mbufs) {
        return Err{RecvError::no_mbuf_budget};
    }
    if (std::uint64_t{queue_.segments()} + e.segments > segments_max_) {
        return Err{RecvError::too_many_segments};
    }
    queue_.push_back(payload.release(), len);
    return {};
}

std::size_t RecvBuffer::peek(wire::Bytes* out, std::size_t max) const noexcept {
    std::size_t k = 0;
    for (const rte_mbuf* m = queue_.front(); m != nullptr && k < max; m = m->next) {
        out[k++] = {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
    }
    return k;
}

wire::MbufPtr RecvBuffer::take(std::uint32_t max_bytes) noexcept {
    return wire::MbufPtr(queue_.pop_front(max_bytes));
}

wire::MbufPtr RecvBuffer::take_exact(std::uint32_t n, rte_mempool* clone_pool) noexcept {
    SYNACK_ASSERT(n <= queue_.bytes());
    if (n == 0) {
        return {};
    }
    // Find where n ends first, so that every refusal happens before anything
    // leaves the queue.
    std::uint32_t whole_bytes = 0;
    std::uint32_t whole_segments = 0;
    rte_mbuf* split = queue_.front();
    while (split != nullptr && whole_bytes + split->data_len <= n) {
        whole_bytes += split->data_len;
        ++whole_segments;
        split = split->next;
    }
    const std::uint32_t rest = n - whole_bytes;
    if (whole_segments + (rest != 0 ? 1U : 0U) > UINT16_MAX) {
        return {};
    }
    rte_mbuf* piece = nullptr;
    if (rest != 0) {
        piece = rte_pktmbuf_alloc(clone_pool);
        if (piece == nullptr) {
            return {};
        }
        // The piece references the first `rest` bytes of the split segment;
        // the segment keeps the remainder. Both share one refcounted buffer.
        rte_pktmbuf_attach(piece, split);
        const int trimmed =
            rte_pktmbuf_trim(piece, static_cast<std::uint16_t>(piece->data_len - rest));
        SYNACK_ASSERT(trimmed == 0);
    }
    wire::MbufPtr out;
    if (whole_segments != 0) {
        out.reset(queue_.pop_front(whole_bytes));
        SYNACK_ASSERT(out && out->pkt_len == whole_bytes);
    }
    if (piece != nullptr) {
        queue_.drop_front(rest);
        if (!out) {
            out.reset(piece);
        } else {
            const int chained = rte_pktmbuf_chain(out.get(), piece);
            SYNACK_ASSERT(chained == 0);
        }
    }
    return out;
}

} // namespace synack::tcp
