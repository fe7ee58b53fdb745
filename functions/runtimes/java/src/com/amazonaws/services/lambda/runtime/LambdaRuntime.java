package com.amazonaws.services.lambda.runtime;

import java.io.IOException;

/** The logger for code that has no Context at hand, such as a static initialiser. */
public final class LambdaRuntime {
  private LambdaRuntime() {}

  private static final LambdaLogger LOGGER = new LambdaLogger() {
    @Override
    public void log(String message) {
      System.out.print(message);
    }

    @Override
    public void log(byte[] message) {
      try {
        System.out.write(message);
      } catch (IOException e) {
        // PrintStream.write(byte[]) only declares it; PrintStream itself never throws.
      }
    }
  };

  public static LambdaLogger getLogger() {
    return LOGGER;
  }
}
