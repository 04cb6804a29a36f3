// Out-of-order reassembly with real mbufs: every payload byte is a function of
// its sequence number, so each test checks the exact bytes handed over; the
// overlap cases one by one; limits; SACK blocks; and a randomized run against
// a reference model of the held byte ranges, with a fixed seed.

#include <synack/tcp/reassembly.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

using synack::tcp::chain_drop_back;
using synack::tcp::chain_drop_front;
using synack::tcp::InsertOutcome;
using synack::tcp::ReassemblyLimits;
using synack::tcp::ReassemblyPool;
using synack::tcp::ReassemblyQueue;
using synack::wire::MbufPtr;
using synack::wire::SackBlock;
using synack::wire::Seq32;

namespace Catch {
template <>
struct StringMaker<InsertOutcome> {
    static std::string convert(InsertOutcome o) { return synack::tcp::to_string(o); }
};
template <>
struct StringMaker<SackBlock> {
    static std::string convert(const SackBlock& b) {
        return "[" + std::to_string(b.left.raw()) + ", " + std::to_string(b.right.raw()) + ")";
    }
};
} // namespace Catch

namespace {

constexpr std::uint32_t mbuf_room_bytes = 2048; // the test pool's data room past the headroom

// The byte the stream carries at sequence number s. A multiplicative hash
// rather than the low 8 bits, so that data misplaced by a multiple of 256
// shows too.
std::uint8_t byte_at(Seq32 s) { return static_cast<std::uint8_t>((s.raw() * 0x9E3779B1u) >> 24); }

// Index of the first byte of got that is not the stream's at start + i, or
// got.size() when all are.
std::size_t first_wrong(Seq32 start, const std::vector<std::uint8_t>& got) {
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i] != byte_at(start + static_cast<std::uint32_t>(i))) {
            return i;
        }
    }
    return got.size();
}

unsigned mbufs_in_use() { return rte_mempool_in_use_count(synack::test::pool()); }

// The stream's bytes [seq, seq + len) in a chain of mbufs of the given piece
// lengths (pieces may be 0 bytes long); by default pieces as large as an mbuf
// holds.
MbufPtr payload(Seq32 seq, std::uint32_t len, std::vector<std::uint32_t> pieces = {}) {
    if (pieces.empty()) {
        for (std::uint32_t left = len; left > 0; left -= std::min(left, mbuf_room_bytes)) {
            pieces.push_back(std::min(left, mbuf_room_bytes));
        }
    }
    std::vector<std::uint8_t> bytes(len);
    for (std::uint32_t i = 0; i < len; ++i) {
        bytes[i] = byte_at(seq + i);
    }
    MbufPtr head;
    std::size_t offset = 0;
    for (std::uint32_t piece : pieces) {
        REQUIRE(offset + piece <= bytes.size());
        MbufPtr m = synack::test::mbuf_from(std::span(bytes).subspan(offset, piece));
        offset += piece;
        if (!head) {
            head = std::move(m);
        } else {
            REQUIRE(rte_pktmbuf_chain(head.get(), m.release()) == 0);
        }
    }
    REQUIRE(offset == len);
    return head;
}

// The sum of the data_len of a chain and its segment count, for checking that
// a trimmed chain's head fields still describe it.
std::pair<std::uint32_t, std::uint16_t> walk(const rte_mbuf* m) {
    std::uint32_t sum = 0;
    std::uint16_t count = 0;
    for (; m != nullptr; m = m->next) {
        sum += m->data_len;
        ++count;
    }
    return {sum, count};
}

// One segment handed over by pop_ready().
struct Handed {
    Seq32 seq;
    const rte_mbuf* mbuf; // the head, for zero-copy checks by address
    std::uint32_t len;
    std::vector<std::uint8_t> bytes;
};

struct Popped {
    std::uint32_t bytes = 0; // what pop_ready() returned
    std::vector<Handed> segments;
};

// One connection's queue on its own pool, cleared at the end of the test (the
// queue asserts that it is empty when destroyed).
struct Harness {
    explicit Harness(std::size_t pool_capacity = 64,
                     ReassemblyLimits lim = {.max_bytes = 1u << 20, .max_segments = 64})
        : pool(pool_capacity), limits(lim) {}
    ~Harness() { q.clear(pool); }
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    // Inserts the stream's bytes [seq, seq + len) as a chain of the given pieces.
    InsertOutcome insert(std::uint32_t seq, std::uint32_t len,
                         std::vector<std::uint32_t> pieces = {}) {
        MbufPtr m = payload(Seq32(seq), len, std::move(pieces));
        inserted = m.get();
        return q.insert(Seq32(seq), std::move(m), len, pool, limits);
    }

    // Runs pop_ready(rcv_nxt) and records what the sink got, checking each
    // chain's head fields against its segments.
    Popped pop(std::uint32_t rcv_nxt) {
        Popped p;
        Seq32 next(rcv_nxt);
        p.bytes = q.pop_ready(Seq32(rcv_nxt), pool, [&](MbufPtr& held, std::uint32_t len) noexcept {
            MbufPtr m = std::move(held);
            p.segments.push_back({next, m.get(), len, synack::test::bytes_of(m.get())});
            const auto [sum, count] = walk(m.get());
            if (m->pkt_len != len || sum != len || count != m->nb_segs) {
                p.segments.back().len = ~0u; // flags a chain whose head fields lie
            }
            next += len;
            return true;
        });
        for (const Handed& h : p.segments) {
            REQUIRE(h.len == h.bytes.size());
            REQUIRE(first_wrong(h.seq, h.bytes) == h.bytes.size());
        }
        return p;
    }

