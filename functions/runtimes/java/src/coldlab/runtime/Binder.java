package coldlab.runtime;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Json's plain values to the types a RequestHandler declares, and any value back to plain
 * ones, following what AWS's Jackson set-up does for the cases handlers use: beans are
 * filled through their setters (any visibility) or public fields and written from their
 * public getters and fields, null properties left out; unknown members are ignored; a
 * single value is accepted where a list is wanted; "" reads as a null bean; numbers convert
 * between kinds (a fraction into an int truncates) and from their text. A value that does not
 * fit throws IllegalArgumentException naming where ("$.customer.age").
 */
final class Binder {
  private Binder() {}

  // What a bean class reads and writes, found by reflection once per class.
  private static final class Bean {
    final Constructor<?> constructor;
    final Map<String, Method> setters = new LinkedHashMap<>();
    final Map<String, Field> fields = new LinkedHashMap<>();   // public, not static or final
    final Map<String, Method> getters = new LinkedHashMap<>();
    final Map<String, Field> readable = new LinkedHashMap<>(); // public fields, for writing
    final List<String> order = new ArrayList<>();              // written in this order

    Bean(Class<?> cls) {
      Constructor<?> c = null;
      if (!cls.isInterface() && !Modifier.isAbstract(cls.getModifiers())
          && (cls.getEnclosingClass() == null || Modifier.isStatic(cls.getModifiers()))) {
        try {
          c = cls.getDeclaredConstructor();
          c.trySetAccessible();
        } catch (NoSuchMethodException none) {
          // Can still be written, not read.
        }
      }
      constructor = c;
      // Jackson orders a bean's properties by its fields' declaration order (superclass
      // first), then the properties only methods name.
      List<Class<?>> lineage = new ArrayList<>();
      for (Class<?> k = cls; k != null && k != Object.class; k = k.getSuperclass()) lineage.add(0, k);
      for (Class<?> k : lineage) {
        for (Field f : k.getDeclaredFields()) {
          int m = f.getModifiers();
          if (Modifier.isStatic(m) || Modifier.isTransient(m) || f.isSynthetic()) continue;
          if (!order.contains(f.getName())) order.add(f.getName());
          if (Modifier.isPublic(m)) {
            readable.put(f.getName(), f);
            if (!Modifier.isFinal(m)) fields.put(f.getName(), f);
          }
        }
        for (Method method : k.getDeclaredMethods()) {
          if (Modifier.isStatic(method.getModifiers()) || method.isSynthetic() || method.isBridge()) continue;
          String name = method.getName();
          int params = method.getParameterCount();
          if (params == 1 && name.length() > 3 && name.startsWith("set")) {
            method.trySetAccessible();
            setters.put(property(name.substring(3)), method);
          } else if (params == 0 && Modifier.isPublic(method.getModifiers()) && method.getReturnType() != void.class) {
            String p = null;
            if (name.length() > 3 && name.startsWith("get")) {
              p = property(name.substring(3));
            } else if (name.length() > 2 && name.startsWith("is") && method.getReturnType() == boolean.class) {
              p = property(name.substring(2));
            }
            if (p != null) {
              method.trySetAccessible();  // a public getter of a package-private class
              getters.put(p, method);
            }
          }
        }
      }
      List<String> methodOnly = new ArrayList<>();
      for (String p : getters.keySet()) {
        if (!order.contains(p)) methodOnly.add(p);
      }
      methodOnly.sort(null);  // getDeclaredMethods has no defined order; this one is stable
      order.addAll(methodOnly);
    }
  }

  private static final Map<Class<?>, Bean> BEANS = new ConcurrentHashMap<>();

  private static Bean bean(Class<?> cls) {
    Bean b = BEANS.get(cls);
    if (b == null) {
      b = new Bean(cls);
      BEANS.put(cls, b);
    }
    return b;
  }

  /**
   * Looks a type over before the first event, as AWS's runtime builds its reader in Init:
   * the reflection on the handler's bean classes is then part of the cold start, not of the
   * first invocation.
   */
  static void prepare(Type type) {
    prepare(type, new HashSet<>());
  }

