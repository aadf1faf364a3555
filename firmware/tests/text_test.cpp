#include <doctest/doctest.h>

#include "text.h"

TEST_CASE("maskToken shows at most the first 4 characters") {
  CHECK(tnx::maskToken("abcdefgh12345") == "abcd\xE2\x80\xA6");
  CHECK(tnx::maskToken("abcdefgh") == "abcd\xE2\x80\xA6");
  CHECK(tnx::maskToken("abcdefg") == "\xE2\x80\xA6");  // too short to show any of it
  CHECK(tnx::maskToken("") == "\xE2\x80\xA6");
}

TEST_CASE("redact masks the token raw and URL-encoded") {
  const std::string token = "to+k/en=1234";
  CHECK(tnx::redact("a to+k/en=1234 b", token) == "a to+k\xE2\x80\xA6 b");
  CHECK(tnx::redact("?device_token=to%2Bk%2Fen%3D1234&wait=5", token) == "?device_token=to+k\xE2\x80\xA6&wait=5");
  CHECK(tnx::redact("nothing here", token) == "nothing here");
  CHECK(tnx::redact("no secret set", "") == "no secret set");
}

TEST_CASE("urlEncode keeps unreserved characters only") {
  CHECK(tnx::urlEncode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(tnx::urlEncode("a b+c/d?e&f=g%") == "a%20b%2Bc%2Fd%3Fe%26f%3Dg%25");
  CHECK(tnx::urlEncode("\xC3\xA9") == "%C3%A9");
}

TEST_CASE("data keys follow [A-Za-z0-9_.:-]{1,64}") {
  CHECK(tnx::isValidDataKey("stats.free_heap"));
  CHECK(tnx::isValidDataKey("a:b-c"));
  CHECK(tnx::isValidDataKey(std::string(64, 'k')));
  CHECK_FALSE(tnx::isValidDataKey(std::string(65, 'k')));
  CHECK_FALSE(tnx::isValidDataKey(""));
  CHECK_FALSE(tnx::isValidDataKey("has space"));
  CHECK_FALSE(tnx::isValidDataKey("temp\xC2\xB0"));
}

TEST_CASE("splitArgs honours double quotes") {
  std::vector<std::string> args;
  CHECK(tnx::splitArgs("  provision  dev1 tok \"My Home WiFi\" \"\" ", args));
  CHECK(args == std::vector<std::string>{"provision", "dev1", "tok", "My Home WiFi", ""});
  CHECK_FALSE(tnx::splitArgs("provision \"unclosed", args));
}

TEST_CASE("parseUint accepts plain decimals only") {
  uint32_t v = 0;
  CHECK(tnx::parseUint("4294967295", v));
  CHECK(v == 4294967295u);
  CHECK_FALSE(tnx::parseUint("4294967296", v));
  CHECK_FALSE(tnx::parseUint("-1", v));
  CHECK_FALSE(tnx::parseUint("1.5", v));
  CHECK_FALSE(tnx::parseUint("", v));
}