    std::vector<SackBlock> sack(std::size_t max = 16) const {
        std::vector<SackBlock> out(max);
        out.resize(q.sack_blocks(out.data(), max));
        return out;
    }

    ReassemblyPool pool;
    ReassemblyQueue q;
    ReassemblyLimits limits;
    const rte_mbuf* inserted = nullptr; // head of the latest chain inserted
};

SackBlock block(std::uint32_t left, std::uint32_t right) { return {Seq32(left), Seq32(right)}; }

// Clears a queue when the test leaves its scope, failed REQUIREs included, so
// that the queue's own leak assertion does not turn a failure into an abort.
struct ClearOnExit {
    ReassemblyQueue& q;
    ReassemblyPool& pool;
    ~ClearOnExit() { q.clear(pool); }
};

} // namespace

// ---------------------------------------------------------------------------
// Holding and handing over

TEST_CASE("reassembly: a segment beyond RCV.NXT is held and handed over as the very mbuf "
          "inserted (zero copy)",
          "[tcp][reassembly]") {
    Harness h;
    const unsigned before = mbufs_in_use();
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    const rte_mbuf* held = h.inserted;
    REQUIRE(h.q.bytes() == 100);
    REQUIRE(h.q.segments() == 1);
    REQUIRE_FALSE(h.q.empty());
    REQUIRE(h.pool.size() == 1);
    REQUIRE(mbufs_in_use() == before + 1);

    Popped p = h.pop(1100);
    REQUIRE(p.bytes == 100);
    REQUIRE(p.segments.size() == 1);
    REQUIRE(p.segments[0].mbuf == held);
    REQUIRE(p.segments[0].seq == Seq32(1100));
    REQUIRE(h.q.empty());
    REQUIRE(h.q.bytes() == 0);
    REQUIRE(h.pool.size() == 0);
    REQUIRE(mbufs_in_use() == before); // the sink let its mbuf go
}

TEST_CASE("reassembly: nothing is handed over while a hole remains before the first held byte "
          "(RFC 9293 section 3.10.7.4)",
          "[tcp][reassembly]") {
    Harness h;
    REQUIRE(h.insert(1200, 100) == InsertOutcome::queued);
    Popped p = h.pop(1100);
    REQUIRE(p.bytes == 0);
    REQUIRE(p.segments.empty());
    REQUIRE(h.q.bytes() == 100);
}

TEST_CASE("reassembly: a segment filling the hole releases everything queued behind it "
          "(RFC 9293 section 3.10.7.4)",
          "[tcp][reassembly]") {
    Harness h;
    std::vector<const rte_mbuf*> held;
    for (std::uint32_t seq : {1300u, 1200u, 1500u}) { // arrival order is not sequence order
        REQUIRE(h.insert(seq, 100) == InsertOutcome::queued);
    }
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued); // the hole [1100, 1200)
    REQUIRE(h.q.segments() == 4);

    Popped p = h.pop(1100);
    REQUIRE(p.bytes == 300); // up to the next hole at 1400
    REQUIRE(p.segments.size() == 3);
    REQUIRE(p.segments[0].seq == Seq32(1100));
    REQUIRE(p.segments[1].seq == Seq32(1200));
    REQUIRE(p.segments[2].seq == Seq32(1300));
    REQUIRE(h.q.segments() == 1);
    REQUIRE(h.sack() == std::vector{block(1500, 1600)});
}

TEST_CASE("reassembly: pop_ready trims bytes before RCV.NXT and frees segments wholly before it",
          "[tcp][reassembly]") {
    // The caller delivered an in-order segment [1000, 1250) itself, which
    // overlapped what was held.
    Harness h;
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1200, 100, {30, 40, 30}) == InsertOutcome::queued);
    REQUIRE(h.insert(1400, 100) == InsertOutcome::queued);
    const unsigned before = mbufs_in_use();

    Popped p = h.pop(1250);
    REQUIRE(p.bytes == 50);
    REQUIRE(p.segments.size() == 1);
    REQUIRE(p.segments[0].seq == Seq32(1250));
    REQUIRE(p.segments[0].bytes.size() == 50); // its chain lost 30 + 20 bytes at the front
    // [1100, 1200) freed (1 mbuf), the chain's first piece freed (1 mbuf), the
    // two pieces left handed over and let go by the sink (2 mbufs).
    REQUIRE(mbufs_in_use() == before - 4);
    REQUIRE(h.q.segments() == 1);
    REQUIRE(h.q.bytes() == 100);
}

TEST_CASE("reassembly: adjacent segments without overlap are kept whole, and pop hands each over "
          "untouched",
          "[tcp][reassembly]") {
    Harness h;
    REQUIRE(h.insert(1200, 100) == InsertOutcome::queued);
    const rte_mbuf* first = h.inserted;
    REQUIRE(h.insert(1300, 50) == InsertOutcome::queued);
    const rte_mbuf* second = h.inserted;
    REQUIRE(h.insert(1150, 50) == InsertOutcome::queued);
    const rte_mbuf* zeroth = h.inserted;
    REQUIRE(h.q.segments() == 3);
    REQUIRE(h.q.bytes() == 200);
    REQUIRE(h.sack() == std::vector{block(1150, 1350)}); // one contiguous block

    Popped p = h.pop(1150);
    REQUIRE(p.bytes == 200);
    REQUIRE(p.segments.size() == 3);
    REQUIRE(p.segments[0].mbuf == zeroth);
    REQUIRE(p.segments[1].mbuf == first);
    REQUIRE(p.segments[2].mbuf == second);
    REQUIRE(p.segments[2].len == 50);
}

