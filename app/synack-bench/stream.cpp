#include "stream.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace synack::bench {

namespace {

// The stream from offset 0, long enough that a piece of up to `piece` bytes
// starting at any phase of the period lies within it: the stream is copied
// and compared a piece at a time (memcpy, memcmp), not computed byte by byte.
constexpr std::size_t period = 251;
constexpr std::size_t piece = 2048;
const auto pattern = [] {
    std::array<std::uint8_t, piece + period> p{};
    for (std::size_t i = 0; i < p.size(); ++i) {
        p[i] = stream_byte(i);
    }
    return p;
}();

const std::uint8_t* pattern_at(std::uint64_t offset) noexcept { return pattern.data() + offset % period; }

} // namespace

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
        for (std::size_t k = 0; k < len; k += piece) {
            std::memcpy(p + k, pattern_at(sent + k), std::min<std::size_t>(piece, len - k));
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
        const wire::Bytes span = spans[i];
        for (std::size_t k = 0; k < span.size(); k += piece) {
            const std::size_t len = std::min(piece, span.size() - k);
            const std::uint8_t* want = pattern_at(received + k);
            if (std::memcmp(span.data() + k, want, len) != 0) {
                for (std::size_t j = 0; j < len; ++j) {
                    c.errors += span[k + j] != want[j] ? 1 : 0;
                }
            }
        }
        received += span.size();
        c.bytes += static_cast<std::uint32_t>(span.size());
        if (hash != nullptr) {
            hash->update(spans[i]);
        }
    }
    e.consume(id, c.bytes);
    return c;
}

} // namespace synack::bench
