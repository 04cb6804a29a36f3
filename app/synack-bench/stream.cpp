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
constexpr std::size_t piece = 64 * 1024;
const auto pattern = [] {
    std::array<std::uint8_t, piece + period> p{};
    for (std::size_t i = 0; i < p.size(); ++i) {
        p[i] = stream_byte(i);
    }
    return p;
}();

const std::uint8_t* pattern_at(std::uint64_t offset) noexcept { return pattern.data() + offset % period; }

} // namespace

wire::Bytes stream_piece(std::uint64_t offset, std::size_t max) noexcept {
    return {pattern_at(offset), std::min(max, piece)};
}

std::uint64_t stream_errors(wire::Bytes data, std::uint64_t offset) noexcept {
    std::uint64_t errors = 0;
    for (std::size_t k = 0; k < data.size(); k += piece) {
        const std::size_t len = std::min(piece, data.size() - k);
        const std::uint8_t* want = pattern_at(offset + k);
        if (std::memcmp(data.data() + k, want, len) != 0) {
            for (std::size_t j = 0; j < len; ++j) {
                errors += data[k + j] != want[j] ? 1 : 0;
            }
        }
    }
    return errors;
}

std::uint64_t send_stream(Stack& e, Conn id, std::uint64_t sent, std::uint64_t total) noexcept {
    const std::uint64_t start = sent;
    while (sent < total) {
        const std::uint32_t room = e.writable(id);
        wire::MbufPtr m = room == 0 ? wire::MbufPtr{} : e.alloc_buffer();
        if (!m) {
            break; // back-pressure: the writable event, or a free mbuf, comes later
        }
        const auto len = static_cast<std::uint16_t>(
            std::min<std::uint64_t>({total - sent, room, rte_pktmbuf_tailroom(m.get())}));
        std::memcpy(rte_pktmbuf_append(m.get(), len), pattern_at(sent), len);
        if (!e.send(id, m).ok()) {
            break;
        }
        sent += len;
    }
    return sent - start;
}

Checked read_stream(Stack& e, Conn id, std::uint64_t received, Sha256* hash) noexcept {
    Checked c;
    wire::Bytes spans[16];
    const std::size_t n = e.peek(id, spans, 16);
    for (std::size_t i = 0; i < n; ++i) {
        c.errors += stream_errors(spans[i], received);
        received += spans[i].size();
        c.bytes += static_cast<std::uint32_t>(spans[i].size());
        if (hash != nullptr) {
            hash->update(spans[i]);
        }
    }
    (void)e.consume(id, c.bytes);
    return c;
}

std::uint32_t echo_stream(Stack& e, Conn id) noexcept {
    wire::Bytes spans[16];
    const std::size_t n = e.peek(id, spans, 16);
    std::uint32_t echoed = 0;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t off = 0; off < spans[i].size();) {
            const std::uint32_t room = e.writable(id);
            wire::MbufPtr m = room == 0 ? wire::MbufPtr{} : e.alloc_buffer();
            if (!m) {
                (void)e.consume(id, echoed);
                return echoed;
            }
            const auto len = static_cast<std::uint16_t>(
                std::min<std::size_t>({spans[i].size() - off, room, rte_pktmbuf_tailroom(m.get())}));
            std::memcpy(rte_pktmbuf_append(m.get(), len), spans[i].data() + off, len);
            if (!e.send(id, m).ok()) {
                (void)e.consume(id, echoed);
                return echoed;
            }
            off += len;
            echoed += len;
        }
    }
    (void)e.consume(id, echoed);
    return echoed;
}

} // namespace synack::bench
