// The receive buffer hands the application the very mbufs that arrived, and
// the window it advertises follows what the application has not released.

#include <synack/tcp/recv_buffer.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

using synack::tcp::RecvBuffer;
using synack::tcp::RecvError;
using synack::wire::Bytes;
using synack::wire::MbufPtr;
using namespace synack::test;

namespace {

// The tests of linking without a copy turn copying off.
constexpr std::uint32_t no_copy = 0;

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t first = 0) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = static_cast<std::uint8_t>((first + i) % 251);
    }
    return v;
}

// What the application reads: every peeked span, concatenated.
std::vector<std::uint8_t> unread(const RecvBuffer& rb) {
    std::array<Bytes, 64> spans;
    const std::size_t k = rb.peek(spans.data(), spans.size());
    REQUIRE(k == std::min<std::size_t>(rb.segments(), spans.size()));
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < k; ++i) {
        out.insert(out.end(), spans[i].begin(), spans[i].end());
    }
    return out;
}

// A frame as the TCP layer hands it over: headers in front of the payload,
// trimmed with rte_pktmbuf_adj, as the receive path does.
MbufPtr arrived(std::span<const std::uint8_t> payload, std::size_t header_len = 54) {
    std::vector<std::uint8_t> frame(header_len, 0xee);
    frame.insert(frame.end(), payload.begin(), payload.end());
    MbufPtr m = mbuf_from(frame);
    REQUIRE(rte_pktmbuf_adj(m.get(), static_cast<std::uint16_t>(header_len)) != nullptr);
    return m;
}

} // namespace

TEST_CASE("RecvBuffer: the application reads the very mbuf that arrived, in place",
          "[tcp][buffers]") {
    const auto payload = pattern(1000, 5);
    RecvBuffer rb(65535, 64, no_copy);
    MbufPtr m = arrived(payload);
    rte_mbuf* const nic_mbuf = m.get();
    const std::uint8_t* const nic_data = rte_pktmbuf_mtod(nic_mbuf, const std::uint8_t*);
    REQUIRE(rb.push(m, 1000).ok());
    REQUIRE_FALSE(m);

    // front() is the mbuf the NIC filled; peek() points into its data room.
    REQUIRE(rb.front() == nic_mbuf);
    std::array<Bytes, 4> spans;
    REQUIRE(rb.peek(spans.data(), spans.size()) == 1);
    REQUIRE(spans[0].data() == nic_data);
    REQUIRE(spans[0].size() == 1000);
    REQUIRE(std::equal(spans[0].begin(), spans[0].end(), payload.begin(), payload.end()));

    // The next segment goes behind it, again in place.
    MbufPtr second = arrived(payload, 66);
    rte_mbuf* const second_mbuf = second.get();
    REQUIRE(rb.push(second, 1000).ok());
    REQUIRE(rb.front()->next == second_mbuf);
    REQUIRE(rb.peek(spans.data(), spans.size()) == 2);
    REQUIRE(spans[0].data() == nic_data);
    REQUIRE(spans[1].data() == rte_pktmbuf_mtod(second_mbuf, const std::uint8_t*));
}

TEST_CASE("RecvBuffer: push keeps exactly len bytes and drops the padding past them",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    // A 1-byte segment in a minimum-size Ethernet frame: 5 bytes of padding.
    std::vector<std::uint8_t> payload = {0x42, 0, 0, 0, 0, 0};
    RecvBuffer rb(1000, 8, no_copy);
    MbufPtr m = arrived(payload);
    REQUIRE(rb.push(m, 1).ok());
    REQUIRE(rb.bytes() == 1);
    REQUIRE(unread(rb) == std::vector<std::uint8_t>{0x42});

    // Past len across segments: the segments beyond are freed.
    const auto bytes = pattern(15);
    MbufPtr c = chain_of(bytes, {5, 3, 7});
    REQUIRE(rb.push(c, 5).ok());
    REQUIRE(rb.bytes() == 6);
    REQUIRE(rb.segments() == 2);
    REQUIRE(in_use() == base + 2);
}

