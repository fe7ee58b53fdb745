package coldlab.runtime;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.ToNumberStrategy;
import com.google.gson.TypeAdapter;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.lang.reflect.Type;
import java.math.BigInteger;

/**
 * JSON to the Java types a RequestHandler names and back, with Gson (Debian's
 * libgoogle-gson-java), set up to give what AWS's Jackson-based serializer gives for the
 * common cases: objects as Maps in member order, integers as Integer, Long or BigInteger
 * whichever holds them and other numbers as Double, beans from their fields, null members
 * left out of the output, no HTML escaping, and lenient reading (single quotes, unquoted
 * names), which AWS's reader also allows. Where the two still differ, docs/runtimes.md says.
 */
final class Serializer {
  // Integer when it fits, as Jackson's untyped reading does: a handler written for Lambda may
  // cast a Map value to Integer.
  private static final ToNumberStrategy JACKSON_NUMBERS = new ToNumberStrategy() {
    @Override
    public Number readNumber(JsonReader in) throws IOException {
      String s = in.nextString();
      if (!integral(s)) return Double.valueOf(s);
      try {
        long v = Long.parseLong(s);
        return v == (int) v ? (Number) Integer.valueOf((int) v) : (Number) Long.valueOf(v);
      } catch (NumberFormatException beyondLong) {
        return new BigInteger(s);
      }
    }
  };

  private static final Gson GSON = new GsonBuilder()
      .disableHtmlEscaping()
      .setObjectToNumberStrategy(JACKSON_NUMBERS)
      .create();

  private Serializer() {}

  /** The reader and writer for one type, built once: AWS's runtime builds them during Init too. */
  static TypeAdapter<Object> adapter(Type type) {
    @SuppressWarnings("unchecked")
    TypeAdapter<Object> adapter = (TypeAdapter<Object>) GSON.getAdapter(TypeToken.get(type));
    return adapter;
  }

  /** One JSON value as `type`; throws if the text is not that, or not JSON. */
  static Object read(TypeAdapter<Object> adapter, String json) throws IOException {
    JsonReader reader = new JsonReader(new StringReader(json));
    reader.setLenient(true);
    Object value = adapter.read(reader);
    if (reader.peek() != JsonToken.END_DOCUMENT) {
      throw new IOException("unexpected text after the JSON value");
    }
    return value;
  }

  /** value as JSON; a null value is `null`. */
  static String write(Object value) {
    return GSON.toJson(value);
  }

  private static boolean integral(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '.' || c == 'e' || c == 'E' || c == 'N' || c == 'I') return false;  // NaN, Infinity
    }
    return true;
  }
}
