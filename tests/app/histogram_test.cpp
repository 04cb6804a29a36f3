// The latency histogram (app/synack-bench/histogram.hpp) and the open-loop
// schedule (workload.hpp): bucketing at three significant digits,
// percentiles by rank, merging, and intended send times without drift.

#include "histogram.hpp"
#include "workload.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

using synack::bench::Histogram;
using synack::bench::OpenLoopSchedule;

TEST_CASE("histogram: values below 2048 have a bucket each", "[histogram]") {
    for (std::uint64_t v = 0; v < 2048; ++v) {
        REQUIRE(Histogram::bucket_of(v) == v);
        REQUIRE(Histogram::lowest_in(v) == v);
        REQUIRE(Histogram::highest_in(v) == v);
    }
}

TEST_CASE("histogram: every bucket holds values within 1/1024 of each other (3 significant digits)", "[histogram]") {
    for (std::size_t b = 2048; b < Histogram::buckets(); ++b) {
        const std::uint64_t lo = Histogram::lowest_in(b);
        const std::uint64_t hi = Histogram::highest_in(b);
        REQUIRE(Histogram::bucket_of(lo) == b);
        REQUIRE(Histogram::bucket_of(hi) == b);
        REQUIRE(Histogram::bucket_of(lo - 1) == b - 1); // buckets are contiguous
        REQUIRE(static_cast<double>(hi - lo + 1) / static_cast<double>(lo) <= 1.0 / 1024);
    }
    REQUIRE(Histogram::highest_in(Histogram::buckets() - 1) == Histogram::highest_trackable);
}

TEST_CASE("histogram: percentiles of 1..1000 by rank, at bucket edges", "[histogram]") {
    Histogram h;
    for (std::uint64_t v = 1; v <= 1000; ++v) {
        h.record(v);
    }
    REQUIRE(h.count() == 1000);
    REQUIRE(h.min() == 1);
    REQUIRE(h.max() == 1000);
    REQUIRE(h.mean() == Approx(500.5));
    REQUIRE(h.percentile(0) == 1);
    REQUIRE(h.percentile(50) == 500);
    REQUIRE(h.percentile(90) == 900);
    REQUIRE(h.percentile(99) == 990);
    REQUIRE(h.percentile(99.9) == 999); // rank 999 exactly, not 1000 through rounding
    REQUIRE(h.percentile(100) == 1000);
    REQUIRE(h.percentile(150) == 1000); // clamped
}

TEST_CASE("histogram: large values are reported within their bucket, never above the maximum", "[histogram]") {
    Histogram h;
    h.record(1'000'000);     // 1 ms in ns
    h.record(1'000'000'000); // 1 s
    REQUIRE(h.percentile(50) >= 1'000'000);
    REQUIRE(h.percentile(50) <= 1'000'000 + 1'000'000 / 1024);
    REQUIRE(h.percentile(100) == 1'000'000'000);
    Histogram big;
    big.record(std::uint64_t{1} << 50);
    REQUIRE(big.saturated() == 1);
    REQUIRE(big.max() == Histogram::highest_trackable);
}

TEST_CASE("histogram: a merge is the histogram of all the values", "[histogram]") {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> dist(10.0, 1.5);
    Histogram a;
    Histogram b;
    Histogram all;
    for (int i = 0; i < 100000; ++i) {
        const auto v = static_cast<std::uint64_t>(dist(rng));
        (i % 3 == 0 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    REQUIRE(a.count() == all.count());
    REQUIRE(a.min() == all.min());
    REQUIRE(a.max() == all.max());
    for (const double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
        REQUIRE(a.percentile(p) == all.percentile(p));
    }
    a.reset();
    REQUIRE(a.count() == 0);
    REQUIRE(a.percentile(50) == 0);
}

TEST_CASE("histogram: a uniform distribution's percentiles are where they should be, to 0.1%", "[histogram]") {
    Histogram h;
    for (std::uint64_t v = 0; v < 1'000'000; ++v) {
        h.record(v * 1000); // 0 .. 999,999,000 ns
    }
    for (const double p : {50.0, 90.0, 99.0, 99.9}) {
        const double want = p / 100 * 1e9;
        REQUIRE(static_cast<double>(h.percentile(p)) == Approx(want).epsilon(0.001));
    }
}

TEST_CASE("open loop: request k is due at start + k / rate, however late it is asked", "[open-loop]") {
    OpenLoopSchedule s(1000.0, 5'000'000); // one every millisecond from 5 ms
    REQUIRE_FALSE(s.due(4'999'999));
    REQUIRE(s.due(5'000'000) == 5'000'000u);
    REQUIRE_FALSE(s.due(5'999'999));
    // Asked 10.5 ms late: every request due by then, each at its own time
    // (a stall shows in their latency, not in fewer requests).
    std::vector<std::uint64_t> late;
    while (const auto t = s.due(16'500'000)) {
        late.push_back(*t);
    }
    REQUIRE(late.size() == 11);
    for (std::size_t i = 0; i < late.size(); ++i) {
        REQUIRE(late[i] == 6'000'000 + i * 1'000'000);
    }
    REQUIRE(s.issued() == 12);
}

TEST_CASE("open loop: no drift over many intervals that are not whole nanoseconds", "[open-loop]") {
    OpenLoopSchedule s(3.0e6, 0); // 333.33 ns apart
    std::uint64_t last = 0;
    while (const auto t = s.due(1'000'000'000)) {
        last = *t;
    }
    REQUIRE(s.issued() == 3'000'001); // 0 .. 1 s inclusive
    REQUIRE(last == 1'000'000'000);
}
