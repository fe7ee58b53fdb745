package coldlab.kdd;

import coldlab.runtime.ErrorType;

/** A bad event: a handled function error of type "InvalidEvent", as in the Python and native twins. */
final class InvalidEvent extends RuntimeException implements ErrorType {
  private static final long serialVersionUID = 1L;

  InvalidEvent(String message) {
    super(message);
  }

  @Override
  public String errorType() {
    return "InvalidEvent";
  }
}
