#pragma once
// Result<T, E>: a value or an error, never both. The data path reports errors
// as values (STYLE.md "Errors are values"); C++20 has no std::expected yet.

#include <synack/base/assert.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace synack {

/// Wraps an error value so that Result's constructors cannot confuse it with T.
template <typename E>
struct Err {
    E error;
};

template <typename E>
Err(E) -> Err<E>;

/// Holds either a T (success) or an E (failure).
/// Preconditions: value() only when ok(), error() only when !ok(); both assert.
template <typename T, typename E>
class [[nodiscard]] Result {
    static_assert(!std::is_same_v<T, E>, "T and E must differ");

public:
    constexpr Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
        : value_(std::move(value)) {}
    constexpr Result(Err<E> err) noexcept : error_(err.error) {}

    /// True when the Result holds a value.
    constexpr bool ok() const noexcept { return value_.has_value(); }
    constexpr explicit operator bool() const noexcept { return ok(); }

    constexpr T& value() & noexcept {
        SYNACK_ASSERT(ok());
        return *value_;
    }
    constexpr const T& value() const& noexcept {
        SYNACK_ASSERT(ok());
        return *value_;
    }
    constexpr T&& value() && noexcept {
        SYNACK_ASSERT(ok());
        return std::move(*value_);
    }
    constexpr E error() const noexcept {
        SYNACK_ASSERT(!ok());
        return error_;
    }

    constexpr T* operator->() noexcept { return &value(); }
    constexpr const T* operator->() const noexcept { return &value(); }
    constexpr T& operator*() & noexcept { return value(); }
    constexpr const T& operator*() const& noexcept { return value(); }

private:
    static_assert(std::is_trivially_copyable_v<E>, "errors are small values");
    std::optional<T> value_;
    E error_{};
};

/// Result of an operation that yields nothing on success.
template <typename E>
class [[nodiscard]] Status {
public:
    constexpr Status() noexcept = default;
    constexpr Status(Err<E> err) noexcept : failed_(true), error_(err.error) {}

    constexpr bool ok() const noexcept { return !failed_; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr E error() const noexcept {
        SYNACK_ASSERT(failed_);
        return error_;
    }

private:
    bool failed_ = false;
    E error_{};
};

} // namespace synack
