package coldlab.runtime;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;

/**
 * The function's handler, found from _HANDLER and called once per event. Two shapes are
 * served: (InputStream, OutputStream, Context), as RequestStreamHandler, and
 * (String eventJson, Context) returning the response's JSON text.
 */
final class Invoker {
  private static final String DEFAULT_METHOD = "handleRequest";

  private final Object target;                // null for a static method
  private final Method method;
  private final RequestStreamHandler direct;  // set when no reflection is needed
  private final boolean stream;

  private Invoker(Object target, Method method, boolean stream) {
    this.target = target;
    this.method = method;
    this.stream = stream;
    this.direct = stream && target instanceof RequestStreamHandler && method.getName().equals(DEFAULT_METHOD)
        ? (RequestStreamHandler) target : null;
  }

  /**
   * Loads the class named by spec ("pkg.Class::method" or "pkg.Class"), runs its static
   * initialisers and, for an instance method, its no-argument constructor: the function's
   * own share of the cold start. The function's exceptions come out unwrapped.
   */
  static Invoker load(String spec, ClassLoader loader) throws Throwable {
    if (spec == null || spec.isEmpty()) {
      throw new Fault("Runtime.MalformedHandlerName", "_HANDLER is not set");
    }
    int sep = spec.indexOf("::");
    String className = sep < 0 ? spec : spec.substring(0, sep);
    String methodName = sep < 0 ? DEFAULT_METHOD : spec.substring(sep + 2);
    if (className.isEmpty() || methodName.isEmpty()) {
      throw new Fault("Runtime.MalformedHandlerName",
          "Bad handler '" + spec + "': expected pkg.Class or pkg.Class::method");
    }

    Class<?> cls;
    try {
      cls = Class.forName(className, true, loader);
    } catch (ClassNotFoundException e) {
      throw new ClassNotFoundException("Class not found: " + className);  // AWS's type and message
    } catch (ExceptionInInitializerError e) {
      throw e.getCause() != null ? e.getCause() : e;
    }

    Method method = find(cls, methodName, true);
    boolean stream = method != null;
    if (method == null) method = find(cls, methodName, false);
    if (method == null) {
      throw new Fault("Runtime.HandlerNotFound", "No public method " + methodName
          + "(InputStream, OutputStream, Context) or String " + methodName + "(String, Context) on class "
          + className);
    }
    method.trySetAccessible();  // a public method of a package-private class still works

    Object target = null;
    if (!Modifier.isStatic(method.getModifiers())) {
      Constructor<?> constructor;
      try {
        constructor = cls.getDeclaredConstructor();
      } catch (NoSuchMethodException e) {
        throw new Fault("Runtime.HandlerNotFound",
            "Class " + className + " has no constructor without arguments");
      }
      constructor.trySetAccessible();
      try {
        target = constructor.newInstance();
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }
    return new Invoker(target, method, stream);
  }

  private static Method find(Class<?> cls, String name, boolean stream) {
    for (Method m : cls.getMethods()) {
      if (!m.getName().equals(name)) continue;
      Class<?>[] p = m.getParameterTypes();
      boolean matches = stream
          ? p.length == 3 && p[0] == InputStream.class && p[1] == OutputStream.class
              && p[2] == Context.class
          : p.length == 2 && p[0] == String.class && p[1] == Context.class
              && m.getReturnType() == String.class;
      if (matches) return m;
    }
    return null;
  }

  /** Runs the handler on one event; returns the response payload or throws what the handler threw. */
  byte[] invoke(byte[] event, Context context) throws Throwable {
    if (stream) {
      InputStream in = new ByteArrayInputStream(event);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (direct != null) {
        direct.handleRequest(in, out, context);
      } else {
        call(in, out, context);
      }
      return out.toByteArray();
    }
    String result = (String) call(new String(event, StandardCharsets.UTF_8), context);
    return (result == null ? "null" : result).getBytes(StandardCharsets.UTF_8);
  }

  private Object call(Object... args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
