package coldlab.kdd;

import coldlab.runtime.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;
import weka.classifiers.functions.Logistic;
import weka.core.Instance;
import weka.core.Instances;
import weka.core.SerializationHelper;

/**
 * Build-time tool: fits Weka's Logistic on the trainer's training split (train-split.csv),
 * with the trainer's features, class weights and penalty, prints its test-split confusion
 * matrix and how often it agrees with the trainer, and serialises it for kdd-java-weka.
 *
 * <p>Usage: WekaTrain train-split.csv test-split.csv model.zip out.model
 */
public final class WekaTrain {
  private WekaTrain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: WekaTrain train-split.csv test-split.csv model.zip out.model");
      System.exit(2);
    }
    Model trainer = Model.load(args[2]);
    List<double[]> train = read(args[0], "duration,src_bytes,dst_bytes,label");
    List<double[]> test = read(args[1], "duration,src_bytes,dst_bytes,label,probability,prediction");

    Instances header = new Instances(new StringReader(WekaModel.ARFF_HEADER));
    header.setClassIndex(3);
    // Balanced class weights n / (2 n_class), as the trainer's: the threshold in model.zip was
    // chosen for probabilities shifted that way, so Weka's must be shifted the same way.
    long anomalies = 0;
    for (double[] r : train) anomalies += r[3] == 1 ? 1 : 0;
    double n = train.size();
    double anomalyWeight = n / (2.0 * anomalies);
    double normalWeight = n / (2.0 * (n - anomalies));
    Instances data = new Instances(header, train.size());
    for (double[] r : train) {
      double[] z = trainer.standardised(r);
      // A nominal value is stored as its index: label 0 or 1 is the index of "0" or "1".
      data.add(new Instance(r[3] == 1 ? anomalyWeight : normalWeight, new double[] {z[0], z[1], z[2], r[3]}));
    }
    // The trainer minimises mean weighted loss + l2/2 |w|^2; Weka minimises summed weighted
    // loss + ridge |w|^2 (on attributes it standardises again, with weights), so ridge =
    // l2/2 * sum of weights (= n with balanced weights) is the nearest equivalent.
    Map<?, ?> artifact = modelJson(args[2]);
    double l2 = number((Map<?, ?>) artifact.get("training"), "l2");
    Logistic logistic = new Logistic();
    logistic.setRidge(l2 / 2 * n);
    long start = System.nanoTime();
    logistic.buildClassifier(data);
    System.out.printf("Weka %s Logistic on %d training records (%d anomalies), ridge %.6g: %.1f s%n",
        weka.core.Version.VERSION, train.size(), anomalies, logistic.getRidge(),
        (System.nanoTime() - start) / 1e9);
    System.out.print(logistic);

    WekaModel model = new WekaModel(logistic, header);
    long tp = 0, fp = 0, tn = 0, fn = 0, agree = 0;
    double worst = 0;
    for (double[] r : test) {
      double p = model.probability(trainer.standardised(r));
      int label = trainer.label(p);
      if (r[3] == 1) {
        if (label == 1) tp++; else fn++;
      } else {
        if (label == 1) fp++; else tn++;
      }
      if (label == r[5]) agree++;
      worst = Math.max(worst, Math.abs(p - r[4]));
    }
    System.out.printf("Test split (%d records), with the trainer's threshold %.6g:%n", test.size(),
        number(artifact, "threshold"));
    System.out.printf("  tp %d  fp %d  tn %d  fn %d   precision %.4f  recall %.4f  F1 %.4f%n", tp, fp, tn,
        fn, tp / (double) (tp + fp), tp / (double) (tp + fn), 2.0 * tp / (2.0 * tp + fp + fn));
    System.out.printf("  labels equal to the trainer's: %d of %d (%.4f%%); largest probability difference %.3g%n",
        agree, test.size(), 100.0 * agree / test.size(), worst);

    SerializationHelper.writeAll(args[3], new Object[] {logistic, header});
    System.out.println("Wrote " + args[3]);
  }

  private static List<double[]> read(String path, String header) throws IOException {
    List<double[]> rows = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(Paths.get(path), StandardCharsets.UTF_8)) {
      String line = in.readLine();
      if (!header.equals(line)) throw new IOException(path + ": expected the header " + header);
      while ((line = in.readLine()) != null) {
        String[] fields = line.split(",");
        double[] row = new double[fields.length];
        for (int i = 0; i < fields.length; i++) row[i] = Double.parseDouble(fields[i]);
        rows.add(row);
      }
    }
    return rows;
  }

  // model.json's facts that Model does not keep (it checks the artifact; Model.load already did).
  private static Map<?, ?> modelJson(String modelZip) throws IOException {
    try (ZipFile zip = new ZipFile(modelZip); InputStream in = zip.getInputStream(zip.getEntry("model.json"))) {
      return (Map<?, ?>) Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static double number(Map<?, ?> object, String key) {
    return ((Number) object.get(key)).doubleValue();
  }
}
