#pragma once
// synack's public interface: include this one header.
//
// Rooms below api/ are installed too, because public inline code uses them;
// only what api/ declares, and the wire/ types it names, is the stable API.

#include <synack/api/version.hpp>
