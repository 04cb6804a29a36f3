// The main of every unit-test program: start the DPDK EAL once (no hugepages,
// no PCI, no shared config, so tests never touch a NIC and can run in
// parallel), then hand over to Catch2.

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "unit/test_support.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <fmt/core.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace synack::test {

namespace {
rte_mempool* g_pool = nullptr;
} // namespace

rte_mempool* pool() { return g_pool; }

} // namespace synack::test

int main(int argc, char** argv) {
    std::vector<std::string> eal_args = {"unit-test", "--no-huge", "--no-pci", "--no-shconf",
                                         "--no-telemetry", "-m", "64", "--log-level=lib.*:error"};
    std::vector<char*> eal_argv;
    for (auto& a : eal_args) {
        eal_argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        fmt::print(stderr, "unit tests: EAL initialisation failed: {}\n", rte_strerror(rte_errno));
        return EXIT_FAILURE;
    }
    synack::test::g_pool = rte_pktmbuf_pool_create("unit_test_pool", 4095, 0, 0,
                                                   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (synack::test::g_pool == nullptr) {
        fmt::print(stderr, "unit tests: mempool creation failed: {}\n", rte_strerror(rte_errno));
        return EXIT_FAILURE;
    }
    const int failed = Catch::Session().run(argc, argv);
    // Every test returns what it takes: a leak shows up here, whatever test caused it.
    const unsigned in_use = rte_mempool_in_use_count(synack::test::g_pool);
    if (in_use != 0) {
        fmt::print(stderr, "unit tests: {} mbufs still in use at exit\n", in_use);
    }
    rte_mempool_free(synack::test::g_pool);
    rte_eal_cleanup();
    return failed != 0 || in_use != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
