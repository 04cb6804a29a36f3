// A program outside the synack tree, built only from what `meson install`
// put on the machine: headers, libsynack and synack.pc.

#include <synack/synack.hpp>
#include <synack/wire/checksum.hpp>

#include <array>
#include <cstdio>
#include <string>

int main() {
    // RFC 1071 section 3: the folded sum of 0001 f203 f4f5 f6f7 is ddf2.
    const std::array<std::uint8_t, 8> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    synack::wire::Checksum sum;
    sum.add(data);
    const std::string v(synack::version());
    std::printf("synack %s, checksum %s\n", v.c_str(), sum.folded() == 0xddf2 ? "ok" : "WRONG");
    return sum.folded() == 0xddf2 ? 0 : 1;
}
