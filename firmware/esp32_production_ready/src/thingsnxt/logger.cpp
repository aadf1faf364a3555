#include "logger.h"

#include "text.h"

namespace tnx {

const char* debugLevelName(DebugLevel level) {
  switch (level) {
    case DebugLevel::Off: return "off";
    case DebugLevel::On: return "on";
    case DebugLevel::Verbose: return "verbose";
  }
  return "?";
}

bool parseDebugLevel(const std::string& name, DebugLevel& level) {
  for (DebugLevel candidate : {DebugLevel::Off, DebugLevel::On, DebugLevel::Verbose}) {
    if (name == debugLevelName(candidate)) {
      level = candidate;
      return true;
    }
  }
  return false;
}

void Logger::line(const std::string& text) { console_.writeLine(redact(text, secret_)); }

void Logger::debug(const std::string& text) {
  if (level_ != DebugLevel::Off) line(text);
}

void Logger::verbose(const std::string& text) {
  if (level_ == DebugLevel::Verbose) line(text);
}

}  // namespace tnx
