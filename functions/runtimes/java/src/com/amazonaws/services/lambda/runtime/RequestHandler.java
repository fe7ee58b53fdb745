package com.amazonaws.services.lambda.runtime;

/**
 * A handler of plain Java objects: the runtime reads the event's JSON into I and writes the
 * returned O as the response's JSON (null as {@code null}).
 *
 * @param <I> the event's type
 * @param <O> the response's type
 */
public interface RequestHandler<I, O> {
  O handleRequest(I input, Context context);
}
