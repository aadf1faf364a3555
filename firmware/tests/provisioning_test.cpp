#include <doctest/doctest.h>

#include "provisioning.h"
#include "text.h"

namespace {
tnx::ProvisionResult parse(const std::string& line, const tnx::Credentials& current = tnx::Credentials()) {
  std::vector<std::string> args;
  REQUIRE(tnx::splitArgs(line, args));
  return tnx::parseProvisionArgs(args, current);
}
}  // namespace

TEST_CASE("one-line provisioning") {
  SUBCASE("all five values; trailing slash of the URL dropped") {
    const auto r = parse("dev1 tok-123 http://10.0.0.5:8000/ \"My WiFi\" pa ss");
    CHECK_FALSE(r.ok);  // six values: the password needs quotes
    const auto q = parse("dev1 tok-123 http://10.0.0.5:8000/ \"My WiFi\" \"pa ss\"");
    REQUIRE(q.ok);
    CHECK(q.credentials.deviceId == "dev1");
    CHECK(q.credentials.token == "tok-123");
    CHECK(q.credentials.apiUrl == "http://10.0.0.5:8000");
    CHECK(q.credentials.wifiSsid == "My WiFi");
    CHECK(q.credentials.wifiPassword == "pa ss");
  }
  SUBCASE("without Wi-Fi the stored network is kept") {
    tnx::Credentials current;
    current.wifiSsid = "home";
    current.wifiPassword = "pw";
    const auto r = parse("dev2 tok https://api.example.com", current);
    REQUIRE(r.ok);
    CHECK(r.credentials.apiUrl == "https://api.example.com");
    CHECK(r.credentials.wifiSsid == "home");
    CHECK(r.credentials.wifiPassword == "pw");
  }
  SUBCASE("ssid without password: open network") {
    tnx::Credentials current;
    current.wifiPassword = "old";
    const auto r = parse("dev2 tok http://h cafe", current);
    REQUIRE(r.ok);
    CHECK(r.credentials.wifiSsid == "cafe");
    CHECK(r.credentials.wifiPassword == "");
  }
  SUBCASE("bad input is refused with a reason") {
    CHECK(parse("").error.rfind("usage: provision", 0) == 0);
    CHECK(parse("dev1 tok").error.rfind("usage: provision", 0) == 0);
    CHECK(parse("dev1 tok ftp://h").error == "api url must start with http:// or https://");
    CHECK(parse("dev1 tok http://").error == "api url has no host");
    CHECK(parse("dev/1 tok http://h").error.rfind("device id may only contain", 0) == 0);
    CHECK(parse("dev1 \"\" http://h").error == "token must be 1-256 characters");
    CHECK(parse("dev1 \"to ken\" http://h").error == "token must not contain blanks or control characters");
    CHECK(parse("dev1 tok http://h/ \"\"").ok);  // an explicit empty ssid is allowed
  }
}

TEST_CASE("interactive provisioning wizard") {
  tnx::Credentials current;
  current.wifiSsid = "home";
  current.wifiPassword = "pw";
  tnx::ProvisionWizard wizard;
  wizard.start(current);
  CHECK(wizard.active());
  CHECK(wizard.prompt() == "device id:");
  CHECK(wizard.feed("bad id") == "device id may only contain letters, digits, '-', '_', '.', '~'");
  CHECK(wizard.prompt() == "device id:");  // asked again
  CHECK(wizard.feed(" dev9 ") == "");
  CHECK(wizard.prompt() == "device token:");
  CHECK(wizard.feed("tok-9") == "");
  CHECK(wizard.feed("localhost:8000") == "api url must start with http:// or https://");
  CHECK(wizard.feed("http://localhost:8000/") == "");
  CHECK(wizard.prompt() == "wifi ssid (empty: keep 'home'):");

  SUBCASE("empty ssid keeps the stored network") {
    CHECK(wizard.feed("") == "");
    CHECK_FALSE(wizard.active());
    CHECK(wizard.result().wifiSsid == "home");
    CHECK(wizard.result().wifiPassword == "pw");
  }
  SUBCASE("new network, password taken as typed") {
    CHECK(wizard.feed("Guest Net") == "");
    CHECK(wizard.prompt() == "wifi password (empty: open network):");
    CHECK(wizard.feed(" p w ") == "");
    CHECK_FALSE(wizard.active());
    CHECK(wizard.result().wifiSsid == "Guest Net");
    CHECK(wizard.result().wifiPassword == " p w ");
  }
  CHECK(wizard.result().deviceId == "dev9");
  CHECK(wizard.result().token == "tok-9");
  CHECK(wizard.result().apiUrl == "http://localhost:8000");
}
