// The host's file-backed two-slot flash: write, switch, trial boot, confirm, rollback.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "file_flash.h"

namespace {

std::string image(const std::string& version) {
  std::string bytes(300, 'x');
  bytes[0] = static_cast<char>(0xE9);
  const char magic[4] = {0x32, 0x54, static_cast<char>(0xCD), static_cast<char>(0xAB)};
  bytes.replace(32, 4, magic, 4);
  bytes.replace(48, 32, std::string(32, '\0'));
  bytes.replace(48, version.size(), version);
  return bytes;
}

bool writeImage(host::FileFlash& flash, const std::string& bytes) {
  std::string why;
  return flash.begin(static_cast<uint32_t>(bytes.size()), why) &&
         flash.write(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), why) && flash.end(why) &&
         flash.markPending(why);
}

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/tnx-flash-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

}  // namespace

TEST_CASE("file flash: a new image boots on trial, stays once confirmed") {
  TempDir dir;
  {
    host::FileFlash flash(dir.path, "2.0.0");
    CHECK(flash.boot() == "BOOT slot 0 version 2.0.0");
    CHECK_FALSE(flash.pendingVerify());
    REQUIRE(writeImage(flash, image("2.1.0")));
    CHECK(flash.runningVersion() == "2.0.0");
  }
  {
    host::FileFlash flash(dir.path, "2.0.0");
    CHECK(flash.boot() == "BOOT slot 1 version 2.1.0 (on trial)");
    CHECK(flash.pendingVerify());
    std::string why;
    CHECK(flash.confirm(why));
  }
  host::FileFlash flash(dir.path, "2.0.0");
  CHECK(flash.boot() == "BOOT slot 1 version 2.1.0");
}

TEST_CASE("file flash: an unconfirmed image is abandoned at the next boot; rollback() goes back at once") {
  TempDir dir;
  {
    host::FileFlash flash(dir.path, "2.0.0");
    flash.boot();
    REQUIRE(writeImage(flash, image("2.1.0")));
  }
  {
    host::FileFlash flash(dir.path, "2.0.0");
    CHECK(flash.boot() == "BOOT slot 1 version 2.1.0 (on trial)");
  }  // reset without confirm
  {
    host::FileFlash flash(dir.path, "2.0.0");
    CHECK(flash.boot() == "BOOTLOADER slot 1 not confirmed; booting slot 0\nBOOT slot 0 version 2.0.0");
    REQUIRE(writeImage(flash, image("2.2.0")));
  }
  {
    host::FileFlash flash(dir.path, "2.0.0");
    CHECK(flash.boot() == "BOOT slot 1 version 2.2.0 (on trial)");
    flash.rollback();
    CHECK(flash.rebootRequested());
  }
  host::FileFlash flash(dir.path, "2.0.0");
  CHECK(flash.boot() == "BOOT slot 0 version 2.0.0");
}

TEST_CASE("file flash: an incomplete or foreign image is refused and nothing is switched") {
  TempDir dir;
  host::FileFlash flash(dir.path, "2.0.0");
  flash.boot();
  std::string why;
  REQUIRE(flash.begin(300, why));
  const std::string half = image("2.1.0").substr(0, 150);
  CHECK(flash.write(reinterpret_cast<const uint8_t*>(half.data()), half.size(), why));
  CHECK_FALSE(flash.end(why));
  CHECK(why == "incomplete image");
  CHECK_FALSE(flash.markPending(why));
  std::string foreign = image("2.1.0");
  foreign[0] = 'M';
  CHECK_FALSE(writeImage(flash, foreign));
  host::FileFlash again(dir.path, "2.0.0");
  CHECK(again.boot() == "BOOT slot 0 version 2.0.0");
}
