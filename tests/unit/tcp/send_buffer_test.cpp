// The send buffer is the retransmission queue: bytes stay in the mbufs the
// application handed over until acknowledged, and every packet sent is a
// header mbuf plus indirect mbufs referencing them, never a copy.

#include <synack/tcp/send_buffer.hpp>
#include <synack/wire/build.hpp>
#include <synack/wire/ethernet.hpp>
#include <synack/wire/ip_proto.hpp>
#include <synack/wire/ipv4.hpp>
#include <synack/wire/tcp.hpp>

#include "unit/test_support.hpp"

#include <catch2/catch.hpp>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

using synack::tcp::SendBuffer;
using synack::tcp::SendError;
using synack::wire::MbufPtr;
using namespace synack::test;

namespace {

// Distinct bytes with a period (251) that no segment size here lines up with.
std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t first = 0) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = static_cast<std::uint8_t>((first + i) % 251);
    }
    return v;
}

const std::uint8_t* data_of(const rte_mbuf* m) { return rte_pktmbuf_mtod(m, const std::uint8_t*); }

// The payload of a slice: everything after the header mbuf.
std::vector<std::uint8_t> payload_of(const rte_mbuf* pkt) { return bytes_of(pkt->next); }

// Takes mbufs out of a pool until only `leave` remain, and returns them at
// scope exit: pool exhaustion on demand.
class PoolDrain {
public:
    PoolDrain(rte_mempool* mp, unsigned leave) {
        while (rte_mempool_avail_count(mp) > leave) {
            held_.push_back(rte_pktmbuf_alloc(mp));
        }
    }
    ~PoolDrain() {
        for (rte_mbuf* m : held_) {
            rte_pktmbuf_free(m);
        }
    }
    PoolDrain(const PoolDrain&) = delete;
    PoolDrain& operator=(const PoolDrain&) = delete;

private:
    std::vector<rte_mbuf*> held_;
};

// A send buffer holding `bytes` as segments of `sizes`; seg_ptrs receives the
// buffered mbufs, in order.
SendBuffer buffer_with(std::span<const std::uint8_t> bytes,
                       std::initializer_list<std::size_t> sizes,
                       std::vector<rte_mbuf*>* seg_ptrs = nullptr) {
    SendBuffer sb(64 * 1024);
    MbufPtr data = chain_of(bytes, sizes);
    if (seg_ptrs != nullptr) {
        *seg_ptrs = segments_of(data.get());
    }
    REQUIRE(sb.append(data).ok());
    return sb;
}

} // namespace

TEST_CASE("SendBuffer: append links the chain's mbufs as they are and empties the handle",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15);
    SendBuffer sb(1000);
    MbufPtr data = chain_of(bytes, {5, 3, 7});
    const auto segs = segments_of(data.get());
    REQUIRE(sb.append(data).ok());
    REQUIRE_FALSE(data);
    REQUIRE(sb.bytes() == 15);
    REQUIRE(sb.space() == 985);
    REQUIRE(sb.segments() == 3);
    REQUIRE_FALSE(sb.empty());
    REQUIRE(in_use() == base + 3);
    // The buffered mbufs are the appended ones: no byte moved.
    MbufPtr pkt = sb.slice(0, 15, pool());
    REQUIRE(pkt);
    auto piece = pkt->next;
    for (rte_mbuf* seg : segs) {
        REQUIRE(piece->buf_addr == seg->buf_addr);
        REQUIRE(data_of(piece) == data_of(seg));
        piece = piece->next;
    }
}

TEST_CASE("SendBuffer: append drops empty segments of a chain", "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(9);
    SendBuffer sb(1000);
    MbufPtr data = chain_of(bytes, {0, 4, 0, 5, 0});
    REQUIRE(sb.append(data).ok());
    REQUIRE(sb.segments() == 2);
    REQUIRE(sb.bytes() == 9);
    REQUIRE(in_use() == base + 2);
    MbufPtr pkt = sb.slice(0, 9, pool());
    REQUIRE(payload_of(pkt.get()) == bytes);
}

TEST_CASE("SendBuffer: append of nothing -> empty, and the caller keeps the chain",
          "[tcp][buffers]") {
    SendBuffer sb(1000);
    MbufPtr none;
    auto st = sb.append(none);
    REQUIRE_FALSE(st.ok());
    REQUIRE(st.error() == SendError::empty);

    MbufPtr zero = chain_of({}, {0, 0});
    rte_mbuf* const held = zero.get();
    st = sb.append(zero);
    REQUIRE_FALSE(st.ok());
    REQUIRE(st.error() == SendError::empty);
    REQUIRE(zero.get() == held);
    REQUIRE(zero->nb_segs == 2);
    REQUIRE(sb.empty());
    REQUIRE(std::string(to_string(SendError::empty)) == "empty");
}

