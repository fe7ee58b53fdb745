package example;

/** OrderHandler's answer; `note` stays null, and Lambda leaves a null member out. */
public class Receipt {
  private String orderId;
  private String customer;
  private double total;
  private int tagCount;
  private String note;

  public Receipt() {}

  Receipt(String orderId, String customer, double total, int tagCount) {
    this.orderId = orderId;
    this.customer = customer;
    this.total = total;
    this.tagCount = tagCount;
  }

  public String getOrderId() { return orderId; }
  public String getCustomer() { return customer; }
  public double getTotal() { return total; }
  public int getTagCount() { return tagCount; }
  public String getNote() { return note; }
}
