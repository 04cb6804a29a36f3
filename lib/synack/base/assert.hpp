#pragma once
// Assertions state what must hold. They stay on in release builds: a broken
// invariant in a TCP stack corrupts streams silently, which is worse than a
// crash with a message. Never assert on input from the network: count and drop.

namespace synack::detail {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line,
                              const char* func) noexcept;
} // namespace synack::detail

#define SYNACK_ASSERT(expr)                                                                  \
    (__builtin_expect(static_cast<bool>(expr), 1)                                            \
         ? static_cast<void>(0)                                                              \
         : ::synack::detail::assert_fail(#expr, __FILE__, __LINE__, __func__))

/// Marks a path that must never run (an impossible enum value, say).
#define SYNACK_UNREACHABLE() ::synack::detail::assert_fail("unreachable", __FILE__, __LINE__, __func__)
