package coldlab.runtime;

/**
 * What a handler learns about its invocation and function. The names mirror
 * aws-lambda-java-core's com.amazonaws.services.lambda.runtime.Context, so a handler ports
 * between coldlab and AWS by changing imports only.
 */
public interface Context {
  String getAwsRequestId();

  String getFunctionName();

  String getFunctionVersion();

  /** The ARN the caller used, which may carry a version or alias qualifier. */
  String getInvokedFunctionArn();

  int getMemoryLimitInMB();

  /** Milliseconds until the function times out, by this machine's clock; never negative. */
  int getRemainingTimeInMillis();

  String getLogGroupName();

  String getLogStreamName();
}