TEST_CASE("SendBuffer: append past bytes_max -> would_exceed_limit, and the caller keeps the chain",
          "[tcp][buffers]") {
    const auto bytes = pattern(13);
    SendBuffer sb(10);
    MbufPtr first = chain_of(std::span(bytes).first(8), {8});
    REQUIRE(sb.append(first).ok());
    REQUIRE(sb.space() == 2);

    MbufPtr over = chain_of(std::span(bytes).subspan(8, 3), {1, 2});
    rte_mbuf* const held = over.get();
    auto st = sb.append(over);
    REQUIRE_FALSE(st.ok());
    REQUIRE(st.error() == SendError::would_exceed_limit);
    REQUIRE(std::string(to_string(st.error())) == "would_exceed_limit");
    REQUIRE(over.get() == held);
    REQUIRE(bytes_of(over.get()) ==
            std::vector<std::uint8_t>(bytes.begin() + 8, bytes.begin() + 11));
    REQUIRE(sb.bytes() == 8);

    // Exactly the space left fits.
    MbufPtr fits = chain_of(std::span(bytes).subspan(8, 2), {2});
    REQUIRE(sb.append(fits).ok());
    REQUIRE(sb.space() == 0);
    REQUIRE(sb.bytes() == sb.bytes_max());
}

TEST_CASE("SendBuffer: slice gives the exact bytes for every offset and length across segments",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15, 7);
    std::vector<rte_mbuf*> segs;
    SendBuffer sb = buffer_with(bytes, {5, 3, 7}, &segs);
    // Segment boundaries at 5 and 8: ranges start and end inside, on and
    // across them, in every combination; slices out of order (cursor moves).
    for (std::uint32_t offset = 0; offset <= 15; ++offset) {
        for (std::uint32_t len = 0; offset + len <= 15; ++len) {
            INFO("offset " << offset << " len " << len);
            MbufPtr pkt = sb.slice(offset, len, pool());
            REQUIRE(pkt);
            REQUIRE(pkt->data_len == 0);
            REQUIRE(pkt->pkt_len == len);
            REQUIRE(RTE_MBUF_DIRECT(pkt.get()));
            // One indirect mbuf per segment the range touches.
            const std::uint32_t first_seg = offset < 5 ? 0 : offset < 8 ? 1 : 2;
            const std::uint32_t end = offset + len - 1;
            const std::uint32_t last_seg = end < 5 ? 0 : end < 8 ? 1 : 2;
            REQUIRE(pkt->nb_segs == (len == 0 ? 1 : 1 + last_seg - first_seg + 1));
            REQUIRE(segments_of(pkt.get()).size() == pkt->nb_segs);
            const std::vector<std::uint8_t> want(bytes.begin() + offset,
                                                 bytes.begin() + offset + len);
            REQUIRE(payload_of(pkt.get()) == want);
        }
        // Backwards too: from the end towards the front.
        MbufPtr back = sb.slice(15 - offset, offset, pool());
        REQUIRE(payload_of(back.get()) ==
                std::vector<std::uint8_t>(bytes.begin() + (15 - offset), bytes.end()));
    }
    REQUIRE(sb.bytes() == 15);
    REQUIRE(in_use() == base + 3);
    for (rte_mbuf* seg : segs) {
        REQUIRE(rte_mbuf_refcnt_read(seg) == 1);
    }
}