TEST_CASE("RecvBuffer: consume releases partial and whole segments with exact bytes",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15, 9);
    RecvBuffer rb(1000, 8, no_copy);
    MbufPtr c = chain_of(bytes, {5, 3, 7});
    const auto segs = segments_of(c.get());
    REQUIRE(rb.push(c, 15).ok());

    rb.consume(2); // inside the first segment
    REQUIRE(rb.bytes() == 13);
    REQUIRE(rb.front() == segs[0]);
    REQUIRE(unread(rb) == std::vector<std::uint8_t>(bytes.begin() + 2, bytes.end()));
    REQUIRE(in_use() == base + 3);

    rb.consume(3); // the rest of it
    REQUIRE(rb.front() == segs[1]);
    REQUIRE(in_use() == base + 2);

    rb.consume(4); // all of the second and one byte of the third
    REQUIRE(rb.front() == segs[2]);
    REQUIRE(rb.segments() == 1);
    REQUIRE(unread(rb) == std::vector<std::uint8_t>(bytes.begin() + 9, bytes.end()));
    REQUIRE(in_use() == base + 1);

    rb.consume(6);
    REQUIRE(rb.empty());
    REQUIRE(rb.front() == nullptr);
    REQUIRE(in_use() == base);
}

TEST_CASE("RecvBuffer: the window shrinks as data arrives and reopens as it is consumed",
          "[tcp][buffers]") {
    const auto bytes = pattern(3000);
    RecvBuffer rb(4000, 16, no_copy);
    REQUIRE(rb.capacity() == 4000);
    REQUIRE(rb.window() == 4000);
    MbufPtr a = arrived(std::span(bytes).first(1460));
    REQUIRE(rb.push(a, 1460).ok());
    REQUIRE(rb.window() == 4000 - 1460);
    MbufPtr b = arrived(std::span(bytes).subspan(1460, 1460));
    REQUIRE(rb.push(b, 1460).ok());
    REQUIRE(rb.window() == 4000 - 2920);
    rb.consume(1000);
    REQUIRE(rb.window() == 4000 - 1920);
    rb.consume(1920);
    REQUIRE(rb.window() == 4000);
}

TEST_CASE("RecvBuffer: push beyond the window -> would_exceed_limit, the caller keeps the payload",
          "[tcp][buffers]") {
    const auto bytes = pattern(100);
    RecvBuffer rb(150, 16, no_copy);
    MbufPtr a = arrived(bytes);
    REQUIRE(rb.push(a, 100).ok());
    MbufPtr b = arrived(std::span(bytes).first(51));
    rte_mbuf* const held = b.get();
    auto st = rb.push(b, 51);
    REQUIRE_FALSE(st.ok());
    REQUIRE(st.error() == RecvError::would_exceed_limit);
    REQUIRE(std::string(to_string(st.error())) == "would_exceed_limit");
    REQUIRE(b.get() == held);
    REQUIRE(b->data_len == 51);
    REQUIRE(rb.bytes() == 100);
    // Exactly the window fits.
    REQUIRE(rb.push(b, 50).ok());
    REQUIRE(rb.window() == 0);
}

TEST_CASE("RecvBuffer: push of nothing -> empty", "[tcp][buffers]") {
    RecvBuffer rb(150, 16, no_copy);
    MbufPtr none;
    REQUIRE(rb.push(none, 0).error() == RecvError::empty);
    MbufPtr m = arrived(pattern(10));
    auto st = rb.push(m, 0);
    REQUIRE(st.error() == RecvError::empty);
    REQUIRE(m);
    REQUIRE(rb.empty());
}

