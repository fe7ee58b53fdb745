package coldlab.runtime;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 to the Runtime API over one kept-alive socket. Hand-written rather than
 * HttpURLConnection because the JVM's cold start is what coldlab measures: the URL
 * machinery loads a few hundred classes (proxies, cookies, auth, keep-alive cache) that a
 * socket and forty lines of parsing do without. The server is the platform's, so only what
 * it sends needs reading: Content-Length or chunked bodies.
 */
final class RuntimeApi {
  static final class Response {
    final int status;
    final Map<String, String> headers;  // names in lower case
    final byte[] body;

    Response(int status, Map<String, String> headers, byte[] body) {
      this.status = status;
      this.headers = headers;
      this.body = body;
    }

    String header(String lowerCaseName) {
      return headers.get(lowerCaseName);
    }
  }

  private static final String PREFIX = "/2018-06-01/runtime";

  private final String host;
  private final int port;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  /** address is host:port, as in AWS_LAMBDA_RUNTIME_API. */
  RuntimeApi(String address) {
    int colon = address.lastIndexOf(':');
    if (colon < 0) throw new IllegalArgumentException("AWS_LAMBDA_RUNTIME_API is not host:port: " + address);
    host = address.substring(0, colon);
    port = Integer.parseInt(address.substring(colon + 1));
  }

  Response next() throws IOException {
    return request("GET", "/invocation/next", null, null, null);
  }

  Response respond(String requestId, byte[] payload) throws IOException {
    return request("POST", "/invocation/" + requestId + "/response", payload, "application/json", null);
  }

  Response error(String requestId, String errorType, byte[] body) throws IOException {
    return request("POST", "/invocation/" + requestId + "/error", body,
        "application/vnd.aws.lambda.error+json", errorType);
  }

  Response initError(String errorType, byte[] body) throws IOException {
    return request("POST", "/init/error", body, "application/vnd.aws.lambda.error+json", errorType);
  }

  private Response request(String method, String path, byte[] body, String contentType, String errorType)
      throws IOException {
    // The server may have closed the kept-alive socket while the handler ran; that shows
    // only on use, so retry once on a fresh one.
    for (int attempt = 1; ; attempt++) {
      try {
        if (socket == null) connect();
        send(method, path, body, contentType, errorType);
        return receive();
      } catch (IOException e) {
        close();
        if (attempt == 2) throw e;
      }
    }
  }

  private void connect() throws IOException {
    // Never through a proxy: the API is the platform's own. NO_PROXY also skips the SOCKS
    // and proxy-selector classes a plain Socket loads.
    Socket s = new Socket(Proxy.NO_PROXY);
    s.setTcpNoDelay(true);  // each request is one write; do not hold it back for an ACK
    // No client-side timeouts, as Lambda's runtime clients have none: connect() without a
    // timeout and SO_TIMEOUT left at 0 both wait for ever. GET /next blocks for as long as the
    // environment stays idle, and an overloaded emulator must make a function slow, never
    // fail it with a timeout the platform did not decide.
    s.connect(new InetSocketAddress(host, port));
    socket = s;
    in = new BufferedInputStream(s.getInputStream(), 8192);
    out = s.getOutputStream();
  }

  private void close() {
    if (socket == null) return;
    try {
      socket.close();
    } catch (IOException ignored) {
      // Already broken; a new socket follows.
    }
    socket = null;
  }

  private void send(String method, String path, byte[] body, String contentType, String errorType)
      throws IOException {
    StringBuilder head = new StringBuilder(256);
    head.append(method).append(' ').append(PREFIX).append(path).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(host).append(':').append(port).append("\r\n");
    if (body != null) {
      head.append("Content-Type: ").append(contentType).append("\r\n");
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    if (errorType != null) {
      head.append("Lambda-Runtime-Function-Error-Type: ").append(headerSafe(errorType)).append("\r\n");
    }
    head.append("\r\n");
    byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    int n = h.length + (body == null ? 0 : body.length);
    byte[] request = new byte[n];  // one write, one packet for small requests
    System.arraycopy(h, 0, request, 0, h.length);
    if (body != null) System.arraycopy(body, 0, request, h.length, body.length);
    out.write(request);
    out.flush();
  }

  private Response receive() throws IOException {
    String status = line();
    // "HTTP/1.1 200 OK": the code is the second word.
    int sp = status.indexOf(' ');
    if (!status.startsWith("HTTP/") || sp < 0 || status.length() < sp + 4) {
      throw new IOException("bad HTTP status line: " + status);
    }
    int code;
    try {
      code = Integer.parseInt(status.substring(sp + 1, sp + 4));
    } catch (NumberFormatException e) {
      throw new IOException("bad HTTP status line: " + status);
    }
    Map<String, String> headers = new HashMap<>();
    for (String h = line(); !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      if (colon > 0) {
        headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
      }
    }
    byte[] body;
    String length = headers.get("content-length");
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = chunked();
    } else if (length != null) {
      body = exactly(Integer.parseInt(length));
    } else if (code == 204 || code == 304 || code / 100 == 1) {
      body = new byte[0];
    } else {
      body = in.readAllBytes();  // no length: the body runs to the end of the connection
      close();
    }
    if ("close".equalsIgnoreCase(headers.get("connection"))) close();
    return new Response(code, headers, body);
  }

  private byte[] chunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (;;) {
      String size = line();
      int semi = size.indexOf(';');
      int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      if (n == 0) break;
      body.write(exactly(n));
      line();  // the CRLF after each chunk
    }
    while (!line().isEmpty()) {
      // Trailers: none are meaningful here.
    }
    return body.toByteArray();
  }

  private byte[] exactly(int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length != n) throw new EOFException("connection closed inside a response body");
    return b;
  }

  // One header line, without its CRLF. Header bytes are ISO-8859-1 by HTTP's definition.
  private String line() throws IOException {
    StringBuilder sb = new StringBuilder(64);
    for (;;) {
      int c = in.read();
      if (c < 0) throw new EOFException("connection closed by the Runtime API");
      if (c == '\n') break;
      sb.append((char) c);
    }
    int end = sb.length();
    if (end > 0 && sb.charAt(end - 1) == '\r') sb.setLength(end - 1);
    return sb.toString();
  }

  // A header value cannot carry line breaks or non-ASCII; an exception's chosen type might.
  private static String headerSafe(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }
}
