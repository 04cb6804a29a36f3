// SYN cookies: see syn_cookie.hpp for the layout and RFC 4987 section 3.6.

#include <synack/tcp/control.hpp>
#include <synack/tcp/syn_cookie.hpp>

#include <algorithm>
#include <cstring>

namespace synack::tcp {

namespace {

constexpr std::uint32_t period_bits = 5;
constexpr std::uint32_t period_mask = (1u << period_bits) - 1;
constexpr std::uint32_t mac_mask = (1u << 24) - 1;
constexpr std::int64_t period_s = 64;

// TSval's low bits: window scale (0xf: none), SACK, ECN.
constexpr std::uint32_t ts_option_bits = 6;
constexpr std::uint32_t ts_option_mask = (1u << ts_option_bits) - 1;
constexpr std::uint32_t ts_no_wscale = 0xf;
constexpr std::uint32_t ts_sack_bit = 1u << 4;

std::uint32_t period_of(time::Instant now) noexcept {
    return static_cast<std::uint32_t>(now.us() / 1'000'000 / period_s) & period_mask;
}

} // namespace

std::uint32_t SynCookies::mac(const FourTuple& tuple, wire::Seq32 irs, std::uint32_t period) const noexcept {
    std::array<std::uint8_t, 36 + 4 + 1> in{};
    const auto t = tuple.key_bytes();
    std::copy(t.begin(), t.end(), in.begin());
    wire::store_be32(in.data() + 36, irs.raw());
    in[40] = static_cast<std::uint8_t>(period);
    return static_cast<std::uint32_t>(siphash24(key_, in)) & mac_mask;
}

wire::Seq32 SynCookies::make(const FourTuple& tuple, wire::Seq32 irs, std::uint8_t mss_index,
                             time::Instant now) const noexcept {
    const std::uint32_t t = period_of(now);
    return wire::Seq32(t << 27 | std::uint32_t{mss_index} << 24 | mac(tuple, irs, t));
}

std::optional<std::uint8_t> SynCookies::check(const FourTuple& tuple, wire::Seq32 irs, wire::Seq32 iss,
                                              time::Instant now) const noexcept {
    const std::uint32_t t = iss.raw() >> 27;
    const std::uint32_t age = (period_of(now) - t) & period_mask;
    if (age > 1 || (iss.raw() & mac_mask) != mac(tuple, irs, t)) {
        return std::nullopt;
    }
    return static_cast<std::uint8_t>((iss.raw() >> 24) & 7);
}

void SynCookies::answer(HalfOpen& h, time::Instant now) const noexcept {
    const std::uint8_t index = mss_index(h.options.snd_mss);
    h.options.snd_mss = cookie_mss_table[index];
    if (!h.options.ts_ok) {
        h.options.wscale_ok = false;
        h.options.snd_wscale = 0;
        h.options.rcv_wscale = 0;
        h.options.sack_ok = false;
    }
    h.iss = make(h.tuple, h.irs, index, now);
    h.cookie = true;
    h.sent_at.reset(); // nothing is kept to time it by
}

std::optional<HalfOpen> SynCookies::open(const FourTuple& tuple, const wire::TcpSegment& ack,
                                         std::uint32_t ts_offset, const TcpConfig& config,
                                         time::Instant now) const noexcept {
    HalfOpen h;
    h.tuple = tuple;
    h.irs = ack.seq() - 1;
    h.iss = ack.ack() - 1;
    const std::optional<std::uint8_t> index = check(tuple, h.irs, h.iss, now);
    if (!index) {
        return std::nullopt;
    }
    h.cookie = true;
    h.ts_offset = ts_offset;
    h.options.snd_mss = std::min(cookie_mss_table[*index], config.mss);
    // The cookie lives at most 128 s; modulo 2**32 a TSval from the future is
    // a very old one.
    const auto& ts = ack.options().timestamps;
    h.options.ts_ok = config.timestamps && ts && tcp::ts_value(now, ts_offset) - ts->echo_reply <= 128'000;
    if (h.options.ts_ok) {
        h.options.ts_recent = ts->value;
        options_from_ts(ts->echo_reply, config, h.options);
    }
    // The SYN's window is gone; the ACK's own takes its place (the
    // SYN-RECEIVED ACK check sets SND.WND from it, scaled).
    return h;
}

std::uint8_t SynCookies::mss_index(std::uint16_t mss) noexcept {
    std::uint8_t i = cookie_mss_table.size() - 1;
    while (i > 0 && cookie_mss_table[i] > mss) {
        --i;
    }
    return i;
}

std::uint32_t SynCookies::ts_value(std::uint32_t ts_now, const SynOptions& o) noexcept {
    std::uint32_t bits = o.wscale_ok ? o.snd_wscale : ts_no_wscale;
    if (o.sack_ok) {
        bits |= ts_sack_bit;
    }
    std::uint32_t ts = (ts_now & ~ts_option_mask) | bits;
    if (static_cast<std::int32_t>(ts - ts_now) > 0) {
        ts -= 1u << ts_option_bits; // the previous unit: never a TSval from the future
    }
    return ts;
}

void SynCookies::options_from_ts(std::uint32_t ts_echo, const TcpConfig& config, SynOptions& o) noexcept {
    const std::uint32_t wscale = ts_echo & 0xf;
    o.wscale_ok = wscale != ts_no_wscale && config.window_scaling;
    o.snd_wscale = o.wscale_ok ? static_cast<std::uint8_t>(std::min<std::uint32_t>(wscale, 14)) : 0;
    o.rcv_wscale = o.wscale_ok ? window_scale_for(config.recv_buffer_bytes) : 0;
    o.sack_ok = (ts_echo & ts_sack_bit) != 0 && config.sack;
}

} // namespace synack::tcp