  private static void prepare(Type type, Set<Type> seen) {
    if (!seen.add(type)) return;
    // A class is the usual case (Object for kdd-java): tested first, so that the JDK's other
    // Type interfaces, which its shared archive lacks, are loaded only when used.
    if (type instanceof Class) {
      Class<?> cls = (Class<?>) type;
      if (cls.isArray()) {
        prepare(cls.getComponentType(), seen);
        return;
      }
      if (!isBeanClass(cls)) return;
      Bean b = bean(cls);
      for (Method m : b.setters.values()) prepare(m.getGenericParameterTypes()[0], seen);
      for (Field f : b.fields.values()) prepare(f.getGenericType(), seen);
      return;
    }
    if (type instanceof ParameterizedType) {
      for (Type t : ((ParameterizedType) type).getActualTypeArguments()) prepare(t, seen);
      return;
    }
    if (type instanceof GenericArrayType) {
      prepare(((GenericArrayType) type).getGenericComponentType(), seen);
    }
  }

  // ---- JSON values to declared types

  /** tree (from Json.parse) as `type`. */
  static Object read(Object tree, Type type) {
    return convert(tree, type, "$");
  }

  private static Object convert(Object v, Type type, String path) {
    if (type == Object.class) return v;  // before any other Type interface is loaded (see prepare)
    if (type instanceof WildcardType) type = ((WildcardType) type).getUpperBounds()[0];
    if (type instanceof TypeVariable) {
      Type[] bounds = ((TypeVariable<?>) type).getBounds();
      type = bounds.length > 0 ? bounds[0] : Object.class;
    }
    if (type instanceof GenericArrayType) {
      return array(v, ((GenericArrayType) type).getGenericComponentType(), path);
    }
    Class<?> raw = rawClass(type);
    if (raw == Object.class) return v;
    if (raw.isPrimitive()) {
      if (v == null) return defaultOf(raw);  // Jackson's FAIL_ON_NULL_FOR_PRIMITIVES is off on AWS
      return scalar(v, box(raw), path);
    }
    if (v == null) return null;
    if (raw == String.class || Number.class.isAssignableFrom(raw) || raw == Boolean.class
        || raw == Character.class || raw.isEnum()) {
      return scalar(v, raw, path);
    }
    if (raw.isArray()) return array(v, raw.getComponentType(), path);
    if (Map.class.isAssignableFrom(raw)) return map(v, raw, typeArg(type, 0), typeArg(type, 1), path);
    if (Collection.class.isAssignableFrom(raw)) return collection(v, raw, typeArg(type, 0), path);
    if ("".equals(v)) return null;  // ACCEPT_EMPTY_STRING_AS_NULL_OBJECT, as AWS sets it
    if (!(v instanceof Map)) throw mismatch(path, raw, v);
    return fill(raw, (Map<?, ?>) v, path);
  }

  private static Object fill(Class<?> cls, Map<?, ?> members, String path) {
    if (!isBeanClass(cls)) {
      throw new IllegalArgumentException(path + ": cannot read " + cls.getName() + " from JSON");
    }
    Bean b = bean(cls);
    if (b.constructor == null) {
      throw new IllegalArgumentException(path + ": " + cls.getName()
          + " has no constructor without arguments to read it with");
    }
    Object bean;
    try {
      bean = b.constructor.newInstance();
    } catch (InvocationTargetException e) {
      throw new IllegalArgumentException(path + ": " + cls.getName() + "() threw " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException(path + ": cannot create " + cls.getName() + ": " + e, e);
    }
    for (Map.Entry<?, ?> e : members.entrySet()) {
      String name = (String) e.getKey();
      String at = path + "." + name;
      Method setter = b.setters.get(name);
      try {
        if (setter != null) {
          setter.invoke(bean, convert(e.getValue(), setter.getGenericParameterTypes()[0], at));
        } else {
          Field f = b.fields.get(name);
          if (f != null) f.set(bean, convert(e.getValue(), f.getGenericType(), at));
          // else: unknown members are ignored, as FAIL_ON_UNKNOWN_PROPERTIES is off on AWS
        }
      } catch (InvocationTargetException ex) {
        throw new IllegalArgumentException(at + ": the setter threw " + ex.getCause(), ex.getCause());
      } catch (IllegalAccessException ex) {
        throw new IllegalArgumentException(at + ": " + ex, ex);
      }
    }
    return bean;
  }

  private static Object map(Object v, Class<?> raw, Type keyType, Type valueType, String path) {
    if (!(v instanceof Map)) throw mismatch(path, raw, v);
    Class<?> key = rawClass(keyType);
    if (key != String.class && key != Object.class && key != CharSequence.class) {
      throw new IllegalArgumentException(path + ": map keys of " + key.getName() + " are not supported");
    }
    Map<Object, Object> out = newMap(raw);
    for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
      out.put(e.getKey(), convert(e.getValue(), valueType, path + "." + e.getKey()));
    }
    return out;
  }