TEST_CASE("SendBuffer: slice copies nothing: indirect mbufs point into the buffered data and "
          "hold a reference while alive",
          "[tcp][buffers]") {
    const auto bytes = pattern(15);
    std::vector<rte_mbuf*> segs;
    SendBuffer sb = buffer_with(bytes, {5, 3, 7}, &segs);
    for (rte_mbuf* seg : segs) {
        REQUIRE(rte_mbuf_refcnt_read(seg) == 1);
    }
    {
        MbufPtr pkt = sb.slice(2, 10, pool()); // [2, 12): 3 bytes of 0, all of 1, 4 of 2
        REQUIRE(pkt->nb_segs == 4);
        const auto pieces = segments_of(pkt->next);
        REQUIRE(pieces.size() == 3);
        const std::uint32_t skip[] = {2, 0, 0};
        const std::uint16_t lens[] = {3, 3, 4};
        for (std::size_t i = 0; i < 3; ++i) {
            REQUIRE(RTE_MBUF_CLONED(pieces[i]));
            REQUIRE(rte_mbuf_from_indirect(pieces[i]) == segs[i]);
            REQUIRE(data_of(pieces[i]) == data_of(segs[i]) + skip[i]);
            REQUIRE(pieces[i]->data_len == lens[i]);
            REQUIRE(rte_mbuf_refcnt_read(segs[i]) == 2);
        }
        MbufPtr again = sb.slice(4, 1, pool()); // one more reference on segment 0
        REQUIRE(rte_mbuf_refcnt_read(segs[0]) == 3);
    }
    for (rte_mbuf* seg : segs) {
        REQUIRE(rte_mbuf_refcnt_read(seg) == 1);
    }
}

TEST_CASE("SendBuffer: a zero-length slice is a lone header mbuf (pure ACK, SYN, FIN)",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    SendBuffer empty_sb(100);
    MbufPtr ack = empty_sb.slice(0, 0, pool());
    REQUIRE(ack);
    REQUIRE(ack->nb_segs == 1);
    REQUIRE(ack->next == nullptr);
    REQUIRE(ack->pkt_len == 0);
    REQUIRE(rte_pktmbuf_headroom(ack.get()) >= synack::wire::max_header_room);

    const auto bytes = pattern(8);
    SendBuffer sb = buffer_with(bytes, {8});
    MbufPtr fin = sb.slice(8, 0, pool());
    REQUIRE(fin->nb_segs == 1);
    REQUIRE(in_use() == base + 3);
}

TEST_CASE("SendBuffer: headers prepended into a slice's header mbuf make a valid TCP/IPv4 frame",
          "[tcp][buffers]") {
    using namespace synack::wire;
    const auto bytes = pattern(1000, 3);
    SendBuffer sb = buffer_with(bytes, {333, 1, 666});
    MbufPtr pkt = sb.slice(300, 500, pool());
    REQUIRE(rte_pktmbuf_headroom(pkt.get()) >= max_header_room);

    TcpRepr tcp;
    tcp.src_port = 40000;
    tcp.dst_port = 80;
    tcp.seq = Seq32(1000 + 300);
    tcp.ack = Seq32(77);
    tcp.flags = tcp_flag::ack | tcp_flag::psh;
    tcp.window = 512;
    Ipv4Repr ip;
    ip.src = Ipv4Addr::from_octets(10, 0, 0, 1);
    ip.dst = Ipv4Addr::from_octets(10, 0, 0, 2);
    ip.protocol = ip_proto::tcp;
    EthernetRepr eth;
    eth.src = MacAddr{{2, 0, 0, 0, 0, 1}};
    eth.dst = MacAddr{{2, 0, 0, 0, 0, 2}};
    eth.ethertype = ethertype::ipv4;
    REQUIRE(prepend_tcp(pkt.get(), tcp));
    REQUIRE(prepend_ipv4(pkt.get(), ip));
    REQUIRE(prepend_ethernet(pkt.get(), eth));
    finalize_checksums(pkt.get(), TxChecksumCaps{});
    // The headers went into the header mbuf; the payload mbufs are untouched.
    REQUIRE(pkt->data_len == 14 + 20 + 20);
    REQUIRE(pkt->pkt_len == 14 + 20 + 20 + 500);

    const auto frame = bytes_of(pkt.get());
    auto parsed_eth = parse_ethernet(frame);
    REQUIRE(parsed_eth.ok());
    auto parsed_ip = parse_ipv4(parsed_eth->payload, ChecksumCheck::verify());
    REQUIRE(parsed_ip.ok());
    auto seg = parse_tcp(parsed_ip->payload(), ChecksumCheck::verify(parsed_ip->pseudo_sum()));
    REQUIRE(seg.ok());
    REQUIRE(seg->seq() == Seq32(1300));
    REQUIRE(std::vector<std::uint8_t>(seg->payload().begin(), seg->payload().end()) ==
            std::vector<std::uint8_t>(bytes.begin() + 300, bytes.begin() + 800));
}

