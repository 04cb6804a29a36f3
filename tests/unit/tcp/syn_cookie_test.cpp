// SYN cookies (RFC 4987 section 3.6): the ISS layout, its lifetime, and the
// options carried in the timestamp.

#include <synack/tcp/control.hpp>
#include <synack/tcp/syn_cookie.hpp>

#include <catch2/catch.hpp>

using namespace synack;
using tcp::SynCookies;
using time::Duration;
using time::Instant;
using wire::Seq32;

namespace {

tcp::FourTuple tuple(std::uint16_t remote_port = 40000) {
    return {tcp::FourTuple::mapped(wire::Ipv4Addr::from_octets(10, 0, 0, 1)),
            tcp::FourTuple::mapped(wire::Ipv4Addr::from_octets(10, 0, 0, 2)), 80, remote_port};
}

const Instant t0 = Instant::from_us(1'000'000'000'000);

} // namespace

TEST_CASE("SYN cookie: the ISS checks for its tuple and ISN, and gives back the MSS index (RFC 4987 3.6)",
          "[tcp][rfc4987]") {
    const SynCookies c(SipKey{1, 2});
    for (std::uint8_t index = 0; index < 8; ++index) {
        const Seq32 iss = c.make(tuple(), Seq32(5000), index, t0);
        REQUIRE(c.check(tuple(), Seq32(5000), iss, t0) == index);
        REQUIRE_FALSE(c.check(tuple(40001), Seq32(5000), iss, t0));
        REQUIRE_FALSE(c.check(tuple(), Seq32(5001), iss, t0));
        REQUIRE_FALSE(c.check(tuple(), Seq32(5000), iss + 1, t0));
        REQUIRE_FALSE(SynCookies(SipKey{1, 3}).check(tuple(), Seq32(5000), iss, t0));
    }
}

TEST_CASE("SYN cookie: valid in the 64 s period it was made and the next, then stale", "[tcp][rfc4987]") {
    const SynCookies c(SipKey{1, 2});
    // Made at the start of a period: good for two periods.
    const Instant start = Instant::from_us((t0.us() / 64'000'000 + 1) * 64'000'000);
    const Seq32 iss = c.make(tuple(), Seq32(5000), 3, start);
    REQUIRE(c.check(tuple(), Seq32(5000), iss, start + Duration::from_s(127)));
    REQUIRE_FALSE(c.check(tuple(), Seq32(5000), iss, start + Duration::from_s(128)));
    REQUIRE_FALSE(c.check(tuple(), Seq32(5000), iss, start - Duration::from_s(1))); // before it was made
}

TEST_CASE("SYN cookie: the MSS index is the largest table entry not above the peer's MSS", "[tcp][rfc4987]") {
    REQUIRE(tcp::cookie_mss_table[SynCookies::mss_index(1460)] == 1460);
    REQUIRE(tcp::cookie_mss_table[SynCookies::mss_index(1459)] == 1440);
    REQUIRE(tcp::cookie_mss_table[SynCookies::mss_index(9000)] == 8960);
    REQUIRE(tcp::cookie_mss_table[SynCookies::mss_index(536)] == 536);
    REQUIRE(tcp::cookie_mss_table[SynCookies::mss_index(535)] == 64);
    REQUIRE(tcp::cookie_mss_table[SynCookies::mss_index(0)] == 64);
}

TEST_CASE("SYN cookie: window scale and SACK travel in TSval's low bits, never ahead of the clock",
          "[tcp][rfc4987][rfc7323]") {
    tcp::TcpConfig config;
    for (const std::uint32_t now : {0u, 1u, 63u, 64u, 1000u, 0xffffffffu}) {
        for (const bool wscale_ok : {false, true}) {
            for (const bool sack : {false, true}) {
                tcp::SynOptions o;
                o.wscale_ok = wscale_ok;
                o.snd_wscale = wscale_ok ? 9 : 0;
                o.sack_ok = sack;
                const std::uint32_t ts = SynCookies::ts_value(now, o);
                REQUIRE(static_cast<std::int32_t>(ts - now) <= 0);
                REQUIRE(now - ts < 128);
                tcp::SynOptions back;
                SynCookies::options_from_ts(ts, config, back);
                REQUIRE(back.wscale_ok == wscale_ok);
                REQUIRE(back.snd_wscale == o.snd_wscale);
                REQUIRE(back.sack_ok == sack);
                REQUIRE(back.rcv_wscale == (wscale_ok ? tcp::window_scale_for(config.recv_buffer_bytes) : 0));
            }
        }
    }
}
