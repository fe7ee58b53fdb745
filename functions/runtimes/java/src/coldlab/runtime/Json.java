package coldlab.runtime;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON text to plain Java objects and back, because the JDK has no JSON parser. Hand-written
 * rather than a library: Gson roughly doubled kdd-java's Init (docs/java-runtime.md).
 * Objects become LinkedHashMap (member order kept), arrays ArrayList, whole numbers Integer,
 * Long or BigInteger (the first that holds them, as Jackson reads them on Lambda) and other
 * numbers Double, then String, Boolean and null. The parser is strict RFC 8259: what it
 * accepts, any JSON parser accepts, so a function behaves the same under every runtime.
 * Functions may use it too (kdd-java does), as coldlab's one JSON library on the class path.
 */
public final class Json {
  // Deep enough for any real event; shallow enough that a hostile one cannot overflow the stack.
  private static final int MAX_DEPTH = 512;

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /** Parses one JSON value; throws IllegalArgumentException saying what and where if it is not JSON. */
  public static Object parse(String text) {
    Json p = new Json(text);
    p.skipSpace();
    Object value = p.value(0);
    p.skipSpace();
    if (p.pos != text.length()) throw p.error("unexpected text after the value");
    return value;
  }

  /**
   * Writes a value built from Map, List, String, Number, Boolean and null, and anything else
   * as Binder sees it (beans by their getters, arrays, sets, enums). Doubles keep full
   * round-trip precision; NaN and infinities have no JSON form and throw.
   */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out);
    return out.toString();
  }

  public static void write(Object value, StringBuilder out) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String) {
      writeString((String) value, out);
    } else if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw new IllegalArgumentException("JSON has no number " + d);
      }
      out.append(Double.toString(d));  // round-trips, and its "1.0E-5" form is valid JSON
    } else if (value instanceof Number || value instanceof Boolean) {
      out.append(value.toString());
    } else if (value instanceof Map) {
      out.append('{');
      Iterator<? extends Map.Entry<?, ?>> it = ((Map<?, ?>) value).entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<?, ?> e = it.next();
        writeString(String.valueOf(e.getKey()), out);
        out.append(':');
        write(e.getValue(), out);
        if (it.hasNext()) out.append(',');
      }
      out.append('}');
    } else if (value instanceof List) {
      out.append('[');
      Iterator<?> it = ((List<?>) value).iterator();
      while (it.hasNext()) {
        write(it.next(), out);
        if (it.hasNext()) out.append(',');
      }
      out.append(']');
    } else {
      write(Binder.toPlain(value), out);  // never Map, List or a scalar again: no loop
    }
  }

  private static void writeString(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
          if (c < 0x20) {
            out.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
          } else {
            out.append(c);
          }
      }
    }
    out.append('"');
  }

  private Object value(int depth) {
    if (depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH);
    if (pos >= text.length()) throw error("unexpected end of text");
    char c = text.charAt(pos);
    switch (c) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return string();
      case 't': return literal("true", Boolean.TRUE);
      case 'f': return literal("false", Boolean.FALSE);
      case 'n': return literal("null", null);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        throw error("unexpected character");
    }
  }

  private Map<String, Object> object(int depth) {
    Map<String, Object> map = new LinkedHashMap<>();
    pos++;  // '{'
    skipSpace();
    if (peek() == '}') {
      pos++;
      return map;
    }
    for (;;) {
      skipSpace();
      if (peek() != '"') throw error("expected a member name");
      String key = string();
      skipSpace();
      expect(':');
      skipSpace();
      map.put(key, value(depth + 1));  // a repeated name keeps the last value, like most parsers
      skipSpace();
      if (peek() == ',') {
        pos++;
      } else {
        expect('}');
        return map;
      }
    }
  }

  private List<Object> array(int depth) {
    List<Object> list = new ArrayList<>();
    pos++;  // '['
    skipSpace();
    if (peek() == ']') {
      pos++;
      return list;
    }
    for (;;) {
      skipSpace();
      list.add(value(depth + 1));
      skipSpace();
      if (peek() == ',') {
        pos++;
      } else {
        expect(']');
        return list;
      }
    }
  }

  private String string() {
    pos++;  // '"'
    StringBuilder sb = null;  // only escapes need a copy
    int start = pos;
    for (;;) {
      if (pos >= text.length()) throw error("unterminated string");
      char c = text.charAt(pos);
      if (c == '"') {
        String tail = text.substring(start, pos++);
        return sb == null ? tail : sb.append(tail).toString();
      }
      if (c < 0x20) throw error("control character in string");
      if (c != '\\') {
        pos++;
        continue;
      }
      if (sb == null) sb = new StringBuilder();
      sb.append(text, start, pos);
      pos++;
      char e = peek();
      pos++;
      switch (e) {
        case '"': sb.append('"'); break;
        case '\\': sb.append('\\'); break;
        case '/': sb.append('/'); break;
        case 'b': sb.append('\b'); break;
        case 'f': sb.append('\f'); break;
        case 'n': sb.append('\n'); break;
        case 'r': sb.append('\r'); break;
        case 't': sb.append('\t'); break;
        case 'u': sb.append(hex4()); break;
        default:
          pos--;
          throw error("bad escape");
      }
      start = pos;
    }
  }

  private char hex4() {
    if (pos + 4 > text.length()) throw error("short \\u escape");
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(text.charAt(pos), 16);
      if (d < 0) throw error("bad \\u escape");
      v = v * 16 + d;
      pos++;
    }
    return (char) v;  // a surrogate pair arrives as two escapes, each one UTF-16 unit
  }

  private Object number() {
    int start = pos;
    boolean integral = true;
    if (peek() == '-') pos++;
    if (peek() == '0') {
      pos++;
    } else if (!digits()) {
      throw error("bad number");
    }
    if (peek() == '.') {
      pos++;
      integral = false;
      if (!digits()) throw error("bad number");
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      integral = false;
      if (peek() == '+' || peek() == '-') pos++;
      if (!digits()) throw error("bad number");
    }
    String s = text.substring(start, pos);
    if (!integral) return Double.valueOf(s);
    // Whole numbers as Jackson gives them to a handler on Lambda, which may cast to Integer.
    if (s.length() <= 9) return Integer.valueOf(s);  // up to 9 digits always fits an int
    if (s.length() <= 18) return narrow(Long.parseLong(s));  // and 18 a long
    try {
      return narrow(Long.parseLong(s));
    } catch (NumberFormatException tooBig) {
      return new BigInteger(s);
    }
  }

  private static Number narrow(long v) {
    return v == (int) v ? (Number) Integer.valueOf((int) v) : (Number) Long.valueOf(v);
  }

  private boolean digits() {
    int start = pos;
    while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') pos++;
    return pos > start;
  }

  private Object literal(String word, Object value) {
    if (!text.startsWith(word, pos)) throw error("unexpected character");
    pos += word.length();
    return value;
  }

  private void skipSpace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      pos++;
    }
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void expect(char c) {
    if (peek() != c) throw error("expected '" + c + "'");
    pos++;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("not JSON: " + what + " at offset " + pos);
  }
}