// ---------------------------------------------------------------------------
// Overlap cases: data already held wins

TEST_CASE("reassembly: left overlap -> the held bytes win, the new segment loses its front",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    const rte_mbuf* old = h.inserted;
    REQUIRE(h.insert(1150, 100) == InsertOutcome::queued); // [1150, 1250) over [1100, 1200)
    REQUIRE(h.q.segments() == 2);
    REQUIRE(h.q.bytes() == 150);
    REQUIRE(h.sack() == std::vector{block(1100, 1250)});

    Popped p = h.pop(1100);
    REQUIRE(p.bytes == 150);
    REQUIRE(p.segments.size() == 2);
    REQUIRE(p.segments[0].mbuf == old);
    REQUIRE(p.segments[0].len == 100);
    REQUIRE(p.segments[1].seq == Seq32(1200));
    REQUIRE(p.segments[1].len == 50);
}

TEST_CASE("reassembly: right overlap -> the held bytes win, the new segment loses its tail",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1200, 100) == InsertOutcome::queued);
    const rte_mbuf* old = h.inserted;
    REQUIRE(h.insert(1150, 100) == InsertOutcome::queued); // [1150, 1250) over [1200, 1300)
    const rte_mbuf* trimmed = h.inserted;
    REQUIRE(h.q.bytes() == 150);

    Popped p = h.pop(1150);
    REQUIRE(p.bytes == 150);
    REQUIRE(p.segments.size() == 2);
    REQUIRE(p.segments[0].mbuf == trimmed); // a tail trim keeps the head mbuf
    REQUIRE(p.segments[0].len == 50);
    REQUIRE(p.segments[1].mbuf == old);
    REQUIRE(p.segments[1].len == 100);
}

TEST_CASE("reassembly: overlap on both sides -> the new segment keeps only the hole between",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1300, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1150, 200) == InsertOutcome::queued); // [1150, 1350)
    REQUIRE(h.q.segments() == 3);
    REQUIRE(h.q.bytes() == 300);
    REQUIRE(h.sack() == std::vector{block(1100, 1400)});

    Popped p = h.pop(1100);
    REQUIRE(p.bytes == 300);
    REQUIRE(p.segments.size() == 3);
    REQUIRE(p.segments[1].seq == Seq32(1200));
    REQUIRE(p.segments[1].len == 100);
}

TEST_CASE("reassembly: an exact duplicate is freed and changes nothing",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    const rte_mbuf* old = h.inserted;
    const unsigned before = mbufs_in_use();
    REQUIRE(h.insert(1100, 100) == InsertOutcome::duplicate);
    REQUIRE(mbufs_in_use() == before);
    REQUIRE(h.q.segments() == 1);
    REQUIRE(h.q.bytes() == 100);
    REQUIRE(h.pool.size() == 1);
    REQUIRE(h.pop(1100).segments.at(0).mbuf == old);
}

TEST_CASE("reassembly: a segment inside a held one is a duplicate (the old one covers it)",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    const unsigned before = mbufs_in_use();
    REQUIRE(h.insert(1120, 50) == InsertOutcome::duplicate);
    REQUIRE(h.insert(1100, 1) == InsertOutcome::duplicate);  // its first byte
    REQUIRE(h.insert(1199, 1) == InsertOutcome::duplicate);  // its last byte
    REQUIRE(h.insert(1150, 50) == InsertOutcome::duplicate); // flush with its end
    REQUIRE(mbufs_in_use() == before);
    REQUIRE(h.q.bytes() == 100);
}

TEST_CASE("reassembly: a segment spanning adjacent held segments, with no hole, is a duplicate",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1200, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1300, 100) == InsertOutcome::queued);
    const unsigned before = mbufs_in_use();
    REQUIRE(h.insert(1150, 200) == InsertOutcome::duplicate); // over three, no byte new
    REQUIRE(h.insert(1100, 300) == InsertOutcome::duplicate); // exactly the three
    REQUIRE(h.insert(1200, 150) == InsertOutcome::duplicate); // one and a half
    REQUIRE(mbufs_in_use() == before);
    REQUIRE(h.q.segments() == 3);
}

TEST_CASE("reassembly: a new segment covering held ones entirely replaces them, their mbufs "
          "freed",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1200, 50) == InsertOutcome::queued);
    REQUIRE(h.insert(1300, 50) == InsertOutcome::queued);
    REQUIRE(h.insert(1360, 10) == InsertOutcome::queued);
    const unsigned before = mbufs_in_use();
    REQUIRE(h.insert(1150, 250) == InsertOutcome::queued); // [1150, 1400) covers all three
    const rte_mbuf* whole = h.inserted;
    REQUIRE(mbufs_in_use() == before + 1 - 3);
    REQUIRE(h.q.segments() == 1);
    REQUIRE(h.q.bytes() == 250);
    REQUIRE(h.pool.size() == 1);

    Popped p = h.pop(1150);
    REQUIRE(p.bytes == 250);
    REQUIRE(p.segments.size() == 1);
    REQUIRE(p.segments[0].mbuf == whole); // kept whole, not split around the old ones
}

