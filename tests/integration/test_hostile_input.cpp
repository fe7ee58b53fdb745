// Hostile bytes to every public endpoint (Invoke, management, Runtime API), sent raw so
// that nothing in a client library can tidy them: each gets a 4xx with a JSON body, never
// a 5xx, a crash or a hang, and the emulator serves normally afterwards.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using nlohmann::json;

namespace {

struct RawAnswer {
  int status = 0;       // 0: no status line came
  std::string headers;  // as sent, lower-cased names not guaranteed
  std::string body;
  double seconds = 0;   // until the answer was complete (or the wait gave up)
};

// Sends `request` as is on a new connection and reads the answer: the status line and
// headers, then Content-Length bytes of body. Gives up after 10 s.
RawAnswer send_raw(int port, const std::string& request) {
  RawAnswer a;
  const auto start = std::chrono::steady_clock::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse before reading everything
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[65536];
  size_t body_at = std::string::npos, length = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    if (body_at == std::string::npos && (body_at = in.find("\r\n\r\n")) != std::string::npos) {
      body_at += 4;
      a.headers = in.substr(0, body_at);
      std::string lower = a.headers;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t cl = lower.find("content-length:");
      length = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
    }
    if (body_at != std::string::npos && in.size() >= body_at + length) break;
  }
  ::close(fd);
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (in.rfind("HTTP/1.1 ", 0) == 0) a.status = std::stoi(in.substr(9, 3));
  if (body_at != std::string::npos) a.body = in.substr(body_at, length);
  return a;
}

// A 4xx with a JSON object body, answered at once.
void check_refused(const RawAnswer& a) {
  INFO("status " << a.status << ", " << a.seconds << " s, headers:\n" << a.headers << "body: " << a.body);
  CHECK(a.status >= 400);
  CHECK(a.status < 500);
  CHECK(a.seconds < 5);
  const json body = json::parse(a.body, nullptr, false);
  CHECK(body.is_object());
}

std::string post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string with_length(const std::string& method, const std::string& path, const std::string& length) {
  return method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: " + length +
         "\r\n\r\n{}";
}

// Bodies that are not what the endpoint takes.
const std::vector<std::string> kBadBodies = {
    std::string("\x87\x00\xff\xfe", 4),             // invalid UTF-8 with a NUL
    std::string("{\"k\":\"\xff\xfe\"}"),             // invalid UTF-8 inside a string
    std::string("{\"k\":\"a\x00z\"}", 11),           // a raw NUL inside a string
    "[1, 2, 3]",                                     // JSON, but not an object
    "\"just a string\"",
    "{\"unterminated\": ",
};

}  // namespace

TEST_CASE("hostile input to the Invoke and management APIs gets a 4xx with a JSON body, at once") {
  ColdlabServer server;
  const int port = server.port();
  const std::string invoke = "/2015-03-31/functions/echo-native/invocations";
  for (const std::string& body : kBadBodies) {
    CAPTURE(body);
    if (body.front() != '[' && body.front() != '"') check_refused(send_raw(port, post(invoke, body)));
    check_refused(send_raw(port, post("/2015-03-31/functions/echo-native/configuration", body)));
    check_refused(send_raw(port, post("/2017-10-31/functions/echo-native/concurrency", body)));
  }
  // Lengths that are no lengths, or that no request could have: refused before any body.
  for (const char* length : {"-5", "99999999999999999999", "1e3", "12abc", "4294967296000"}) {
    CAPTURE(length);
    check_refused(send_raw(port, with_length("POST", invoke, length)));
    check_refused(send_raw(port, with_length("PUT", "/2015-03-31/functions/echo-native/configuration", length)));
  }
  // No length at all: httplib would read until the client closes.
  check_refused(send_raw(port, "POST " + invoke + " HTTP/1.1\r\nHost: localhost\r\n\r\n{}"));
  // Names: percent-encoded traversal, NUL, invalid UTF-8, too long.
  for (const std::string& name : std::vector<std::string>{"..%2F..%2Fetc%2Fpasswd", "%2e%2e", "echo%00native", "%ff%fe",
                                                          "..", "a%2Fb", std::string(200, 'x')}) {
    CAPTURE(name);
    check_refused(send_raw(port, post("/2015-03-31/functions/" + name + "/invocations", "{}")));
    check_refused(send_raw(port, "GET /2015-03-31/functions/" + name +
                                     "/configuration HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
  }
  // Bad chunked encoding: a chunk size that is not hex, first or after a good chunk. The
  // function must not run on what arrived (it is not the event).
  const std::string chunked = "POST " + invoke +
                              " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
  check_refused(send_raw(port, chunked + "zz\r\n{}\r\n0\r\n\r\n"));
  check_refused(send_raw(port, chunked + "2\r\n{}\r\nzz\r\nabc\r\n0\r\n\r\n"));
  // Malformed HTTP: a header over the server's limit, a request line that is not one.
  check_refused(send_raw(port, post(invoke, "{}", "X-Big: " + std::string(20000, 'a') + "\r\n")));
  check_refused(send_raw(port, std::string("\x00\x01\x02 / HTTP/1.1\r\n\r\n", 19)));
  // Still serving.
  httplib::Client c("127.0.0.1", port);
  auto ok = c.Post(invoke, R"({"still": "here"})", "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->body == R"({"still": "here"})");
}

TEST_CASE("hostile input to the Runtime API gets a 4xx with a JSON body, and the environment still works") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto dump = c.Post("/2015-03-31/functions/env-dump/invocations", "{}", "application/json");
  REQUIRE(dump);
  REQUIRE(dump->status == 200);
  // The environment's Runtime API, host:port, as its process was given it.
  const std::string api = json::parse(dump->body)["env"]["AWS_LAMBDA_RUNTIME_API"];
  const int port = std::stoi(api.substr(api.rfind(':') + 1));
  const std::string base = "/2018-06-01/runtime";
  for (const std::string& body : kBadBodies) {
    CAPTURE(body);
    check_refused(send_raw(port, post(base + "/invocation/not-a-request-id/response", body)));
    check_refused(send_raw(port, post(base + "/invocation/not-a-request-id/error", body)));
  }
  for (const std::string& id : std::vector<std::string>{"..%2F..%2Fnext", "%00", "%ff%fe", std::string(300, 'x')}) {
    CAPTURE(id);
    check_refused(send_raw(port, post(base + "/invocation/" + id + "/response", "{}")));
  }
  for (const char* length : {"-5", "99999999999999999999", "1e3"}) {
    CAPTURE(length);
    check_refused(send_raw(port, with_length("POST", base + "/invocation/x/response", length)));
  }
  check_refused(send_raw(port, post(base + "/invocation/x/response", "{}", "X-Big: " + std::string(20000, 'a') + "\r\n")));
  // The environment is unharmed: the next invoke is warm and answers.
  auto again = c.Post("/2015-03-31/functions/env-dump/invocations", "{}", "application/json");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK_FALSE(again->has_header("X-Amz-Function-Error"));
}
