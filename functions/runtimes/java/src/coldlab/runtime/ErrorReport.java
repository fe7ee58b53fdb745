package coldlab.runtime;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A Throwable as the Runtime API's error body: {"errorMessage", "errorType", "stackTrace"}. */
final class ErrorReport {
  final String type;
  final String message;
  final List<Object> stackTrace;
  private final Throwable cause;

  ErrorReport(Throwable t) {
    cause = t.getCause();
    type = t instanceof ErrorType ? ((ErrorType) t).errorType() : t.getClass().getName();
    // AWS's runtime says the class's name when there is no message, so errorMessage is never null.
    message = t.getLocalizedMessage() != null ? t.getLocalizedMessage() : t.getClass().getName();
    stackTrace = userFrames(t.getStackTrace());
  }

  byte[] body() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("errorMessage", message);
    body.put("errorType", type);
    body.put("stackTrace", stackTrace);
    return Json.write(body).getBytes(StandardCharsets.UTF_8);
  }

  /** Writes the error to stderr as Lambda logs an unhandled one, so the function's log says why. */
  void log() {
    StringBuilder sb = new StringBuilder("[ERROR] ").append(type).append(": ").append(message);
    for (Object frame : stackTrace) sb.append("\n\tat ").append(frame);
    // The body keeps AWS's shape, without the cause; the log is where a user learns, say,
    // which member of the event did not fit its type.
    if (cause != null) sb.append("\nCaused by: ").append(cause);
    System.err.println(sb);
  }

  // The user wants their own frames, not the runtime's or reflection's beneath them, so
  // those are cut from the bottom only: a frame of Json above the user's stays.
  private static List<Object> userFrames(StackTraceElement[] frames) {
    int end = frames.length;
    while (end > 0 && isPlumbing(frames[end - 1].getClassName())) end--;
    List<Object> lines = new ArrayList<>(end);
    for (int i = 0; i < end; i++) lines.add(frames[i].toString());
    return lines;
  }

  private static boolean isPlumbing(String cls) {
    return cls.startsWith("coldlab.runtime.") || cls.startsWith("java.lang.reflect.")
        || cls.startsWith("jdk.internal.reflect.") || cls.equals("java.lang.Class");
  }
}
