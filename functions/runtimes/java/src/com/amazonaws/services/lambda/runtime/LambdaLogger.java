package com.amazonaws.services.lambda.runtime;

import com.amazonaws.services.lambda.runtime.logging.LogLevel;

/** Writes to the function's log, which coldlab records as the invocation's. */
public interface LambdaLogger {
  void log(String message);

  void log(byte[] message);

  // The level forms came with aws-lambda-java-core 1.2.3's advanced logging controls; with
  // the plain text log format a level is not written, so they log the message as is.
  default void log(String message, LogLevel logLevel) {
    log(message);
  }

  default void log(byte[] message, LogLevel logLevel) {
    log(message);
  }
}
