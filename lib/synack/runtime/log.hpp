#pragma once
// synack's own rte_log types, so that --log-level=synack.*:debug (or
// rte_log_set_level_pattern) turns them up or down like any DPDK library's.

#include <rte_log.h>

#include <fmt/core.h>

#include <string>

namespace synack::runtime {

/// The "synack.runtime" log type (registered on first use, at INFO).
int runtime_log_type() noexcept;

/// Logs a formatted line at level through rte_log, under the runtime type.
template <typename... Args>
void log(std::uint32_t level, fmt::format_string<Args...> format, Args&&... args) {
    if (rte_log_can_log(static_cast<std::uint32_t>(runtime_log_type()), level)) {
        const std::string line = fmt::format(format, std::forward<Args>(args)...);
        rte_log(level, static_cast<std::uint32_t>(runtime_log_type()), "synack.runtime: %s\n", line.c_str());
    }
}

} // namespace synack::runtime
