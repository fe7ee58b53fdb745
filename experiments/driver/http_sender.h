// The load driver's client: Lambda's public Invoke API over HTTP, one keep-alive
// connection per closed-loop user (open-loop requests get one each), RequestResponse with
// `X-Amz-Log-Type: Tail` so that a cold start can be told from the answer alone (its REPORT
// line has an Init Duration), as on Lambda. Adds the network model's delay around each
// request. Requests are not signed: coldlab and other emulators accept any credentials.
//
// Thread-safety: send() may be called from many threads; one user's calls never overlap.
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "driver/load_driver.h"
#include "driver/network_model.h"

namespace coldlab::driver {

class HttpSender : public Sender {
 public:
  // `endpoint`: http://host:port. `timeout_s`: how long one request may take (functions
  // run up to 900 s on Lambda).
  HttpSender(std::string endpoint, NetworkDelay& network, int timeout_s = 960);
  Answer send(int user, const std::string& function, const std::string& payload) override;
  // Closes every connection (the emulator can then stop without waiting for idle ones).
  void close_all();

 private:
  std::unique_ptr<httplib::Client> connect() const;

  const std::string endpoint_;
  NetworkDelay& network_;
  const int timeout_s_;
  std::mutex mu_;
  std::map<int, std::unique_ptr<httplib::Client>> clients_;  // by user
};

// From a REPORT line in a log tail: nullopt if there is no REPORT line; otherwise whether
// it has an Init Duration (a cold start) and that duration.
struct ReportFacts {
  bool cold = false;
  std::optional<double> init_ms;
};
std::optional<ReportFacts> report_facts(const std::string& log_tail);

}  // namespace coldlab::driver
