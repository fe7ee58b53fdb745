package coldlab.runtime;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The type arguments a class gives a generic interface, through any depth of superclasses
 * and superinterfaces, with type variables resolved on the way down: how AWS's runtime
 * learns a RequestHandler's I and O. `class H extends Base<Order>` with
 * `abstract class Base<T> implements RequestHandler<T, String>` gives {Order, String}.
 */
final class TypeArguments {
  private TypeArguments() {}

  // A class seen during the search, with the actual arguments of its type parameters (null
  // when it was reached raw, and its variables stay unresolved).
  private static final class Step {
    final Class<?> cls;
    final Type[] args;

    Step(Class<?> cls, Type[] args) {
      this.cls = cls;
      this.args = args;
    }

    Type resolve(Type t) {
      if (!(t instanceof TypeVariable) || args == null) return t;
      TypeVariable<?>[] params = cls.getTypeParameters();
      for (int i = 0; i < params.length; i++) {
        if (params[i].getName().equals(((TypeVariable<?>) t).getName())) return args[i];
      }
      return t;
    }

    Step down(Type supertype) {
      if (supertype instanceof Class) return new Step((Class<?>) supertype, null);
      ParameterizedType p = (ParameterizedType) supertype;
      Type[] actual = p.getActualTypeArguments().clone();
      for (int i = 0; i < actual.length; i++) actual[i] = resolve(actual[i]);
      return new Step((Class<?>) p.getRawType(), actual);
    }
  }

  /** iface's type arguments as cls gives them, breadth first; null if it never names them. */
  static Type[] of(Class<?> cls, Class<?> iface) {
    Deque<Step> queue = new ArrayDeque<>();
    queue.add(new Step(cls, null));
    while (!queue.isEmpty()) {
      Step s = queue.poll();
      for (Type t : s.cls.getGenericInterfaces()) {
        Step next = s.down(t);
        if (next.cls == iface) return next.args;
        queue.add(next);
      }
      Type sup = s.cls.getGenericSuperclass();
      if (sup != null) queue.add(s.down(sup));
    }
    return null;
  }

  /** False for a type variable bounded only by Object: nothing to read JSON into. */
  static boolean concrete(Type t) {
    if (!(t instanceof TypeVariable)) return true;
    for (Type bound : ((TypeVariable<?>) t).getBounds()) {
      if (bound != Object.class) return true;
    }
    return false;
  }
}
