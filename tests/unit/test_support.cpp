#include "unit/test_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace synack::test {

namespace {

std::filesystem::path data_dir() {
    const char* dir = std::getenv("SYNACK_TEST_DATA");
    if (dir == nullptr) {
        throw std::runtime_error("SYNACK_TEST_DATA is not set (run the tests through meson)");
    }
    return std::filesystem::path(dir) / "linux";
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

} // namespace

std::vector<std::uint8_t> parse_hex(std::string_view text) {
    std::vector<std::uint8_t> out;
    std::istringstream lines{std::string(text)};
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.empty() && line[0] == '#') {
            continue;
        }
        int high = -1;
        for (char c : line) {
            const int d = hex_digit(c);
            if (d < 0) {
                if (c != ' ' && c != '\t' && c != '\r') {
                    throw std::runtime_error("bad hex character in: " + line);
                }
                continue;
            }
            if (high < 0) {
                high = d;
            } else {
                out.push_back(static_cast<std::uint8_t>(high * 16 + d));
                high = -1;
            }
        }
        if (high >= 0) {
            throw std::runtime_error("odd number of hex digits in: " + line);
        }
    }
    return out;
}

std::vector<std::uint8_t> golden(std::string_view name) {
    const auto path = data_dir() / (std::string(name) + ".hex");
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("missing golden packet " + path.string());
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse_hex(text.str());
}

std::vector<std::string> golden_names() {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir())) {
        if (entry.path().extension() == ".hex") {
            names.push_back(entry.path().stem().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

wire::MbufPtr mbuf_from(std::span<const std::uint8_t> bytes) {
    wire::MbufPtr m(rte_pktmbuf_alloc(pool()));
    if (!m) {
        throw std::runtime_error("test mempool exhausted");
    }
    char* p = rte_pktmbuf_append(m.get(), static_cast<std::uint16_t>(bytes.size()));
    if (p == nullptr) {
        throw std::runtime_error("packet larger than one mbuf");
    }
    std::copy(bytes.begin(), bytes.end(), p);
    return m;
}

std::vector<std::uint8_t> bytes_of(const rte_mbuf* m) {
    std::vector<std::uint8_t> out;
    for (; m != nullptr; m = m->next) {
        const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
        out.insert(out.end(), p, p + m->data_len);
    }
    return out;
}

wire::MbufPtr chain_of(std::span<const std::uint8_t> bytes, std::initializer_list<std::size_t> sizes) {
    wire::MbufPtr head;
    std::size_t at = 0;
    for (std::size_t n : sizes) {
        if (at + n > bytes.size()) {
            throw std::runtime_error("segment sizes overrun the bytes");
        }
        wire::MbufPtr seg = mbuf_from(bytes.subspan(at, n));
        at += n;
        if (!head) {
            head = std::move(seg);
        } else if (rte_pktmbuf_chain(head.get(), seg.release()) != 0) {
            throw std::runtime_error("chain too long");
        }
    }
    return head;
}

std::vector<rte_mbuf*> segments_of(rte_mbuf* m) {
    std::vector<rte_mbuf*> segs;
    for (; m != nullptr; m = m->next) {
        segs.push_back(m);
    }
    return segs;
}

unsigned in_use() { return rte_mempool_in_use_count(pool()); }

} // namespace synack::test