TEST_CASE("reassembly: a longer segment sharing one end with a held one replaces it",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1200, 100) == InsertOutcome::queued);
    const unsigned before = mbufs_in_use();
    REQUIRE(h.insert(1200, 150) == InsertOutcome::queued); // same start, longer
    REQUIRE(h.q.segments() == 1);
    REQUIRE(mbufs_in_use() == before);                     // one freed, one held
    REQUIRE(h.insert(1150, 200) == InsertOutcome::queued); // same end, earlier start
    REQUIRE(h.q.segments() == 1);
    REQUIRE(h.q.bytes() == 200);
    REQUIRE(h.pop(1150).segments.at(0).mbuf == h.inserted);
}

TEST_CASE("reassembly: a segment overlapping the edges and covering the middle keeps the old "
          "edges and replaces the middle",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1100, 50) == InsertOutcome::queued); // [1100, 1150)
    const rte_mbuf* left = h.inserted;
    REQUIRE(h.insert(1200, 50) == InsertOutcome::queued); // [1200, 1250)
    REQUIRE(h.insert(1300, 50) == InsertOutcome::queued); // [1300, 1350)
    REQUIRE(h.insert(1380, 40) == InsertOutcome::queued); // [1380, 1420)
    const rte_mbuf* right = h.inserted;
    REQUIRE(h.insert(1120, 280) == InsertOutcome::queued); // [1120, 1400) -> [1150, 1380)
    REQUIRE(h.q.segments() == 3);
    REQUIRE(h.q.bytes() == 320);

    Popped p = h.pop(1100);
    REQUIRE(p.bytes == 320);
    REQUIRE(p.segments.size() == 3);
    REQUIRE(p.segments[0].mbuf == left);
    REQUIRE(p.segments[1].seq == Seq32(1150));
    REQUIRE(p.segments[1].len == 230);
    REQUIRE(p.segments[2].mbuf == right);
}

TEST_CASE("reassembly: trimming a chained payload frees the mbufs it empties at either end",
          "[tcp][reassembly][overlap]") {
    Harness h;
    REQUIRE(h.insert(1090, 45) == InsertOutcome::queued);  // [1090, 1135)
    REQUIRE(h.insert(1200, 100) == InsertOutcome::queued); // [1200, 1300)
    const unsigned before = mbufs_in_use();
    // [1100, 1220) in pieces of 30, 40, 30 and 20: the front loses 35 bytes
    // (the first piece and 5 of the second), the back 20 (the last piece).
    REQUIRE(h.insert(1100, 120, {30, 40, 30, 20}) == InsertOutcome::queued);
    REQUIRE(mbufs_in_use() == before + 2); // two of the four pieces freed
    REQUIRE(h.q.bytes() == 45 + 65 + 100);

    Popped p = h.pop(1090);
    REQUIRE(p.bytes == 210);
    REQUIRE(p.segments.size() == 3);
    REQUIRE(p.segments[1].seq == Seq32(1135));
    REQUIRE(p.segments[1].len == 65);
}

// ---------------------------------------------------------------------------
// The chain helpers

TEST_CASE("chain_drop_front: whole leading mbufs are freed and the new head describes the chain",
          "[tcp][reassembly][mbuf]") {
    const std::uint32_t seq = 5000;
    for (std::uint32_t n : {0u, 1u, 9u, 10u, 11u, 20u, 21u, 29u}) {
        INFO("drop " << n);
        MbufPtr m = payload(Seq32(seq), 30, {10, 0, 10, 10}); // with an empty piece
        const unsigned before = mbufs_in_use();
        chain_drop_front(m, n);
        const auto [sum, count] = walk(m.get());
        REQUIRE(m->pkt_len == 30 - n);
        REQUIRE(sum == 30 - n);
        REQUIRE(m->nb_segs == count);
        REQUIRE(mbufs_in_use() == before - (4 - count));
        REQUIRE(m->data_len > 0); // no empty head left behind
        const auto bytes = synack::test::bytes_of(m.get());
        REQUIRE(first_wrong(Seq32(seq + n), bytes) == bytes.size());
    }
}

TEST_CASE("chain_drop_back: whole trailing mbufs are freed and the head's pkt_len and nb_segs "
          "follow",
          "[tcp][reassembly][mbuf]") {
    const std::uint32_t seq = 7000;
    for (std::uint32_t n : {0u, 1u, 9u, 10u, 11u, 20u, 21u, 29u}) {
        INFO("drop " << n);
        MbufPtr m = payload(Seq32(seq), 30, {10, 10, 0, 10});
        const rte_mbuf* head = m.get();
        const unsigned before = mbufs_in_use();
        chain_drop_back(m, n);
        REQUIRE(m.get() == head);
        const auto [sum, count] = walk(m.get());
        REQUIRE(m->pkt_len == 30 - n);
        REQUIRE(sum == 30 - n);
        REQUIRE(m->nb_segs == count);
        REQUIRE(mbufs_in_use() == before - (4 - count));
        const auto bytes = synack::test::bytes_of(m.get());
        REQUIRE(bytes.size() == 30 - n);
        REQUIRE(first_wrong(Seq32(seq), bytes) == bytes.size());
    }
}

// ---------------------------------------------------------------------------
// Sequence space

