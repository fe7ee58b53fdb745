#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "api/base64.h"

using coldlab::api::base64_decode;
using coldlab::api::base64_encode;

namespace {

// RFC 4648 §10.
const std::vector<std::pair<std::string, std::string>> kRfcVectors = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},     {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

}  // namespace

TEST_CASE("base64: encode matches the RFC 4648 test vectors", "[base64]") {
  for (const auto& [plain, encoded] : kRfcVectors) {
    CAPTURE(plain);
    CHECK(base64_encode(plain) == encoded);
  }
}

TEST_CASE("base64: decode matches the RFC 4648 test vectors", "[base64]") {
  for (const auto& [plain, encoded] : kRfcVectors) {
    CAPTURE(encoded);
    const auto decoded = base64_decode(encoded);
    REQUIRE(decoded);
    CHECK(*decoded == plain);
  }
}

TEST_CASE("base64: the whole alphabet including + and / is used", "[base64]") {
  // 0xFB 0xFF 0xBF -> 111110 111111 111110 111111 -> "+/+/"
  CHECK(base64_encode(std::string("\xFB\xFF\xBF", 3)) == "+/+/");
  CHECK(base64_encode(std::string("\x00\x00\x00", 3)) == "AAAA");
  const auto decoded = base64_decode("+/+/");
  REQUIRE(decoded);
  CHECK(*decoded == std::string("\xFB\xFF\xBF", 3));
}

TEST_CASE("base64: all 256 byte values round trip", "[base64]") {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string encoded = base64_encode(all);
  CHECK(encoded.size() == (256 + 2) / 3 * 4);
  CHECK(encoded.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
        std::string::npos);
  const auto decoded = base64_decode(encoded);
  REQUIRE(decoded);
  CHECK(*decoded == all);
}

TEST_CASE("base64: binary data of every length round trips with the right padding",
          "[base64]") {
  for (size_t len = 0; len < 64; ++len) {
    std::string data;
    for (size_t i = 0; i < len; ++i) data += static_cast<char>((i * 97 + len * 31 + 0x80) & 0xFF);
    CAPTURE(len);
    const std::string encoded = base64_encode(data);
    CHECK(encoded.size() == (len + 2) / 3 * 4);
    const size_t pad = (3 - len % 3) % 3;
    size_t trailing = 0;
    while (trailing < encoded.size() && encoded[encoded.size() - 1 - trailing] == '=') ++trailing;
    CHECK(trailing == pad);
    const auto decoded = base64_decode(encoded);
    REQUIRE(decoded);
    CHECK(*decoded == data);
  }
}

TEST_CASE("base64: decode rejects a length that is not a multiple of 4", "[base64]") {
  for (const char* bad : {"Z", "Zg", "Zg=", "Zm9", "Zm9vY", "Zm9vYg", "Zm9vYg=", "Zm9vYg==="}) {
    CAPTURE(bad);
    CHECK_FALSE(base64_decode(bad));
  }
}

TEST_CASE("base64: decode rejects characters outside the alphabet", "[base64]") {
  const std::vector<std::string> bad = {
      "Zm9v!A==", "Zm 9v",    "Zm9v\n",   "Zm9v\r\nYg==", "-_-_",  // URL-safe alphabet
      "Zm.v",     "Zm9\xC3", "Zm9" + std::string(1, '\0'), "====",
  };
  for (const auto& text : bad) {
    CAPTURE(text);
    CHECK_FALSE(base64_decode(text));
  }
}

TEST_CASE("base64: decode rejects data after padding", "[base64]") {
  for (const char* bad : {"Zg==Zm9v", "Zg=a", "Zm=v", "Zg==Zg==", "Z===", "Zm8=Zm8=", "=Zm9"}) {
    CAPTURE(bad);
    CHECK_FALSE(base64_decode(bad));
  }
}
