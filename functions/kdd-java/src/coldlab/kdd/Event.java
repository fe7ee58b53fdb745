package coldlab.kdd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * An event checked and reduced to rows of raw features. The messages are part of the
 * function's contract: every runtime's variant says exactly the same thing.
 */
final class Event {
  static final String NOT_AN_OBJECT = "the event must be a JSON object with \"features\" or \"instances\"";
  static final String NOT_ONE_KEY = "the event must have exactly one of \"features\" or \"instances\"";
  static final String BAD_FEATURES =
      "\"features\" must be an array of 3 numbers [duration, src_bytes, dst_bytes]";
  static final String BAD_INSTANCES =
      "\"instances\" must be an array of [duration, src_bytes, dst_bytes] arrays";
  static final String BAD_INSTANCE = " must be an array of 3 numbers [duration, src_bytes, dst_bytes]";
  static final String BAD_VALUES = "feature values must be finite and >= 0";

  /** True for {"instances": ...}, which is answered with a list of predictions. */
  final boolean batch;
  final double[][] rows;

  private Event(boolean batch, double[][] rows) {
    this.batch = batch;
    this.rows = rows;
  }

  /**
   * The event as the runtime read it from JSON (RequestHandler<Object, ...>): a Map, List,
   * String, Number, Boolean or null. The Invoke API lets only JSON through, so there is no
   * "not JSON" case left to handle here.
   */
  static Event of(Object doc) {
    if (!(doc instanceof Map)) throw new InvalidEvent(NOT_AN_OBJECT);
    Map<?, ?> event = (Map<?, ?>) doc;
    boolean single = event.containsKey("features");
    if (single == event.containsKey("instances")) throw new InvalidEvent(NOT_ONE_KEY);

    if (single) {
      double[] row = row(event.get("features"));
      if (row == null) throw new InvalidEvent(BAD_FEATURES);
      if (!usable(row)) throw new InvalidEvent(BAD_VALUES);
      return new Event(false, new double[][] {row});
    }
    if (!(event.get("instances") instanceof List)) throw new InvalidEvent(BAD_INSTANCES);
    List<?> instances = (List<?>) event.get("instances");
    double[][] rows = new double[instances.size()][];
    for (int k = 0; k < rows.length; k++) {
      rows[k] = row(instances.get(k));
      if (rows[k] == null) throw new InvalidEvent("instance " + k + BAD_INSTANCE);
      if (!usable(rows[k])) throw new InvalidEvent("instance " + k + ": " + BAD_VALUES);
    }
    return new Event(true, rows);
  }

  /**
   * The contract's answer: {"probability", "label"} for one row, {"predictions": [...]} for a
   * batch. `probability` gives P(anomaly) for a row of raw features; `model` says the label.
   */
  Map<String, Object> answer(ToDoubleFunction<double[]> probability, Model model) {
    if (!batch) return prediction(probability.applyAsDouble(rows[0]), model);
    List<Object> predictions = new ArrayList<>(rows.length);
    for (double[] row : rows) predictions.add(prediction(probability.applyAsDouble(row), model));
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("predictions", predictions);
    return answer;
  }

  private static Map<String, Object> prediction(double p, Model model) {
    Map<String, Object> prediction = new LinkedHashMap<>();
    prediction.put("probability", p);
    prediction.put("label", model.label(p));
    return prediction;
  }

  // Three JSON numbers, or null. The runtime gives numbers as Integer, Long, BigInteger or
  // Double; true/false are Booleans, which are not Numbers, so they are refused as the
  // contract requires.
  private static double[] row(Object value) {
    if (!(value instanceof List)) return null;
    List<?> list = (List<?>) value;
    if (list.size() != 3) return null;
    double[] row = new double[3];
    for (int i = 0; i < 3; i++) {
      if (!(list.get(i) instanceof Number)) return null;
      row[i] = ((Number) list.get(i)).doubleValue();
    }
    return row;
  }

  private static boolean usable(double[] row) {
    for (double x : row) {
      if (!(x >= 0) || Double.isInfinite(x)) return false;  // !(x >= 0) also catches NaN
    }
    return true;
  }
}
