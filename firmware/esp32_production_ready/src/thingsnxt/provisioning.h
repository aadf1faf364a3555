#pragma once
// Provisioning input: the one-line form a program can drive, and the
// interactive prompts a person uses in the serial monitor. Both validate
// with the same rules (credentials.h).
#include <string>
#include <vector>

#include "credentials.h"

namespace tnx {

struct ProvisionResult {
  bool ok = false;
  std::string error;
  Credentials credentials;
};

// args: everything after the word "provision":
//   <device_id> <token> <api_url> [wifi_ssid] [wifi_password]
// Without wifi_ssid the stored Wi-Fi settings are kept (lets a token be rotated
// without retyping them); a wifi_ssid without password means an open network.
ProvisionResult parseProvisionArgs(const std::vector<std::string>& args, const Credentials& current);

class ProvisionWizard {
 public:
  void start(const Credentials& current);
  bool active() const { return step_ != Step::Idle; }
  std::string prompt() const;
  // Feeds one answer; returns an error to show before re-prompting, or "".
  // When the last answer is accepted active() turns false and result() holds the values.
  std::string feed(const std::string& answer);
  void cancel() { step_ = Step::Idle; }
  const Credentials& result() const { return draft_; }

 private:
  enum class Step { Idle, DeviceId, Token, ApiUrl, WifiSsid, WifiPassword };
  Step step_ = Step::Idle;
  Credentials draft_;
};

}  // namespace tnx
