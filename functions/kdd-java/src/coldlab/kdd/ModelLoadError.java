package coldlab.kdd;

import coldlab.runtime.ErrorType;

/** The model artifact cannot be used: an init failure, typed like the platform's own. */
final class ModelLoadError extends RuntimeException implements ErrorType {
  private static final long serialVersionUID = 1L;

  ModelLoadError(String path, String problem) {
    super("model artifact " + path + ": " + problem);
  }

  @Override
  public String errorType() {
    return "Runtime.ModelLoadError";
  }
}
