package com.amazonaws.services.lambda.runtime;

import java.util.Map;

/** What a mobile caller said about itself in X-Amz-Client-Context. */
public interface ClientContext {
  Client getClient();

  /** The caller's own values; mutable, and not safe to change from two threads. */
  Map<String, String> getCustom();

  Map<String, String> getEnvironment();
}
