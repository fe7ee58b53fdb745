package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Handler example.EchoStreamHandler: the event's bytes back, untouched by any JSON reader. */
public class EchoStreamHandler implements RequestStreamHandler {
  @Override
  public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
    byte[] event = input.readAllBytes();
    LambdaRuntime.getLogger().log(("echo: " + event.length + " bytes\n").getBytes(StandardCharsets.UTF_8));
    output.write(event);
  }
}
