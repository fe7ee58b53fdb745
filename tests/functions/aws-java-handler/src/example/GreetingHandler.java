package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

/** Handler example.GreetingHandler: the event must be a JSON string; a null one gets null back. */
public class GreetingHandler implements RequestHandler<String, String> {
  @Override
  public String handleRequest(String name, Context context) {
    return name == null ? null : "Hello, " + name;
  }
}
