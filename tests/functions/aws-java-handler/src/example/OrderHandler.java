package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

/** Handler example.OrderHandler: a bean in, a bean out. */
public class OrderHandler implements RequestHandler<Order, Receipt> {
  @Override
  public Receipt handleRequest(Order order, Context context) {
    if (order.getQuantity() < 0) throw new IllegalArgumentException("quantity must be >= 0");
    String customer = order.getCustomer() == null ? null : order.getCustomer().getName();
    int tags = order.getTags() == null ? 0 : order.getTags().size();
    return new Receipt(order.getId(), customer, order.getQuantity() * order.getUnitPrice(), tags);
  }
}
