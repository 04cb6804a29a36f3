// libFuzzer target: a whole frame through every parser, layer by layer
// (Ethernet, then ARP, IPv4 with TCP or ICMP above it, or IPv6 with TCP above
// it), as tests/unit/wire/golden_test.cpp walks the Linux captures.
// Build and run: scripts/fuzz.sh stack (tests/fuzz/README.md).

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A buffer of exactly the input's size, so that ASan sees a read one byte past it.
    const synack::fuzz::Input in(data, data + size);
    synack::fuzz::check_stack(in);
    return 0;
}

std::vector<synack::fuzz::Input> fuzz_seeds_from_frame(synack::fuzz::Bytes frame) {
    return {synack::fuzz::Input(frame.begin(), frame.end())};
}