TEST_CASE("RecvBuffer: more mbufs than segments_max -> too_many_segments, the caller keeps them",
          "[tcp][buffers]") {
    const auto bytes = pattern(10);
    RecvBuffer rb(65535, 3, no_copy);
    for (int i = 0; i < 2; ++i) {
        MbufPtr m = arrived(std::span(bytes).first(1));
        REQUIRE(rb.push(m, 1).ok());
    }
    MbufPtr two = chain_of(bytes, {5, 5});
    auto st = rb.push(two, 10);
    REQUIRE(st.error() == RecvError::too_many_segments);
    REQUIRE(std::string(to_string(st.error())) == "too_many_segments");
    REQUIRE(two->nb_segs == 2);
    // Its first 5 bytes sit in one mbuf: that fits.
    REQUIRE(rb.push(two, 5).ok());
    REQUIRE(rb.segments() == 3);
    REQUIRE(rb.segments_max() == 3);
}

TEST_CASE("RecvBuffer: peek fills at most max spans", "[tcp][buffers]") {
    const auto bytes = pattern(15);
    RecvBuffer rb(1000, 8, no_copy);
    MbufPtr c = chain_of(bytes, {5, 3, 7});
    REQUIRE(rb.push(c, 15).ok());
    std::array<Bytes, 2> spans;
    REQUIRE(rb.peek(spans.data(), 2) == 2);
    REQUIRE(spans[0].size() == 5);
    REQUIRE(spans[1].size() == 3);
    REQUIRE(rb.peek(spans.data(), 0) == 0);
    RecvBuffer none(1000, 8);
    REQUIRE(none.peek(spans.data(), 2) == 0);
}

TEST_CASE("RecvBuffer: take forwards whole mbufs without copying", "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15);
    RecvBuffer rb(1000, 8, no_copy);
    MbufPtr c = chain_of(bytes, {5, 3, 7});
    const auto segs = segments_of(c.get());
    REQUIRE(rb.push(c, 15).ok());
    rb.consume(1);

    REQUIRE_FALSE(rb.take(3)); // the first mbuf (4 bytes) does not fit whole
    MbufPtr out = rb.take(10); // 4 + 3 fit; + 7 would not
    REQUIRE(out.get() == segs[0]);
    REQUIRE(out->next == segs[1]);
    REQUIRE(out->next->next == nullptr);
    REQUIRE(out->nb_segs == 2);
    REQUIRE(out->pkt_len == 7);
    REQUIRE(bytes_of(out.get()) == std::vector<std::uint8_t>(bytes.begin() + 1, bytes.begin() + 8));
    REQUIRE(rb.bytes() == 7);
    REQUIRE(rb.window() == 993);
    REQUIRE(rb.front() == segs[2]);
    REQUIRE(in_use() == base + 3);
    out.reset();
    REQUIRE(in_use() == base + 1);
}

TEST_CASE("RecvBuffer: take_exact splits the segment n ends in with an indirect mbuf, no copy",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15);
    RecvBuffer rb(1000, 8, no_copy);
    MbufPtr c = chain_of(bytes, {5, 3, 7});
    const auto segs = segments_of(c.get());
    REQUIRE(rb.push(c, 15).ok());

    MbufPtr out = rb.take_exact(10, pool()); // 5 + 3 whole, then 2 of the 7
    REQUIRE(out.get() == segs[0]);
    REQUIRE(out->nb_segs == 3);
    REQUIRE(out->pkt_len == 10);
    rte_mbuf* const piece = out->next->next;
    REQUIRE(RTE_MBUF_CLONED(piece));
    REQUIRE(rte_mbuf_from_indirect(piece) == segs[2]);
    REQUIRE(rte_pktmbuf_mtod(piece, std::uint8_t*) == rte_pktmbuf_mtod(segs[2], std::uint8_t*) - 2);
    REQUIRE(bytes_of(out.get()) == std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 10));
    REQUIRE(rb.bytes() == 5);
    REQUIRE(rb.front() == segs[2]);
    REQUIRE(unread(rb) == std::vector<std::uint8_t>(bytes.begin() + 10, bytes.end()));
    REQUIRE(rte_mbuf_refcnt_read(segs[2]) == 2);

    // Inside the first segment: the piece alone.
    MbufPtr small = rb.take_exact(1, pool());
    REQUIRE(small->nb_segs == 1);
    REQUIRE(RTE_MBUF_CLONED(small.get()));
    REQUIRE(bytes_of(small.get()) == std::vector<std::uint8_t>{bytes[10]});
    REQUIRE(rb.bytes() == 4);

    REQUIRE_FALSE(rb.take_exact(0, pool()));
    MbufPtr all = rb.take_exact(4, pool()); // whole segment: no piece needed
    REQUIRE(all.get() == segs[2]);
    REQUIRE(rb.empty());

    out.reset();
    small.reset();
    all.reset();
    REQUIRE(in_use() == base);
}

