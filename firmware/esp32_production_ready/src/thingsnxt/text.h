#pragma once
// String helpers shared by the protocol, the console and the logger.
#include <cstdint>
#include <string>
#include <vector>

namespace tnx {

// "abcd…" for tokens of 8+ chars, "…" for shorter ones (4 of 5 chars would
// give the secret away). The token is never printed in full.
std::string maskToken(const std::string& token);

// Replaces every occurrence of the token, raw or URL-encoded, by its mask.
std::string redact(const std::string& text, const std::string& token);

// RFC 3986 percent-encoding: everything but unreserved characters.
std::string urlEncode(const std::string& value);

// Keys the server accepts in `data`: [A-Za-z0-9_.:-]{1,64}.
bool isValidDataKey(const std::string& key);

// Splits on blanks; "double quotes" keep a blank inside one argument
// (Wi-Fi names often have spaces). Returns false on an unclosed quote.
bool splitArgs(const std::string& line, std::vector<std::string>& out);

std::string trim(const std::string& text);

// Parses a plain non-negative decimal; false on anything else or overflow.
bool parseUint(const std::string& text, uint32_t& out);

}  // namespace tnx
