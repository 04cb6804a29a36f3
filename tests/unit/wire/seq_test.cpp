#include <synack/wire/seq.hpp>

#include <catch2/catch.hpp>

using synack::wire::Seq32;

TEST_CASE("Seq32: comparisons wrap modulo 2**32 (RFC 9293 section 3.4)", "[wire][rfc9293]") {
    const Seq32 last(0xffffffff);
    const Seq32 zero(0);
    REQUIRE(before(last, zero));
    REQUIRE(after(zero, last));
    REQUIRE(before_eq(last, last));
    REQUIRE(after_eq(zero, zero));
    REQUIRE_FALSE(after(last, zero));
    REQUIRE(last + 1 == zero);
    REQUIRE(zero - 1 == last);
    REQUIRE(zero - last == 1);
    REQUIRE(last - zero == -1);
}

TEST_CASE("Seq32: ordering holds up to 2**31 - 1 apart", "[wire][rfc9293]") {
    const Seq32 a(0x12345678);
    REQUIRE(before(a, a + 0x7fffffff));
    REQUIRE(after(a, a - 0x7fffffff));
    REQUIRE((a + 0x7fffffff) - a == 0x7fffffff);
}

TEST_CASE("Seq32: in_window is RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND across the wrap",
          "[wire][rfc9293]") {
    const Seq32 nxt(0xfffffff0);
    const Seq32 end = nxt + 0x20; // wraps to 0x10
    REQUIRE(in_window(nxt, nxt, end));
    REQUIRE(in_window(nxt, Seq32(0), end));
    REQUIRE(in_window(nxt, Seq32(0xf), end));
    REQUIRE_FALSE(in_window(nxt, Seq32(0x10), end));
    REQUIRE_FALSE(in_window(nxt, nxt - 1, end));
}

TEST_CASE("Seq32: an empty window contains nothing, not even its edge", "[wire][rfc9293]") {
    const Seq32 nxt(1000);
    REQUIRE_FALSE(in_window(nxt, nxt, nxt));
}

TEST_CASE("Seq32: seq_max and seq_min follow sequence order, not integer order", "[wire]") {
    const Seq32 before_wrap(0xfffffffe);
    const Seq32 after_wrap(3);
    REQUIRE(seq_max(before_wrap, after_wrap) == after_wrap);
    REQUIRE(seq_min(before_wrap, after_wrap) == before_wrap);
}