TEST_CASE("SendBuffer: in-order slices, then retransmission from SND.UNA, give the bytes appended",
          "[tcp][buffers]") {
    // 200 appends of 1 to 300 bytes; send in 536-byte slices (the cursor path),
    // retransmit from 0, acknowledge part, and send the rest again.
    std::mt19937 rng(1);
    std::vector<std::uint8_t> model;
    SendBuffer sb(1 << 20);
    for (int i = 0; i < 200; ++i) {
        const auto n = std::uniform_int_distribution<std::size_t>(1, 300)(rng);
        const auto chunk = pattern(n, static_cast<std::uint8_t>(i));
        MbufPtr m = chain_of(chunk, {n});
        REQUIRE(sb.append(m).ok());
        model.insert(model.end(), chunk.begin(), chunk.end());
    }
    const auto send_all = [&](std::uint32_t from) {
        for (std::uint32_t off = from; off < sb.bytes(); off += 536) {
            const std::uint32_t len = std::min<std::uint32_t>(536, sb.bytes() - off);
            MbufPtr pkt = sb.slice(off, len, pool());
            REQUIRE(pkt);
            REQUIRE(payload_of(pkt.get()) ==
                    std::vector<std::uint8_t>(model.begin() + off, model.begin() + off + len));
        }
    };
    send_all(0);
    send_all(0);
    sb.acknowledge(10000);
    model.erase(model.begin(), model.begin() + 10000);
    send_all(0);
    send_all(1234);
}

TEST_CASE("SendBuffer: acknowledge frees the segments it covers and trims the one it ends inside",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15);
    std::vector<rte_mbuf*> segs;
    SendBuffer sb = buffer_with(bytes, {5, 3, 7}, &segs);
    const std::uint8_t* const seg2_data = data_of(segs[2]);

    sb.acknowledge(2); // inside segment 0
    REQUIRE(sb.bytes() == 13);
    REQUIRE(sb.segments() == 3);
    REQUIRE(in_use() == base + 3);
    REQUIRE(payload_of(sb.slice(0, 13, pool()).get()) ==
            std::vector<std::uint8_t>(bytes.begin() + 2, bytes.end()));

    sb.acknowledge(3); // exactly the rest of segment 0
    REQUIRE(sb.bytes() == 10);
    REQUIRE(sb.segments() == 2);
    REQUIRE(in_use() == base + 2);

    sb.acknowledge(4); // all of segment 1 and one byte of segment 2
    REQUIRE(sb.bytes() == 6);
    REQUIRE(sb.segments() == 1);
    REQUIRE(in_use() == base + 1);
    MbufPtr pkt = sb.slice(0, 6, pool());
    REQUIRE(data_of(pkt->next) == seg2_data + 1);
    REQUIRE(payload_of(pkt.get()) == std::vector<std::uint8_t>(bytes.begin() + 9, bytes.end()));
    pkt.reset();

    sb.acknowledge(0);
    REQUIRE(sb.bytes() == 6);
    sb.acknowledge(6);
    REQUIRE(sb.empty());
    REQUIRE(sb.space() == sb.bytes_max());
    REQUIRE(in_use() == base);
}

TEST_CASE("SendBuffer: a slice in flight stays intact when its bytes are acknowledged",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(15);
    std::vector<rte_mbuf*> segs;
    SendBuffer sb = buffer_with(bytes, {5, 3, 7}, &segs);
    MbufPtr in_flight = sb.slice(1, 13, pool()); // 1 header + 3 indirect
    REQUIRE(in_use() == base + 3 + 4);

    sb.acknowledge(15); // the buffer lets go of all three originals ...
    REQUIRE(sb.empty());
    // ... but their data lives on, referenced by the slice (a TX ring, say).
    REQUIRE(in_use() == base + 3 + 4);
    for (rte_mbuf* seg : segs) {
        REQUIRE(rte_mbuf_refcnt_read(seg) == 1);
    }
    REQUIRE(payload_of(in_flight.get()) ==
            std::vector<std::uint8_t>(bytes.begin() + 1, bytes.begin() + 14));

    // New data reuses nothing the slice still references.
    const auto more = pattern(100, 99);
    MbufPtr m = chain_of(more, {50, 50});
    REQUIRE(sb.append(m).ok());
    REQUIRE(payload_of(in_flight.get()) ==
            std::vector<std::uint8_t>(bytes.begin() + 1, bytes.begin() + 14));
    in_flight.reset(); // transmitted: the originals go back to the pool now
    REQUIRE(in_use() == base + 2);
}

