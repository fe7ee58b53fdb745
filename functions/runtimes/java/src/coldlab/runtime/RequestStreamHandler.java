package coldlab.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A handler that reads the event's bytes and writes the response's, as in aws-lambda-java-core.
 * The runtime calls it directly, without reflection, when _HANDLER names its handleRequest.
 */
public interface RequestStreamHandler {
  void handleRequest(InputStream input, OutputStream output, Context context) throws IOException;
}
