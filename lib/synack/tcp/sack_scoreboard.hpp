#pragma once
// What the peer reports holding above SND.UNA: the SACK scoreboard of RFC
// 6675 section 3, fed by the SACK blocks of RFC 2018. Disjoint ranges in
// sequence order, in a fixed array: no allocation on the data path.

#include <synack/wire/seq.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace synack::tcp {

class SackScoreboard {
public:
    /// Ranges kept. Beyond it the highest are forgotten: data thought unSACKed
    /// is only resent needlessly, never lost.
    static constexpr std::size_t capacity = 32;

    struct Range {
        wire::Seq32 start;
        wire::Seq32 end; // one past the last SACKed byte
    };

    /// Records a SACK block [start, end), clipped to [una, max): parts at or
    /// below SND.UNA (a D-SACK, RFC 2883) or beyond what was sent are ignored.
    void add(wire::Seq32 start, wire::Seq32 end, wire::Seq32 una, wire::Seq32 max) noexcept;
    /// SND.UNA moved to una: forgets what it covers.
    void advance(wire::Seq32 una) noexcept;
    /// Forgets everything: after a retransmission timeout, RFC 2018 section
    /// 8 ("the data sender SHOULD turn off all of the SACKed bits"), lest a
    /// receiver that reneged never get the data again.
    void clear() noexcept { count_ = 0; }

    bool empty() const noexcept { return count_ == 0; }
    std::size_t size() const noexcept { return count_; }
    const Range& operator[](std::size_t i) const noexcept { return ranges_[i]; }

    /// Bytes SACKed at or above seq, and the number of ranges holding them.
    std::uint32_t bytes_above(wire::Seq32 seq) const noexcept;
    std::size_t ranges_above(wire::Seq32 seq) const noexcept;
    /// The end of the range holding seq, if one does.
    std::optional<wire::Seq32> covering_end(wire::Seq32 seq) const noexcept;
    /// The start of the first range beginning after seq, if any.
    std::optional<wire::Seq32> next_start(wire::Seq32 seq) const noexcept;

private:
    std::array<Range, capacity> ranges_{};
    std::size_t count_ = 0;
};

} // namespace synack::tcp
