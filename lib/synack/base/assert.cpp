#include <synack/base/assert.hpp>

#include <cstdio>
#include <cstdlib>

namespace synack::detail {

void assert_fail(const char* expr, const char* file, int line, const char* func) noexcept {
    // stdio, not fmt or rte_log: this must work before anything is set up.
    std::fprintf(stderr, "synack: assertion failed: %s\n  at %s:%d in %s\n", expr, file, line,
                 func);
    std::fflush(stderr);
    std::abort();
}

} // namespace synack::detail
