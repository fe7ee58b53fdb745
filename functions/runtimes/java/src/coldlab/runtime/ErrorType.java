package coldlab.runtime;

/**
 * Implemented by an exception that chooses the errorType the caller sees. Without it the
 * type is the exception's class name, as on AWS (e.g. "java.lang.IllegalStateException");
 * with it a function can report the same short type as its Python or native twin, or a
 * platform-style one such as "Runtime.ModelLoadError" for an init failure.
 */
public interface ErrorType {
  String errorType();
}
