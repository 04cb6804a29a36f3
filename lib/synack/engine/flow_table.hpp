#pragma once
// The per-core flow table: connections keyed by their 4-tuple, in a
// Boost.Intrusive unordered set whose hooks live inside the entries, so a
// lookup or insert never allocates. The bucket array is sized once, for the
// engine's connection limit (a power of two at or above it, so the load
// factor stays at most 1): the table never rehashes, and never stalls a
// burst to grow.
//
// The hash is SipHash-2-4 under a per-engine random key: the peer chooses
// the tuple, and an unkeyed hash would let it aim every connection at one
// bucket.

#include <synack/base/assert.hpp>
#include <synack/base/siphash.hpp>
#include <synack/tcp/four_tuple.hpp>

#include <boost/intrusive/unordered_set.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <memory>

namespace synack::engine {

/// The hook an entry embeds to be kept in a FlowTable.
using FlowHook = boost::intrusive::unordered_set_member_hook<>;

/// SipHash of a 4-tuple under a key.
std::size_t hash_tuple(const SipKey& key, const tcp::FourTuple& t) noexcept;

/// A table of at most capacity() entries of type T, found by T::tuple.
/// T embeds `FlowHook flow_hook` and `tcp::FourTuple tuple`; the tuple must
/// not change while the entry is in the table.
template <typename T>
class FlowTable {
    struct KeyOf {
        using type = tcp::FourTuple;
        const type& operator()(const T& entry) const noexcept { return entry.tuple; }
    };
    struct Hash {
        SipKey key;
        std::size_t operator()(const tcp::FourTuple& t) const noexcept { return hash_tuple(key, t); }
    };
    using Set = boost::intrusive::unordered_set<
        T, boost::intrusive::member_hook<T, FlowHook, &T::flow_hook>,
        boost::intrusive::key_of_value<KeyOf>, boost::intrusive::hash<Hash>,
        boost::intrusive::power_2_buckets<true>, boost::intrusive::constant_time_size<true>>;

public:
    /// A table for max_entries entries, hashing under key. Allocates its
    /// bucket array here, once.
    FlowTable(std::size_t max_entries, SipKey key)
        : capacity_(max_entries), bucket_count_(std::bit_ceil(std::max<std::size_t>(max_entries, 2))),
          buckets_(std::make_unique<typename Set::bucket_type[]>(bucket_count_)),
          set_(typename Set::bucket_traits(buckets_.get(), bucket_count_), Hash{key}) {}

    FlowTable(const FlowTable&) = delete;
    FlowTable& operator=(const FlowTable&) = delete;

    /// Precondition: empty (asserts): entries hold hooks into the buckets.
    ~FlowTable() { SYNACK_ASSERT(set_.empty()); }

    /// The entry for the tuple, or nullptr.
    T* find(const tcp::FourTuple& t) noexcept {
        auto it = set_.find(t);
        return it == set_.end() ? nullptr : &*it;
    }

    /// Adds entry. Returns false, leaving the table unchanged, when an entry
    /// with the same tuple is present or the table holds capacity() entries.
    bool insert(T& entry) noexcept {
        if (set_.size() >= capacity_) {
            return false;
        }
        return set_.insert(entry).second;
    }

    /// Removes entry. Precondition: it is in this table.
    void erase(T& entry) noexcept { set_.erase(set_.iterator_to(entry)); }

    /// Removes every entry, calling f(T&) on each after its removal.
    template <typename F>
    void clear_and_dispose(F&& f) noexcept {
        set_.clear_and_dispose([&](T* entry) noexcept { f(*entry); });
    }

    std::size_t size() const noexcept { return set_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t bucket_count() const noexcept { return bucket_count_; }

private:
    std::size_t capacity_;
    std::size_t bucket_count_;
    std::unique_ptr<typename Set::bucket_type[]> buckets_;
    Set set_;
};

} // namespace synack::engine
