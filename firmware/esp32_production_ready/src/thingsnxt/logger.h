#pragma once
// Console output with the debug level applied and the token always masked,
// whichever path the text took (URL, body, error message).
#include <string>

#include "platform.h"

namespace tnx {

enum class DebugLevel { Off, On, Verbose };

const char* debugLevelName(DebugLevel level);
bool parseDebugLevel(const std::string& name, DebugLevel& level);

class Logger {
 public:
  explicit Logger(Console& console) : console_(console) {}

  void setLevel(DebugLevel level) { level_ = level; }
  DebugLevel level() const { return level_; }
  void setSecret(const std::string& token) { secret_ = token; }

  void line(const std::string& text);     // always printed: state changes, problems
  void debug(const std::string& text);    // "debug on" and "debug verbose"
  void verbose(const std::string& text);  // "debug verbose": requests and bodies

 private:
  Console& console_;
  DebugLevel level_ = DebugLevel::On;
  std::string secret_;
};

}  // namespace tnx
