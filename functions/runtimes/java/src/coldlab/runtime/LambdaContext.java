package coldlab.runtime;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;

/** The Context of one invocation: the /next headers, plus what the environment says once. */
final class LambdaContext implements Context {
  // Fixed for the life of the process, so read once rather than per invocation.
  private static final String FUNCTION_NAME = System.getenv("AWS_LAMBDA_FUNCTION_NAME");
  private static final String FUNCTION_VERSION = System.getenv("AWS_LAMBDA_FUNCTION_VERSION");
  private static final String LOG_GROUP = System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
  private static final String LOG_STREAM = System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
  private static final int MEMORY_MB = parseInt(System.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 128);

  private final String requestId;
  private final String functionArn;
  private final long deadlineMs;
  private final String cognitoJson;        // Lambda-Runtime-Cognito-Identity, or null
  private final String clientContextJson;  // Lambda-Runtime-Client-Context, or null

  LambdaContext(String requestId, String functionArn, long deadlineMs, String cognitoJson,
      String clientContextJson) {
    this.requestId = requestId;
    this.functionArn = functionArn;
    this.deadlineMs = deadlineMs;
    this.cognitoJson = cognitoJson;
    this.clientContextJson = clientContextJson;
  }

  @Override public String getAwsRequestId() { return requestId; }
  @Override public String getFunctionName() { return FUNCTION_NAME; }
  @Override public String getFunctionVersion() { return FUNCTION_VERSION; }
  @Override public String getInvokedFunctionArn() { return functionArn; }
  @Override public int getMemoryLimitInMB() { return MEMORY_MB; }
  @Override public String getLogGroupName() { return LOG_GROUP; }
  @Override public String getLogStreamName() { return LOG_STREAM; }

  // With the text log format, AWS's context logger writes the message as given to the
  // function's log, as the global one does.
  @Override public LambdaLogger getLogger() { return LambdaRuntime.getLogger(); }

  @Override
  public int getRemainingTimeInMillis() {
    long left = deadlineMs - System.currentTimeMillis();
    return (int) Math.max(0, Math.min(left, Integer.MAX_VALUE));
  }

  // Both are read only when asked for, by another class: few handlers ask, and the interfaces
  // and classes behind them would otherwise be loaded with this one in every cold start.
  @Override
  public CognitoIdentity getIdentity() {
    return MobileContext.identity(cognitoJson);
  }

  @Override
  public ClientContext getClientContext() {
    return MobileContext.clientContext(clientContextJson);
  }

  static int parseInt(String s, int fallback) {
    try {
      return s == null ? fallback : Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
