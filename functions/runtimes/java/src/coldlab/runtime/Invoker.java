package coldlab.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.google.gson.TypeAdapter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The function's handler, found from _HANDLER and called once per event, as AWS's Java
 * runtime finds and calls it. "pkg.Class" names a class implementing RequestStreamHandler
 * (bytes in, bytes out) or RequestHandler<I, O> (the event's JSON read into I, the returned O
 * written as JSON). "pkg.Class::method" names a public method, which may take (InputStream,
 * OutputStream, Context) or a leading part of it, or (I, Context), (I), (Context) or nothing;
 * of several overloads the longest wins, a trailing Context counting one extra.
 */
final class Invoker {
  private static final String DEFAULT_METHOD = "handleRequest";
  private static final byte[] JSON_NULL = {'n', 'u', 'l', 'l'};

  /** One invocation: the event's bytes in, the response's out. */
  private interface Call {
    byte[] run(byte[] event, Context context) throws Throwable;
  }

  private final Call call;

  private Invoker(Call call) {
    this.call = call;
  }

  /**
   * Loads the class named by spec, runs its static initialisers and, for an instance handler,
   * its no-argument constructor, and prepares the JSON reader and writer a RequestHandler
   * needs: the function's own share of the cold start, and the runtime's, as on Lambda. The
   * function's exceptions come out unwrapped.
   */
  static Invoker load(String spec, ClassLoader loader) throws Throwable {
    if (spec == null || spec.isEmpty()) {
      throw new Fault("Runtime.MalformedHandlerName", "_HANDLER is not set");
    }
    int sep = spec.indexOf("::");
    String className = sep < 0 ? spec : spec.substring(0, sep);
    String methodName = sep < 0 ? null : spec.substring(sep + 2);
    if (className.isEmpty() || (methodName != null && methodName.isEmpty())) {
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
    return new Invoker(methodName == null ? fromInterface(cls) : fromMethod(cls, methodName));
  }

  /** Runs the handler on one event; returns the response payload or throws what the handler threw. */
  byte[] invoke(byte[] event, Context context) throws Throwable {
    return call.run(event, context);
  }

  private static Call fromInterface(Class<?> cls) throws Throwable {
    if (RequestStreamHandler.class.isAssignableFrom(cls)) {
      RequestStreamHandler h = (RequestStreamHandler) instantiate(cls);
      return (event, context) -> {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        h.handleRequest(new ByteArrayInputStream(event), out, context);
        return out.toByteArray();
      };
    }
    if (RequestHandler.class.isAssignableFrom(cls)) {
      Type[] io = TypeArguments.of(cls, RequestHandler.class);
      if (io == null || io.length != 2 || !TypeArguments.concrete(io[0]) || !TypeArguments.concrete(io[1])) {
        throw new Fault("Runtime.HandlerNotFound",
            "Class " + cls.getName() + " does not implement RequestHandler with concrete type parameters");
      }
      @SuppressWarnings("unchecked")
      RequestHandler<Object, Object> h = (RequestHandler<Object, Object>) instantiate(cls);
      return pojo(io[0], io[1], (input, context) -> h.handleRequest(input, context));
    }
    throw new Fault("Runtime.HandlerNotFound",
        "Class does not implement an appropriate handler interface: " + cls.getName());
  }

  private static Call fromMethod(Class<?> cls, String name) throws Throwable {
    List<Method> candidates = new ArrayList<>();
    for (Method m : cls.getMethods()) {
      if (m.getName().equals(name)) candidates.add(m);
    }
    candidates.sort(Invoker::priority);  // stable: equal ones keep getMethods()'s order
    for (Method m : candidates) {
      Call c = forMethod(cls, m);
      if (c != null) return c;
    }
    throw new Fault("Runtime.HandlerNotFound", "No public method named " + name + " with appropriate"
        + " method signature found on class " + cls.getName());
  }

  // AWS's order: a real method before a bridge (so a RequestHandler's concrete
  // handleRequest(I, Context) wins over the erased one), then the longer parameter list, a
  // trailing Context counting one extra.
  private static int priority(Method a, Method b) {
    if (a.isBridge() != b.isBridge()) return a.isBridge() ? 1 : -1;
    return Integer.compare(weight(b), weight(a));
  }

  private static int weight(Method m) {
    Class<?>[] p = m.getParameterTypes();
    return p.length + (p.length > 0 && p[p.length - 1] == Context.class ? 1 : 0);
  }

  /** The call for one overload, or null if its parameters are not a handler's. */
  private static Call forMethod(Class<?> cls, Method m) throws Throwable {
    Class<?>[] p = m.getParameterTypes();
    Type[] g = m.getGenericParameterTypes();
    Type out = m.getGenericReturnType();
    int n = p.length;
    boolean lastIsContext = n > 0 && p[n - 1] == Context.class;
    boolean firstIsIn = n > 0 && p[0] == InputStream.class;
    int outAt = firstIsIn ? 1 : 0;
    boolean hasOut = n > outAt && p[outAt] == OutputStream.class;

    if (firstIsIn || hasOut) {
      // Streams: (InputStream, OutputStream, Context) or any of its parts, in that order.
      int expected = (firstIsIn ? 1 : 0) + (hasOut ? 1 : 0) + (lastIsContext ? 1 : 0);
      if (n != expected) return null;
      Object target = targetOf(cls, m);
      final boolean in = firstIsIn;
      final boolean writes = hasOut;
      final boolean ctx = lastIsContext;
      if (target instanceof RequestStreamHandler && n == 3 && m.getName().equals(DEFAULT_METHOD)) {
        RequestStreamHandler h = (RequestStreamHandler) target;  // called directly, without reflection
        return (event, context) -> {
          ByteArrayOutputStream buffer = new ByteArrayOutputStream();
          h.handleRequest(new ByteArrayInputStream(event), buffer, context);
          return buffer.toByteArray();
        };
      }
      return (event, context) -> {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        Object[] args = new Object[expected];
        int i = 0;
        if (in) args[i++] = new ByteArrayInputStream(event);
        if (writes) args[i++] = buffer;
        if (ctx) args[i] = context;
        invoke(m, target, args);
        return writes ? buffer.toByteArray() : JSON_NULL;
      };
    }
    // Plain objects: (I, Context), (I), (Context) or ().
    if (n > 2 || (n == 2 && !lastIsContext) || (n >= 1 && p[0] == Context.class && n != 1)) return null;
    boolean takesInput = n == 2 || (n == 1 && !lastIsContext);
    Object target = targetOf(cls, m);
    Type inputType = takesInput ? g[0] : null;
    if (target instanceof RequestHandler && n == 2 && m.getName().equals(DEFAULT_METHOD)) {
      @SuppressWarnings("unchecked")
      RequestHandler<Object, Object> h = (RequestHandler<Object, Object>) target;
      return pojo(inputType, out, (input, context) -> h.handleRequest(input, context));
    }
    final int arity = n;
    return pojo(inputType, out, (input, context) -> {
      Object[] args = new Object[arity];
      int i = 0;
      if (takesInput) args[i++] = input;
      if (lastIsContext) args[i] = context;
      return invoke(m, target, args);
    });
  }

  private interface PojoCall {
    Object run(Object input, Context context) throws Throwable;
  }

  // The event read into inputType (none if null), the handler run, its result written as
  // outputType. A failure either side of the handler has AWS's type and message, with the
  // reader's or writer's own words as the cause in the function's log.
  private static Call pojo(Type inputType, Type outputType, PojoCall handler) {
    TypeAdapter<Object> reader = inputType == null || isVoid(inputType) ? null : Serializer.adapter(inputType);
    boolean writes = !isVoid(outputType);
    return (event, context) -> {
      Object input = null;
      if (reader != null) {
        try {
          input = Serializer.read(reader, new String(event, StandardCharsets.UTF_8));
        } catch (Throwable t) {  // Gson throws runtime exceptions of several kinds
          throw new RuntimeException("An error occurred during JSON parsing", t);
        }
      }
      Object output = handler.run(input, context);
      if (!writes) return JSON_NULL;
      try {
        return Serializer.write(output).getBytes(StandardCharsets.UTF_8);
      } catch (Throwable t) {
        throw new RuntimeException("An error occurred during JSON serialization of response", t);
      }
    };
  }

  private static boolean isVoid(Type t) {
    return t == void.class || t == Void.class;
  }

  private static Object targetOf(Class<?> cls, Method m) throws Throwable {
    m.trySetAccessible();  // a public method of a package-private class still works
    return Modifier.isStatic(m.getModifiers()) ? null : instantiate(cls);
  }

  private static Object instantiate(Class<?> cls) throws Throwable {
    Constructor<?> constructor;
    try {
      constructor = cls.getDeclaredConstructor();
    } catch (NoSuchMethodException e) {
      throw new Fault("Runtime.HandlerNotFound", "Class " + cls.getName() + " has no constructor without arguments");
    }
    constructor.trySetAccessible();
    try {
      return constructor.newInstance();
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static Object invoke(Method m, Object target, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
