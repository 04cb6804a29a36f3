// synack-bench's SHA-256 against the FIPS 180-4 examples (NIST's "SHA-256
// example" values) and against itself fed in pieces of every size.

#include "sha256.hpp"

#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

using synack::bench::Sha256;

namespace {

std::string hash_of(std::string_view s) {
    Sha256 h;
    h.update({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    return h.hex();
}

} // namespace

TEST_CASE("sha256: the FIPS 180-4 examples", "[bench][sha256]") {
    CHECK(hash_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hash_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hash_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a' (FIPS 180-2 appendix B.3).
    Sha256 h;
    const std::string a(1000, 'a');
    for (int i = 0; i < 1000; ++i) {
        h.update({reinterpret_cast<const std::uint8_t*>(a.data()), a.size()});
    }
    CHECK(h.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: the digest does not depend on how the bytes are split", "[bench][sha256]") {
    std::vector<std::uint8_t> data(1000);
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<std::uint8_t>(i % 251);
    }
    Sha256 whole;
    whole.update(data);
    const std::string want = whole.hex();
    for (std::size_t piece = 1; piece <= 130; ++piece) {
        Sha256 h;
        for (std::size_t at = 0; at < data.size(); at += piece) {
            h.update(std::span(data).subspan(at, std::min(piece, data.size() - at)));
        }
        REQUIRE(h.hex() == want);
    }
}
