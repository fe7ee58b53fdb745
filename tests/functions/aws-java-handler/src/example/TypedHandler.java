package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

/**
 * A generic base, as frameworks write them: the event type is only known from the subclass
 * (SummaryHandler extends TypedHandler<Order>), two levels away from RequestHandler.
 */
public abstract class TypedHandler<T> implements RequestHandler<T, String> {
  @Override
  public String handleRequest(T event, Context context) {
    return summarise(event);
  }

  protected abstract String summarise(T event);
}