TEST_CASE("RecvBuffer: take_exact with the clone pool exhausted takes nothing", "[tcp][buffers]") {
    const auto bytes = pattern(15);
    RecvBuffer rb(1000, 8, no_copy);
    MbufPtr c = chain_of(bytes, {5, 3, 7});
    REQUIRE(rb.push(c, 15).ok());
    rte_mempool* clones = rte_pktmbuf_pool_create("rb_test_clones", 1, 0, 0, 0, SOCKET_ID_ANY);
    REQUIRE(clones != nullptr);
    rte_mbuf* hog = rte_pktmbuf_alloc(clones);
    REQUIRE(hog != nullptr);
    REQUIRE_FALSE(rb.take_exact(6, clones));
    REQUIRE(rb.bytes() == 15);
    REQUIRE(rb.segments() == 3);
    REQUIRE(unread(rb) == bytes);
    // A whole-segment count needs no clone.
    MbufPtr whole = rb.take_exact(8, clones);
    REQUIRE(whole->pkt_len == 8);
    rte_pktmbuf_free(hog);
    MbufPtr piece = rb.take_exact(6, clones);
    REQUIRE(piece->pool == clones);
    piece.reset();
    rte_mempool_free(clones);
}

TEST_CASE("RecvBuffer: clear and the destructor free every mbuf held", "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(300);
    {
        RecvBuffer rb(1000, 8, no_copy);
        MbufPtr c = chain_of(bytes, {100, 100, 100});
        REQUIRE(rb.push(c, 300).ok());
        rb.clear();
        REQUIRE(rb.empty());
        REQUIRE(rb.window() == 1000);
        REQUIRE(in_use() == base);
        MbufPtr again = chain_of(bytes, {150, 150});
        REQUIRE(rb.push(again, 300).ok());
        RecvBuffer moved(std::move(rb));
        REQUIRE(moved.bytes() == 300);
        REQUIRE(rb.empty()); // a moved-from buffer is empty by contract
        REQUIRE(in_use() == base + 2);
    }
    REQUIRE(in_use() == base);
}

TEST_CASE("RecvBuffer: random pushes, consumes and takes match a byte-vector model (seed 7)",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    std::mt19937 rng(7);
    const auto uniform = [&](std::uint32_t lo, std::uint32_t hi) {
        return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
    };
    std::vector<std::uint8_t> model;
    std::uint8_t next_byte = 0;
    RecvBuffer rb(16384, 256, no_copy);
    for (int step = 0; step < 20000; ++step) {
        const std::uint32_t op = uniform(0, 9);
        if (op < 5) {
            const std::uint32_t len = uniform(1, 1460);
            std::vector<std::uint8_t> payload(len + uniform(0, 6)); // with padding
            for (auto& b : payload) {
                b = next_byte++;
            }
            MbufPtr m = arrived(payload, uniform(0, 60));
            const std::uint32_t window = rb.window();
            auto st = rb.push(m, len);
            if (len > window) {
                REQUIRE(st.error() == RecvError::would_exceed_limit);
                REQUIRE(m);
            } else {
                REQUIRE(st.ok());
                model.insert(model.end(), payload.begin(), payload.begin() + len);
            }
        } else if (op < 7) {
            const std::uint32_t n = uniform(0, rb.bytes());
            rb.consume(n);
            model.erase(model.begin(), model.begin() + n);
        } else if (op < 8) {
            MbufPtr out = rb.take(uniform(0, 3000));
            const std::size_t n = out ? out->pkt_len : 0;
            REQUIRE(bytes_of(out.get()) ==
                    std::vector<std::uint8_t>(model.begin(), model.begin() + n));
            model.erase(model.begin(), model.begin() + n);
        } else if (op < 9) {
            const std::uint32_t n = uniform(0, std::min<std::uint32_t>(rb.bytes(), 3000));
            MbufPtr out = rb.take_exact(n, pool());
            REQUIRE((n == 0 || out->pkt_len == n));
            REQUIRE(bytes_of(out.get()) ==
                    std::vector<std::uint8_t>(model.begin(), model.begin() + n));
            model.erase(model.begin(), model.begin() + n);
        } else {
            rb.consume(rb.bytes());
            model.clear();
        }
        REQUIRE(rb.bytes() == model.size());
        REQUIRE(rb.window() == 16384 - model.size());
        if (rb.segments() <= 64) {
            REQUIRE(unread(rb) == model);
        }
    }
    rb.clear();
    REQUIRE(in_use() == base);
}

