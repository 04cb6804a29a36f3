#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace synack::bench {

namespace {

// 2^11 linear buckets for the smallest values, then 2^10 per power of two:
// a bucket's width is at most 1/1024 of the values in it.
constexpr unsigned linear_bits = 11;
constexpr std::uint64_t linear = std::uint64_t{1} << linear_bits;
constexpr unsigned sub_bits = linear_bits - 1;
constexpr std::uint64_t sub = std::uint64_t{1} << sub_bits;

} // namespace

std::size_t Histogram::buckets() noexcept { return bucket_of(highest_trackable) + 1; }

std::size_t Histogram::bucket_of(std::uint64_t value) noexcept {
    if (value < linear) {
        return static_cast<std::size_t>(value);
    }
    // value = m * 2^shift with m in [2^10, 2^11): the top 11 bits choose.
    const unsigned shift = static_cast<unsigned>(std::bit_width(value)) - linear_bits;
    const std::uint64_t m = value >> shift;
    return static_cast<std::size_t>(linear + (shift - 1) * sub + (m - sub));
}

std::uint64_t Histogram::lowest_in(std::size_t bucket) noexcept {
    if (bucket < linear) {
        return bucket;
    }
    const std::uint64_t above = bucket - linear;
    const unsigned shift = static_cast<unsigned>(above / sub) + 1;
    return (sub + above % sub) << shift;
}

std::uint64_t Histogram::highest_in(std::size_t bucket) noexcept {
    if (bucket < linear) {
        return bucket;
    }
    const unsigned shift = static_cast<unsigned>((bucket - linear) / sub) + 1;
    return lowest_in(bucket) + (std::uint64_t{1} << shift) - 1;
}

Histogram::Histogram() : counts_(buckets(), 0) {}

void Histogram::record(std::uint64_t value, std::uint64_t times) noexcept {
    if (times == 0) {
        return;
    }
    if (value > highest_trackable) {
        value = highest_trackable;
        saturated_ += times;
    }
    counts_[bucket_of(value)] += times;
    count_ += times;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    sum_ += static_cast<long double>(value) * static_cast<long double>(times);
}

void Histogram::merge(const Histogram& o) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        counts_[i] += o.counts_[i];
    }
    count_ += o.count_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
    saturated_ += o.saturated_;
    sum_ += o.sum_;
}

void Histogram::reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = 0;
    min_ = UINT64_MAX;
    max_ = 0;
    saturated_ = 0;
    sum_ = 0;
}

double Histogram::mean() const noexcept {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::uint64_t Histogram::percentile(double percent) const noexcept {
    if (count_ == 0) {
        return 0;
    }
    percent = std::clamp(percent, 0.0, 100.0);
    // The rank of the value asked for, 1-based: at least 1, at most count.
    const auto rank = std::clamp<std::uint64_t>(
        static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_) - 1e-9)), 1,
        count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            return std::min(highest_in(i), max_);
        }
    }
    return max_;
}

} // namespace synack::bench
