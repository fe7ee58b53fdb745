package coldlab.runtime;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a mobile caller sent, from the Lambda-Runtime-Cognito-Identity and
 * Lambda-Runtime-Client-Context headers (JSON), with the member names AWS's runtime reads.
 */
final class MobileContext {
  private MobileContext() {}

  /** The identity, or null when the caller sent none. */
  static CognitoIdentity identity(String json) {
    if (json == null || json.isEmpty()) return null;
    Map<?, ?> m = asMap(json);
    final String id = string(m, "cognitoIdentityId");
    final String pool = string(m, "cognitoIdentityPoolId");
    return new CognitoIdentity() {
      @Override public String getIdentityId() { return id; }
      @Override public String getIdentityPoolId() { return pool; }
    };
  }

  /** The client context, or null when the caller sent none. */
  static ClientContext clientContext(String json) {
    if (json == null || json.isEmpty()) return null;
    Map<?, ?> m = asMap(json);
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
}