TEST_CASE("reassembly: sequence numbers wrap across 2**32 (RFC 9293 section 3.4)",
          "[tcp][reassembly][wrap]") {
    Harness h;
    const std::uint32_t rcv_nxt = 0xFFFFFF00u;
    REQUIRE(h.insert(0x00000040u, 0x40) == InsertOutcome::queued); // [2**32 + 0x40, + 0x80)
    REQUIRE(h.insert(0xFFFFFFC0u, 0x60) == InsertOutcome::queued); // across the wrap
    // [0xFFFFFF80, 2**32 + 0x60): covers the one across the wrap, loses its
    // tail to the first.
    REQUIRE(h.insert(0xFFFFFF80u, 0xE0) == InsertOutcome::queued);
    REQUIRE(h.q.segments() == 2);
    REQUIRE(h.q.bytes() == 0x100);
    REQUIRE(h.insert(0x00000000u, 0x10) == InsertOutcome::duplicate);
    REQUIRE(h.sack() == std::vector{block(0xFFFFFF80u, 0x80)});

    REQUIRE(h.pop(rcv_nxt).bytes == 0);
    REQUIRE(h.insert(rcv_nxt, 0x90) == InsertOutcome::queued); // to 0xFFFFFF90: overlap at end
    Popped p = h.pop(rcv_nxt);
    REQUIRE(p.bytes == 0x180);
    REQUIRE(p.segments.size() == 3);
    REQUIRE(p.segments[0].len == 0x80);
    REQUIRE(p.segments[1].seq == Seq32(0xFFFFFF80u));
    REQUIRE(p.segments[2].seq == Seq32(0x40));
    REQUIRE(h.q.empty());
}

TEST_CASE("reassembly: a zero-length segment holds nothing", "[tcp][reassembly]") {
    Harness h;
    REQUIRE(h.q.insert(Seq32(1100), MbufPtr{}, 0, h.pool, h.limits) == InsertOutcome::duplicate);
    REQUIRE(h.q.empty());
    REQUIRE(h.pool.size() == 0);
}

// ---------------------------------------------------------------------------
// Limits

TEST_CASE("reassembly: past the per-connection byte limit -> no_room, the mbuf freed, the queue "
          "unchanged",
          "[tcp][reassembly][limits]") {
    Harness h(64, {.max_bytes = 250, .max_segments = 64});
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1300, 100) == InsertOutcome::queued);
    const unsigned before = mbufs_in_use();
    REQUIRE(h.insert(1500, 51) == InsertOutcome::no_room);
    REQUIRE(mbufs_in_use() == before);
    REQUIRE(h.q.bytes() == 200);
    REQUIRE(h.q.segments() == 2);
    // The limit counts the new bytes only: 50 fit, and so does a segment that
    // brings 50 new bytes along with 200 held ones.
    REQUIRE(h.insert(1050, 400) == InsertOutcome::no_room); // 200 new bytes
    REQUIRE(h.insert(1150, 100) == InsertOutcome::queued);  // fills [1200, 1250) only
    REQUIRE(h.q.bytes() == 250);
    REQUIRE(h.insert(1250, 1) == InsertOutcome::no_room);
    REQUIRE(h.insert(1300, 100) == InsertOutcome::duplicate); // no room needed for nothing
    REQUIRE(mbufs_in_use() == before + 1);
}

TEST_CASE("reassembly: past the per-connection segment limit -> no_room, but a replacement fits",
          "[tcp][reassembly][limits]") {
    Harness h(64, {.max_bytes = 1u << 20, .max_segments = 3});
    REQUIRE(h.insert(1100, 10) == InsertOutcome::queued);
    REQUIRE(h.insert(1200, 10) == InsertOutcome::queued);
    REQUIRE(h.insert(1300, 10) == InsertOutcome::queued);
    const unsigned before = mbufs_in_use();
    REQUIRE(h.insert(1400, 10) == InsertOutcome::no_room);
    REQUIRE(mbufs_in_use() == before);
    REQUIRE(h.q.segments() == 3);
    // Covering two held segments makes one of three: 2 in all.
    REQUIRE(h.insert(1150, 200) == InsertOutcome::queued);
    REQUIRE(h.q.segments() == 2);
    REQUIRE(h.insert(1400, 10) == InsertOutcome::queued);
    REQUIRE(h.q.segments() == 3);
}

TEST_CASE("reassembly: an empty engine pool -> no_room with the mbuf freed; connections share it",
          "[tcp][reassembly][limits]") {
    ReassemblyPool pool(3);
    const ReassemblyLimits limits{.max_bytes = 1u << 20, .max_segments = 64};
    ReassemblyQueue a;
    ReassemblyQueue b;
    const ClearOnExit clear_a{a, pool};
    const ClearOnExit clear_b{b, pool};
    REQUIRE(a.insert(Seq32(1100), payload(Seq32(1100), 10), 10, pool, limits) ==
            InsertOutcome::queued);
    REQUIRE(a.insert(Seq32(1200), payload(Seq32(1200), 10), 10, pool, limits) ==
            InsertOutcome::queued);
    REQUIRE(b.insert(Seq32(9100), payload(Seq32(9100), 10), 10, pool, limits) ==
            InsertOutcome::queued);
    REQUIRE(pool.available() == 0);
    const unsigned before = mbufs_in_use();
    REQUIRE(b.insert(Seq32(9200), payload(Seq32(9200), 10), 10, pool, limits) ==
            InsertOutcome::no_room);
    REQUIRE(mbufs_in_use() == before);
    REQUIRE(b.segments() == 1);
    // A replacement reuses the node it replaces: no pool node needed.
    REQUIRE(a.insert(Seq32(1100), payload(Seq32(1100), 50), 50, pool, limits) ==
            InsertOutcome::queued);
    REQUIRE(a.bytes() == 60);
    // a frees its nodes, b can hold more.
    a.clear(pool);
    REQUIRE(pool.available() == 2);
    REQUIRE(b.insert(Seq32(9200), payload(Seq32(9200), 10), 10, pool, limits) ==
            InsertOutcome::queued);
    b.clear(pool);
    REQUIRE(pool.size() == 0);
}

