#include <synack/engine/flow_table.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace synack;
using engine::FlowTable;

namespace {

struct Entry {
    engine::FlowHook flow_hook;
    tcp::FourTuple tuple;
};

tcp::FourTuple tuple_n(std::uint32_t n) {
    return {tcp::FourTuple::mapped(wire::Ipv4Addr::from_octets(10, 0, 0, 1)),
            tcp::FourTuple::mapped(wire::Ipv4Addr{0x0b000000u + (n >> 16)}), 80,
            static_cast<std::uint16_t>(n)};
}

} // namespace

TEST_CASE("flow table: insert, find by tuple, erase", "[engine]") {
    FlowTable<Entry> table(16, {1, 2});
    Entry a{{}, tuple_n(1)};
    Entry b{{}, tuple_n(2)};
    REQUIRE(table.insert(a));
    REQUIRE(table.insert(b));
    REQUIRE(table.find(tuple_n(1)) == &a);
    REQUIRE(table.find(tuple_n(2)) == &b);
    REQUIRE(table.find(tuple_n(3)) == nullptr);
    table.erase(a);
    REQUIRE(table.find(tuple_n(1)) == nullptr);
    REQUIRE(table.size() == 1);
    table.erase(b);
}

TEST_CASE("flow table: a second entry for the same tuple is refused", "[engine]") {
    FlowTable<Entry> table(16, {1, 2});
    Entry a{{}, tuple_n(1)};
    Entry dup{{}, tuple_n(1)};
    REQUIRE(table.insert(a));
    REQUIRE_FALSE(table.insert(dup));
    REQUIRE(table.find(tuple_n(1)) == &a);
    table.erase(a);
}

TEST_CASE("flow table: the limit is a hard one (back-pressure, not growth)", "[engine]") {
    FlowTable<Entry> table(3, {1, 2});
    std::vector<Entry> entries(4);
    for (std::uint32_t i = 0; i < 4; ++i) {
        entries[i].tuple = tuple_n(i);
    }
    REQUIRE(table.insert(entries[0]));
    REQUIRE(table.insert(entries[1]));
    REQUIRE(table.insert(entries[2]));
    REQUIRE_FALSE(table.insert(entries[3]));
    REQUIRE(table.bucket_count() == 4);
    table.clear_and_dispose([](Entry&) {});
    REQUIRE(table.size() == 0);
}

TEST_CASE("flow table: 200,000 connections, every one found, none confused", "[engine]") {
    constexpr std::uint32_t n = 200'000;
    FlowTable<Entry> table(n, {0x1234, 0x5678});
    auto entries = std::make_unique<Entry[]>(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        entries[i].tuple = tuple_n(i);
        REQUIRE(table.insert(entries[i]));
    }
    for (std::uint32_t i = 0; i < n; ++i) {
        REQUIRE(table.find(tuple_n(i)) == &entries[i]);
    }
    REQUIRE(table.find(tuple_n(n)) == nullptr);
    table.clear_and_dispose([](Entry&) {});
}

TEST_CASE("flow table: the hash depends on the key (no aimable buckets)", "[engine]") {
    const tcp::FourTuple t = tuple_n(5);
    REQUIRE(engine::hash_tuple({1, 2}, t) != engine::hash_tuple({1, 3}, t));
}
