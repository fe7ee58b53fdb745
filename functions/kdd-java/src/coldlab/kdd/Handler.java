package coldlab.kdd;

import coldlab.runtime.Context;
import coldlab.runtime.Json;
import coldlab.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The study's KDD99 anomaly detector (Handler coldlab.kdd.Handler::handleRequest).
 * {"features": [duration, src_bytes, dst_bytes]} -> {"probability": p, "label": 0|1};
 * {"instances": [[...], ...]} -> {"predictions": [{...}, ...]}.
 */
public final class Handler implements RequestStreamHandler {
  private final Model model;

  /** Runs once per cold start: the runtime instantiates the handler before its first /next. */
  public Handler() {
    model = Model.load(Model.artifactPath());
  }

  @Override
  public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
    Event event = Event.parse(new String(input.readAllBytes(), StandardCharsets.UTF_8));
    Object answer;
    if (event.batch) {
      List<Object> predictions = new ArrayList<>(event.rows.length);
      for (double[] row : event.rows) predictions.add(predict(row));
      Map<String, Object> batch = new LinkedHashMap<>();
      batch.put("predictions", predictions);
      answer = batch;
    } else {
      answer = predict(event.rows[0]);
    }
    output.write(Json.write(answer).getBytes(StandardCharsets.UTF_8));
  }

  private Map<String, Object> predict(double[] row) {
    double p = model.probability(row);
    Map<String, Object> prediction = new LinkedHashMap<>();
    prediction.put("probability", p);
    prediction.put("label", model.label(p));
    return prediction;
  }
}