TEST_CASE("reassembly: clear() returns every node and mbuf", "[tcp][reassembly]") {
    Harness h;
    const unsigned before = mbufs_in_use();
    for (std::uint32_t i = 0; i < 10; ++i) {
        REQUIRE(h.insert(2000 + i * 100, 50, {20, 30}) == InsertOutcome::queued);
    }
    REQUIRE(mbufs_in_use() == before + 20);
    REQUIRE(h.pool.size() == 10);
    h.q.clear(h.pool);
    REQUIRE(h.q.empty());
    REQUIRE(h.q.bytes() == 0);
    REQUIRE(h.q.segments() == 0);
    REQUIRE(h.pool.size() == 0);
    REQUIRE(mbufs_in_use() == before);
    REQUIRE(h.sack().empty());
}

// ---------------------------------------------------------------------------
// SACK blocks

TEST_CASE("reassembly: SACK blocks list each contiguous range, the first holding the latest "
          "segment (RFC 2018 section 4)",
          "[tcp][reassembly][sack][rfc2018]") {
    Harness h;
    REQUIRE(h.insert(1500, 100) == InsertOutcome::queued);
    REQUIRE(h.sack() == std::vector{block(1500, 1600)});
    REQUIRE(h.insert(1200, 100) == InsertOutcome::queued);
    REQUIRE(h.sack() == std::vector{block(1200, 1300), block(1500, 1600)});
    REQUIRE(h.insert(1800, 50) == InsertOutcome::queued);
    REQUIRE(h.sack() == std::vector{block(1800, 1850), block(1200, 1300), block(1500, 1600)});
    REQUIRE(h.insert(1600, 50) == InsertOutcome::queued); // joins [1500, 1600)
    REQUIRE(h.sack() == std::vector{block(1500, 1650), block(1200, 1300), block(1800, 1850)});
    REQUIRE(h.insert(1400, 10) == InsertOutcome::queued);
    REQUIRE(h.sack() == std::vector{block(1400, 1410), block(1200, 1300), block(1500, 1650),
                                    block(1800, 1850)});
    // The 4 blocks an option holds (3 beside timestamps): the latest stays first.
    REQUIRE(h.sack(3) == std::vector{block(1400, 1410), block(1200, 1300), block(1500, 1650)});
    REQUIRE(h.sack(1) == std::vector{block(1400, 1410)});
    REQUIRE(h.sack(0).empty());
    // A duplicate triggers an ACK too: its block comes first.
    REQUIRE(h.insert(1820, 10) == InsertOutcome::duplicate);
    REQUIRE(h.sack(2) == std::vector{block(1800, 1850), block(1200, 1300)});
}

TEST_CASE("reassembly: a refused segment leaves the latest held segment's block first",
          "[tcp][reassembly][sack][rfc2018]") {
    Harness h(64, {.max_bytes = 1u << 20, .max_segments = 2});
    REQUIRE(h.insert(1500, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1200, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1800, 100) == InsertOutcome::no_room);
    REQUIRE(h.sack() == std::vector{block(1200, 1300), block(1500, 1600)});
    REQUIRE(h.insert(1550, 10) == InsertOutcome::duplicate);
    REQUIRE(h.sack() == std::vector{block(1500, 1600), block(1200, 1300)});
}

TEST_CASE("reassembly: once the latest segment is handed over, the SACK blocks go by sequence "
          "(RFC 2018 section 4: not for data the ACK covers)",
          "[tcp][reassembly][sack][rfc2018]") {
    Harness h;
    REQUIRE(h.insert(1500, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1300, 100) == InsertOutcome::queued);
    REQUIRE(h.insert(1100, 100) == InsertOutcome::queued);
    REQUIRE(h.pop(1100).bytes == 100);
    REQUIRE(h.sack() == std::vector{block(1300, 1400), block(1500, 1600)});
}

// ---------------------------------------------------------------------------
// Against a model

