package coldlab.kdd;

import coldlab.runtime.Json;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/** The trained logistic regression, read from the model artifact (a zip holding model.json). */
final class Model {
  static final String FORMAT = "coldlab-kdd-logreg/1";
  static final List<String> FEATURES = List.of("duration", "src_bytes", "dst_bytes");
  static final String TRANSFORM = "log(x + 0.1)";

  private final double[] mean;
  private final double[] std;
  private final double[] weights;
  private final double bias;
  private final double threshold;

  private Model(double[] mean, double[] std, double[] weights, double bias, double threshold) {
    this.mean = mean;
    this.std = std;
    this.weights = weights;
    this.bias = bias;
    this.threshold = threshold;
  }

  /** $MODEL_ARTIFACT (absolute, or relative to the code folder) or else <code folder>/model.zip. */
  static String artifactPath() {
    String root = System.getenv("LAMBDA_TASK_ROOT");
    if (root == null || root.isEmpty()) root = ".";
    String artifact = System.getenv("MODEL_ARTIFACT");
    if (artifact == null || artifact.isEmpty()) return new File(root, "model.zip").getPath();
    File f = new File(artifact);
    return (f.isAbsolute() ? f : new File(root, artifact)).getPath();
  }

  /** Unzips and checks the artifact, accepting what kdd-native accepts: the function's cold-start work. */
  static Model load(String path) {
    if (!new File(path).isFile()) throw new ModelLoadError(path, "no such file");
    ZipFile zip;
    try {
      zip = new ZipFile(path);
    } catch (ZipException e) {
      throw new ModelLoadError(path, "not a zip archive");
    } catch (IOException e) {
      throw new ModelLoadError(path, "cannot open: " + e.getMessage());
    }
    String text;
    try (zip) {
      ZipEntry entry = zip.getEntry("model.json");
      if (entry == null) throw new ModelLoadError(path, "the archive has no model.json entry");
      try (InputStream in = zip.getInputStream(entry)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {  // a damaged entry: bad CRC, truncated data
      throw new ModelLoadError(path, "cannot read model.json: " + e.getMessage());
    }

    Object doc;
    try {
      doc = Json.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadError(path, "model.json is not valid JSON: " + e.getMessage());
    }
    if (!(doc instanceof Map)) throw invalid(path, "must be a JSON object");
    Map<?, ?> m = (Map<?, ?>) doc;
    expect(path, m, "format", FORMAT);
    expect(path, m, "features", FEATURES);
    expect(path, m, "transform", TRANSFORM);
    double[] mean = vector(path, m, "mean");
    double[] std = vector(path, m, "std");
    for (int i = 0; i < 3; i++) {
      if (!(std[i] > 0)) throw invalid(path, "\"std\"[" + i + "] must be > 0 (it divides)");
    }
    double[] weights = vector(path, m, "weights");
    if (!finite(m.get("bias"))) throw invalid(path, "\"bias\" must be a finite number");
    if (!finite(m.get("threshold"))) throw invalid(path, "\"threshold\" must be a finite number");
    double bias = ((Number) m.get("bias")).doubleValue();
    double threshold = ((Number) m.get("threshold")).doubleValue();
    if (!(threshold >= 0 && threshold <= 1)) throw invalid(path, "\"threshold\" must be in [0, 1]");
    return new Model(mean, std, weights, bias, threshold);
  }

  /** P(anomaly) for one row of raw features, in the contract's order of operations. */
  double probability(double[] x) {
    // Math, not StrictMath: HotSpot's log and exp differ from glibc's (which the C++ and
    // Python variants use) in the last bit on ~0.01% and ~0.3% of inputs; fdlibm's, which
    // StrictMath uses, on ~3% and ~10%.
    double z0 = (Math.log(x[0] + 0.1) - mean[0]) / std[0];
    double z1 = (Math.log(x[1] + 0.1) - mean[1]) / std[1];
    double z2 = (Math.log(x[2] + 0.1) - mean[2]) / std[2];
    double s = bias;
    s += weights[0] * z0;
    s += weights[1] * z1;
    s += weights[2] * z2;
    // Either form of the sigmoid, whichever cannot overflow for this sign of s.
    return s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
  }

  /**
   * The contract's features z for another learner (kdd-java-weka's Weka model), computed as
   * probability() computes them. probability() keeps its own inline copy so that kdd-java's
   * hot path allocates nothing.
   */
  double[] standardised(double[] x) {
    double[] z = new double[3];
    for (int i = 0; i < 3; i++) z[i] = (Math.log(x[i] + 0.1) - mean[i]) / std[i];
    return z;
  }

  int label(double probability) {
    return probability >= threshold ? 1 : 0;
  }

  private static ModelLoadError invalid(String path, String problem) {
    return new ModelLoadError(path, "model.json: " + problem);
  }

  private static void expect(String path, Map<?, ?> m, String key, Object expected) {
    if (!expected.equals(m.get(key))) {
      throw invalid(path, "\"" + key + "\" must be " + Json.write(expected));
    }
  }

  // Messages are built only on failure: the first string concatenation costs a Java 9+
  // program tens of milliseconds of method-handle set-up, which a cold start should not pay.
  private static double[] vector(String path, Map<?, ?> m, String key) {
    Object v = m.get(key);
    if (!(v instanceof List) || ((List<?>) v).size() != 3) {
      throw invalid(path, "\"" + key + "\" must be an array of 3 numbers");
    }
    double[] out = new double[3];
    for (int i = 0; i < 3; i++) {
      Object x = ((List<?>) v).get(i);
      if (!finite(x)) throw invalid(path, "\"" + key + "\"[" + i + "] must be a finite number");
      out[i] = ((Number) x).doubleValue();
    }
    return out;
  }

  // Json gives numbers as Integer, Long, BigInteger or Double; a Boolean is not a Number, so
  // true is refused.
  private static boolean finite(Object v) {
    return v instanceof Number && Double.isFinite(((Number) v).doubleValue());
  }
}
