// libFuzzer target: parse_tcp (checksum verified against a pseudo-header sum
// taken from the input) and parse_tcp_options on an area of any length.
// Build and run: scripts/fuzz.sh tcp (tests/fuzz/README.md).
//
// Input: a 16-bit big-endian pseudo-header sum, then the segment. Taking the
// sum from the input lets a seed made from a real segment carry its real sum,
// so the fuzzer starts from segments whose checksum verifies and can mutate
// past the checksum test instead of failing it every time.

#include "fuzz_support.hpp"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A buffer of exactly the input's size, so that ASan sees a read one byte past it.
    const synack::fuzz::Input in(data, data + size);
    const synack::fuzz::Bytes bytes(in);
    const std::size_t prefix = std::min<std::size_t>(2, bytes.size());
    const std::uint16_t pseudo_sum = prefix == 2 ? synack::wire::load_be16(bytes.data()) : 0;
    const synack::fuzz::Bytes segment = bytes.subspan(prefix);
    (void)synack::fuzz::check_tcp(segment, pseudo_sum);
    // The bytes after the fixed header, whatever their length: the options area
    // and the payload of a real segment, anything at all of a mutated one.
    synack::fuzz::check_tcp_options(
        segment.subspan(std::min(segment.size(), synack::wire::tcp_min_header_len)));
    return 0;
}

std::vector<synack::fuzz::Input> fuzz_seeds_from_frame(synack::fuzz::Bytes frame) {
    // Every layer, each behind the pseudo-header sum that makes a real TCP
    // segment verify (0 in front of the slices that are not one).
    std::vector<synack::fuzz::Input> out;
    for (const auto& slice : synack::fuzz::layer_slices(frame)) {
        synack::fuzz::Input in(2 + slice.bytes.size());
        synack::wire::store_be16(in.data(), slice.pseudo_sum);
        std::copy(slice.bytes.begin(), slice.bytes.end(), in.begin() + 2);
        out.push_back(std::move(in));
    }
    return out;
}