  private static Object collection(Object v, Class<?> raw, Type elementType, String path) {
    List<?> items = v instanceof List ? (List<?>) v : Collections.singletonList(v);  // single value as a list
    Collection<Object> out = newCollection(raw);
    for (int i = 0; i < items.size(); i++) out.add(convert(items.get(i), elementType, path + "[" + i + "]"));
    return out;
  }

  private static Object array(Object v, Type elementType, String path) {
    List<?> items = v instanceof List ? (List<?>) v : Collections.singletonList(v);
    Object out = Array.newInstance(rawClass(elementType), items.size());
    for (int i = 0; i < items.size(); i++) Array.set(out, i, convert(items.get(i), elementType, path + "[" + i + "]"));
    return out;
  }

  private static Object scalar(Object v, Class<?> to, String path) {
    try {
      if (to == String.class) {
        if (v instanceof String || v instanceof Number || v instanceof Boolean) return v.toString();
      } else if (to == Boolean.class) {
        if (v instanceof Boolean) return v;
        if ("true".equals(v) || "false".equals(v)) return Boolean.valueOf((String) v);
      } else if (to == Character.class) {
        if (v instanceof String && ((String) v).length() == 1) return ((String) v).charAt(0);
      } else if (to.isEnum()) {
        if (v instanceof String) return enumValue(to, (String) v);
      } else if (v instanceof Number || v instanceof String) {
        return number(v instanceof String ? new BigDecimal(((String) v).trim()) : (Number) v, to, path);
      }
    } catch (NumberFormatException e) {
      // Text that is no number: the mismatch below.
    }
    throw mismatch(path, to, v);
  }

