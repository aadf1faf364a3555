#include "http_parse.h"

#include <cctype>
#include <cstdlib>

#include "text.h"

namespace host {

static std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Decodes chunks starting at `pos`; chunk extensions and trailers are ignored.
static ParseStatus decodeChunked(const std::string& raw, size_t pos, std::string& body) {
  body.clear();
  for (;;) {
    const size_t lineEnd = raw.find("\r\n", pos);
    if (lineEnd == std::string::npos) return ParseStatus::Incomplete;
    const std::string sizeLine = raw.substr(pos, lineEnd - pos);
    const std::string sizeText = tnx::trim(sizeLine.substr(0, sizeLine.find(';')));
    char* end = nullptr;
    const unsigned long size = std::strtoul(sizeText.c_str(), &end, 16);
    if (sizeText.empty() || *end != '\0') return ParseStatus::Malformed;
    if (size == 0) return ParseStatus::Complete;
    const size_t dataStart = lineEnd + 2;
    if (raw.size() < dataStart + size + 2) return ParseStatus::Incomplete;
    if (raw.compare(dataStart + size, 2, "\r\n") != 0) return ParseStatus::Malformed;
    body.append(raw, dataStart, size);
    pos = dataStart + size + 2;
  }
}

ParseStatus parseHttpResponse(const std::string& raw, bool eof, tnx::HttpResponse& out) {
  const size_t headerEnd = raw.find("\r\n\r\n");
  if (headerEnd == std::string::npos) return eof ? ParseStatus::Malformed : ParseStatus::Incomplete;

  // Status line: HTTP/1.1 200 OK
  const size_t firstLineEnd = raw.find("\r\n");
  const std::string statusLine = raw.substr(0, firstLineEnd);
  if (statusLine.rfind("HTTP/1.", 0) != 0 || statusLine.size() < 12) return ParseStatus::Malformed;
  uint32_t status = 0;
  if (!tnx::parseUint(statusLine.substr(9, 3), status) || status < 100) return ParseStatus::Malformed;
  out.status = static_cast<int>(status);

  out.headers.clear();
  for (size_t pos = firstLineEnd + 2; pos < headerEnd;) {
    const size_t end = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, end - pos);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return ParseStatus::Malformed;
    out.headers[lower(tnx::trim(line.substr(0, colon)))] = tnx::trim(line.substr(colon + 1));
    pos = end + 2;
  }

  const size_t bodyStart = headerEnd + 4;
  if (status == 204 || status == 304 || status < 200) {
    out.body.clear();
    return ParseStatus::Complete;
  }
  if (lower(out.header("transfer-encoding")).find("chunked") != std::string::npos) {
    const ParseStatus result = decodeChunked(raw, bodyStart, out.body);
    return result == ParseStatus::Incomplete && eof ? ParseStatus::Malformed : result;
  }
  const std::string lengthText = out.header("content-length");
  if (!lengthText.empty()) {
    uint32_t length = 0;
    if (!tnx::parseUint(lengthText, length)) return ParseStatus::Malformed;
    if (raw.size() - bodyStart < length) return eof ? ParseStatus::Malformed : ParseStatus::Incomplete;
    out.body = raw.substr(bodyStart, length);
    return ParseStatus::Complete;
  }
  // No framing: the body runs until the server closes (we always send Connection: close).
  if (!eof) return ParseStatus::Incomplete;
  out.body = raw.substr(bodyStart);
  return ParseStatus::Complete;
}

}  // namespace host
