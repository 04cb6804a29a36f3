#include <synack/tcp/isn.hpp>

#include <catch2/catch.hpp>

using namespace synack;
using namespace synack::tcp;

namespace {

FourTuple tuple(std::uint16_t remote_port) {
    return {FourTuple::mapped(wire::Ipv4Addr::from_octets(10, 0, 0, 1)),
            FourTuple::mapped(wire::Ipv4Addr::from_octets(10, 0, 0, 2)), 80, remote_port};
}

} // namespace

TEST_CASE("ISN: one tuple's ISNs advance with the 4 microsecond clock (RFC 6528 section 3)",
          "[tcp][rfc6528]") {
    const IsnGenerator gen({0x1234, 0x5678});
    const auto t0 = time::Instant::from_us(1'000'000);
    const wire::Seq32 a = gen.isn(tuple(40000), t0);
    REQUIRE(gen.isn(tuple(40000), t0) == a); // no hidden state
    REQUIRE(gen.isn(tuple(40000), t0 + time::Duration::from_us(4)) == a + 1);
    REQUIRE(gen.isn(tuple(40000), t0 + time::Duration::from_ms(1)) == a + 250);
}

TEST_CASE("ISN: another tuple or another key gives an unrelated ISN (RFC 6528 section 3)",
          "[tcp][rfc6528]") {
    const IsnGenerator gen({0x1234, 0x5678});
    const IsnGenerator other_key({0x1234, 0x5679});
    const auto now = time::Instant::from_us(42);
    REQUIRE(gen.isn(tuple(40000), now) != gen.isn(tuple(40001), now));
    REQUIRE(gen.isn(tuple(40000), now) != other_key.isn(tuple(40000), now));
}

TEST_CASE("FourTuple: IPv4 addresses are stored IPv4-mapped (RFC 4291 section 2.5.5.2)",
          "[tcp]") {
    const auto m = FourTuple::mapped(wire::Ipv4Addr::from_octets(192, 0, 2, 7));
    const std::array<std::uint8_t, 16> expected = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
                                                   192, 0, 2, 7};
    REQUIRE(m.bytes == expected);
}
