package com.amazonaws.services.lambda.runtime.logging;

import java.util.Locale;

/** A log message's level; UNDEFINED is what the level-less log(String) means. */
public enum LogLevel {
  UNDEFINED,
  TRACE,
  DEBUG,
  INFO,
  WARN,
  ERROR,
  FATAL;

  public static LogLevel fromString(String logLevel) {
    try {
      return LogLevel.valueOf(logLevel.toUpperCase(Locale.ROOT));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "Invalid log level: '" + logLevel + "' expected one of [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]");
    }
  }
}