TEST_CASE("SendBuffer: acknowledging part of a slice in flight leaves the slice whole",
          "[tcp][buffers]") {
    const auto bytes = pattern(15);
    SendBuffer sb = buffer_with(bytes, {5, 3, 7});
    MbufPtr in_flight = sb.slice(0, 15, pool());
    sb.acknowledge(6); // trims segment 1, which the slice also references
    REQUIRE(payload_of(in_flight.get()) == bytes);
    REQUIRE(payload_of(sb.slice(0, 9, pool()).get()) ==
            std::vector<std::uint8_t>(bytes.begin() + 6, bytes.end()));
}

TEST_CASE("SendBuffer: no mbuf for the header -> empty slice, nothing leaks", "[tcp][buffers]") {
    const auto bytes = pattern(15);
    std::vector<rte_mbuf*> segs;
    SendBuffer sb = buffer_with(bytes, {5, 3, 7}, &segs);
    const unsigned base = in_use();
    {
        PoolDrain drain(pool(), 0);
        REQUIRE_FALSE(sb.slice(0, 15, pool()));
        REQUIRE_FALSE(sb.slice(0, 0, pool()));
    }
    REQUIRE(in_use() == base);
    REQUIRE(sb.bytes() == 15);
    // The buffer is unchanged: the next slice works.
    REQUIRE(payload_of(sb.slice(3, 10, pool()).get()) ==
            std::vector<std::uint8_t>(bytes.begin() + 3, bytes.begin() + 13));
}

TEST_CASE("SendBuffer: clone pool running dry midway -> empty slice, every mbuf taken returned",
          "[tcp][buffers]") {
    const auto bytes = pattern(15);
    std::vector<rte_mbuf*> segs;
    SendBuffer sb = buffer_with(bytes, {5, 3, 7}, &segs);
    const unsigned base = in_use();
    for (unsigned leave = 1; leave <= 3; ++leave) {
        // The slice needs 1 header + 3 indirect mbufs: it fails on the 2nd,
        // 3rd or 4th allocation, having attached 0, 1 or 2 pieces.
        INFO("mbufs left " << leave);
        {
            PoolDrain drain(pool(), leave);
            REQUIRE_FALSE(sb.slice(0, 15, pool()));
            REQUIRE(rte_mempool_avail_count(pool()) == leave);
        }
        REQUIRE(in_use() == base);
        for (rte_mbuf* seg : segs) {
            REQUIRE(rte_mbuf_refcnt_read(seg) == 1);
        }
    }
    PoolDrain drain(pool(), 4); // exactly enough
    REQUIRE(payload_of(sb.slice(0, 15, pool()).get()) == bytes);
}

TEST_CASE("SendBuffer: indirect mbufs may come from their own pool without data room",
          "[tcp][buffers]") {
    rte_mempool* clones = rte_pktmbuf_pool_create("sb_test_clones", 63, 0, 0, 0, SOCKET_ID_ANY);
    REQUIRE(clones != nullptr);
    {
        const unsigned base = in_use();
        const auto bytes = pattern(15);
        SendBuffer sb = buffer_with(bytes, {5, 3, 7});
        MbufPtr pkt = sb.slice(4, 9, pool(), clones);
        REQUIRE(pkt->pool == pool());
        for (rte_mbuf* piece = pkt->next; piece != nullptr; piece = piece->next) {
            REQUIRE(piece->pool == clones);
        }
        REQUIRE(rte_mempool_in_use_count(clones) == 3);
        REQUIRE(in_use() == base + 3 + 1);
        sb.acknowledge(15);
        REQUIRE(payload_of(pkt.get()) ==
                std::vector<std::uint8_t>(bytes.begin() + 4, bytes.begin() + 13));
        pkt.reset();
        REQUIRE(in_use() == base);
    }
    REQUIRE(rte_mempool_in_use_count(clones) == 0);
    rte_mempool_free(clones);
}

