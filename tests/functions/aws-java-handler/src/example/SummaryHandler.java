package example;

/** Handler example.SummaryHandler: the runtime must find Order through TypedHandler<Order>. */
public class SummaryHandler extends TypedHandler<Order> {
  @Override
  protected String summarise(Order order) {
    return order.getId() + " x" + order.getQuantity();
  }
}
