package coldlab.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
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
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

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
   * its no-argument constructor, and looks over the types a RequestHandler reads: the
   * function's own share of the cold start, and the runtime's, as on Lambda. The
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
      return new StreamHandlerCall((RequestStreamHandler) instantiate(cls));
    }
    if (RequestHandler.class.isAssignableFrom(cls)) {
      Type[] io = TypeArguments.of(cls, RequestHandler.class);
      if (io == null || io.length != 2 || !TypeArguments.concrete(io[0]) || !TypeArguments.concrete(io[1])) {
        throw new Fault("Runtime.HandlerNotFound",
            "Class " + cls.getName() + " does not implement RequestHandler with concrete type parameters");
      }
      return new RequestHandlerCall(io[0], io[1], instantiate(cls));
    }
    throw new Fault("Runtime.HandlerNotFound",
        "Class does not implement an appropriate handler interface: " + cls.getName());
  }

  private static Call fromMethod(Class<?> cls, String name) throws Throwable {
    List<Method> candidates = new ArrayList<>();
    for (Method m : cls.getMethods()) {
      if (m.getName().equals(name)) candidates.add(m);
    }
    // By hand rather than List.sort, which loads TimSort and its kin for a list of one or two;
    // stable, so equal ones keep getMethods()'s order.
    for (int i = 1; i < candidates.size(); i++) {
      for (int j = i; j > 0 && PRIORITY.compare(candidates.get(j - 1), candidates.get(j)) > 0; j--) {
        candidates.set(j, candidates.set(j - 1, candidates.get(j)));
      }
    }
    for (Method m : candidates) {
      Call c = forMethod(cls, m);
      if (c != null) return c;
    }
    throw new Fault("Runtime.HandlerNotFound", "No public method named " + name + " with appropriate"
        + " method signature found on class " + cls.getName());
  }

  // AWS's order: a real method before a bridge (so a RequestHandler's concrete
  // handleRequest(I, Context) wins over the erased one), then the longer parameter list, a
  // trailing Context counting one extra. A class, not a lambda: see the Call classes below.
  private static final Comparator<Method> PRIORITY = new Comparator<Method>() {
    @Override
    public int compare(Method a, Method b) {
      if (a.isBridge() != b.isBridge()) return a.isBridge() ? 1 : -1;
      return Integer.compare(weight(b), weight(a));
    }
  };

  private static int weight(Method m) {
    Class<?>[] p = m.getParameterTypes();
    return p.length + (p.length > 0 && p[p.length - 1] == Context.class ? 1 : 0);
  }

  /** The call for one overload, or null if its parameters are not a handler's. */
  private static Call forMethod(Class<?> cls, Method m) throws Throwable {
    Class<?>[] p = m.getParameterTypes();
    int n = p.length;
    boolean lastIsContext = n > 0 && p[n - 1] == Context.class;
    boolean firstIsIn = n > 0 && p[0] == InputStream.class;
    int outAt = firstIsIn ? 1 : 0;
    boolean hasOut = n > outAt && p[outAt] == OutputStream.class;

    if (firstIsIn || hasOut) {
      // Streams: (InputStream, OutputStream, Context) or any of its parts, in that order.
      if (n != (firstIsIn ? 1 : 0) + (hasOut ? 1 : 0) + (lastIsContext ? 1 : 0)) return null;
      Object target = targetOf(cls, m);
      if (target instanceof RequestStreamHandler && n == 3 && m.getName().equals(DEFAULT_METHOD)) {
        return new StreamHandlerCall((RequestStreamHandler) target);  // called directly, without reflection
      }
      return new StreamMethodCall(m, target, firstIsIn, hasOut, lastIsContext);
    }
    // Plain objects: (I, Context), (I), (Context) or ().
    if (n > 2 || (n == 2 && !lastIsContext) || (n >= 1 && p[0] == Context.class && n != 1)) return null;
    boolean takesInput = n == 2 || (n == 1 && !lastIsContext);
    Object target = targetOf(cls, m);
    // The generic type only where Binder reads more from it than from the class (the T of a
    // Map, Collection or array): parsing signatures (even asking a class for its type
    // parameters) loads a dozen or more of the JDK's classes, a cost every cold start would
    // pay. The answer is written by its value's own class, so only whether there is one matters.
    Type inputType = !takesInput ? null : generic(p[0]) ? m.getGenericParameterTypes()[0] : p[0];
    if (target instanceof RequestHandler && n == 2 && m.getName().equals(DEFAULT_METHOD) && onlyOverload(cls, m)) {
      return new RequestHandlerCall(inputType, m.getReturnType(), target);
    }
    return new PojoMethodCall(inputType, m.getReturnType(), m, target, takesInput, lastIsContext);
  }

  // The calls are classes rather than lambdas: the first lambda a JVM meets costs it tens of
  // milliseconds of invokedynamic bootstrapping, which every cold start would pay.

  private static final class StreamHandlerCall implements Call {
    private final RequestStreamHandler handler;

    StreamHandlerCall(RequestStreamHandler handler) {
      this.handler = handler;
    }

    @Override
    public byte[] run(byte[] event, Context context) throws Throwable {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      handler.handleRequest(new ByteArrayInputStream(event), out, context);
      return out.toByteArray();
    }
  }

  private static final class StreamMethodCall implements Call {
    private final Method method;
    private final Object target;
    private final boolean in, out, context;

    StreamMethodCall(Method method, Object target, boolean in, boolean out, boolean context) {
      this.method = method;
      this.target = target;
      this.in = in;
      this.out = out;
      this.context = context;
    }

    @Override
    public byte[] run(byte[] event, Context ctx) throws Throwable {
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      Object[] args = new Object[(in ? 1 : 0) + (out ? 1 : 0) + (context ? 1 : 0)];
      int i = 0;
      if (in) args[i++] = new ByteArrayInputStream(event);
      if (out) args[i++] = buffer;
      if (context) args[i] = ctx;
      invoke(method, target, args);
      return out ? buffer.toByteArray() : JSON_NULL;  // AWS answers null for a method without one
    }
  }

  /**
   * The event read into the input type (none if null), the handler run, its result written
   * as JSON. A failure either side of the handler has AWS's type and message, with the
   * reader's or writer's own words as the cause in the function's log.
   */
  private abstract static class PojoCall implements Call {
    private final Type reads;
    private final boolean writes;

    PojoCall(Type inputType, Type outputType) {
      reads = inputType == null || isVoid(inputType) ? null : inputType;
      writes = !isVoid(outputType);
      if (reads != null) Binder.prepare(reads);
    }

    abstract Object handle(Object input, Context context) throws Throwable;

    @Override
    public final byte[] run(byte[] event, Context context) throws Throwable {
      Object input = null;
      if (reads != null) {
        try {
          input = Binder.read(Json.parse(new String(event, StandardCharsets.UTF_8)), reads);
        } catch (RuntimeException | StackOverflowError e) {
          throw new RuntimeException("An error occurred during JSON parsing", e);
        }
      }
      Object output = handle(input, context);
      if (!writes) return JSON_NULL;
      try {
        return Json.write(output).getBytes(StandardCharsets.UTF_8);
      } catch (RuntimeException | StackOverflowError e) {  // a bean that contains itself
        throw new RuntimeException("An error occurred during JSON serialization of response", e);
      }
    }
  }

  private static final class RequestHandlerCall extends PojoCall {
    private final RequestHandler<Object, Object> handler;

    @SuppressWarnings("unchecked")
    RequestHandlerCall(Type inputType, Type outputType, Object handler) {
      super(inputType, outputType);
      this.handler = (RequestHandler<Object, Object>) handler;  // called directly, without reflection
    }

    @Override
    Object handle(Object input, Context context) {
      return handler.handleRequest(input, context);
    }
  }

  private static final class PojoMethodCall extends PojoCall {
    private final Method method;
    private final Object target;
    private final boolean input, context;

    PojoMethodCall(Type inputType, Type outputType, Method method, Object target, boolean input, boolean context) {
      super(inputType, outputType);
      this.method = method;
      this.target = target;
      this.input = input;
      this.context = context;
    }

    @Override
    Object handle(Object in, Context ctx) throws Throwable {
      Object[] args = new Object[(input ? 1 : 0) + (context ? 1 : 0)];
      int i = 0;
      if (input) args[i++] = in;
      if (context) args[i] = ctx;
      return invoke(method, target, args);
    }
  }

  // True when m is the class's one real handleRequest(x, Context), so the interface's method
  // reaches it: another overload would make the call through RequestHandler land elsewhere.
  private static boolean onlyOverload(Class<?> cls, Method m) {
    for (Method other : cls.getMethods()) {
      if (!other.isBridge() && other.getName().equals(m.getName()) && other.getParameterCount() == 2
          && other.getParameterTypes()[1] == Context.class && !other.equals(m)) {
        return false;
      }
    }
    return true;
  }

  private static boolean generic(Class<?> c) {
    return Map.class.isAssignableFrom(c) || Collection.class.isAssignableFrom(c) || c.isArray();
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
