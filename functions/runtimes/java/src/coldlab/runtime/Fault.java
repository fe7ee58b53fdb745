package coldlab.runtime;

/** A failure the runtime itself diagnoses (bad _HANDLER, no such method), with a Runtime.* type. */
final class Fault extends Exception implements ErrorType {
  private static final long serialVersionUID = 1L;

  private final String type;

  Fault(String type, String message) {
    super(message, null, false, false);  // no stack: the frames would all be the runtime's
    this.type = type;
  }

  @Override
  public String errorType() {
    return type;
  }
}