TEST_CASE("RecvBuffer: a small segment is copied onto the last mbuf held, so 1-byte segments do not pin"
          " an mbuf each",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    RecvBuffer rb(65535, 64);
    const auto bytes = pattern(1000);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        MbufPtr m = arrived(std::span(bytes).subspan(i, 1));
        REQUIRE(rb.push(m, 1).ok());
        REQUIRE_FALSE(m); // taken (freed after the copy)
    }
    REQUIRE(rb.bytes() == 1000);
    REQUIRE(rb.segments() == 1);
    REQUIRE(in_use() == base + 1);
    REQUIRE(unread(rb) == bytes);
    // A full-sized segment is linked as it came, without a copy.
    const auto big = pattern(1460, 7);
    MbufPtr m = arrived(big);
    const rte_mbuf* const nic = m.get();
    REQUIRE(rb.push(m, 1460).ok());
    REQUIRE(rb.segments() == 2);
    REQUIRE(rb.front()->next == nic);
}

TEST_CASE("RecvBuffer: no copy onto an mbuf whose buffer a clone shares, nor past its room",
          "[tcp][buffers]") {
    RecvBuffer rb(65535, 64);
    const auto bytes = pattern(100);
    MbufPtr first = arrived(std::span(bytes).first(10));
    REQUIRE(rb.push(first, 10).ok());
    // An indirect clone of the held mbuf (as take_exact() makes) shares its buffer.
    rte_mbuf* clone = rte_pktmbuf_alloc(pool());
    rte_pktmbuf_attach(clone, const_cast<rte_mbuf*>(rb.front()));
    MbufPtr second = arrived(std::span(bytes).subspan(10, 10));
    REQUIRE(rb.push(second, 10).ok());
    REQUIRE(rb.segments() == 2);
    rte_pktmbuf_free(clone);
    // The second mbuf has the room: a third small one goes onto it.
    MbufPtr third = arrived(std::span(bytes).subspan(20, 10));
    REQUIRE(rb.push(third, 10).ok());
    REQUIRE(rb.segments() == 2);
    REQUIRE(unread(rb) == std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 30));
}

TEST_CASE("RecvBuffer: with no mbuf to spare, a payload goes only as a copy; otherwise no_mbuf_budget"
          " and the caller keeps it",
          "[tcp][buffers]") {
    RecvBuffer rb(65535, 64);
    const auto bytes = pattern(1500);
    MbufPtr none_held = arrived(std::span(bytes).first(10));
    REQUIRE(rb.push(none_held, 10, false).error() == RecvError::no_mbuf_budget);
    REQUIRE(none_held);
    REQUIRE(rb.push(none_held, 10).ok());
    // 1000 bytes, above the copy threshold, are copied anyway when no mbuf may be added.
    MbufPtr big = arrived(std::span(bytes).subspan(10, 1000));
    REQUIRE(rb.push(big, 1000, false).ok());
    REQUIRE(rb.segments() == 1);
    REQUIRE(unread(rb) == std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 1010));
}
