#pragma once
// A latency histogram with log-linear buckets, HdrHistogram's scheme at
// three significant digits: values below 2048 have a bucket each; above,
// every power of two is split into 1024 buckets, so a value is known to
// within 1/1024 of itself. Fixed size, no allocation when recording; run
// loops each keep one and merge them at the end.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace synack::bench {

class Histogram {
public:
    /// Values from 0 to 2^40 - 1 (in nanoseconds: 18 minutes); larger ones
    /// are recorded as that, and counted in saturated().
    static constexpr unsigned value_bits = 40;
    static constexpr std::uint64_t highest_trackable = (std::uint64_t{1} << value_bits) - 1;

    Histogram();

    void record(std::uint64_t value, std::uint64_t times = 1) noexcept;
    /// Adds every value recorded in o.
    void merge(const Histogram& o) noexcept;
    void reset() noexcept;

    std::uint64_t count() const noexcept { return count_; }
    /// 0 when empty.
    std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
    std::uint64_t max() const noexcept { return max_; }
    double mean() const noexcept;
    std::uint64_t saturated() const noexcept { return saturated_; }
    /// The smallest value v such that at least `percent` % of the values
    /// recorded are <= v, to within its bucket (the bucket's highest value,
    /// never above max()). 0 when empty; percent is clamped to [0, 100].
    std::uint64_t percentile(double percent) const noexcept;

    // The bucketing, for tests.
    static std::size_t bucket_of(std::uint64_t value) noexcept;
    static std::uint64_t lowest_in(std::size_t bucket) noexcept;
    static std::uint64_t highest_in(std::size_t bucket) noexcept;
    static std::size_t buckets() noexcept;

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
    std::uint64_t saturated_ = 0;
    long double sum_ = 0;
};

} // namespace synack::bench