  private static Object number(Number n, Class<?> to, String path) {
    if (to.isInstance(n)) return n;
    if (to == Double.class) return n.doubleValue();
    if (to == Float.class) return n.floatValue();
    if (to == BigDecimal.class) return n instanceof Double ? BigDecimal.valueOf(n.doubleValue()) : new BigDecimal(n.toString());
    if (to == BigInteger.class) return n instanceof BigInteger ? n : new BigDecimal(n.toString()).toBigInteger();
    if (to == Number.class) return n;
    // Integer kinds: a fraction is cut off, as Jackson's ACCEPT_FLOAT_AS_INT does; a value
    // out of the kind's range is refused, as Jackson refuses it.
    BigInteger whole = n instanceof BigInteger ? (BigInteger) n
        : (n instanceof Double || n instanceof Float || n instanceof BigDecimal)
            ? new BigDecimal(n.toString()).toBigInteger() : BigInteger.valueOf(n.longValue());
    long min, max;
    if (to == Integer.class) { min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; }
    else if (to == Long.class) { min = Long.MIN_VALUE; max = Long.MAX_VALUE; }
    else if (to == Short.class) { min = Short.MIN_VALUE; max = Short.MAX_VALUE; }
    else if (to == Byte.class) { min = Byte.MIN_VALUE; max = Byte.MAX_VALUE; }
    else throw mismatch(path, to, n);
    if (whole.compareTo(BigInteger.valueOf(min)) < 0 || whole.compareTo(BigInteger.valueOf(max)) > 0) {
      throw new IllegalArgumentException(path + ": " + n + " is out of range for " + to.getSimpleName());
    }
    long x = whole.longValue();
    if (to == Integer.class) return (int) x;
    if (to == Long.class) return x;
    if (to == Short.class) return (short) x;
    return (byte) x;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object enumValue(Class<?> type, String name) {
    try {
      return Enum.valueOf((Class) type, name);
    } catch (IllegalArgumentException unknown) {
      return null;  // READ_UNKNOWN_ENUM_VALUES_AS_NULL, as AWS sets it
    }
  }

  // ---- values to plain JSON values

  /**
   * A value Json cannot write as it is, as a Map, List or String it can: a bean by its
   * public getters and fields (null ones left out), an array or other collection as a
   * list, an enum by its name, a character as a string.
   */
  static Object toPlain(Object value) {
    Class<?> cls = value.getClass();
    if (cls.isArray()) {
      int n = Array.getLength(value);
      List<Object> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) out.add(Array.get(value, i));
      return out;
    }
    if (value instanceof Collection) return new ArrayList<Object>((Collection<?>) value);
    if (value instanceof Enum) return ((Enum<?>) value).name();
    if (value instanceof Character || value instanceof CharSequence) return value.toString();
    if (!isBeanClass(cls)) {
      throw new IllegalArgumentException("no JSON form for " + cls.getName());
    }
    Bean b = bean(cls);
    Map<String, Object> out = new LinkedHashMap<>();
    try {
      for (String p : b.order) {
        Method g = b.getters.get(p);
        Field f = b.readable.get(p);
        if (g == null && f == null) continue;
        Object v = g != null ? g.invoke(value) : f.get(value);
        if (v != null) out.put(p, v);
      }
    } catch (InvocationTargetException e) {
      throw new IllegalArgumentException("a getter of " + cls.getName() + " threw " + e.getCause(), e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalArgumentException(e.toString(), e);
    }
    return out;
  }

  // ---- helpers

  // The JDK's own classes are not beans to Jackson either (it has a serializer for each it
  // supports); reading one by reflection would also break the module system's encapsulation.
  private static boolean isBeanClass(Class<?> cls) {
    String n = cls.getName();
    return !cls.isPrimitive() && !cls.isArray() && !cls.isInterface()
        && !n.startsWith("java.") && !n.startsWith("javax.") && !n.startsWith("jdk.") && !n.startsWith("sun.");
  }

  // java.beans.Introspector.decapitalize (Jackson's USE_STD_BEAN_NAMING, as AWS sets it),
  // without loading java.desktop: "Name" -> "name", "URL" -> "URL".
  private static String property(String s) {
    if (s.length() > 1 && Character.isUpperCase(s.charAt(1)) && Character.isUpperCase(s.charAt(0))) return s;
    return Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  private static Class<?> rawClass(Type t) {
    if (t instanceof Class) return (Class<?>) t;
    if (t instanceof ParameterizedType) return (Class<?>) ((ParameterizedType) t).getRawType();
    if (t instanceof GenericArrayType) return Array.newInstance(rawClass(((GenericArrayType) t).getGenericComponentType()), 0).getClass();
    if (t instanceof WildcardType) return rawClass(((WildcardType) t).getUpperBounds()[0]);
    if (t instanceof TypeVariable) {
      Type[] bounds = ((TypeVariable<?>) t).getBounds();
      return bounds.length > 0 ? rawClass(bounds[0]) : Object.class;
    }
    return Object.class;
  }

  private static Type typeArg(Type t, int i) {
    if (!(t instanceof ParameterizedType)) return Object.class;
    Type[] args = ((ParameterizedType) t).getActualTypeArguments();
    return i < args.length ? args[i] : Object.class;
  }

  @SuppressWarnings("unchecked")
  private static Map<Object, Object> newMap(Class<?> raw) {
    if (raw.isInterface() || Modifier.isAbstract(raw.getModifiers())) {
      return SortedMap.class.isAssignableFrom(raw) ? new TreeMap<>() : new LinkedHashMap<>();
    }
    try {
      return (Map<Object, Object>) raw.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      return new LinkedHashMap<>();
    }
  }

  @SuppressWarnings("unchecked")
  private static Collection<Object> newCollection(Class<?> raw) {
    if (raw.isInterface() || Modifier.isAbstract(raw.getModifiers())) {
      if (SortedSet.class.isAssignableFrom(raw)) return new TreeSet<>();
      if (Set.class.isAssignableFrom(raw)) return new LinkedHashSet<>();
      return new ArrayList<>();
    }
    try {
      return (Collection<Object>) raw.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      return new ArrayList<>();
    }
  }

  private static Class<?> box(Class<?> p) {
    if (p == int.class) return Integer.class;
    if (p == long.class) return Long.class;
    if (p == double.class) return Double.class;
    if (p == boolean.class) return Boolean.class;
    if (p == float.class) return Float.class;
    if (p == short.class) return Short.class;
    if (p == byte.class) return Byte.class;
    return Character.class;
  }

  private static Object defaultOf(Class<?> p) {
    if (p == boolean.class) return Boolean.FALSE;
    if (p == char.class) return '\0';
    return number(0, box(p), "$");
  }

  private static IllegalArgumentException mismatch(String path, Class<?> to, Object v) {
    String what = v == null ? "null" : v instanceof Map ? "an object" : v instanceof List ? "an array"
        : v instanceof String ? "a string" : v instanceof Boolean ? "a boolean" : "the number " + v;
    return new IllegalArgumentException(path + ": cannot read " + to.getSimpleName() + " from " + what);
  }
}
