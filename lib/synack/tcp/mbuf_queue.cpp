#include <synack/base/assert.hpp>
#include <synack/tcp/mbuf_queue.hpp>

#include <cstring>

#include <algorithm>
#include <utility>

namespace synack::tcp {

ChainExtent chain_extent(const rte_mbuf* m, std::uint64_t len_max) noexcept {
    ChainExtent e;
    for (; m != nullptr && e.bytes < len_max; m = m->next) {
        if (m->data_len != 0) {
            e.bytes += std::min<std::uint64_t>(m->data_len, len_max - e.bytes);
            ++e.segments;
        }
    }
    return e;
}

MbufQueue::MbufQueue(MbufQueue&& o) noexcept
    : head_(std::exchange(o.head_, nullptr)), tail_(std::exchange(o.tail_, nullptr)),
      bytes_(std::exchange(o.bytes_, 0)), segments_(std::exchange(o.segments_, 0)) {}

MbufQueue& MbufQueue::operator=(MbufQueue&& o) noexcept {
    if (this != &o) {
        clear();
        head_ = std::exchange(o.head_, nullptr);
        tail_ = std::exchange(o.tail_, nullptr);
        bytes_ = std::exchange(o.bytes_, 0);
        segments_ = std::exchange(o.segments_, 0);
    }
    return *this;
}

void MbufQueue::link_tail(rte_mbuf* seg) noexcept {
    seg->next = nullptr;
    seg->nb_segs = 1;
    seg->pkt_len = seg->data_len;
    if (tail_ != nullptr) {
        tail_->next = seg;
    } else {
        head_ = seg;
    }
    tail_ = seg;
    bytes_ += seg->data_len;
    ++segments_;
}

void MbufQueue::push_back(rte_mbuf* chain, std::uint32_t len) noexcept {
    SYNACK_ASSERT(std::uint64_t{bytes_} + len <= UINT32_MAX);
    std::uint32_t left = len;
    for (rte_mbuf* m = chain; m != nullptr;) {
        // Read next first: linking or freeing m rewrites it.
        rte_mbuf* next = m->next;
        if (left == 0 || m->data_len == 0) {
            rte_pktmbuf_free_seg(m);
        } else {
            m->data_len = static_cast<std::uint16_t>(std::min<std::uint32_t>(m->data_len, left));
            left -= m->data_len;
            link_tail(m);
        }
        m = next;
    }
    SYNACK_ASSERT(left == 0);
}

bool MbufQueue::append_copy(const rte_mbuf* chain, std::uint32_t len) noexcept {
    rte_mbuf* t = tail_;
    if (t == nullptr || len == 0 || !RTE_MBUF_DIRECT(t) || rte_mbuf_refcnt_read(t) != 1 ||
        rte_pktmbuf_tailroom(t) < len) {
        return false;
    }
    auto* to = rte_pktmbuf_mtod_offset(t, std::uint8_t*, t->data_len);
    std::uint32_t left = len;
    for (const rte_mbuf* m = chain; left != 0; m = m->next) {
        const std::uint32_t n = std::min<std::uint32_t>(m->data_len, left);
        std::memcpy(to, rte_pktmbuf_mtod(m, const std::uint8_t*), n);
        to += n;
        left -= n;
    }
    t->data_len = static_cast<std::uint16_t>(t->data_len + len);
    t->pkt_len = t->data_len;
    bytes_ += len;
    return true;
}

void MbufQueue::drop_front(std::uint32_t n) noexcept {
    SYNACK_ASSERT(n <= bytes_);
    bytes_ -= n;
    while (n != 0) {
        rte_mbuf* m = head_;
        if (m->data_len > n) {
            // Direct field updates, not rte_pktmbuf_adj: DPDK's debug sanity
            // check would reject a head whose next is set while nb_segs is 1.
            m->data_off = static_cast<std::uint16_t>(m->data_off + n);
            m->data_len = static_cast<std::uint16_t>(m->data_len - n);
            m->pkt_len = m->data_len;
            break;
        }
        n -= m->data_len;
        head_ = m->next;
        --segments_;
        rte_pktmbuf_free_seg(m);
    }
    if (head_ == nullptr) {
        tail_ = nullptr;
    }
}

rte_mbuf* MbufQueue::pop_front(std::uint32_t max_bytes, std::uint32_t segments_max) noexcept {
    SYNACK_ASSERT(segments_max >= 1 && segments_max <= UINT16_MAX);
    rte_mbuf* last = nullptr;
    std::uint32_t taken_bytes = 0;
    std::uint32_t taken_segments = 0;
    for (rte_mbuf* m = head_; m != nullptr && taken_segments < segments_max; m = m->next) {
        if (std::uint64_t{taken_bytes} + m->data_len > max_bytes) {
            break;
        }
        taken_bytes += m->data_len;
        ++taken_segments;
        last = m;
    }
    if (last == nullptr) {
        return nullptr;
    }
    rte_mbuf* first = head_;
    head_ = last->next;
    if (head_ == nullptr) {
        tail_ = nullptr;
    }
    last->next = nullptr;
    first->nb_segs = static_cast<std::uint16_t>(taken_segments);
    first->pkt_len = taken_bytes;
    bytes_ -= taken_bytes;
    segments_ -= taken_segments;
    return first;
}

void MbufQueue::clear() noexcept {
    while (head_ != nullptr) {
        rte_mbuf* next = head_->next;
        rte_pktmbuf_free_seg(head_);
        head_ = next;
    }
    tail_ = nullptr;
    bytes_ = 0;
    segments_ = 0;
}

} // namespace synack::tcp
