#include <synack/base/result.hpp>

#include <catch2/catch.hpp>

#include <memory>

namespace {

enum class ParseError { empty, too_long };

synack::Result<int, ParseError> parse_digit(char c) {
    if (c < '0' || c > '9') {
        return synack::Err{ParseError::empty};
    }
    return c - '0';
}

} // namespace

TEST_CASE("Result: holds a value on success", "[base]") {
    auto r = parse_digit('7');
    REQUIRE(r.ok());
    REQUIRE(static_cast<bool>(r));
    REQUIRE(*r == 7);
}

TEST_CASE("Result: holds the error on failure", "[base]") {
    auto r = parse_digit('x');
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error() == ParseError::empty);
}

TEST_CASE("Result: moves a move-only value out", "[base]") {
    synack::Result<std::unique_ptr<int>, ParseError> r(std::make_unique<int>(5));
    std::unique_ptr<int> p = std::move(r).value();
    REQUIRE(*p == 5);
}

TEST_CASE("Status: ok by default, carries an error otherwise", "[base]") {
    synack::Status<ParseError> ok;
    REQUIRE(ok.ok());
    synack::Status<ParseError> bad = synack::Err{ParseError::too_long};
    REQUIRE_FALSE(bad.ok());
    REQUIRE(bad.error() == ParseError::too_long);
}
