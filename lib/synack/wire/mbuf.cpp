#include <synack/wire/mbuf.hpp>

namespace synack::wire {

void add_chain(Checksum& sum, const rte_mbuf* m, std::uint32_t offset, std::uint32_t len) noexcept {
    SYNACK_ASSERT(offset + len <= m->pkt_len);
    while (m != nullptr && offset >= m->data_len) {
        offset -= m->data_len;
        m = m->next;
    }
    while (len != 0) {
        SYNACK_ASSERT(m != nullptr);
        const std::uint32_t take = std::min<std::uint32_t>(len, m->data_len - offset);
        sum.add({rte_pktmbuf_mtod_offset(m, const std::uint8_t*, offset), take});
        len -= take;
        offset = 0;
        m = m->next;
    }
}

} // namespace synack::wire
