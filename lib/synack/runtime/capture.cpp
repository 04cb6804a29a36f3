#include <synack/runtime/capture.hpp>

#include <synack/runtime/log.hpp>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#include <string_view>

namespace synack::runtime {

namespace {

int ignore_message(const rte_mp_msg*, const void*) { return 0; }

/// Whether EAL's multi-process channel is on. rte_pdump_init() cannot say:
/// it takes ENOTSUP from rte_mp_action_register() (--no-shconf,
/// --in-memory) as success. Registering an action of our own, at once
/// removed, gets the same answer and reports it.
bool multi_process_on() noexcept {
    constexpr const char* probe = "synack_capture_probe";
    if (rte_mp_action_register(probe, ignore_message) != 0) {
        return false;
    }
    rte_mp_action_unregister(probe);
    return true;
}

/// The --file-prefix: the last part of EAL's runtime directory.
std::string_view file_prefix() noexcept {
    const std::string_view dir = rte_eal_get_runtime_dir();
    const std::size_t slash = dir.rfind('/');
    return slash == std::string_view::npos ? dir : dir.substr(slash + 1);
}

} // namespace

bool enable_capture() noexcept {
    if (rte_pdump_init() != 0) {
        log(RTE_LOG_NOTICE, "packet capture off: rte_pdump_init failed: {}",
            rte_strerror(rte_errno));
        rte_pdump_uninit();
        return false;
    }
    const char* missing = nullptr;
    if (!multi_process_on()) {
        missing = "EAL's multi-process channel is off (--no-shconf or --in-memory)";
    } else if (rte_eal_has_hugepages() == 0) {
        missing = "EAL runs without hugepages (--no-huge), so no other process can map its memory";
    }
    if (missing != nullptr) {
        log(RTE_LOG_NOTICE, "packet capture off: {}", missing);
        rte_pdump_uninit();
        return false;
    }
    log(RTE_LOG_INFO, "packet capture on: dpdk-dumpcap --file-prefix {} can attach", file_prefix());
    return true;
}

void disable_capture() noexcept { rte_pdump_uninit(); }

} // namespace synack::runtime
