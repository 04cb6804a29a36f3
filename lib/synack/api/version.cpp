#include <synack/api/version.hpp>

#include <rte_version.h>

namespace synack {

std::string_view version() noexcept { return SYNACK_VERSION; }

std::string_view dpdk_version() noexcept { return rte_version(); }

} // namespace synack
