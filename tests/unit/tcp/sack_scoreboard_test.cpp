// The SACK scoreboard (RFC 6675 section 3): ranges the peer holds above
// SND.UNA, merged, clipped, and bounded.

#include <synack/tcp/sack_scoreboard.hpp>

#include <catch2/catch.hpp>

using synack::tcp::SackScoreboard;
using synack::wire::Seq32;

namespace {

const Seq32 una{1000};
const Seq32 max{100000};

Seq32 at(std::uint32_t offset) { return una + offset; }

} // namespace

TEST_CASE("SACK scoreboard: blocks are kept in order and merged where they overlap or touch",
          "[tcp][rfc6675]") {
    SackScoreboard s;
    s.add(at(3000), at(4000), una, max);
    s.add(at(1000), at(2000), una, max);
    s.add(at(5000), at(6000), una, max);
    REQUIRE(s.size() == 3);
    REQUIRE(s[0].start == at(1000));
    REQUIRE(s[2].end == at(6000));
    s.add(at(2000), at(3000), una, max); // touches both neighbours
    REQUIRE(s.size() == 2);
    REQUIRE(s[0].start == at(1000));
    REQUIRE(s[0].end == at(4000));
    s.add(at(3500), at(5500), una, max); // overlaps both
    REQUIRE(s.size() == 1);
    REQUIRE(s[0].end == at(6000));
    REQUIRE(s.bytes_above(una) == 5000);
}

TEST_CASE("SACK scoreboard: blocks at or below SND.UNA (D-SACK, RFC 2883) or beyond SND.MAX are clipped",
          "[tcp][rfc6675]") {
    SackScoreboard s;
    s.add(una - 500, una, una, max);
    REQUIRE(s.empty());
    s.add(una - 500, at(500), una, max);
    REQUIRE(s[0].start == una);
    s.add(max - 100, max + 900, una, max);
    REQUIRE(s[1].end == max);
    s.add(max + 1, max + 900, una, max);
    REQUIRE(s.size() == 2);
}

TEST_CASE("SACK scoreboard: a cumulative ACK forgets what it covers", "[tcp][rfc6675]") {
    SackScoreboard s;
    s.add(at(1000), at(2000), una, max);
    s.add(at(3000), at(4000), una, max);
    s.advance(at(1500));
    REQUIRE(s.size() == 2);
    REQUIRE(s[0].start == at(1500));
    s.advance(at(4000));
    REQUIRE(s.empty());
}

TEST_CASE("SACK scoreboard: bytes and ranges above a sequence number; the range covering one",
          "[tcp][rfc6675]") {
    SackScoreboard s;
    s.add(at(1000), at(2000), una, max);
    s.add(at(3000), at(4000), una, max);
    REQUIRE(s.bytes_above(at(1500)) == 1500);
    REQUIRE(s.ranges_above(at(1500)) == 2);
    REQUIRE(s.ranges_above(at(2000)) == 1);
    REQUIRE(s.covering_end(at(1999)) == at(2000));
    REQUIRE_FALSE(s.covering_end(at(2000)));
    REQUIRE(s.next_start(at(2000)) == at(3000));
    REQUIRE_FALSE(s.next_start(at(3000)));
}

TEST_CASE("SACK scoreboard: past capacity the highest ranges are forgotten, never the lowest",
          "[tcp][rfc6675]") {
    SackScoreboard s;
    for (std::uint32_t i = 0; i < SackScoreboard::capacity + 5; ++i) {
        s.add(at(2000 * i + 1000), at(2000 * i + 1500), una, max);
    }
    REQUIRE(s.size() == SackScoreboard::capacity);
    REQUIRE(s[0].start == at(1000));
    s.add(at(10), at(20), una, max); // a new lowest still gets in
    REQUIRE(s[0].start == at(10));
    REQUIRE(s.size() == SackScoreboard::capacity);
}
