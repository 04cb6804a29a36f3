#include <synack/tcp/sack_scoreboard.hpp>

namespace synack::tcp {

using wire::Seq32;

void SackScoreboard::add(Seq32 start, Seq32 end, Seq32 una, Seq32 max) noexcept {
    start = seq_max(start, una);
    if (after(end, max)) {
        end = max;
    }
    if (!before(start, end) || after(start, max) || before(end, una)) {
        return;
    }
    // Where it goes: after every range that ends before it starts.
    std::size_t i = 0;
    while (i < count_ && before(ranges_[i].end, start)) {
        ++i;
    }
    // Merge every range it overlaps or touches.
    std::size_t j = i;
    while (j < count_ && !after(ranges_[j].start, end)) {
        start = seq_min(start, ranges_[j].start);
        end = seq_max(end, ranges_[j].end);
        ++j;
    }
    if (j > i) {
        ranges_[i] = Range{start, end};
        for (std::size_t k = j; k < count_; ++k) {
            ranges_[i + 1 + (k - j)] = ranges_[k];
        }
        count_ -= j - i - 1;
        return;
    }
    if (count_ == capacity) {
        if (i == count_) {
            return; // the highest of all: forget it
        }
        --count_; // forget the highest to make room
    }
    for (std::size_t k = count_; k > i; --k) {
        ranges_[k] = ranges_[k - 1];
    }
    ranges_[i] = Range{start, end};
    ++count_;
}

void SackScoreboard::advance(Seq32 una) noexcept {
    std::size_t drop = 0;
    while (drop < count_ && !after(ranges_[drop].end, una)) {
        ++drop;
    }
    for (std::size_t k = drop; k < count_; ++k) {
        ranges_[k - drop] = ranges_[k];
    }
    count_ -= drop;
    if (count_ != 0 && before(ranges_[0].start, una)) {
        ranges_[0].start = una;
    }
}

std::uint32_t SackScoreboard::bytes_above(Seq32 seq) const noexcept {
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < count_; ++k) {
        const Seq32 from = seq_max(ranges_[k].start, seq);
        if (before(from, ranges_[k].end)) {
            n += static_cast<std::uint32_t>(ranges_[k].end - from);
        }
    }
    return n;
}

std::size_t SackScoreboard::ranges_above(Seq32 seq) const noexcept {
    std::size_t n = 0;
    for (std::size_t k = 0; k < count_; ++k) {
        n += after(ranges_[k].end, seq) ? 1 : 0;
    }
    return n;
}

std::optional<Seq32> SackScoreboard::covering_end(Seq32 seq) const noexcept {
    for (std::size_t k = 0; k < count_; ++k) {
        if (!before(seq, ranges_[k].start) && before(seq, ranges_[k].end)) {
            return ranges_[k].end;
        }
    }
    return std::nullopt;
}

std::optional<Seq32> SackScoreboard::next_start(Seq32 seq) const noexcept {
    for (std::size_t k = 0; k < count_; ++k) {
        if (after(ranges_[k].start, seq)) {
            return ranges_[k].start;
        }
    }
    return std::nullopt;
}

} // namespace synack::tcp
