package com.amazonaws.services.lambda.runtime;

/**
 * What a handler learns about its invocation, its function and its environment: the
 * interface of aws-lambda-java-core, under its own name, so a handler compiled against AWS's
 * jar runs here unchanged. coldlab's runtime jar provides it, as Lambda's class path does.
 */
public interface Context {
  /** The invocation's id, the X-Amzn-RequestId its caller received. */
  String getAwsRequestId();

  String getLogGroupName();

  String getLogStreamName();

  String getFunctionName();

  String getFunctionVersion();

  /** The ARN the caller used, which may carry a version or alias qualifier. */
  String getInvokedFunctionArn();

  /** The caller's Amazon Cognito identity, or null when it sent none. */
  CognitoIdentity getIdentity();

  /** The mobile client's context (X-Amz-Client-Context), or null when it sent none. */
  ClientContext getClientContext();

  /** Milliseconds until the function times out, by this machine's clock; never negative. */
  int getRemainingTimeInMillis();

  int getMemoryLimitInMB();

  LambdaLogger getLogger();
}
