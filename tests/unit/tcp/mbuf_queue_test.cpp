// The segment queue under both connection buffers: mbufs linked through their
// own next pointers, counted by the queue rather than by the head's pkt_len.

#include <synack/tcp/mbuf_queue.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <initializer_list>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

using synack::tcp::chain_extent;
using synack::tcp::MbufQueue;
using synack::wire::MbufPtr;
using namespace synack::test;

namespace {

std::vector<std::uint8_t> pattern(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = static_cast<std::uint8_t>(i * 7 + 1);
    }
    return v;
}

// The queue's bytes, walked through next and data_len only.
std::vector<std::uint8_t> contents(const MbufQueue& q) { return bytes_of(q.front()); }

} // namespace

TEST_CASE("MbufQueue: chain_extent counts bytes and non-empty segments, up to a limit",
          "[tcp][buffers]") {
    const auto bytes = pattern(12);
    MbufPtr c = chain_of(bytes, {5, 0, 7});
    REQUIRE(chain_extent(nullptr).bytes == 0);
    REQUIRE(chain_extent(c.get()).bytes == 12);
    REQUIRE(chain_extent(c.get()).segments == 2);
    REQUIRE(chain_extent(c.get(), 5).bytes == 5);
    REQUIRE(chain_extent(c.get(), 5).segments == 1);
    REQUIRE(chain_extent(c.get(), 6).segments == 2);
    REQUIRE(chain_extent(c.get(), 100).bytes == 12);
}

TEST_CASE("MbufQueue: push_back links each segment as it is, in order, and frees empty ones",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(12);
    MbufQueue q;
    REQUIRE(q.empty());
    REQUIRE(q.front() == nullptr);
    MbufPtr c = chain_of(bytes, {5, 0, 7});
    const auto segs = segments_of(c.get());
    q.push_back(c.release(), 12);
    REQUIRE(q.bytes() == 12);
    REQUIRE(q.segments() == 2);
    REQUIRE(q.front() == segs[0]);
    REQUIRE(segs[0]->next == segs[2]);
    REQUIRE(segs[2]->next == nullptr);
    // Each segment stands alone as a packet; the queue keeps the totals.
    REQUIRE(segs[0]->nb_segs == 1);
    REQUIRE(segs[0]->pkt_len == 5);
    REQUIRE(in_use() == base + 2);
    REQUIRE(contents(q) == bytes);

    MbufPtr more = chain_of(bytes, {12});
    rte_mbuf* const third = more.get();
    q.push_back(more.release(), 12);
    REQUIRE(segs[2]->next == third);
    REQUIRE(q.bytes() == 24);
    REQUIRE(q.segments() == 3);
}

TEST_CASE("MbufQueue: push_back keeps exactly len bytes and frees the segments past it",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15);
    MbufQueue q;
    q.push_back(chain_of(bytes, {5, 3, 7}).release(), 6);
    REQUIRE(q.bytes() == 6);
    REQUIRE(q.segments() == 2);
    REQUIRE(in_use() == base + 2);
    REQUIRE(contents(q) == std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 6));
}

TEST_CASE("MbufQueue: drop_front frees the segments it covers and trims the one it ends in",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15);
    MbufQueue q;
    MbufPtr c = chain_of(bytes, {5, 3, 7});
    const auto segs = segments_of(c.get());
    const std::uint16_t off2 = segs[2]->data_off;
    q.push_back(c.release(), 15);
    q.drop_front(0);
    REQUIRE(q.bytes() == 15);
    q.drop_front(9); // 5 + 3 + 1
    REQUIRE(q.bytes() == 6);
    REQUIRE(q.segments() == 1);
    REQUIRE(q.front() == segs[2]);
    REQUIRE(segs[2]->data_off == off2 + 1);
    REQUIRE(segs[2]->data_len == 6);
    REQUIRE(in_use() == base + 1);
    REQUIRE(contents(q) == std::vector<std::uint8_t>(bytes.begin() + 9, bytes.end()));
    q.drop_front(6);
    REQUIRE(q.empty());
    REQUIRE(q.bytes() == 0);
    REQUIRE(q.segments() == 0);
    REQUIRE(in_use() == base);
    // Usable again after running empty (tail reset).
    q.push_back(chain_of(bytes, {15}).release(), 15);
    REQUIRE(contents(q) == bytes);
}

TEST_CASE("MbufQueue: pop_front hands over whole segments as one valid chain", "[tcp][buffers]") {
    const auto bytes = pattern(15);
    MbufQueue q;
    MbufPtr c = chain_of(bytes, {5, 3, 7});
    const auto segs = segments_of(c.get());
    q.push_back(c.release(), 15);

    REQUIRE(q.pop_front(4) == nullptr); // the first segment alone is larger
    MbufPtr two(q.pop_front(12));       // 5 + 3 fit, + 7 would not
    REQUIRE(two.get() == segs[0]);
    REQUIRE(two->nb_segs == 2);
    REQUIRE(two->pkt_len == 8);
    REQUIRE(segs[1]->next == nullptr);
    REQUIRE(bytes_of(two.get()) == std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 8));
    REQUIRE(q.bytes() == 7);
    REQUIRE(q.segments() == 1);
    REQUIRE(q.front() == segs[2]);

    q.push_back(chain_of(bytes, {1, 1}).release(), 2);
    MbufPtr one(q.pop_front(100, 1)); // the segment limit stops it
    REQUIRE(one.get() == segs[2]);
    REQUIRE(one->nb_segs == 1);
    REQUIRE(q.segments() == 2);
    MbufPtr rest(q.pop_front(100));
    REQUIRE(rest->pkt_len == 2);
    REQUIRE(q.empty());
    REQUIRE(q.pop_front(100) == nullptr);
}

TEST_CASE("MbufQueue: clear, the destructor and move assignment free every segment",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15);
    {
        MbufQueue q;
        q.push_back(chain_of(bytes, {5, 3, 7}).release(), 15);
        q.clear();
        REQUIRE(q.empty());
        REQUIRE(in_use() == base);

        q.push_back(chain_of(bytes, {5, 3, 7}).release(), 15);
        MbufQueue other(std::move(q));
        REQUIRE(q.empty()); // a moved-from queue is empty by contract
        REQUIRE(other.bytes() == 15);
        q.push_back(chain_of(bytes, {15}).release(), 15);
        other = std::move(q); // frees other's three segments
        REQUIRE(in_use() == base + 1);
        REQUIRE(contents(other) == bytes);
    }
    REQUIRE(in_use() == base);
}
