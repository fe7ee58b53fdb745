package coldlab.kdd;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/**
 * kdd-java's contract answered by a Weka model (Handler coldlab.kdd.WekaHandler::handleRequest):
 * the features are standardised with the trainer's mean and std (model.zip), Weka's Logistic
 * gives P(anomaly), and the trainer's threshold makes the label.
 */
public final class WekaHandler implements RequestHandler<Object, Map<String, Object>> {
  private final Model standardisation;
  private final WekaModel weka;

  /** Runs once per cold start: both loads, and Weka's classes, are Init's work. */
  public WekaHandler() {
    standardisation = Model.load(Model.artifactPath());
    weka = WekaModel.load(WekaModel.path());
  }

  // Any JSON value rather than a Map, so that an array or a number gets the contract's
  // InvalidEvent (as in kdd-java).
  @Override
  public Map<String, Object> handleRequest(Object input, Context context) {
    return Event.of(input).answer(row -> weka.probability(standardisation.standardised(row)), standardisation);
  }
}
