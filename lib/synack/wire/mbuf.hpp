#pragma once
// The meeting point of byte spans and rte_mbufs: an owning handle, the bytes of
// a segment, headroom for headers, and checksums across a segment chain.

#include <synack/base/assert.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/checksum.hpp>

#include <rte_mbuf.h>

#include <cstdint>
#include <utility>

namespace synack::wire {

/// Owns one mbuf chain and frees it on destruction. Move-only: whoever holds
/// it is the one who frees it (or hands it on with release()).
class MbufPtr {
public:
    MbufPtr() noexcept = default;
    explicit MbufPtr(rte_mbuf* m) noexcept : m_(m) {}
    MbufPtr(MbufPtr&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    MbufPtr& operator=(MbufPtr&& o) noexcept {
        if (this != &o) {
            reset(std::exchange(o.m_, nullptr));
        }
        return *this;
    }
    MbufPtr(const MbufPtr&) = delete;
    MbufPtr& operator=(const MbufPtr&) = delete;
    ~MbufPtr() { reset(); }

    rte_mbuf* get() const noexcept { return m_; }
    rte_mbuf* operator->() const noexcept { return m_; }
    explicit operator bool() const noexcept { return m_ != nullptr; }

    /// Gives up ownership without freeing (to rte_eth_tx_burst, say).
    [[nodiscard]] rte_mbuf* release() noexcept { return std::exchange(m_, nullptr); }
    /// Frees the chain held, if any, and holds m instead.
    void reset(rte_mbuf* m = nullptr) noexcept {
        if (m_ != nullptr) {
            rte_pktmbuf_free(m_);
        }
        m_ = m;
    }

private:
    rte_mbuf* m_ = nullptr;
};

/// The data bytes of the first segment (where the headers are).
inline Bytes first_segment(const rte_mbuf* m) noexcept {
    return {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
}
inline MutBytes first_segment_mut(rte_mbuf* m) noexcept {
    return {rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len};
}

/// Claims n bytes of headroom in front of the data.
/// Returns the bytes, or an empty span when the headroom is smaller than n
/// (the mbuf is then unchanged).
inline MutBytes prepend(rte_mbuf* m, std::uint16_t n) noexcept {
    char* p = rte_pktmbuf_prepend(m, n);
    if (p == nullptr) {
        return {};
    }
    return {reinterpret_cast<std::uint8_t*>(p), n};
}

/// Marks an outgoing packet as a retransmission (or not) for the layer that
/// finally transmits and counts it, which may be later (after an ARP
/// answer). Kept in hash.usr: a receive-side field that no transmit path
/// reads. Every outgoing TCP packet is marked either way, since an mbuf from
/// the pool may still hold the hash of a packet it once received.
inline void set_retransmission(rte_mbuf* m, bool yes) noexcept { m->hash.usr = yes ? 1u : 0u; }
inline bool is_retransmission(const rte_mbuf* m) noexcept { return m->hash.usr == 1u; }

/// Adds the bytes [offset, offset + len) of a segment chain to sum, crossing
/// segment boundaries (odd-length segments included).
/// Precondition: offset + len <= pkt_len.
void add_chain(Checksum& sum, const rte_mbuf* m, std::uint32_t offset, std::uint32_t len) noexcept;

} // namespace synack::wire
