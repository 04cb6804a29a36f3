#include "values.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace synack::app {

std::optional<std::uint32_t> number(std::string_view s, std::uint32_t max) {
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || v > max) {
        return std::nullopt;
    }
    return v;
}

std::optional<wire::Ipv4Addr> ipv4(std::string_view s) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
        const std::size_t dot = i < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) {
            return std::nullopt;
        }
        const auto octet = number(s.substr(0, dot), 255);
        if (!octet) {
            return std::nullopt;
        }
        value = value << 8 | *octet;
        s = i < 3 ? s.substr(dot + 1) : s.substr(dot);
    }
    return s.empty() ? std::optional(wire::Ipv4Addr{value}) : std::nullopt;
}

/// A decimal number of seconds, at least 0 and at most a week.
std::optional<double> seconds(const std::string& s) {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || !(v >= 0) || v > 7 * 24 * 3600) {
        return std::nullopt;
    }
    return v;
}

std::string ip_text(wire::Ipv4Addr a) {
    return fmt::format("{}.{}.{}.{}", a.value >> 24, (a.value >> 16) & 0xff, (a.value >> 8) & 0xff,
                       a.value & 0xff);
}

std::string mac_text(wire::MacAddr m) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m.bytes[0], m.bytes[1], m.bytes[2],
                       m.bytes[3], m.bytes[4], m.bytes[5]);
}

std::uint32_t prefix_mask(std::uint8_t prefix_len) {
    return prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
}

/// Why a cannot be a host's address on a link of prefix_len (ours or the
/// gateway's), or nullopt when it can. RFC 1122 section 3.2.1.3 and RFC 5735
/// name the blocks; a /31 (RFC 3021) and a /32 have no network or broadcast
/// address of their own.
std::optional<std::string> not_a_host(wire::Ipv4Addr a, std::uint8_t prefix_len) {
    const std::uint32_t v = a.value;
    if (v >> 24 == 0) {
        return "is in 0.0.0.0/8, which means 'this network', not a host";
    }
    if (v >> 24 == 127) {
        return "is a loopback address (127.0.0.0/8), never on a port";
    }
    if (v >> 28 == 0xe) {
        return "is a multicast address (224.0.0.0/4), not a host's";
    }
    if (v == 0xffffffff) {
        return "is the limited broadcast address, not a host's";
    }
    if (v >> 28 == 0xf) {
        return "is in the reserved block 240.0.0.0/4, not a host's";
    }
    if (prefix_len < 31) {
        const std::uint32_t host = v & ~prefix_mask(prefix_len);
        if (host == 0) {
            return fmt::format("is the network address of its /{} prefix, not a host's",
                               prefix_len);
        }
        if (host == ~prefix_mask(prefix_len)) {
            return fmt::format("is the broadcast address of its /{} prefix, not a host's",
                               prefix_len);
        }
    }
    return std::nullopt;
}

namespace {

/// A config file may be no larger: it is a few name = value lines.
constexpr std::size_t config_bytes_max = 1 << 20;

/// Reads the file open as fd into text. Returns why it is not a config
/// file, or nullopt: anything but a regular file (a directory; a device such
/// as /dev/zero, which never ends; a pipe), one over config_bytes_max, or
/// one that is not text.
std::optional<std::string> read_text(int fd, std::string& text) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return fmt::format("cannot be read: {}", std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        return "is a directory, not a file";
    }
    if (!S_ISREG(st.st_mode)) {
        return "is not a regular file";
    }
    // One byte past the limit, whatever st_size said: a file may grow, and
    // some (in /proc) say 0.
    text.resize(config_bytes_max + 1);
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            return fmt::format("cannot be read: {}", std::strerror(errno));
        }
    }
    text.resize(got);
    if (got > config_bytes_max) {
        return fmt::format("is larger than {} KiB: not a config file", config_bytes_max >> 10);
    }
    const auto control = [](unsigned char c) {
        return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
    };
    if (std::any_of(text.begin(), text.end(), control)) {
        return "is not a text file of name = value lines";
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> read_config(const std::string& path, std::string& text) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused).
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return fmt::format("cannot be read: {}", std::strerror(errno));
    }
    const auto why = read_text(fd, text);
    ::close(fd);
    return why;
}

} // namespace synack::app
