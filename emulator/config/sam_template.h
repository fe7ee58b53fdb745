// Reads the functions of an AWS SAM / CloudFormation template (template.yaml).
//
// Understood: resources of type AWS::Serverless::Function (with the `Globals: Function:`
// section merged in) and AWS::Lambda::Function; properties FunctionName, CodeUri (Code for
// AWS::Lambda::Function, as a local path), Handler, Runtime, MemorySize, Timeout,
// Environment.Variables, Description. Other resource types and unknown properties are
// skipped with a warning. Invalid values are refused: the error names the file, the
// resource and the property.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/function_config.h"

namespace coldlab::config {

class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedTemplate {
  std::vector<FunctionConfig> functions;  // in the template's order
  std::vector<std::string> warnings;      // one line each, naming file and resource
};

// Throws TemplateError on unreadable files, YAML errors, invalid values, unknown runtimes,
// a missing code folder (or, for provided runtimes, a missing or non-executable bootstrap),
// duplicate function names, or a template with no functions.
LoadedTemplate load_sam_template(const std::filesystem::path& file);

}  // namespace coldlab::config
