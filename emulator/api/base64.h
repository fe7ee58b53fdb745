// Base64 (RFC 4648, with padding) for X-Amz-Log-Result and X-Amz-Client-Context.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace coldlab::api {

std::string base64_encode(std::string_view data);
// nullopt if `text` is not valid padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace coldlab::api