namespace {

// The model: the set of stream offsets held, as disjoint, non-adjacent
// half-open intervals [first, second).
class HeldModel {
public:
    // Bytes of [s, e) not held.
    std::uint64_t missing(std::uint64_t s, std::uint64_t e) const {
        std::uint64_t held = 0;
        for (auto it = first_ending_after(s); it != map_.end() && it->first < e; ++it) {
            held += std::min(e, it->second) - std::max(s, it->first);
        }
        return (e - s) - held;
    }
    void add(std::uint64_t s, std::uint64_t e) {
        auto it = map_.lower_bound(s);
        if (it != map_.begin() && std::prev(it)->second >= s) {
            --it;
        }
        while (it != map_.end() && it->first <= e) { // overlapping or adjacent: merge
            s = std::min(s, it->first);
            e = std::max(e, it->second);
            it = map_.erase(it);
        }
        map_.emplace(s, e);
    }
    void erase_below(std::uint64_t x) {
        while (!map_.empty() && map_.begin()->first < x) {
            auto [s, e] = *map_.begin();
            map_.erase(map_.begin());
            if (e > x) {
                map_.emplace(x, e);
            }
        }
    }
    std::uint64_t size() const {
        std::uint64_t n = 0;
        for (auto [s, e] : map_) {
            n += e - s;
        }
        return n;
    }
    const std::map<std::uint64_t, std::uint64_t>& ranges() const { return map_; }

private:
    std::map<std::uint64_t, std::uint64_t>::const_iterator
    first_ending_after(std::uint64_t s) const {
        auto it = map_.upper_bound(s);
        if (it != map_.begin() && std::prev(it)->second > s) {
            --it;
        }
        return it;
    }
    std::map<std::uint64_t, std::uint64_t> map_;
};

struct ModelConfig {
    std::uint64_t seed;
    std::size_t pool_capacity;
    ReassemblyLimits limits;
    std::uint32_t isn; // just below 2**32 (or 2**31), so the stream crosses it
};

// One connection receiving a stream of stream_bytes from a sender that
// retransmits, reorders and duplicates at random; the test plays the TCP
// input path in front of the queue (trim to the window, deliver in-order
// data itself or queue it) and checks every step against the model.
void run_model(const ModelConfig& cfg) {
    constexpr std::uint64_t stream_bytes = 64u << 20; // more than the random steps reach
    constexpr std::uint64_t window_bytes = 65'535;
    constexpr int steps = 5000;

    const unsigned mbufs_at_start = mbufs_in_use();
    std::mt19937_64 rng(cfg.seed);
    auto uniform = [&rng](std::uint64_t lo, std::uint64_t hi) { // [lo, hi]
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
    };
    const auto seq_of = [&cfg](std::uint64_t offset) {
        return Seq32(cfg.isn) + static_cast<std::uint32_t>(offset);
    };

    ReassemblyPool pool(cfg.pool_capacity);
    ReassemblyQueue q;
    const ClearOnExit clear_q{q, pool};
    HeldModel model;
    std::uint64_t rcv_nxt = 0;       // stream offset of RCV.NXT
    std::uint64_t sent_end = 0;      // the end of the highest segment sent
    std::uint64_t latest_offset = 0; // a byte of the latest segment held, per the model
    bool has_latest = false;
    unsigned max_mbufs = 0;
    std::uint64_t queued = 0, duplicates = 0, refused = 0, direct = 0;

    // Hands over what became contiguous, checking every byte.
    auto pop = [&] {
        std::uint64_t next = rcv_nxt;
        bool bytes_ok = true;
        const std::uint32_t n =
            q.pop_ready(seq_of(rcv_nxt), pool, [&](MbufPtr& held, std::uint32_t len) noexcept {
                const MbufPtr m = std::move(held);
                const auto bytes = synack::test::bytes_of(m.get());
                bytes_ok = bytes_ok && m->pkt_len == len && bytes.size() == len &&
                           first_wrong(seq_of(next), bytes) == len;
                next += len;
                return true;
            });
        REQUIRE(bytes_ok);
        REQUIRE(rcv_nxt + n == next);
        // Exactly the held bytes contiguous from RCV.NXT.
        const auto& r = model.ranges();
        const std::uint64_t expect =
            !r.empty() && r.begin()->first <= rcv_nxt ? r.begin()->second - rcv_nxt : 0;
        REQUIRE(n == expect);
        rcv_nxt = next;
        model.erase_below(rcv_nxt);
        if (has_latest && latest_offset < rcv_nxt) {
            has_latest = false;
        }
    };

    // Checks the queue's counters and SACK blocks against the model.
    auto check = [&] {
        REQUIRE(q.bytes() == model.size());
        REQUIRE(q.bytes() <= cfg.limits.max_bytes);
        REQUIRE(q.segments() <= cfg.limits.max_segments);
        REQUIRE(pool.size() == q.segments());
        REQUIRE(mbufs_in_use() < 3500); // the test pool holds 4095
        max_mbufs = std::max(max_mbufs, mbufs_in_use());
        std::vector<SackBlock> blocks(1024);
        blocks.resize(q.sack_blocks(blocks.data(), blocks.size()));
        std::vector<SackBlock> expect;
        for (auto [s, e] : model.ranges()) {
            expect.push_back({seq_of(s), seq_of(e)});
        }
        REQUIRE(blocks.size() == expect.size());
        if (has_latest) {
            // First the block holding the latest segment, then the rest in order.
            const Seq32 latest = seq_of(latest_offset);
            auto first = std::find_if(expect.begin(), expect.end(), [&](const SackBlock& b) {
                return in_window(b.left, latest, b.right);
            });
            REQUIRE(first != expect.end());
            std::rotate(expect.begin(), first, first + 1);
        }
        REQUIRE(blocks == expect);
    };

    // A segment as the sender sends it, through the input path's trimming.
    auto arrive = [&](std::uint64_t s, std::uint64_t e) {
        // Pieces of 1..4 mbufs, some of them empty, none past an mbuf's room.
        std::vector<std::uint32_t> pieces;
        std::uint32_t left = static_cast<std::uint32_t>(e - s);
        const int want = static_cast<int>(uniform(1, 4));
        for (int i = 1; i < want && left > 0; ++i) {
            const auto piece = static_cast<std::uint32_t>(uniform(0, std::min(left, 1500u)));
            pieces.push_back(piece);
            left -= piece;
        }
        while (left > 0) {
            pieces.push_back(std::min(left, mbuf_room_bytes));
            left -= pieces.back();
        }
        MbufPtr m = payload(seq_of(s), static_cast<std::uint32_t>(e - s), pieces);

        // RFC 9293 section 3.10.7.4: keep only what lies in the window.
        const std::uint64_t wnd_end = rcv_nxt + window_bytes;
        if (e <= rcv_nxt || s >= wnd_end) {
            return; // old duplicate or beyond the window: dropped, m freed
        }
        if (s < rcv_nxt) {
            chain_drop_front(m, static_cast<std::uint32_t>(rcv_nxt - s));
            s = rcv_nxt;
        }
        if (e > wnd_end) {
            chain_drop_back(m, static_cast<std::uint32_t>(e - wnd_end));
            e = wnd_end;
        }
        const auto len = static_cast<std::uint32_t>(e - s);
        REQUIRE(m->pkt_len == len);

        if (s == rcv_nxt && uniform(0, 1) == 0) {
            // In order: the input path hands it to the application itself.
            const auto bytes = synack::test::bytes_of(m.get());
            REQUIRE(first_wrong(seq_of(s), bytes) == len);
            rcv_nxt = e;
            model.erase_below(rcv_nxt);
            if (has_latest && latest_offset < rcv_nxt) {
                has_latest = false;
            }
            ++direct;
            pop();
            return;
        }

        const std::uint64_t missing = model.missing(s, e);
        const std::uint64_t bytes_before = q.bytes();
        const std::size_t segments_before = q.segments();
        const bool pool_was_empty = pool.available() == 0;
        const unsigned mbufs_before = mbufs_in_use();
        const auto chain_mbufs = m->nb_segs;
        const InsertOutcome o = q.insert(seq_of(s), std::move(m), len, pool, cfg.limits);
        INFO("segment [" << s << ", " << e << ") rcv_nxt " << rcv_nxt << " outcome "
                         << synack::tcp::to_string(o));
        switch (o) {
        case InsertOutcome::queued:
            REQUIRE(missing > 0);
            REQUIRE(bytes_before + missing <= cfg.limits.max_bytes);
            model.add(s, e);
            latest_offset = s;
            has_latest = true;
            ++queued;
            break;
        case InsertOutcome::duplicate:
            REQUIRE(missing == 0);
            REQUIRE(mbufs_in_use() == mbufs_before - chain_mbufs);
            latest_offset = s;
            has_latest = true;
            ++duplicates;
            break;
        case InsertOutcome::no_room:
            REQUIRE(missing > 0);
            REQUIRE((bytes_before + missing > cfg.limits.max_bytes ||
                     segments_before >= cfg.limits.max_segments || pool_was_empty));
            REQUIRE(q.bytes() == bytes_before);
            REQUIRE(q.segments() == segments_before);
            REQUIRE(mbufs_in_use() == mbufs_before - chain_mbufs);
            ++refused;
            break;
        }
        check();
        pop();
        check();
    };

    for (int step = 0; step < steps && rcv_nxt < stream_bytes; ++step) {
        std::uint64_t s = 0;
        switch (uniform(0, 9)) {
        case 0: s = rcv_nxt - std::min<std::uint64_t>(rcv_nxt, uniform(0, 600)); break; // resent
        case 1: s = rcv_nxt; break;
        default: s = rcv_nxt + uniform(0, window_bytes + 2000); break; // some past the window
        }
        const std::uint64_t len = uniform(0, 3) == 0 ? uniform(1, 20) : uniform(1, 3000);
        const std::uint64_t e = std::min(s + len, stream_bytes);
        if (s < e) {
            sent_end = std::max(sent_end, e);
            arrive(s, e);
        }
    }
    // The sender fills every hole, in order, to what it sent so far.
    while (rcv_nxt < sent_end) {
        arrive(rcv_nxt, std::min(rcv_nxt + uniform(1, 3000), sent_end));
    }

    INFO("queued " << queued << " duplicates " << duplicates << " refused " << refused
                   << " delivered directly " << direct << " most mbufs in use " << max_mbufs);
    REQUIRE(rcv_nxt == sent_end);
    REQUIRE(sent_end > 0x10000); // past 2**32 (or 2**31) from each isn below
    REQUIRE(q.empty());
    REQUIRE(pool.size() == 0);
    REQUIRE(mbufs_in_use() == mbufs_at_start);
    // Each kind of outcome happened, or the run tested less than it claims.
    REQUIRE(queued + duplicates + refused + direct > 2000);
    REQUIRE(queued > 500);
    REQUIRE(duplicates > 10);
    REQUIRE(direct > 10);
    if (cfg.seed != 1) {
        REQUIRE(refused > 0);
    }
}

} // namespace

TEST_CASE("reassembly: thousands of random segments deliver exactly the stream sent, the queue "
          "matching a model at every step (fixed seeds)",
          "[tcp][reassembly][model]") {
    const ModelConfig configs[] = {
        // Limits high enough never to refuse.
        {1, 1000, {.max_bytes = 1u << 20, .max_segments = 1000}, 0xFFFF0000u},
        // The per-connection segment limit binds.
        {2, 1000, {.max_bytes = 1u << 20, .max_segments = 24}, 0xFFFFF000u},
        // The per-connection byte limit binds.
        {3, 1000, {.max_bytes = 12'000, .max_segments = 1000}, 0x7FFFF000u},
        // The engine pool runs dry before any per-connection limit.
        {4, 12, {.max_bytes = 1u << 20, .max_segments = 1000}, 0xFFFFFFFFu},
    };
    for (const ModelConfig& cfg : configs) {
        INFO("seed " << cfg.seed);
        run_model(cfg);
    }
}
