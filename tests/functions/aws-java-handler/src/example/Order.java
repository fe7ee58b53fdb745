package example;

import java.util.List;

/** The event of OrderHandler, a bean as Lambda's Java tutorials write them. */
public class Order {
  private String id;
  private int quantity;
  private double unitPrice;
  private Customer customer;
  private List<String> tags;

  public String getId() { return id; }
  public void setId(String id) { this.id = id; }
  public int getQuantity() { return quantity; }
  public void setQuantity(int quantity) { this.quantity = quantity; }
  public double getUnitPrice() { return unitPrice; }
  public void setUnitPrice(double unitPrice) { this.unitPrice = unitPrice; }
  public Customer getCustomer() { return customer; }
  public void setCustomer(Customer customer) { this.customer = customer; }
  public List<String> getTags() { return tags; }
  public void setTags(List<String> tags) { this.tags = tags; }
}
