package coldlab.kdd;

import java.io.File;
import weka.classifiers.Classifier;
import weka.core.Instance;
import weka.core.Instances;
import weka.core.SerializationHelper;

/**
 * Weka's logistic regression, as the build serialised it (WekaTrain): the classifier and the
 * header of the data it was trained on, which every instance to classify must point at.
 */
final class WekaModel {
  /** The serialised model's name in the code folder. */
  static final String FILE = "kdd-weka.model";

  /** The attributes Logistic is trained on (standardised features), class last. */
  static final String ARFF_HEADER = "@relation kdd-standardised\n"
      + "@attribute duration numeric\n"
      + "@attribute src_bytes numeric\n"
      + "@attribute dst_bytes numeric\n"
      + "@attribute label {0,1}\n"
      + "@data\n";

  private final Classifier classifier;
  private final Instances header;

  WekaModel(Classifier classifier, Instances header) {
    this.classifier = classifier;
    this.header = header;
  }

  /** <code folder>/kdd-weka.model. */
  static String path() {
    String root = System.getenv("LAMBDA_TASK_ROOT");
    if (root == null || root.isEmpty()) root = ".";
    return new File(root, FILE).getPath();
  }

  /** Deserialises the model: the cold-start work Weka adds, as TensorFlow's load did in the study. */
  static WekaModel load(String path) {
    if (!new File(path).isFile()) throw new ModelLoadError(path, "no such file");
    Object[] objects;
    try {
      objects = SerializationHelper.readAll(path);
    } catch (Exception e) {  // Weka declares Exception: I/O, a class it cannot find, a bad stream
      throw new ModelLoadError(path, "cannot deserialise: " + e);
    }
    if (objects.length != 2 || !(objects[0] instanceof Classifier) || !(objects[1] instanceof Instances)) {
      throw new ModelLoadError(path, "expected a Weka classifier and its header");
    }
    return new WekaModel((Classifier) objects[0], (Instances) objects[1]);
  }

  /** P(class "1") for standardised features z. */
  double probability(double[] z) {
    Instance instance = new Instance(1.0, new double[] {z[0], z[1], z[2], Instance.missingValue()});
    instance.setDataset(header);
    try {
      return classifier.distributionForInstance(instance)[1];
    } catch (Exception e) {  // Logistic throws only for an instance that does not fit the header
      throw new IllegalStateException("Weka could not classify " + instance + ": " + e, e);
    }
  }
}
