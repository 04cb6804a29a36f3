#include "stream.hpp"

#include <algorithm>

namespace synack::bench {

std::uint64_t send_stream(engine::Engine& e, engine::ConnId id, std::uint64_t sent, std::uint64_t total) noexcept {
    const std::uint64_t start = sent;
    while (sent < total) {
        const std::uint32_t room = e.writable(id);
        wire::MbufPtr m = room == 0 ? wire::MbufPtr{} : e.alloc_buffer();
        if (!m) {
            break; // back-pressure: the writable event, or a free mbuf, comes later
        }
        const auto len = static_cast<std::uint16_t>(
            std::min<std::uint64_t>({total - sent, room, rte_pktmbuf_tailroom(m.get())}));
        auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m.get(), len));
        for (std::uint16_t k = 0; k < len; ++k) {
            p[k] = stream_byte(sent + k);
        }
        if (!e.send(id, m).ok()) {
            break;
        }
        sent += len;
    }
    return sent - start;
}

Checked read_stream(engine::Engine& e, engine::ConnId id, std::uint64_t received, Sha256* hash) noexcept {
    Checked c;
    wire::Bytes spans[16];
    const std::size_t n = e.peek(id, spans, 16);
    for (std::size_t i = 0; i < n; ++i) {
        for (const std::uint8_t b : spans[i]) {
            c.errors += b != stream_byte(received++) ? 1 : 0;
        }
        c.bytes += static_cast<std::uint32_t>(spans[i].size());
        if (hash != nullptr) {
            hash->update(spans[i]);
        }
    }
    e.consume(id, c.bytes);
    return c;
}

} // namespace synack::bench
