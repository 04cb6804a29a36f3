// libFuzzer target: parse_ipv4 on any bytes, under each checksum mode.
// Build and run: scripts/fuzz.sh ipv4 (tests/fuzz/README.md).

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A buffer of exactly the input's size, so that ASan sees a read one byte past it.
    const synack::fuzz::Input in(data, data + size);
    (void)synack::fuzz::check_ipv4(in);
    return 0;
}

std::vector<synack::fuzz::Input> fuzz_seeds_from_frame(synack::fuzz::Bytes frame) {
    // Every layer of the frame: real input of this target's own layer among
    // them, and real bytes of the others, as a header that lies about what
    // follows it would hand over.
    std::vector<synack::fuzz::Input> out;
    for (const auto& slice : synack::fuzz::layer_slices(frame)) {
        out.emplace_back(slice.bytes.begin(), slice.bytes.end());
    }
    return out;
}
