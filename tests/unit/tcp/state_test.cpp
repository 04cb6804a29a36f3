#include <synack/tcp/state.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace synack::tcp;

TEST_CASE("TcpState: eleven states with the RFC 9293 section 3.3.2 names", "[tcp][rfc9293]") {
    std::set<std::string> names;
    for (std::size_t i = 0; i < tcp_state_count; ++i) {
        names.insert(to_string(static_cast<TcpState>(i)));
    }
    REQUIRE(names.size() == tcp_state_count);
    REQUIRE(names.count("SYN-RECEIVED") == 1);
    REQUIRE(names.count("TIME-WAIT") == 1);
}

TEST_CASE("TcpState: synchronized states begin at ESTABLISHED (RFC 9293 section 3.10.7.4)",
          "[tcp][rfc9293]") {
    REQUIRE_FALSE(is_synchronized(TcpState::listen));
    REQUIRE_FALSE(is_synchronized(TcpState::syn_sent));
    REQUIRE_FALSE(is_synchronized(TcpState::syn_received));
    REQUIRE(is_synchronized(TcpState::established));
    REQUIRE(is_synchronized(TcpState::time_wait));
}
