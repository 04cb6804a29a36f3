#include <synack/wire/tcp.hpp>

namespace synack::wire {

namespace {

constexpr std::size_t mss_len = 4;
constexpr std::size_t window_scale_len = 3;
constexpr std::size_t sack_permitted_len = 2;
constexpr std::size_t timestamps_len = 10;
constexpr std::size_t sack_header_len = 2;
constexpr std::size_t sack_block_len = 8;

// The options other than SACK blocks, each padded to 4 bytes as emit() lays
// them out: MSS 4; timestamps 12 (NOP NOP or SACK-Permitted in front);
// SACK-Permitted alone 4 (NOP NOP in front); window scale 4 (NOP in front).
std::size_t fixed_options_len(const TcpOptions& o) noexcept {
    std::size_t n = 0;
    n += o.mss ? 4 : 0;
    n += o.timestamps ? 12 : (o.sack_permitted ? 4 : 0);
    n += o.window_scale ? 4 : 0;
    return n;
}

} // namespace

std::size_t TcpOptions::sack_blocks_that_fit() const noexcept {
    const std::size_t room = tcp_max_options_len - fixed_options_len(*this);
    // The SACK option is NOP NOP kind len, then 8 bytes per block.
    const std::size_t fit = room < 4 ? 0 : (room - 4) / sack_block_len;
    return sack_count < fit ? sack_count : fit;
}

std::size_t TcpOptions::encoded_len() const noexcept {
    const std::size_t blocks = sack_blocks_that_fit();
    return fixed_options_len(*this) + (blocks == 0 ? 0 : 4 + blocks * sack_block_len);
}

std::size_t TcpOptions::emit(MutBytes out) const noexcept {
    const std::size_t len = encoded_len();
    SYNACK_ASSERT(out.size() >= len);
    std::uint8_t* p = out.data();
    if (mss) {
        p[0] = tcp_option::mss;
        p[1] = mss_len;
        store_be16(p + 2, *mss);
        p += 4;
    }
    if (timestamps) {
        if (sack_permitted) {
            p[0] = tcp_option::sack_permitted;
            p[1] = sack_permitted_len;
        } else {
            p[0] = p[1] = tcp_option::nop;
        }
        p[2] = tcp_option::timestamps;
        p[3] = timestamps_len;
        store_be32(p + 4, timestamps->value);
        store_be32(p + 8, timestamps->echo_reply);
        p += 12;
    } else if (sack_permitted) {
        p[0] = p[1] = tcp_option::nop;
        p[2] = tcp_option::sack_permitted;
        p[3] = sack_permitted_len;
        p += 4;
    }
    if (window_scale) {
        p[0] = tcp_option::nop;
        p[1] = tcp_option::window_scale;
        p[2] = window_scale_len;
        p[3] = *window_scale;
        p += 4;
    }
    if (const std::size_t blocks = sack_blocks_that_fit(); blocks != 0) {
        p[0] = p[1] = tcp_option::nop;
        p[2] = tcp_option::sack;
        p[3] = static_cast<std::uint8_t>(sack_header_len + blocks * sack_block_len);
        p += 4;
        for (std::size_t i = 0; i < blocks; ++i) {
            store_be32(p, sack[i].left.raw());
            store_be32(p + 4, sack[i].right.raw());
            p += sack_block_len;
        }
    }
    SYNACK_ASSERT(p == out.data() + len);
    return len;
}

bool TcpOptions::operator==(const TcpOptions& o) const noexcept {
    if (mss != o.mss || window_scale != o.window_scale || sack_permitted != o.sack_permitted ||
        timestamps != o.timestamps || sack_count != o.sack_count) {
        return false;
    }
    for (std::size_t i = 0; i < sack_count; ++i) {
        if (!(sack[i] == o.sack[i])) {
            return false;
        }
    }
    return true;
}

Result<TcpOptions, WireError> parse_tcp_options(Bytes options) noexcept {
    TcpOptions o;
    const std::uint8_t* p = options.data();
    const std::size_t end = options.size();
    std::size_t i = 0;
    while (i < end) {
        const std::uint8_t kind = p[i];
        if (kind == tcp_option::eol) {
            break; // RFC 9293 section 3.2: the rest of the area is padding
        }
        if (kind == tcp_option::nop) {
            ++i;
            continue;
        }
        if (i + 1 >= end) {
            return Err{WireError::option_length_past_header};
        }
        const std::size_t len = p[i + 1];
        if (len < 2) {
            return Err{WireError::bad_option_length};
        }
        if (len > end - i) {
            return Err{WireError::option_length_past_header};
        }
        const std::uint8_t* v = p + i + 2;
        switch (kind) {
        case tcp_option::mss:
            if (len != mss_len) {
                return Err{WireError::bad_option_length};
            }
            o.mss = load_be16(v);
            break;
        case tcp_option::window_scale:
            if (len != window_scale_len) {
                return Err{WireError::bad_option_length};
            }
            o.window_scale = v[0];
            break;
        case tcp_option::sack_permitted:
            if (len != sack_permitted_len) {
                return Err{WireError::bad_option_length};
            }
            o.sack_permitted = true;
            break;
        case tcp_option::timestamps:
            if (len != timestamps_len) {
                return Err{WireError::bad_option_length};
            }
            o.timestamps = Timestamps{load_be32(v), load_be32(v + 4)};
            break;
        case tcp_option::sack: {
            if (len < sack_header_len + sack_block_len ||
                (len - sack_header_len) % sack_block_len != 0) {
                return Err{WireError::bad_option_length};
            }
            // Inside a TCP header at most 4 blocks fit in the 40 option bytes;
            // an options area handed in on its own may be longer, so check.
            const std::size_t blocks = (len - sack_header_len) / sack_block_len;
            if (blocks > tcp_max_sack_blocks) {
                return Err{WireError::bad_option_length};
            }
            o.sack_count = static_cast<std::uint8_t>(blocks);
            for (std::size_t b = 0; b < blocks; ++b) {
                o.sack[b] = {Seq32(load_be32(v + b * 8)), Seq32(load_be32(v + b * 8 + 4))};
            }
            break;
        }
        default: break; // MUST-6: unknown kinds are skipped by their length
        }
        i += len;
    }
    return o;
}

Result<TcpSegment, WireError> parse_tcp(Bytes segment, ChecksumCheck check) noexcept {
    if (segment.size() < tcp_min_header_len) {
        return Err{WireError::truncated};
    }
    const std::size_t header_len = (segment[12] >> 4) * 4u;
    if (header_len < tcp_min_header_len || header_len > segment.size()) {
        return Err{WireError::data_offset_out_of_range};
    }
    auto options = parse_tcp_options(segment.subspan(tcp_min_header_len, header_len - tcp_min_header_len));
    if (!options) {
        return Err{options.error()};
    }
    switch (check.mode) {
    case ChecksumCheck::Mode::verify: {
        Checksum sum;
        sum.add16(check.pseudo_sum);
        sum.add(segment);
        if (!sum.verifies()) {
            return Err{WireError::bad_checksum};
        }
        break;
    }
    case ChecksumCheck::Mode::known_good: break;
    case ChecksumCheck::Mode::known_bad: return Err{WireError::bad_checksum};
    }
    return TcpSegment(segment.first(header_len), segment.subspan(header_len), *options);
}

void TcpRepr::emit(MutBytes out) const noexcept {
    const std::size_t len = header_len();
    SYNACK_ASSERT(out.size() >= len);
    std::uint8_t* p = out.data();
    store_be16(p, src_port);
    store_be16(p + 2, dst_port);
    store_be32(p + 4, seq.raw());
    store_be32(p + 8, ack.raw());
    p[12] = static_cast<std::uint8_t>((len / 4) << 4);
    p[13] = flags;
    store_be16(p + 14, window);
    store_be16(p + 16, 0);
    store_be16(p + 18, urgent_pointer);
    options.emit(out.subspan(tcp_min_header_len));
}

} // namespace synack::wire