TEST_CASE("SendBuffer: clear and the destructor free every buffered mbuf", "[tcp][buffers]") {
    const unsigned base = in_use();
    const auto bytes = pattern(300);
    {
        SendBuffer sb = buffer_with(bytes, {100, 100, 100});
        REQUIRE(in_use() == base + 3);
        sb.clear();
        REQUIRE(sb.empty());
        REQUIRE(sb.bytes() == 0);
        REQUIRE(sb.space() == sb.bytes_max());
        REQUIRE(in_use() == base);
        // Usable again after clear, cursor included.
        MbufPtr m = chain_of(bytes, {150, 150});
        REQUIRE(sb.append(m).ok());
        REQUIRE(payload_of(sb.slice(140, 20, pool()).get()) ==
                std::vector<std::uint8_t>(bytes.begin() + 140, bytes.begin() + 160));
        // Moving hands the mbufs over; the source is left empty and usable.
        SendBuffer moved(std::move(sb));
        REQUIRE(moved.bytes() == 300);
        REQUIRE(sb.empty()); // a moved-from buffer is empty by contract
        MbufPtr again = chain_of(std::span(bytes).first(10), {10});
        REQUIRE(sb.append(again).ok());
        REQUIRE(payload_of(sb.slice(0, 10, pool()).get()) ==
                std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 10));
        REQUIRE(in_use() == base + 3);
    }
    REQUIRE(in_use() == base);
}

TEST_CASE("SendBuffer: random appends, slices and acknowledges match a byte-vector model "
          "(seed 20240611)",
          "[tcp][buffers]") {
    const unsigned base = in_use();
    std::mt19937 rng(20240611);
    const auto uniform = [&](std::uint32_t lo, std::uint32_t hi) {
        return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
    };
    constexpr std::uint32_t bytes_max = 8192;
    struct InFlight {
        MbufPtr pkt;
        std::vector<std::uint8_t> want;
    };
    std::deque<InFlight> in_flight;  // slices not yet "transmitted"
    std::vector<std::uint8_t> model; // model[0] is SND.UNA
    std::uint8_t next_byte = 0;
    std::uint32_t slices = 0;
    std::uint32_t refused = 0;
    SendBuffer sb(bytes_max);

    for (int step = 0; step < 20000; ++step) {
        const std::uint32_t op = uniform(0, 9);
        if (op < 4) {
            // A chain of 1 to 4 segments of 0 to 400 bytes each.
            std::vector<std::size_t> sizes(uniform(1, 4));
            std::vector<std::uint8_t> chunk;
            MbufPtr head;
            for (auto& n : sizes) {
                n = uniform(0, 400);
                std::vector<std::uint8_t> seg(n);
                for (auto& b : seg) {
                    b = next_byte++;
                }
                chunk.insert(chunk.end(), seg.begin(), seg.end());
                MbufPtr m = mbuf_from(seg);
                if (!head) {
                    head = std::move(m);
                } else {
                    REQUIRE(rte_pktmbuf_chain(head.get(), m.release()) == 0);
                }
            }
            const std::uint32_t space = sb.space();
            auto st = sb.append(head);
            if (chunk.empty()) {
                REQUIRE(st.error() == SendError::empty);
                REQUIRE(head);
            } else if (chunk.size() > space) {
                REQUIRE(st.error() == SendError::would_exceed_limit);
                REQUIRE(bytes_of(head.get()) == chunk);
                ++refused;
            } else {
                REQUIRE(st.ok());
                REQUIRE_FALSE(head);
                model.insert(model.end(), chunk.begin(), chunk.end());
            }
        } else if (op < 8) {
            const std::uint32_t offset = uniform(0, sb.bytes());
            const std::uint32_t len =
                uniform(0, std::min<std::uint32_t>(1460, sb.bytes() - offset));
            MbufPtr pkt = sb.slice(offset, len, pool());
            REQUIRE(pkt);
            REQUIRE(pkt->pkt_len == len);
            std::vector<std::uint8_t> want(model.begin() + offset, model.begin() + offset + len);
            REQUIRE(payload_of(pkt.get()) == want);
            ++slices;
            if (uniform(0, 1) == 0) {
                in_flight.push_back({std::move(pkt), std::move(want)});
            }
            while (in_flight.size() > 16) {
                // Its bytes may have been acknowledged since: still intact.
                REQUIRE(payload_of(in_flight.front().pkt.get()) == in_flight.front().want);
                in_flight.pop_front();
            }
        } else {
            const std::uint32_t n = uniform(0, sb.bytes());
            sb.acknowledge(n);
            model.erase(model.begin(), model.begin() + n);
        }
        REQUIRE(sb.bytes() == model.size());
        REQUIRE(sb.space() == bytes_max - model.size());
    }
    for (const auto& f : in_flight) {
        REQUIRE(payload_of(f.pkt.get()) == f.want);
    }
    in_flight.clear();
    sb.clear();
    REQUIRE(slices > 5000);
    REQUIRE(refused > 0);
    REQUIRE(in_use() == base);
}
