#pragma once
// Option values shared by synack's programs (synack-bench, synack-lb):
// numbers, IPv4 addresses and whether one can be a host's, durations, and
// the text of a --config file. Each parser returns nullopt (or why) for a
// bad value; the program names the option in its message.

#include <synack/wire/bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synack::app {

/// A whole decimal number from 0 to max.
std::optional<std::uint32_t> number(std::string_view s, std::uint32_t max);

/// A dotted-quad IPv4 address.
std::optional<wire::Ipv4Addr> ipv4(std::string_view s);

/// A decimal number of seconds, at least 0 and at most a week.
std::optional<double> seconds(const std::string& s);

std::string ip_text(wire::Ipv4Addr a);
std::string mac_text(wire::MacAddr m);

/// The netmask of a prefix length (0 to 32).
std::uint32_t prefix_mask(std::uint8_t prefix_len);

/// Why a cannot be a host's address on a link of prefix_len, or nullopt
/// when it can.
std::optional<std::string> not_a_host(wire::Ipv4Addr a, std::uint8_t prefix_len);

/// Reads the config file at path into text. Returns why it is refused (not
/// a regular file, too large, not text, unreadable), or nullopt.
std::optional<std::string> read_config(const std::string& path, std::string& text);

} // namespace synack::app
