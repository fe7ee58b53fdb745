package coldlab.kdd;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/**
 * The study's KDD99 anomaly detector (Handler coldlab.kdd.Handler::handleRequest).
 * {"features": [duration, src_bytes, dst_bytes]} -> {"probability": p, "label": 0|1};
 * {"instances": [[...], ...]} -> {"predictions": [{...}, ...]}.
 */
public final class Handler implements RequestHandler<Object, Map<String, Object>> {
  private final Model model;

  /** Runs once per cold start: the runtime instantiates the handler before its first /next. */
  public Handler() {
    model = Model.load(Model.artifactPath());
  }

  // The event as any JSON value rather than a Map, so that an array or a number gets the
  // contract's InvalidEvent, not the runtime's JSON parsing error.
  @Override
  public Map<String, Object> handleRequest(Object input, Context context) {
    return Event.of(input).answer(model::probability, model);
  }
}
