#pragma once
// synack's public interface: include this one header.
//
// Of the rooms below api/ only the headers api/ includes are installed
// (result and assertion types, the clock, byte spans and the mbuf handle):
// what api/ declares, and the types it names, is the API.

#include <synack/api/stack.hpp>
#include <synack/api/version.hpp>
