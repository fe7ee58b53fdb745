// The load driver's client: Lambda's public Invoke API over HTTP, one keep-alive
// connection per closed-loop user (open-loop requests get one each), RequestResponse with
// `X-Amz-Log-Type: Tail` so that a cold start can be told from the answer alone (its REPORT
// line has an Init Duration), as on Lambda. Adds the network model's delay around each
// request. Requests to AWS itself are signed (SigV4) when a Signer is given; coldlab and
// other emulators accept unsigned ones.
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
#include "driver/sigv4.h"

namespace coldlab::driver {

// Signs requests to an AWS Lambda endpoint.
struct Signer {
  AwsCredentials credentials;
  std::string region;
  std::string host;  // as the Host header carries it
  // Headers that sign `method path` with `payload`, for the Lambda service.
  httplib::Headers headers(const std::string& method, const std::string& path, const std::string& payload) const;
  // For an AWS endpoint: a Signer from the environment's credentials. nullopt for any
  // other endpoint. Throws std::runtime_error for an AWS endpoint without credentials.
  static std::optional<Signer> for_endpoint(const std::string& endpoint);
};

// The request path of a Lambda operation on `function`: signed requests carry it
// percent-encoded (an ARN's colons), as the SDKs send it.
std::string function_path(const std::string& function, const std::string& tail, bool encoded);

class HttpSender : public Sender {
 public:
  // `endpoint`: http://host:port. `timeout_s`: how long one request may take (functions
  // run up to 900 s on Lambda).
  HttpSender(std::string endpoint, NetworkDelay& network, std::optional<Signer> signer = std::nullopt,
             int timeout_s = 960);
  Answer send(int user, const std::string& function, const std::string& payload) override;
  // Closes every connection (the emulator can then stop without waiting for idle ones).
  void close_all();

 private:
  std::unique_ptr<httplib::Client> connect() const;

  const std::string endpoint_;
  NetworkDelay& network_;
  const std::optional<Signer> signer_;
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
