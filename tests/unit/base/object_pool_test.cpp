// ObjectPool: fixed capacity, O(1) acquire and release, nullptr when
// exhausted, objects constructed and destroyed exactly once.

#include <synack/base/object_pool.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <vector>

using synack::ObjectPool;

namespace {

// Counts constructions and destructions, and remembers its arguments.
struct Counted {
    static inline int constructed = 0;
    static inline int destroyed = 0;

    Counted(int a_in, std::uint64_t b_in) noexcept : a(a_in), b(b_in) { ++constructed; }
    ~Counted() { ++destroyed; }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;

    int a;
    std::uint64_t b;
};

struct alignas(64) CacheLine {
    std::uint8_t bytes[64];
};

} // namespace

TEST_CASE("ObjectPool: a fresh pool has every slot free", "[base][object_pool]") {
    ObjectPool<int> pool(5);
    REQUIRE(pool.capacity() == 5);
    REQUIRE(pool.size() == 0);
    REQUIRE(pool.available() == 5);
}

TEST_CASE("ObjectPool: acquire to exhaustion, then nullptr (back-pressure, not an error)",
          "[base][object_pool]") {
    ObjectPool<std::uint64_t> pool(4);
    std::vector<std::uint64_t*> got;
    for (std::uint64_t i = 0; i < 4; ++i) {
        std::uint64_t* p = pool.acquire(i * 10);
        REQUIRE(p != nullptr);
        REQUIRE(*p == i * 10);
        got.push_back(p);
    }
    REQUIRE(pool.size() == 4);
    REQUIRE(pool.available() == 0);
    REQUIRE(pool.acquire(std::uint64_t{99}) == nullptr);
    REQUIRE(pool.size() == 4);
    // Distinct slots, none overwritten by another acquire.
    REQUIRE(std::set<std::uint64_t*>(got.begin(), got.end()).size() == 4);
    for (std::uint64_t i = 0; i < 4; ++i) {
        REQUIRE(*got[i] == i * 10);
    }
    for (auto* p : got) {
        pool.release(p);
    }
    REQUIRE(pool.size() == 0);
}

TEST_CASE("ObjectPool: release makes room for exactly one more acquire", "[base][object_pool]") {
    ObjectPool<int> pool(2);
    int* a = pool.acquire(1);
    int* b = pool.acquire(2);
    REQUIRE(pool.acquire(3) == nullptr);
    pool.release(a);
    REQUIRE(pool.available() == 1);
    int* c = pool.acquire(3);
    REQUIRE(c != nullptr);
    REQUIRE(*c == 3);
    REQUIRE(pool.acquire(4) == nullptr);
    pool.release(b);
    pool.release(c);
    REQUIRE(pool.available() == 2);
}

TEST_CASE("ObjectPool: the most recently released slot is reused first (LIFO)",
          "[base][object_pool]") {
    ObjectPool<int> pool(3);
    int* a = pool.acquire(1);
    int* b = pool.acquire(2);
    pool.release(a);
    pool.release(b);
    REQUIRE(pool.acquire(0) == b);
    REQUIRE(pool.acquire(0) == a);
    pool.release(a);
    pool.release(b);
}

TEST_CASE("ObjectPool: acquire constructs in place with its arguments, release destroys once",
          "[base][object_pool]") {
    Counted::constructed = 0;
    Counted::destroyed = 0;
    {
        ObjectPool<Counted> pool(3);
        REQUIRE(Counted::constructed == 0); // slots are raw storage until acquired
        Counted* x = pool.acquire(7, std::uint64_t{1} << 40);
        Counted* y = pool.acquire(8, std::uint64_t{2});
        REQUIRE(x->a == 7);
        REQUIRE(x->b == std::uint64_t{1} << 40);
        REQUIRE(y->a == 8);
        REQUIRE(Counted::constructed == 2);
        REQUIRE(Counted::destroyed == 0);
        pool.release(x);
        REQUIRE(Counted::destroyed == 1);
        Counted* z = pool.acquire(9, std::uint64_t{3});
        REQUIRE(z == x); // LIFO reuse
        REQUIRE(z->a == 9);
        pool.release(y);
        pool.release(z);
    }
    REQUIRE(Counted::constructed == 3);
    REQUIRE(Counted::destroyed == 3);
}

TEST_CASE("ObjectPool: a failed acquire constructs nothing", "[base][object_pool]") {
    Counted::constructed = 0;
    Counted::destroyed = 0;
    ObjectPool<Counted> pool(1);
    Counted* x = pool.acquire(1, std::uint64_t{1});
    REQUIRE(pool.acquire(2, std::uint64_t{2}) == nullptr);
    REQUIRE(Counted::constructed == 1);
    pool.release(x);
    REQUIRE(Counted::destroyed == 1);
}

TEST_CASE("ObjectPool: objects keep their type's alignment", "[base][object_pool]") {
    ObjectPool<CacheLine> pool(3);
    std::vector<CacheLine*> got;
    for (int i = 0; i < 3; ++i) {
        CacheLine* p = pool.acquire();
        REQUIRE(p != nullptr);
        REQUIRE(reinterpret_cast<std::uintptr_t>(p) % alignof(CacheLine) == 0);
        got.push_back(p);
    }
    for (auto* p : got) {
        pool.release(p);
    }
}

TEST_CASE("ObjectPool: a pool of capacity 0 always refuses", "[base][object_pool]") {
    ObjectPool<int> pool(0);
    REQUIRE(pool.capacity() == 0);
    REQUIRE(pool.available() == 0);
    REQUIRE(pool.acquire(1) == nullptr);
}

TEST_CASE("ObjectPool: thousands of mixed acquires and releases keep the counts exact",
          "[base][object_pool]") {
    ObjectPool<std::uint32_t> pool(64);
    std::vector<std::uint32_t*> live;
    std::uint32_t rng = 12345;
    auto next = [&rng] {
        rng = rng * 1664525u + 1013904223u;
        return rng >> 8;
    };
    for (std::uint32_t step = 0; step < 20000; ++step) {
        if (next() % 2 == 0) {
            std::uint32_t* p = pool.acquire(step);
            if (live.size() == 64) {
                REQUIRE(p == nullptr);
            } else {
                REQUIRE(p != nullptr);
                live.push_back(p);
            }
        } else if (!live.empty()) {
            const std::size_t i = next() % live.size();
            pool.release(live[i]);
            live[i] = live.back();
            live.pop_back();
        }
        REQUIRE(pool.size() == live.size());
    }
    for (auto* p : live) {
        pool.release(p);
    }
    REQUIRE(pool.available() == 64);
}
