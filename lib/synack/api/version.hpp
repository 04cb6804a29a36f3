#pragma once
// Which synack, and which DPDK it runs on.

#include <string_view>

namespace synack {

/// synack's version, "MAJOR.MINOR.PATCH".
std::string_view version() noexcept;

/// The version of the DPDK libraries linked at run time ("DPDK 22.11.x").
std::string_view dpdk_version() noexcept;

} // namespace synack
