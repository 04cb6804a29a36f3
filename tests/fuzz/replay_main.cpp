// Runs a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so that every
// target compiles in every build, and the golden frames and the saved crash
// reproducers run in the unit suite (under the sanitizers in the ASan build).
//
// Usage: fuzz-replay-<target> [--write-seeds DIR] [--optional PATH] PATH...
//   PATH: a file, or a directory whose files are taken in name order (not
//     recursed; names starting with '.' or ending in .md are skipped).
//     A .hex file is a frame as in tests/data/linux ('#' lines are comments,
//     the rest hex bytes separated by whitespace): the target gets each input
//     fuzz_seeds_from_frame() makes from it, and every truncation of each.
//     Any other file is one raw input, run as it is (a libFuzzer reproducer).
//   --optional PATH: as PATH, but it may be missing (a target with no saved
//     reproducers has no corpus directory).
//   --write-seeds DIR: write the inputs made from .hex files into DIR, one
//     file each, and run nothing (the seed corpus of scripts/fuzz.sh).
// Exit status: 0 when every input ran (a broken check traps instead); 1 when
// a file could not be read or no input ran at all; 2 on bad usage.

#include "fuzz_support.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using synack::fuzz::Input;

namespace {

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

// The rules of parse_hex in tests/unit/test_support.cpp (which needs DPDK and
// Catch2, so is not linked here): whitespace separates bytes, a line that
// starts with '#' is a comment. Returns nothing on any other character or an
// odd number of digits in a line.
std::optional<Input> parse_hex(std::string_view text) {
    Input out;
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (!line.empty() && line[0] == '#') {
            continue;
        }
        int high = -1;
        for (const char c : line) {
            const int d = hex_digit(c);
            if (d < 0) {
                if (c != ' ' && c != '\t' && c != '\r') {
                    return std::nullopt;
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
            return std::nullopt;
        }
    }
    return out;
}

std::optional<std::string> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    // Through a stringstream, as test_support.cpp reads: GCC 12 warns falsely
    // (-Wnull-dereference) inside istreambuf_iterator.
    std::ostringstream text;
    text << in.rdbuf();
    return std::move(text).str();
}

struct Replay {
    std::optional<fs::path> seeds_dir;
    std::size_t files = 0;
    std::size_t inputs = 0;
    bool error = false;
};

void run(Replay& r, const std::uint8_t* data, std::size_t size) {
    // The target copies the bytes into a buffer of exactly this size itself.
    (void)LLVMFuzzerTestOneInput(data, size);
    ++r.inputs;
}

bool write_file(const fs::path& path, const Input& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

void replay_hex(Replay& r, const fs::path& path, const std::string& text) {
    const auto frame = parse_hex(text);
    if (!frame) {
        std::fprintf(stderr, "%s: not a hex frame\n", path.c_str());
        r.error = true;
        return;
    }
    const auto inputs = fuzz_seeds_from_frame(*frame);
    if (r.seeds_dir) {
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            const auto out = *r.seeds_dir / (path.stem().string() + "-" + std::to_string(i));
            if (!write_file(out, inputs[i])) {
                std::fprintf(stderr, "%s: cannot write\n", out.c_str());
                r.error = true;
            }
            ++r.inputs;
        }
        return;
    }
    for (const auto& in : inputs) {
        // Every truncation too: each header's length checks meet real bytes
        // cut short at every offset.
        for (std::size_t len = 0; len <= in.size(); ++len) {
            run(r, in.data(), len);
        }
    }
}

void replay_file(Replay& r, const fs::path& path) {
    const auto text = read_file(path);
    if (!text) {
        std::fprintf(stderr, "%s: cannot read\n", path.c_str());
        r.error = true;
        return;
    }
    // Named before it runs: when a check traps, the last line says which file.
    std::printf("replay %s\n", path.c_str());
    std::fflush(stdout);
    ++r.files;
    if (path.extension() == ".hex") {
        replay_hex(r, path, *text);
    } else if (!r.seeds_dir) {
        run(r, reinterpret_cast<const std::uint8_t*>(text->data()), text->size());
    }
}

void replay_path(Replay& r, const fs::path& path, bool optional) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(path, ec)) {
            const std::string name = entry.path().filename().string();
            if (entry.is_regular_file() && name[0] != '.' && entry.path().extension() != ".md") {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            replay_file(r, f);
        }
    } else if (fs::exists(path, ec)) {
        replay_file(r, path);
    } else if (!optional) {
        std::fprintf(stderr, "%s: no such file or directory\n", path.c_str());
        r.error = true;
    }
}

} // namespace

int main(int argc, char** argv) {
    Replay r;
    bool any_path = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--write-seeds" || arg == "--optional") && i + 1 >= argc) {
            std::fprintf(stderr, "%s needs an argument\n", argv[i]);
            return 2;
        }
        if (arg == "--write-seeds") {
            r.seeds_dir = argv[++i];
            std::error_code ec;
            fs::create_directories(*r.seeds_dir, ec);
        } else if (arg == "--optional") {
            replay_path(r, argv[++i], true);
            any_path = true;
        } else if (arg.starts_with("-")) {
            std::fprintf(stderr,
                         "usage: %s [--write-seeds DIR] [--optional PATH] PATH...\n"
                         "(a libFuzzer binary takes its own flags; this is the replay driver)\n",
                         argv[0]);
            return 2;
        } else {
            replay_path(r, argv[i], false);
            any_path = true;
        }
    }
    if (!any_path) {
        std::fprintf(stderr, "usage: %s [--write-seeds DIR] [--optional PATH] PATH...\n", argv[0]);
        return 2;
    }
    if (r.error) {
        std::fputs("some files could not be read or written\n", stderr);
        return 1;
    }
    if (r.inputs == 0) {
        std::fputs("no input at all\n", stderr);
        return 1;
    }
    std::printf("%zu inputs from %zu files %s\n", r.inputs, r.files,
                r.seeds_dir ? "written" : "ran, every check held");
    return 0;
}
