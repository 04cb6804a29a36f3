#include "picker.hpp"

namespace synack::lb {

namespace {

std::uint64_t mix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

} // namespace

Picker::Picker(Policy policy, std::size_t backends)
    : policy_(policy), down_until_(backends), in_table_(backends, false) {}

bool Picker::is_up(std::uint32_t b, time::Instant now) const noexcept {
    return !down_until_[b] || now >= *down_until_[b];
}

void Picker::mark_down(std::uint32_t b, time::Instant now, time::Duration for_d) {
    down_until_[b] = now + for_d;
    stale_ = true;
}

void Picker::mark_up(std::uint32_t b) {
    if (down_until_[b]) {
        down_until_[b].reset();
        stale_ = true;
    }
}

void Picker::refresh(time::Instant now) {
    for (std::uint32_t b = 0; b < down_until_.size(); ++b) {
        const bool up = is_up(b, now);
        if (up != in_table_[b]) {
            in_table_[b] = up;
            stale_ = true;
        }
    }
    if (stale_ && policy_ == Policy::maglev) {
        build_table();
    }
    stale_ = false;
}

void Picker::build_table() {
    // Maglev's population (section 3.4, Pseudocode 1): each backend walks
    // its own permutation of the table, offset + j * skip, and the backends
    // take turns claiming the next free entry of theirs.
    table_.assign(table_size, -1);
    std::vector<std::uint32_t> offset;
    std::vector<std::uint32_t> skip;
    std::vector<std::uint32_t> next;
    std::vector<std::uint32_t> members;
    for (std::uint32_t b = 0; b < in_table_.size(); ++b) {
        if (in_table_[b]) {
            // The permutation depends on the backend's position in the
            // configuration, not on which others are up.
            const std::uint64_t h = mix64(b + 1);
            offset.push_back(static_cast<std::uint32_t>(h % table_size));
            skip.push_back(static_cast<std::uint32_t>((h >> 32) % (table_size - 1) + 1));
            next.push_back(0);
            members.push_back(b);
        }
    }
    if (members.empty()) {
        return;
    }
    std::uint32_t filled = 0;
    for (;;) {
        for (std::size_t i = 0; i < members.size(); ++i) {
            std::uint32_t c = static_cast<std::uint32_t>(
                (offset[i] + std::uint64_t{next[i]} * skip[i]) % table_size);
            while (table_[c] >= 0) {
                ++next[i];
                c = static_cast<std::uint32_t>((offset[i] + std::uint64_t{next[i]} * skip[i]) %
                                               table_size);
            }
            table_[c] = static_cast<std::int32_t>(members[i]);
            ++next[i];
            if (++filled == table_size) {
                return;
            }
        }
    }
}

std::optional<std::uint32_t> Picker::pick(wire::Ipv4Addr ip, std::uint16_t port,
                                          time::Instant now) {
    refresh(now);
    const auto n = static_cast<std::uint32_t>(down_until_.size());
    if (policy_ == Policy::maglev) {
        const std::int32_t b = table_[mix64((std::uint64_t{ip.value} << 16) | port) % table_size];
        return b < 0 ? std::nullopt : std::optional<std::uint32_t>(static_cast<std::uint32_t>(b));
    }
    for (std::uint32_t tries = 0; tries < n; ++tries) {
        const std::uint32_t b = next_;
        next_ = (next_ + 1) % n;
        if (in_table_[b]) {
            return b;
        }
    }
    return std::nullopt;
}

} // namespace synack::lb
