package example;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Handler example.MapHandler::describe: a Map in, named by a method rather than the
 * interface. Answers the Java type each member arrived as, and what the Context says.
 */
public class MapHandler {
  public Map<String, Object> describe(Map<String, Object> event, Context context) {
    context.getLogger().log("describe: " + event.size() + " members\n");
    Map<String, Object> types = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : event.entrySet()) types.put(e.getKey(), kind(e.getValue()));

    Map<String, Object> ctx = new LinkedHashMap<>();
    ctx.put("awsRequestId", context.getAwsRequestId());
    ctx.put("functionName", context.getFunctionName());
    ctx.put("functionVersion", context.getFunctionVersion());
    ctx.put("invokedFunctionArn", context.getInvokedFunctionArn());
    ctx.put("memoryLimitInMB", context.getMemoryLimitInMB());
    ctx.put("remainingTimeInMillis", context.getRemainingTimeInMillis());
    ctx.put("logGroupName", context.getLogGroupName());
    ctx.put("logStreamName", context.getLogStreamName());
    ctx.put("hasIdentity", context.getIdentity() != null);
    ClientContext cc = context.getClientContext();
    if (cc != null) {
      ctx.put("clientCustom", cc.getCustom());
      ctx.put("clientEnvironment", cc.getEnvironment());
      ctx.put("clientAppTitle", cc.getClient() == null ? null : cc.getClient().getAppTitle());
    }

    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("types", types);
    answer.put("context", ctx);
    return answer;
  }

  private static String kind(Object v) {
    if (v == null) return "null";
    if (v instanceof Map) return "Map";
    if (v instanceof List) return "List";
    return v.getClass().getSimpleName();
  }
}
