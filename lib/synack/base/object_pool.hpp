#pragma once
// A fixed-capacity pool of objects of one type, for the data path: one array
// allocated when the pool is made (at engine setup), then O(1) acquire and
// release with no allocation (STYLE.md "The data path"). The free slots form
// an intrusive LIFO list through their own storage, so the most recently
// released slot, still warm in cache, is handed out next.
//
// Exhaustion is back-pressure, not an error: acquire() returns nullptr and the
// caller drops what it wanted to hold, counting it (every resource has a
// limit). Misuse is a bug and asserts: releasing a pointer the pool did not
// hand out, releasing twice, or destroying the pool with objects in use.

#include <synack/base/assert.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace synack {

/// A pool of at most capacity() objects of type T, constructed in place on
/// acquire() and destroyed on release(). Not thread-safe: one per core, as
/// the engine that uses it. Neither copyable nor movable: objects point into
/// it.
template <typename T>
class ObjectPool {
    static_assert(std::is_nothrow_destructible_v<T>, "release() is noexcept");

public:
    /// A pool of capacity slots, all free. The slot array is the only
    /// allocation the pool ever makes. Precondition: the allocation succeeds
    /// (asserts): a pool is made at setup, where running out of memory is fatal.
    explicit ObjectPool(std::size_t capacity) noexcept
        : slots_(capacity == 0 ? nullptr : new (std::nothrow) Slot[capacity]), capacity_(capacity) {
        SYNACK_ASSERT(capacity == 0 || slots_ != nullptr);
        // Thread the free list in array order, so a fresh pool hands out
        // slots front to back.
        for (std::size_t i = capacity; i > 0; --i) {
            Slot& s = slots_[i - 1];
            s.in_use = false;
            s.next_free = free_;
            free_ = &s;
        }
    }

    ObjectPool(const ObjectPool&) = delete;
    ObjectPool& operator=(const ObjectPool&) = delete;

    /// Precondition: every object was released (asserts). An object still in
    /// use would never be destroyed, and whatever it holds (an mbuf, say)
    /// would leak.
    ~ObjectPool() { SYNACK_ASSERT(size_ == 0); }

    /// Takes a free slot and constructs a T in it from args. O(1).
    /// Returns the object, or nullptr when all capacity() slots are in use
    /// (back-pressure: nothing was constructed, args are untouched).
    template <typename... Args>
    [[nodiscard]] T* acquire(Args&&... args) noexcept {
        static_assert(std::is_nothrow_constructible_v<T, Args&&...>,
                      "acquire() is noexcept: T must be constructible without throwing");
        Slot* s = free_;
        if (s == nullptr) {
            return nullptr;
        }
        free_ = s->next_free;
        s->in_use = true;
        ++size_;
        return ::new (static_cast<void*>(s->storage)) T(std::forward<Args>(args)...);
    }

    /// Destroys *p and returns its slot to the pool. O(1).
    /// Preconditions (assert): p was handed out by this pool's acquire() (it
    /// points at the start of one of its slots) and has not been released
    /// since.
    void release(T* p) noexcept {
        Slot& s = slot_of(p);
        SYNACK_ASSERT(s.in_use);
        p->~T();
        s.in_use = false;
        s.next_free = free_;
        free_ = &s;
        --size_;
    }

    /// Objects in use.
    std::size_t size() const noexcept { return size_; }
    /// Slots in all, fixed at construction.
    std::size_t capacity() const noexcept { return capacity_; }
    /// Free slots: how many more acquire() calls succeed.
    std::size_t available() const noexcept { return capacity_ - size_; }

private:
    // A free slot holds the link to the next free one; a used slot holds the
    // object. The flag makes a double release or a stray pointer an assertion
    // rather than a corrupted free list.
    struct Slot {
        union {
            Slot* next_free;
            alignas(T) std::byte storage[sizeof(T)];
        };
        bool in_use;
    };

    // The slot whose storage p points at; asserts that p lies inside the
    // array, at the start of a slot (a range and an alignment check).
    Slot& slot_of(const T* p) noexcept {
        const auto addr = reinterpret_cast<std::uintptr_t>(p);
        const auto base = reinterpret_cast<std::uintptr_t>(slots_.get());
        SYNACK_ASSERT(p != nullptr && addr >= base);
        const std::uintptr_t offset = addr - base;
        SYNACK_ASSERT(offset / sizeof(Slot) < capacity_ && offset % sizeof(Slot) == 0);
        return slots_[offset / sizeof(Slot)];
    }

    std::unique_ptr<Slot[]> slots_;
    std::size_t capacity_ = 0;
    std::size_t size_ = 0;
    Slot* free_ = nullptr;
};

} // namespace synack
