#pragma once
// HTTP/1.1 response parsing, kept apart from the socket code so tests can
// feed it bytes directly.
#include <string>

#include "platform.h"

namespace host {

enum class ParseStatus { Incomplete, Complete, Malformed };

// `raw` is everything received so far; `eof` says the peer closed. Handles
// Content-Length, chunked, and close-delimited bodies. Header names in `out`
// are lower-cased.
ParseStatus parseHttpResponse(const std::string& raw, bool eof, tnx::HttpResponse& out);

}  // namespace host
