package coldlab.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * coldlab's Java runtime client: a small stand-in for AWS's aws-lambda-java-runtime-
 * interface-client. Started as
 *   java -cp coldlab-runtime.jar:$LAMBDA_TASK_ROOT:...:<runtime dir>/lib/* coldlab.runtime.Main
 * with the environment Lambda gives a runtime (AWS_LAMBDA_RUNTIME_API, _HANDLER, ...), it
 * loads the handler once, then serves the Runtime API 2018-06-01 until told to stop.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    String address = System.getenv("AWS_LAMBDA_RUNTIME_API");
    if (address == null) die("AWS_LAMBDA_RUNTIME_API is not set");
    RuntimeApi api = new RuntimeApi(address);
    try {
      serve(api, init(api));
    } catch (IOException e) {
      die("Runtime API unreachable: " + e);
    }
  }

  private static Invoker init(RuntimeApi api) throws IOException {
    try {
      return Invoker.load(System.getenv("_HANDLER"), Main.class.getClassLoader());
    } catch (Throwable t) {
      ErrorReport error = new ErrorReport(t);
      error.log();
      api.initError(error.type, error.body());
      System.exit(1);  // the platform serves the error to the invocation waiting on us
      return null;
    }
  }

  private static void serve(RuntimeApi api, Invoker invoker) throws IOException {
    for (;;) {
      RuntimeApi.Response next = api.next();
      if (next.status != 200) {
        // 403/500 mean the environment is going away; Lambda expects a prompt exit.
        die("GET /next answered " + next.status + ": " + new String(next.body, StandardCharsets.UTF_8));
      }
      String requestId = next.header("lambda-runtime-aws-request-id");
      // AWS's Java runtime hands the X-Ray header to the X-Ray SDK this way.
      String traceId = next.header("lambda-runtime-trace-id");
      if (traceId != null) {
        System.setProperty("com.amazonaws.xray.traceHeader", traceId);
      } else {
        System.clearProperty("com.amazonaws.xray.traceHeader");
      }
      Context context = new LambdaContext(requestId, next.header("lambda-runtime-invoked-function-arn"),
          parseLong(next.header("lambda-runtime-deadline-ms")), next.header("lambda-runtime-cognito-identity"),
          next.header("lambda-runtime-client-context"));

      byte[] payload = null;
      ErrorReport error = null;
      try {
        payload = invoker.invoke(next.body, context);
      } catch (Throwable t) {  // anything the function throws fails this invocation only
        error = new ErrorReport(t);
        error.log();
      }
      // What the function printed belongs to this invocation's log, before its END line.
      System.out.flush();
      System.err.flush();
      RuntimeApi.Response answer = error == null
          ? api.respond(requestId, payload)
          : api.error(requestId, error.type, error.body());
      // A refusal (e.g. 413, response too large) fails this invocation only; the platform
      // tells the caller, and the environment serves the next one.
      if (answer.status / 100 != 2) {
        System.err.println("coldlab.runtime: POST /" + (error == null ? "response" : "error")
            + " answered " + answer.status);
      }
    }
  }

  private static long parseLong(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static void die(String why) {
    System.err.println("coldlab.runtime: " + why);
    System.exit(1);
  }
}
