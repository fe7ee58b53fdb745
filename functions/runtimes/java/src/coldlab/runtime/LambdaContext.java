package coldlab.runtime;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import java.util.LinkedHashMap;
import java.util.Map;

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

  // Both are read only when asked for: few handlers do.
  @Override
  public CognitoIdentity getIdentity() {
    if (cognitoJson == null || cognitoJson.isEmpty()) return null;
    Map<?, ?> m = asMap(cognitoJson);
    final String id = string(m, "cognitoIdentityId");
    final String pool = string(m, "cognitoIdentityPoolId");
    return new CognitoIdentity() {
      @Override public String getIdentityId() { return id; }
      @Override public String getIdentityPoolId() { return pool; }
    };
  }

  @Override
  public ClientContext getClientContext() {
    if (clientContextJson == null || clientContextJson.isEmpty()) return null;
    Map<?, ?> m = asMap(clientContextJson);
    final Map<String, String> custom = strings(m.get("custom"));
    final Map<String, String> env = strings(m.get("env"));
    final Map<?, ?> c = m.get("client") instanceof Map ? (Map<?, ?>) m.get("client") : null;
    final Client client = c == null ? null : new Client() {
      @Override public String getInstallationId() { return string(c, "installation_id"); }
      @Override public String getAppTitle() { return string(c, "app_title"); }
      @Override public String getAppVersionName() { return string(c, "app_version_name"); }
      @Override public String getAppVersionCode() { return string(c, "app_version_code"); }
      @Override public String getAppPackageName() { return string(c, "app_package_name"); }
    };
    return new ClientContext() {
      @Override public Client getClient() { return client; }
      @Override public Map<String, String> getCustom() { return custom; }
      @Override public Map<String, String> getEnvironment() { return env; }
    };
  }

  // The platform checked that both headers are JSON; anything else reads as empty.
  private static Map<?, ?> asMap(String json) {
    try {
      Object v = Json.parse(json);
      return v instanceof Map ? (Map<?, ?>) v : Map.of();
    } catch (IllegalArgumentException notJson) {
      return Map.of();
    }
  }

  private static String string(Map<?, ?> m, String key) {
    Object v = m.get(key);
    return v == null ? null : v.toString();
  }

  private static Map<String, String> strings(Object value) {
    if (!(value instanceof Map)) return null;
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
      out.put(String.valueOf(e.getKey()), e.getValue() == null ? null : e.getValue().toString());
    }
    return out;
  }

  static int parseInt(String s, int fallback) {
    try {
      return s == null ? fallback : Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
